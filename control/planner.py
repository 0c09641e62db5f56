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

from bassd.control.prompt_bandit import EventRow, LearningPolicy
from bassd.control.prompt_mapping import renderer_params
from bassd.control.prompt_schema import Prompt, PromptsConfig
from bassd.control.prompt_selection import PromptBank
from bassd.control.steering import CATEGORY_FALLBACK, Steering


class SegmentPlanner:
    def __init__(
        self,
        prompts: PromptsConfig,
        base_params: Callable[[], dict[str, Any]],
        bank: PromptBank,
        state: Callable[[], str],
        steering: Steering | None = None,
        now: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.prompts = prompts
        self._base = base_params
        self.bank = bank
        self._state = state
        self.steering = steering  # an emotion or a scene may pick the category instead
        self._now = now
        self.learning: LearningPolicy | None = None  # prompts.policy learn: the bandit picks
        self.record_rows: Callable[[list[EventRow]], None] = lambda rows: None
        self.overrides: dict[str, Any] = {}  # renderer settings the performer set by hand
        self.next_prompt: Prompt | None = None  # chosen for the next segment
        self.current: dict[str, Any] = {}  # the playing segment's prompt metadata

    def category(self) -> str:
        return self.steered()[0]

    def steered(self) -> tuple[str, str]:
        """(category, who chose it: "hr", "scene NAME" or "emotion LABEL")."""
        base = self.prompts.state_categories[self._state()]
        if self.steering is None:
            return base, "hr"
        category, who = self.steering.category(base, self._now())
        if category not in self.bank.categories:  # e.g. grounding with the shipped bank
            category = CATEGORY_FALLBACK.get(category, base)
            if category not in self.bank.categories:
                category = base
        return category, who

    def segment_params(self, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Parameters and metadata of planned segment ``index``."""
        if self.next_prompt is not None:
            prompt, source = self.next_prompt, "chosen"
        elif self.learning is not None:
            category = self.category()
            pool = [p.id for p in self.bank.in_category(category)]
            choice, rows = self.learning.choose(category, self._state(), pool)
            self.record_rows(rows)
            prompt, source = self.bank.by_id(choice.prompt_id), "learn"
        else:
            prompt, source = self.bank.select(self.category()), "state"
        params = renderer_params(prompt, self._base())
        steer = "hr"
        if self.steering is not None:
            params.update(self.steering.params(self._now()))
            steer = self.steered()[1]
        params.update(self.overrides)
        meta = {
            "prompt": prompt.id,
            "category": prompt.category,
            "state": self._state(),
            "source": source,
            "steer": steer,
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
