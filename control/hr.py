"""Heart rate → arousal state: a pure state machine (no I/O, no clocks).

Every call takes ``t``: seconds on the engine's clock since the session started.
Rules (the BASS seed rules, derived from WESAD):

* No baseline yet → ``neutral``. The baseline is the median of the accepted
  samples of a calibration window (``start_baseline``) or is set explicitly.
* ``stress`` when HR > baseline + ``stress_delta_bpm`` held for ``stress_sustain_s``;
  ``underaroused`` when HR < baseline − ``under_delta_bpm`` held for ``under_sustain_s``.
* "Held" is measured on sample timestamps: the condition must be true for every
  accepted sample of a run, and the state changes on the first sample at or after
  (first sample of the run + sustain). Rejected samples neither extend nor break a run.
* Leaving is symmetric, with hysteresis: stress ends once HR < baseline + stress_delta
  − hysteresis has held for ``exit_sustain_s`` (under-aroused: HR > baseline −
  under_delta + hysteresis). A value hovering at a threshold therefore never flaps:
  entering needs a sustained run beyond the threshold, leaving a sustained run
  ``hysteresis_bpm`` back inside it. If, when leaving, the opposite state's entry
  condition has already held long enough, the machine goes there directly.
* No accepted sample for ``stale_seconds`` (counted from the last accepted one) →
  ``hr_stale`` and neutral; the next accepted sample emits ``hr_resumed`` and the
  rules start again with fresh sustain timers.
* ``force_state`` overrides the rules (which keep running underneath) until
  ``force_state(t, None)``.
* ``model: bayes`` replaces the two sustained rules (entering and leaving) with the
  hidden Markov model of ``bassd.dsp.arousal_hmm`` over HR − baseline, its means derived
  from ``stress_delta_bpm`` / ``under_delta_bpm``: the state changes when another state's
  posterior reaches its ``p_enter``. Everything else (calibration, rejections,
  staleness, forcing, the events) is the same; the filter restarts whenever the
  sustain timers would (a new baseline, stale data).

Artifacts (out of range, non-finite, time not advancing, faster than
``max_jump_bpm_per_s`` from the last *accepted* sample) are rejected with a reason.
The jump limit cannot lock out a real step change: the rate is measured against the
last accepted sample, so it falls as the gap grows. Besides the kinds on ``HrEvent``,
``calibration`` events record a calibration's start and a window short of samples.
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bassd.dsp.arousal_hmm import STATES, ArousalHmm, ArousalHmmParams

State = Literal["neutral", "stress", "underaroused"]

_EPS = 1e-9  # float slack when comparing held durations with sustain times


class HrConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    baseline_seconds: float = Field(180.0, ge=1.0, le=3600.0)
    min_baseline_samples: int = Field(30, ge=1, le=100_000)
    stress_delta_bpm: float = Field(15.0, gt=0.0, le=100.0)
    stress_sustain_s: float = Field(30.0, ge=0.0, le=3600.0)
    under_delta_bpm: float = Field(10.0, gt=0.0, le=100.0)
    under_sustain_s: float = Field(20.0, ge=0.0, le=3600.0)
    hysteresis_bpm: float = Field(3.0, ge=0.0, le=50.0)
    exit_sustain_s: float = Field(10.0, ge=0.0, le=3600.0)
    min_bpm: float = Field(30.0, gt=0.0, le=300.0)
    max_bpm: float = Field(220.0, gt=0.0, le=300.0)
    max_jump_bpm_per_s: float = Field(20.0, gt=0.0, le=300.0)
    stale_seconds: float = Field(10.0, gt=0.0, le=3600.0)
    model: Literal["thresholds", "bayes"] = "thresholds"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_bpm >= self.max_bpm:
            raise ValueError(f"min_bpm ({self.min_bpm}) must be below max_bpm ({self.max_bpm})")
        for name in ("stress_delta_bpm", "under_delta_bpm"):
            if self.hysteresis_bpm >= getattr(self, name):
                raise ValueError(
                    f"hysteresis_bpm ({self.hysteresis_bpm}) must be smaller than "
                    f"{name} ({getattr(self, name)})"
                )
        return self


@dataclass(frozen=True)
class HrEvent:
    t: float
    kind: str
    value: str
    detail: str = ""


class _Run:
    """When the current unbroken run of samples meeting one condition began."""

    def __init__(self) -> None:
        self.since: float | None = None

    def update(self, t: float, holds: bool) -> None:
        if not holds:
            self.since = None
        elif self.since is None:
            self.since = t

    def held(self, t: float) -> float:
        """Seconds the condition has held at ``t`` (−1 when it does not hold)."""
        return -1.0 if self.since is None else t - self.since


def _as_float(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class HeartRateMonitor:
    def __init__(self, cfg: HrConfig, on_event: Callable[[HrEvent], None] | None = None) -> None:
        self.cfg = cfg
        self._listeners: list[Callable[[HrEvent], None]] = [on_event] if on_event else []
        self._auto: State = "neutral"
        self._forced: State | None = None
        self._baseline: float | None = None
        self._cal_end: float | None = None
        self._cal_samples: list[float] = []
        self._cal_pending_logged = False
        self._last_t: float | None = None
        self._last_bpm: float | None = None
        self._stale = False
        self.accepted = 0
        self.rejected = 0
        self._high, self._low = _Run(), _Run()
        self._below_stress_exit, self._above_under_exit = _Run(), _Run()
        self._hmm = ArousalHmm(
            ArousalHmmParams.from_thresholds(cfg.stress_delta_bpm, cfg.under_delta_bpm)
        )
        self._hmm_t: float | None = None  # the last sample the filter saw (None: fresh)

    def subscribe(self, listener: Callable[[HrEvent], None]) -> None:
        """Call ``listener`` with every event (sample verdicts, state changes, calibration)."""
        self._listeners.append(listener)

    # -- read-only view -------------------------------------------------------
    @property
    def state(self) -> State:
        return self._forced if self._forced is not None else self._auto

    @property
    def baseline(self) -> float | None:
        return self._baseline

    @property
    def calibrating(self) -> bool:
        return self._cal_end is not None

    @property
    def forced(self) -> bool:
        return self._forced is not None

    @property
    def last_bpm(self) -> float | None:
        return self._last_bpm

    @property
    def stale(self) -> bool:
        return self._stale

    # -- inputs ---------------------------------------------------------------
    def sample(self, t: float, bpm: float, rr_ms: Sequence[float] = ()) -> HrEvent:
        """Validate one reading, update calibration and rules; return its hr/hr_rejected event."""
        self._check_stale(t)
        if _as_float(t) is None:
            return self._reject(t, bpm, "time is not a finite number")
        self._finish_calibration(t)
        time_ok = self._last_t is None or t > self._last_t
        reason = self._artifact(t, bpm)
        ev = self._reject(t, bpm, reason) if reason is not None else self._accept(t, float(bpm))
        if time_ok:
            self._check_rr(t, rr_ms)
        if reason is None:
            self._calibrate_with(t, float(bpm))
            self._apply_rules(t, float(bpm))
        return ev

    def tick(self, t: float) -> None:
        """Housekeeping between samples: staleness and the end of a timed calibration."""
        self._check_stale(t)
        self._finish_calibration(t)

    def start_baseline(self, t: float, seconds: float | None = None) -> None:
        """Collect accepted samples from ``t`` for ``seconds`` (default ``baseline_seconds``)."""
        span = self.cfg.baseline_seconds if seconds is None else seconds
        if not span > 0:
            raise ValueError(f"calibration needs a positive duration, got {span}")
        self._cal_end = t + span
        self._cal_samples = []
        self._cal_pending_logged = False
        self._emit(t, "calibration", f"{span:g}", "started")

    def set_baseline(self, t: float, bpm: float) -> None:
        """Set the baseline explicitly (ends any calibration)."""
        v = _as_float(bpm)
        if v is None or not self.cfg.min_bpm <= v <= self.cfg.max_bpm:
            raise ValueError(
                f"baseline must be {self.cfg.min_bpm:g}-{self.cfg.max_bpm:g} bpm, got {bpm}"
            )
        self._cal_end = None
        self._cal_samples = []
        self._new_baseline(t, v, "set explicitly")

    def force_state(self, t: float, state: State | None) -> None:
        """Pin the state (``None``: back to the rules). Always logs a ``state`` event."""
        if state is not None and state not in ("neutral", "stress", "underaroused"):
            raise ValueError(f"unknown state {state!r}")
        self._forced = state
        self._emit(t, "state", self.state, "forced" if state is not None else "auto")

    # -- internals ------------------------------------------------------------
    def _emit(self, t: float, kind: str, value: str, detail: str = "") -> HrEvent:
        ev = HrEvent(t, kind, value, detail)
        for listener in self._listeners:
            listener(ev)
        return ev

    def _set_auto(self, t: float, new: State, detail: str) -> None:
        before = self.state
        self._auto = new
        if self.state != before:
            self._emit(t, "state", self.state, detail)

    def _reset_runs(self) -> None:
        for run in (self._high, self._low, self._below_stress_exit, self._above_under_exit):
            run.since = None
        self._hmm.reset()
        self._hmm_t = None

    def _check_stale(self, t: float) -> None:
        if self._stale or self._last_t is None or not t - self._last_t >= self.cfg.stale_seconds:
            return
        self._stale = True
        self._reset_runs()
        self._emit(t, "hr_stale", "", f"no valid hr for {t - self._last_t:g} s")
        self._set_auto(t, "neutral", "stale data")

    def _artifact(self, t: float, bpm: float) -> str | None:
        v = _as_float(bpm)
        cfg = self.cfg
        if v is None:
            return "not a finite number"
        if self._last_t is not None and t < self._last_t:
            return f"time went backwards ({t:g} < {self._last_t:g})"
        if self._last_t is not None and t == self._last_t:
            return f"duplicate timestamp {t:g}"
        if not cfg.min_bpm <= v <= cfg.max_bpm:
            return f"out of range {cfg.min_bpm:g}-{cfg.max_bpm:g} bpm"
        if self._last_t is not None and self._last_bpm is not None:
            rate = abs(v - self._last_bpm) / (t - self._last_t)
            if rate > cfg.max_jump_bpm_per_s:
                return f"jump of {rate:.1f} bpm/s exceeds {cfg.max_jump_bpm_per_s:g}"
        return None

    def _reject(self, t: float, bpm: object, reason: str) -> HrEvent:
        self.rejected += 1
        return self._emit(t, "hr_rejected", str(bpm), reason)

    def _accept(self, t: float, bpm: float) -> HrEvent:
        self.accepted += 1
        if self._stale and self._last_t is not None:
            self._stale = False
            self._emit(t, "hr_resumed", f"{bpm:.1f}", f"after {t - self._last_t:g} s without data")
        self._last_t, self._last_bpm = t, bpm
        return self._emit(t, "hr", f"{bpm:.1f}")

    def _check_rr(self, t: float, rr_ms: Sequence[float]) -> None:
        lo, hi = 60_000.0 / self.cfg.max_bpm, 60_000.0 / self.cfg.min_bpm
        good: list[float] = []
        for raw in rr_ms:
            v = _as_float(raw)
            if v is not None and lo <= v <= hi:
                good.append(v)
            else:
                why = "not a finite number" if v is None else f"out of range {lo:.0f}-{hi:.0f} ms"
                self._emit(t, "hr_rejected", str(raw), f"rr interval {why}")
        if good:
            self._emit(t, "rr", " ".join(f"{v:g}" for v in good))

    def _finish_calibration(self, t: float) -> None:
        if self._cal_end is None or t < self._cal_end:
            return
        n, need = len(self._cal_samples), self.cfg.min_baseline_samples
        if n >= need:
            self._cal_end = None
            median = statistics.median(self._cal_samples)
            self._cal_samples = []
            self._new_baseline(t, median, f"calibrated from {n} samples (median)")
        elif not self._cal_pending_logged:
            self._cal_pending_logged = True
            self._emit(t, "calibration", str(n), f"only {n} of {need} samples; still calibrating")

    def _calibrate_with(self, t: float, bpm: float) -> None:
        if self._cal_end is None:
            return
        self._cal_samples.append(bpm)
        if self._cal_pending_logged:  # window over but short of samples: done once enough
            self._finish_calibration(t)

    def _new_baseline(self, t: float, bpm: float, detail: str) -> None:
        self._baseline = bpm
        self._reset_runs()
        self._emit(t, "baseline", f"{bpm:.1f}", detail)
        self._set_auto(t, "neutral", "baseline set")

    def _apply_rules(self, t: float, bpm: float) -> None:
        b, cfg = self._baseline, self.cfg
        if b is None:
            return
        if cfg.model == "bayes":
            self._apply_bayes(t, bpm, b)
            return
        sd, ud, h = cfg.stress_delta_bpm, cfg.under_delta_bpm, cfg.hysteresis_bpm
        self._high.update(t, bpm > b + sd)
        self._low.update(t, bpm < b - ud)
        self._below_stress_exit.update(t, bpm < b + sd - h)
        self._above_under_exit.update(t, bpm > b - ud + h)
        hi, lo = self._high.held(t), self._low.held(t)
        enter_stress = hi + _EPS >= cfg.stress_sustain_s
        enter_under = lo + _EPS >= cfg.under_sustain_s
        stress_why = f"hr {bpm:.1f} > baseline {b:.1f} + {sd:g} for {hi:g} s"
        under_why = f"hr {bpm:.1f} < baseline {b:.1f} - {ud:g} for {lo:g} s"
        if self._auto == "neutral":
            if enter_stress:
                self._set_auto(t, "stress", stress_why)
            elif enter_under:
                self._set_auto(t, "underaroused", under_why)
        elif self._auto == "stress":
            held = self._below_stress_exit.held(t)
            if held + _EPS >= cfg.exit_sustain_s:
                if enter_under:
                    self._set_auto(t, "underaroused", under_why)
                else:
                    why = f"hr {bpm:.1f} < baseline {b:.1f} + {sd:g} - {h:g} for {held:g} s"
                    self._set_auto(t, "neutral", why)
        else:
            held = self._above_under_exit.held(t)
            if held + _EPS >= cfg.exit_sustain_s:
                if enter_stress:
                    self._set_auto(t, "stress", stress_why)
                else:
                    why = f"hr {bpm:.1f} > baseline {b:.1f} - {ud:g} + {h:g} for {held:g} s"
                    self._set_auto(t, "neutral", why)

    def _apply_bayes(self, t: float, bpm: float, b: float) -> None:
        dt = None if self._hmm_t is None else t - self._hmm_t
        self._hmm_t = t
        post = self._hmm.update(bpm - b, dt)
        new = self._hmm.state
        if new != self._auto:
            p = post[STATES.index(new)]
            p_enter = self._hmm.params.p_enter
            why = f"p({new}) {p:.3f} >= {p_enter:g} (hr {bpm:.1f}, baseline {b:.1f})"
            self._set_auto(t, new, why)


_RR_SPLIT = re.compile(r"[;\s]+")


def read_hr_trace(path: str | Path) -> list[tuple[float, float, list[float]]]:
    """Read a CSV trace with header ``t,bpm`` and an optional ``rr_ms`` column.

    RR intervals are separated by spaces or semicolons. ``bpm`` may be ``nan`` (the
    monitor rejects it, which is what a replayed artifact should do). Errors name the
    file, the row (the file's line number, header = 1) and the field.
    """
    rows: list[tuple[float, float, list[float]]] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = [c.strip() for c in reader.fieldnames or []]
        if "t" not in fields or "bpm" not in fields:
            raise ValueError(f"{path}: header needs columns 't' and 'bpm', found {fields}")
        reader.fieldnames = fields
        for rec in reader:
            n = reader.line_num

            def num(field: str, text: str | None, finite: bool, n: int = n) -> float:
                if text is None or not text.strip():
                    raise ValueError(f"{path}: row {n}: field '{field}': missing")
                try:
                    v = float(text)
                except ValueError:
                    raise ValueError(
                        f"{path}: row {n}: field '{field}': {text.strip()!r} is not a number"
                    ) from None
                if finite and not math.isfinite(v):
                    raise ValueError(f"{path}: row {n}: field '{field}': must be finite, got {v}")
                return v

            t = num("t", rec.get("t"), finite=True)
            bpm = num("bpm", rec.get("bpm"), finite=False)
            rr_text = (rec.get("rr_ms") or "").strip()
            rr = [num("rr_ms", x, finite=False) for x in _RR_SPLIT.split(rr_text) if x]
            rows.append((t, bpm, rr))
    return rows
