"""The listener's response to one segment: what the heart rate did while it played.

A :class:`ResponseTracker` is told of every accepted heart-rate sample (``hr_sample``) and
of every segment start (``segment_started``); when a segment starts it closes the one
before and returns its :class:`SegmentResponse`, or a :class:`NoResponse` with the reason
when the segment cannot be judged (no baseline, no prompt to credit, too few samples).

Reward (what the prompt bandit learns from). Every state has the same goal, the baseline:
``stress`` wants HR to fall toward it, ``underaroused`` to rise toward it, ``neutral`` to
stay near it. So the reward is the rate at which the segment closed the distance to the
baseline, from its first third of samples to its last third (by time)::

    d_early = |mean(bpm of the first third) - baseline|
    d_late  = |mean(bpm of the last third) - baseline|
    reward  = clip((d_early - d_late) / (t_late - t_early) / rate_scale, -clip, +clip)

with ``t_early``/``t_late`` the mean sample times of the two thirds in minutes and
``rate_scale`` (default 5 bpm/min) the normalisation: reward +1 means the heart rate moved
toward the baseline at 5 bpm/min, -1 away from it at that rate, 0 no change in distance.
Dividing by time makes rewards of long and short segments comparable; the absolute
distance gives the right sign in every state (a stressed listener whose HR falls gains, an
under-aroused one whose HR falls loses, a neutral one who drifts either way loses) and does
not reward overshooting past the baseline. Thirds rather than single samples, so one
noisy beat does not decide; the clip bounds what an artifact run can do to the posterior.
The state is the one the segment was planned for (its goal), not any state reached later.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: a segment needs at least this many samples, and a few in each third
MIN_SAMPLES = 10
MIN_PER_THIRD = 3


@dataclass(frozen=True)
class SegmentResponse:
    """How the heart rate answered one segment, and the reward the bandit learns from."""

    prompt_id: str
    state: str
    t_start: float
    t_end: float
    n_samples: int
    mean_bpm: float
    baseline: float
    delta_vs_baseline: float  # mean_bpm - baseline
    delta_vs_previous: float | None  # mean_bpm - the previous segment's mean_bpm
    slope_bpm_per_min: float  # least-squares slope over the segment's samples
    early_bpm: float  # mean of the first third
    late_bpm: float  # mean of the last third
    reward: float
    hrv_rmssd: float | None = None  # RMSSD (ms) at the segment's end, when known

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class NoResponse:
    """A segment that could not be judged, and why."""

    prompt_id: str | None
    state: str
    t_start: float
    t_end: float
    n_samples: int
    reason: str


Outcome = SegmentResponse | NoResponse


def goal_reward(
    early_bpm: float,
    late_bpm: float,
    baseline: float,
    minutes: float,
    *,
    rate_scale: float = 5.0,
    clip: float = 3.0,
) -> float:
    """The reward of moving from ``early_bpm`` to ``late_bpm`` in ``minutes``: the normalised
    rate at which the distance to ``baseline`` shrank (positive: toward it)."""
    if minutes <= 0:
        raise ValueError(f"minutes must be > 0, got {minutes}")
    closed = abs(early_bpm - baseline) - abs(late_bpm - baseline)
    return max(-clip, min(clip, closed / minutes / rate_scale))


def _slope_per_min(ts: list[float], bpm: list[float]) -> float:
    n = len(ts)
    mt, mb = sum(ts) / n, sum(bpm) / n
    sxx = sum((t - mt) ** 2 for t in ts)
    if sxx == 0:
        return 0.0
    sxy = sum((t - mt) * (b - mb) for t, b in zip(ts, bpm, strict=True))
    return sxy / sxx * 60.0


@dataclass
class _Open:
    t_start: float
    prompt_id: str | None
    state: str
    ts: list[float] = field(default_factory=list)
    bpm: list[float] = field(default_factory=list)


class ResponseTracker:
    """Collects the samples of the playing segment and judges it when the next one starts.

    ``baseline`` and ``hrv`` are read when a segment closes (e.g. ``lambda: monitor.baseline``
    and the HRV monitor's latest RMSSD). Samples before the first segment, or stamped before
    the open segment's start, are ignored; feed only accepted samples (not artifacts).
    """

    def __init__(
        self,
        baseline: Callable[[], float | None] | float | None,
        *,
        hrv: Callable[[], float | None] | None = None,
        min_samples: int = MIN_SAMPLES,
        rate_scale: float = 5.0,
        clip: float = 3.0,
    ) -> None:
        if min_samples < 3 * MIN_PER_THIRD:
            raise ValueError(f"min_samples must be >= {3 * MIN_PER_THIRD}, got {min_samples}")
        if rate_scale <= 0 or clip <= 0:
            raise ValueError("rate_scale and clip must be > 0")
        self._baseline = baseline
        self._hrv = hrv
        self.min_samples = min_samples
        self.rate_scale = rate_scale
        self.clip = clip
        self._open: _Open | None = None
        self.previous_mean: float | None = None  # the last closed segment's mean bpm

    def baseline(self) -> float | None:
        b = self._baseline
        return b() if callable(b) else b

    def hr_sample(self, t: float, bpm: float) -> None:
        seg = self._open
        if seg is None or t < seg.t_start or not math.isfinite(bpm):
            return
        seg.ts.append(t)
        seg.bpm.append(bpm)

    def segment_started(self, t: float, prompt_id: str | None, state: str) -> Outcome | None:
        """A segment began at ``t``: the previous one's outcome (None for the first)."""
        done = self.finish(t)
        self._open = _Open(t, prompt_id, state)
        return done

    def finish(self, t: float) -> Outcome | None:
        """Close the open segment at ``t`` (the session ended) and judge it."""
        seg, self._open = self._open, None
        if seg is None:
            return None
        out = self._judge(seg, t)
        if seg.bpm:
            self.previous_mean = sum(seg.bpm) / len(seg.bpm)
        return out

    def _judge(self, seg: _Open, t_end: float) -> Outcome:
        n = len(seg.ts)

        def no(reason: str) -> NoResponse:
            return NoResponse(seg.prompt_id, seg.state, seg.t_start, t_end, n, reason)

        if seg.prompt_id is None:
            return no("no bank prompt to credit")
        baseline = self.baseline()
        if baseline is None:
            return no("no baseline yet")
        if n < self.min_samples:
            return no(f"too few heart-rate samples ({n} < {self.min_samples})")
        lo, hi = seg.ts[0], seg.ts[-1]
        span = hi - lo
        if span <= 0:
            return no(f"all {n} samples stamped {lo:g} s")
        first = [i for i, x in enumerate(seg.ts) if x <= lo + span / 3]
        last = [i for i, x in enumerate(seg.ts) if x >= hi - span / 3]
        if len(first) < MIN_PER_THIRD or len(last) < MIN_PER_THIRD:
            return no(
                f"samples too uneven in time ({len(first)} in the first third, "
                f"{len(last)} in the last; need {MIN_PER_THIRD})"
            )
        early = sum(seg.bpm[i] for i in first) / len(first)
        late = sum(seg.bpm[i] for i in last) / len(last)
        t_early = sum(seg.ts[i] for i in first) / len(first)
        t_late = sum(seg.ts[i] for i in last) / len(last)
        reward = goal_reward(
            early, late, baseline, (t_late - t_early) / 60.0,
            rate_scale=self.rate_scale, clip=self.clip,
        )  # fmt: skip
        mean = sum(seg.bpm) / n
        prev = self.previous_mean
        return SegmentResponse(
            prompt_id=seg.prompt_id,
            state=seg.state,
            t_start=seg.t_start,
            t_end=t_end,
            n_samples=n,
            mean_bpm=mean,
            baseline=baseline,
            delta_vs_baseline=mean - baseline,
            delta_vs_previous=None if prev is None else mean - prev,
            slope_bpm_per_min=_slope_per_min(seg.ts, seg.bpm),
            early_bpm=early,
            late_bpm=late,
            reward=reward,
            hrv_rmssd=self._hrv() if self._hrv is not None else None,
        )
