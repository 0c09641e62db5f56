"""Prompt -> Kuramoto renderer parameters."""

from __future__ import annotations

from statistics import mean

from bassd.control.prompt_loading import (
    load_prompt_bank,
)
from bassd.control.prompt_mapping import renderer_params
from bassd.control.prompt_schema import (
    Prompt,
)
from bassd.dsp.bank_params import KuramotoParams
from tests.control.prompt_rows import make_row


def test_every_shipped_prompt_derives_valid_renderer_params() -> None:
    """Derived parameters are exactly KuramotoParams' keys and validate against it."""
    for prompt in load_prompt_bank():
        params = renderer_params(prompt)
        assert set(params) == set(KuramotoParams.model_fields)
        model = KuramotoParams(**params)
        assert (model.key, model.mode, model.tempo_bpm) == (
            prompt.key,
            prompt.mode,
            prompt.tempo_bpm,
        )


def test_calm_prompts_derive_slower_darker_and_more_locked_than_activating() -> None:
    """Calm prompts average slower tempo, lower brightness, coupling above lock."""
    bank = load_prompt_bank()

    def avg(category: str, name: str) -> float:
        return mean(renderer_params(p)[name] for p in bank.in_category(category))

    assert avg("calm", "tempo_bpm") < avg("neutral", "tempo_bpm") < avg("activating", "tempo_bpm")
    assert avg("calm", "brightness") < avg("activating", "brightness") - 0.2
    assert avg("calm", "coupling") > 1.0 > avg("activating", "coupling")


def test_renderer_params_keep_base_where_prompt_is_silent() -> None:
    """Unknown instruments leave base density/width; non-renderer base keys are dropped."""
    prompt = Prompt.model_validate(make_row("x", instruments=["kazoo"], mood="mysterious"))
    base = {"density": 77, "width": 0.33, "brightness": 0.9, "level": 0.2}
    params = renderer_params(prompt, base)
    assert params["density"] == 77 and params["width"] == 0.33
    assert "level" not in params
    assert params["brightness"] < 0.5  # category 'calm' stands in for the unknown mood


def test_renderer_params_follow_mood_and_instruments() -> None:
    """Sustained ensembles are denser/wider than solo voices; bright moods shimmer."""
    choir = renderer_params(Prompt.model_validate(make_row("a", instruments=["choir", "strings"])))
    flute = renderer_params(Prompt.model_validate(make_row("b", instruments=["flute"])))
    assert choir["density"] > 4 * flute["density"] and choir["width"] > flute["width"]
    bright = renderer_params(Prompt.model_validate(make_row("c", mood="bright, energetic")))
    assert bright["coupling"] < 1.0 < choir["coupling"]
    assert bright["brightness"] > choir["brightness"]


def test_renderer_params_clamp_into_range() -> None:
    """Out-of-range base values and stacked brightness shifts end up within range."""
    prompt = Prompt.model_validate(
        make_row("x", mood="bright", instruments=["bells", "glockenspiel", "brass", "synth"])
    )
    params = renderer_params(prompt, {"density": 100_000, "width": 3.0, "coupling": -1})
    KuramotoParams(**params)
    assert params["brightness"] <= 1.0
