"""The protocol runner: plays a session protocol's stages on the session clock.

One object for the live daemon and the offline renderer (the controller ticks it and
tells it when a segment starts). How a stage begins:

* after a stage of **N segments**, at the start of its N+1-th segment: the planner was
  told when the stage began (``set_stage(first + N, next)``), so that segment is
  planned, and rendered ahead, with the next stage's settings: no skip, no late clip;
* after a stage of **seconds**, when its time is up: the next stage is planned from the
  next segment on, the segments ahead are planned again and the next one fades in now
  (the crossfade of a state change).

Every boundary lands in ``events.csv`` as a ``stage`` row (the stage's name, its
settings as JSON); the protocol's start as a ``protocol`` row (listener, baseline,
stages), its end as ``protocol_end`` (or ``protocol_stop`` from ``/session/stop``).
After the last stage the session plays on as without a protocol (adaptive).

Settings outside the plan (a stage's scene FX, the protocol's segment length) are
applied when the stage begins; the scene FX the session had are put back after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from bassd.control.planner import StagePlan
from bassd.control.protocol import Protocol, ProtocolError, Stage

if TYPE_CHECKING:
    from bassd.control.controller import Controller

log = structlog.get_logger("bassd.protocol")


def stage_plan(stage: Stage) -> StagePlan:
    return StagePlan(name=stage.name, fixed=stage.fixed, category=stage.category,
                     prompt=stage.prompt, renderer=stage.renderer, params=dict(stage.params),
                     adapters=dict(stage.adapters), scene=stage.scene)  # fmt: skip


def stage_settings(stage: Stage) -> dict[str, Any]:
    """A stage's settings as recorded in its ``stage`` row (what the YAML said)."""
    return stage.model_dump(exclude_none=True, exclude_defaults=False, exclude={"description"})


class ProtocolRunner:
    def __init__(
        self,
        protocol: Protocol,
        controller: Controller,
        *,
        listener: str | None = None,
        baseline_bpm: float | None = None,
        on_finished: Callable[[ProtocolRunner], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.c = controller
        self.listener = listener
        self.baseline_bpm = baseline_bpm
        self.on_finished = on_finished
        self.index = -1  # the stage playing (-1: not started)
        self.stage_t = 0.0  # when it began (session seconds)
        self.stage_first = 0  # its first segment
        self.finished = False
        self.outcome = ""  # "end" or "stop"
        self._boundary: int | None = None  # the segment the next stage begins at (N segments)
        self._fx_before: dict[str, float] | None = None

    # ------------------------------------------------------------- checks
    def check(self) -> None:
        """ProtocolError where this session cannot play the protocol: another renderer,
        an unknown prompt, scene or adapter."""
        p, engine, planner = self.protocol, self.c.engine, self.c.planner
        session = engine.renderer_name
        if p.renderer is not None and p.renderer != session:
            raise ProtocolError(f"protocol {p.name}: plays renderer {p.renderer}, this session "
                                f"plays {session} (renderer.name)")  # fmt: skip
        adapters = engine.adapter_names()
        steering = planner.steering
        for s in p.stages:
            where = f"protocol {p.name}: stage {s.name!r}"
            if s.renderer is not None and s.renderer not in (session, "kuramoto"):
                raise ProtocolError(f"{where}: renderer {s.renderer}: a stage plays the "
                                    f"session's renderer ({session}) or kuramoto")  # fmt: skip
            if s.prompt is not None:
                try:
                    planner.bank.by_id(s.prompt)
                except KeyError:
                    raise ProtocolError(f"{where}: no prompt {s.prompt!r} in the bank") from None
            if s.category is not None and s.category not in planner.bank.categories:
                have = ", ".join(sorted(planner.bank.categories))
                raise ProtocolError(f"{where}: the bank has no {s.category!r} prompts ({have})")
            if s.scene is not None and (steering is None or s.scene not in steering.scenes):
                have = ", ".join(sorted(steering.scenes)) if steering is not None else "none"
                raise ProtocolError(f"{where}: unknown scene {s.scene!r} (scenes: {have})")
            if adapters is not None:
                for name in s.adapters:
                    if name not in adapters and "/" not in name:
                        listing = ", ".join(adapters) or "none installed"
                        raise ProtocolError(
                            f"{where}: unknown adapter {name!r} (available: {listing})"
                        )

    # ------------------------------------------------------------- the run
    @property
    def stage(self) -> Stage | None:
        stages = self.protocol.stages
        return stages[self.index] if 0 <= self.index < len(stages) else None

    def start(self) -> None:
        self.check()
        c, p = self.c, self.protocol
        now = c.now()
        if p.segment_seconds is not None:
            c.engine.set_segment_seconds(p.segment_seconds)
        if p.crossfade_seconds is not None:
            c.engine.set_crossfade_seconds(p.crossfade_seconds)
        if self.baseline_bpm is not None:
            c.hr.set_baseline(now, self.baseline_bpm)
            baseline = f"known {self.baseline_bpm:g} bpm"
        elif c.hr.baseline is not None:
            baseline = f"known {c.hr.baseline:g} bpm"
        else:
            c.hr.start_baseline(now, p.baseline_seconds)
            span = p.baseline_seconds or c.config.hr.baseline_seconds
            baseline = f"calibrating {span:g} s in stage {p.stages[0].name}"
        planned = round(p.planned_seconds(self._segment_seconds()), 3)
        detail = {"listener": self.listener or "", "baseline": baseline,
                  "stages": [s.name for s in p.stages], "planned_seconds": planned}  # fmt: skip
        c.record("protocol", p.name, json.dumps(detail, sort_keys=True))
        if self.listener:
            c.record("listener", self.listener, f"protocol {p.name}")
        log.info("protocol_start", protocol=p.name, listener=self.listener, baseline=baseline)
        self._fx_before = dict(c.engine.fx_settings)
        self._switch(0, now)

    def _segment_seconds(self) -> float:
        engine: Any = self.c.engine
        seg = getattr(getattr(engine, "controller", None), "segment_frames", None)
        return seg / engine.sample_rate if seg else 20.0

    def _switch(self, i: int, due: float) -> None:
        """Stage ``i`` (or the end, i = len) from the next segment on, fading in now. Its row
        is recorded now; its length counts from ``due`` (so late ticks never add up)."""
        engine = self.c.engine
        first = engine.segment_index + 1
        self._plan(i, first)
        engine.replan()
        if engine.segment_index >= 0:
            engine.skip(self.c.config.control.early_crossfade_seconds)
        self._begin(i, self.c.now(), first)
        self.stage_t = due

    def _plan(self, i: int, first: int) -> None:
        """Plan stage ``i`` from segment ``first``; a stage of N segments also plans the
        next from ``first + N`` (so its boundary needs no skip)."""
        stages = self.protocol.stages
        planner = self.c.planner
        planner.set_stage(first, stage_plan(stages[i]) if i < len(stages) else None)
        self._boundary = None
        if i < len(stages) and stages[i].segments is not None:
            b = first + stages[i].segments
            planner.set_stage(b, stage_plan(stages[i + 1]) if i + 1 < len(stages) else None)
            self._boundary = b

    def _begin(self, i: int, t: float, first: int) -> None:
        c, stages = self.c, self.protocol.stages
        if self.stage is not None and self.stage.scene is not None:
            self._restore_fx()
        self.index, self.stage_t, self.stage_first = i, t, first
        if i >= len(stages):
            self._finish("end", t)
            return
        stage = stages[i]
        if stage.scene is not None and c.planner.steering is not None:
            scene = c.planner.steering.scenes[stage.scene]
            if scene.fx:
                c.engine.set_fx(**scene.fx)
        settings = {**stage_settings(stage), "index": i, "first_segment": first}
        c.record("stage", stage.name, json.dumps(settings, sort_keys=True), t=t)
        log.info("protocol_stage", protocol=self.protocol.name, stage=stage.name, index=i,
                 t=round(t, 3), segment=first)  # fmt: skip
        if stage.adapters and c.engine.adapter_names() is None:
            c.record("stage_adapters_skipped", stage.name,
                     f"{c.engine.renderer_name} has no adapters", t=t)  # fmt: skip

    def _restore_fx(self) -> None:
        if self._fx_before:
            self.c.engine.set_fx(**self._fx_before)

    def _finish(self, outcome: str, t: float) -> None:
        self.finished, self.outcome = True, outcome
        self._boundary = None
        kind = "protocol_end" if outcome == "end" else "protocol_stop"
        stage = self.stage
        stopped_in = f" in stage {stage.name}" if outcome != "end" and stage else ""
        played = min(self.index, len(self.protocol.stages))
        self.c.record(kind, self.protocol.name, f"{played} stage(s) played{stopped_in}", t=t)
        log.info(kind, protocol=self.protocol.name, t=round(t, 3))
        if self.on_finished is not None:
            self.on_finished(self)

    def tick(self) -> None:
        """A stage of seconds whose time is up hands over to the next."""
        stage = self.stage
        if self.finished or stage is None or stage.seconds is None:
            return
        now = self.c.now()
        if now - self.stage_t >= stage.seconds:
            self._switch(self.index + 1, self.stage_t + stage.seconds)

    def on_segment_start(self, index: int, t: float) -> None:
        """A segment began: the first of the next stage, where this one has N segments."""
        if self.finished or self._boundary is None or index < self._boundary:
            return
        i = self.index + 1
        first = self._boundary
        stages = self.protocol.stages
        if i < len(stages) and stages[i].segments is not None:
            # its own boundary: planned now; the segments asked for already are planned again
            self._plan(i, first)
            self._replan_if_armed_late()
        else:
            self._boundary = None
        self._begin(i, t, first)

    def adaptive_planned_ahead(self) -> bool:
        """A stage the heart rate steers begins at a segment already asked for."""
        b = self._boundary
        if b is None or b >= self.c.engine.planned_until:
            return False
        plan = self.c.planner.stage_at(b)
        return plan is None or not plan.fixed

    def _replan_if_armed_late(self) -> None:
        if self._boundary is not None and self._boundary < self.c.engine.planned_until:
            self.c.engine.replan()

    def stop(self) -> None:
        """``/session/stop``: the protocol ends here; the session plays on, adaptive."""
        if self.finished:
            return
        now = self.c.now()
        engine = self.c.engine
        if self.stage is not None and self.stage.scene is not None:
            self._restore_fx()
        self.c.planner.set_stage(engine.segment_index + 1, None)
        engine.replan()
        if engine.segment_index >= 0:
            engine.skip(self.c.config.control.early_crossfade_seconds)
        self._finish("stop", now)

    def figures(self) -> dict[str, Any]:
        stage = None if self.finished else self.stage
        return {
            "protocol": self.protocol.name if stage is not None else "",
            "protocol_stage": stage.name if stage is not None else "",
            "protocol_stage_index": self.index if stage is not None else -1,
            "protocol_stage_s": round(self.c.now() - self.stage_t, 3) if stage else None,
            "protocol_listener": self.listener or "",
        }
