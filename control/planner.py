"""The segment planner: which prompt, and so which parameters, each planned segment plays.

The heart-rate state picks a prompt category (``prompts.state_categories``);
each planned segment draws a prompt from it, unless the performer chose one
for the next segment (``/prompt/set``, ``/prompt/text``, ``/prompt/next``);
renderer settings set by hand (``/renderer/...``) override the prompt's.
The engine calls ``segment_params`` when it plans a segment.

A session protocol's stages (``control/protocol_runner.py``) are planned by segment
index: ``set_stage(first, plan)`` makes segments ``first`` on play ``plan`` (its fixed
category or prompt, parameters, adapters, scene, renderer), so a stage boundary known
ahead (a stage of N segments) is planned before its segments are rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bassd.control.prompt_bandit import EventRow, LearningPolicy
from bassd.control.prompt_mapping import renderer_params
from bassd.control.prompt_schema import Prompt, PromptsConfig
from bassd.control.prompt_selection import PromptBank
from bassd.control.steering import CATEGORY_FALLBACK, Steering


@dataclass(frozen=True)
class StagePlan:
    """What a protocol stage plays (the runner builds it from the protocol's Stage)."""

    name: str
    fixed: bool  # the heart rate (and an emotion) does not steer it
    category: str | None = None
    prompt: str | None = None  # a prompt id of the bank, every segment
    renderer: str | None = None  # None: the session's
    params: dict[str, Any] = field(default_factory=dict)
    adapters: dict[str, float] = field(default_factory=dict)
    scene: str | None = None


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
        self.stages: list[tuple[int, StagePlan | None]] = []  # (first segment, plan) ascending

    def set_stage(self, first: int, plan: StagePlan | None) -> None:
        """Segments ``first`` on play ``plan`` (None: no protocol, as before it)."""
        self.stages = [(f, p) for f, p in self.stages if f < first] + [(first, plan)]

    def stage_at(self, index: int) -> StagePlan | None:
        plan = None
        for first, p in self.stages:
            if index < first:
                break
            plan = p
        return plan

    def category(self, index: int | None = None) -> str:
        return self.steered(index)[0]

    def _scene(self, plan: StagePlan | None) -> Any:
        if plan is None or plan.scene is None or self.steering is None:
            return None
        return self.steering.scenes.get(plan.scene)

    def steered(self, index: int | None = None) -> tuple[str, str]:
        """(category, who chose it: "hr", "scene NAME", "emotion LABEL" or "stage NAME")
        for segment ``index`` (None: the next one planned)."""
        plan = self.stage_at(self._next_index() if index is None else index)
        scene = self._scene(plan)
        if plan is not None and plan.fixed:
            category = plan.category or (scene.category if scene is not None else None)
            category = category or self.prompts.state_categories["neutral"]
            return self._in_bank(category, category), f"stage {plan.name}"
        base = self.prompts.state_categories[self._state()]
        if scene is not None and scene.category is not None:
            return self._in_bank(str(scene.category), base), f"stage {plan.name}"  # type: ignore[union-attr]
        if self.steering is None:
            return base, "hr"
        category, who = self.steering.category(base, self._now())
        return self._in_bank(category, base), who

    def _in_bank(self, category: str, base: str) -> str:
        if category not in self.bank.categories:  # e.g. grounding with the shipped bank
            category = CATEGORY_FALLBACK.get(category, base)
            if category not in self.bank.categories:
                category = base
        return category

    def _next_index(self) -> int:
        return self.stages[-1][0] if self.stages else 0

    def segment_params(self, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Parameters and metadata of planned segment ``index``."""
        plan = self.stage_at(index)
        if self.next_prompt is not None:
            prompt, source = self.next_prompt, "chosen"
        elif plan is not None and plan.prompt is not None:
            prompt, source = self.bank.by_id(plan.prompt), "stage"
        elif plan is not None and (plan.fixed or plan.scene is not None):
            prompt, source = self.bank.select(self.category(index)), "stage"
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
        if plan is not None and (plan.fixed or plan.scene is not None):
            scene = self._scene(plan)
            if scene is not None:
                params.update(scene.renderer_params())
            steer = self.steered(index)[1]
        elif self.steering is not None:
            params.update(self.steering.params(self._now()))
            steer = self.steered(index)[1]
        if plan is not None:
            params.update(plan.params)
        params.update(self.overrides)
        meta: dict[str, Any] = {
            "prompt": prompt.id,
            "category": prompt.category,
            "state": self._state(),
            "source": source,
            "steer": steer,
            "text": prompt.text,
        }
        if plan is not None:
            scene = self._scene(plan)
            adapters = {**(scene.adapters if scene is not None else {}), **plan.adapters}
            meta.update(stage=plan.name, fixed=plan.fixed)
            if adapters:
                meta["adapters"] = adapters
            if plan.renderer is not None:
                meta["renderer"] = plan.renderer
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
