"""Follow the player's tempo from note onsets, with hysteresis (the accompanist's "ears" for time).

:class:`TempoFollower` gets the player's note-onset times (seconds, on the engine clock) and
keeps a tempo. Each inter-onset interval (IOI) is *folded* to the nearest of
:data:`SUBDIVISIONS` of the current beat period (a quarter, a third, a half, one or two
beats, nearest in ratio), so sixteenths, triplets, eighths and half notes all give a beat
period, not a multiple of it. The estimate is the median of the last ``window`` folded
periods. The tempo changes only after the estimate has differed from it by more than
``threshold`` (relative) for ``hold`` consecutive onsets; then :meth:`TempoFollower.onset`
returns the new tempo, clamped to [min_bpm, max_bpm]; otherwise it returns None.

Ignored IOIs: under :data:`CHORD_S` (the notes of one chord: the chord's time stays its first
note's), over :data:`GAP_S` (a pause; the next IOI counts from the note after it), and those
more than :data:`FOLD_TOLERANCE` from every subdivision in ratio (dotted and syncopated
figures, which fit no grid position; also why one jump of more than about 25 % in tempo is
not followed -- call :meth:`TempoFollower.reset` for that). Pure: no I/O, no clocks.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

SUBDIVISIONS: tuple[float, ...] = (0.25, 1.0 / 3.0, 0.5, 1.0, 2.0)
"""The IOI sizes, in beats, an onset interval is folded to."""
CHORD_S = 0.050
GAP_S = 2.0
FOLD_TOLERANCE = 0.25
"""An IOI more than this far (relative) from every subdivision is not used."""


def _positive(name: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    return float(v)


def _count(name: str, v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    return v


class TempoFollower:
    """Tempo estimate from onset times: folded IOIs, median window, hysteresis (see module)."""

    def __init__(
        self,
        bpm: float,
        *,
        min_bpm: float = 40,
        max_bpm: float = 240,
        window: int = 8,
        threshold: float = 0.04,
        hold: int = 4,
    ) -> None:
        self.min_bpm = _positive("min_bpm", min_bpm)
        self.max_bpm = _positive("max_bpm", max_bpm)
        if self.min_bpm > self.max_bpm:
            raise ValueError(f"min_bpm {min_bpm} is above max_bpm {max_bpm}")
        self.window = _count("window", window)
        self.hold = _count("hold", hold)
        self.threshold = _positive("threshold", threshold)
        self._periods: deque[float] = deque(maxlen=self.window)
        self._bpm = 0.0
        self._last: float | None = None
        self._streak = 0
        self.reset(bpm)

    @property
    def bpm(self) -> float:
        """The current tempo, beats per minute."""
        return self._bpm

    def reset(self, bpm: float) -> None:
        """Set the tempo to ``bpm``, clamped to [min_bpm, max_bpm], and forget every onset."""
        b = _positive("bpm", bpm)
        self._bpm = min(self.max_bpm, max(self.min_bpm, b))
        self._periods.clear()
        self._last = None
        self._streak = 0

    def _fold(self, ioi: float) -> float | None:
        """The beat period that ``ioi`` implies at its nearest subdivision, or None if none fits."""
        period = 60.0 / self._bpm
        ratio = ioi / period
        best = min(SUBDIVISIONS, key=lambda m: abs(math.log(ratio / m)))
        if abs(math.log(ratio / best)) > math.log1p(FOLD_TOLERANCE):
            return None
        return ioi / best

    def onset(self, t: float) -> float | None:
        """Feed one note onset at ``t`` seconds; the new tempo when it changes, else None."""
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            raise ValueError(f"onset time must be a finite number, got {t!r}")
        t = float(t)
        last = self._last
        if last is None or t < last:  # first onset, or the clock went back: start afresh
            self._last = t
            return None
        ioi = t - last
        if ioi < CHORD_S:
            return None
        self._last = t
        if ioi > GAP_S:
            return None
        period = self._fold(ioi)
        if period is None:
            return None
        self._periods.append(period)
        estimate = 60.0 / statistics.median(self._periods)
        if abs(estimate - self._bpm) <= self.threshold * self._bpm:
            self._streak = 0
            return None
        self._streak += 1
        if self._streak < self.hold:
            return None
        self._streak = 0
        new = min(self.max_bpm, max(self.min_bpm, estimate))
        if new == self._bpm:  # pinned at a clamp: no change to report
            return None
        self._bpm = new
        return new
