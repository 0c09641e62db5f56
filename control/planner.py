"""The segment planner: which prompt, and so which parameters, each planned segment plays.

The heart-rate state picks a prompt category (``prompts.state_categories``);
each planned segment draws a prompt from it, unless the performer chose one
for the next segment (``/prompt/set``, ``/prompt/text``, ``/prompt/next``);
renderer settings set by hand (``/renderer/...``) override the prompt's.
The engine calls ``segment_params`` when it plans a segment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bassd.control.prompt_mapping import renderer_params
from bassd.control.prompt_schema import Prompt, PromptsConfig
from bassd.control.prompt_selection import PromptBank


class SegmentPlanner:
    def __init__(
        self,
        prompts: PromptsConfig,
        base_params: Callable[[], dict[str, Any]],
        bank: PromptBank,
        state: Callable[[], str],
    ) -> None:
        self.prompts = prompts
        self._base = base_params
        self.bank = bank
        self._state = state
        self.overrides: dict[str, Any] = {}  # renderer settings the performer set by hand
        self.next_prompt: Prompt | None = None  # chosen for the next segment
        self.current: dict[str, Any] = {}  # the playing segment's prompt metadata

    def category(self) -> str:
        return self.prompts.state_categories[self._state()]

    def segment_params(self, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Parameters and metadata of planned segment ``index``."""
        if self.next_prompt is not None:
            prompt, source = self.next_prompt, "chosen"
        else:
            prompt, source = self.bank.select(self.category()), "state"
        params = renderer_params(prompt, self._base())
        params.update(self.overrides)
        meta = {
            "prompt": prompt.id,
            "category": prompt.category,
            "state": self._state(),
            "source": source,
            "text": prompt.text,
        }
        return params, meta

    def started(self, meta: dict[str, Any]) -> None:
        """A planned segment began to play: a chosen prompt plays once."""
        chosen = self.next_prompt
        if (
            meta.get("source") == "chosen"
            and chosen is not None
            and chosen.id == meta.get("prompt")
        ):
            self.next_prompt = None
        self.current = meta
