"""The prompt schema: prompt fields and the prompts config."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bassd.control.prompt_schema import (
    Prompt,
    PromptsConfig,
)
from tests.control.prompt_rows import make_row


def test_prompt_model_rejects_bad_id_and_long_text() -> None:
    """Ids are lowercase slugs and texts are at most 500 characters."""
    with pytest.raises(ValidationError, match="String should match pattern"):
        Prompt.model_validate(make_row("Calm Pad"))
    with pytest.raises(ValidationError, match="at most 500"):
        Prompt.model_validate(make_row("ok", text="x" * 501))


def test_prompts_config_defaults_and_state_validation() -> None:
    """States map to calm/activating by default; keys must be exactly the three states."""
    cfg = PromptsConfig()
    assert cfg.bank is None and cfg.policy == "no_repeat" and cfg.avoid_last == 1
    assert cfg.state_categories["stress"] == "calm"
    with pytest.raises(ValidationError, match="missing underaroused"):
        PromptsConfig(state_categories={"neutral": "neutral", "stress": "calm"})
    with pytest.raises(ValidationError, match="unknown category 'happy'"):
        PromptsConfig(
            state_categories={"neutral": "neutral", "stress": "happy", "underaroused": "activating"}
        )
    with pytest.raises(ValidationError, match="Extra inputs"):
        PromptsConfig.model_validate({"policy": "cycle", "shuffle": True})
