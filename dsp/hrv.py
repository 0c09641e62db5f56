"""Heart-rate variability from RR intervals: artifact rejection and time-domain figures.

Pure numpy, no I/O, no clocks: every beat comes with its own time ``t`` (seconds, the
time of the beat that ends the interval) and ``rr_ms`` (the interval, milliseconds).

Rejection rule (an NN interval is an RR interval that is not rejected). A beat is
rejected when

* it is not a finite number or lies outside the physiological range 300-2000 ms
  (the bounds of hrv-analysis' ``remove_outliers``), or
* it differs by more than 20 % from the median of its neighbours: the up to
  ``NEIGHBOURS`` (5) in-range beats before it and the up to 5 after it that have arrived
  by the time the figures are computed (a local window of 11 beats centred on the beat,
  the beat itself left out; cf. the 20 % rule of Malik et al. 1993, applied against a
  local median instead of the previous beat, as in median-filter ectopic detection). An
  ectopic beat (a short interval and the compensatory long one after it) thus removes
  both intervals, and a missed beat (two intervals merged into one) removes the merged
  one, without the rule following a run of artifacts.

Figures over the NN intervals of a window (the definitions of the Task Force of the ESC
and NASPE, 1996, and of hrv-analysis' ``get_time_domain_features``):

* ``rmssd_ms``: root mean square of the successive differences, taken only between two
  accepted beats adjacent in the original sequence (a difference across a rejected beat
  is not a successive difference);
* ``sdnn_ms``: sample standard deviation of the NN intervals (``ddof=1``, as
  hrv-analysis);
* ``pnn50``: the percentage (0-100) of those successive differences whose magnitude
  exceeds 50 ms (hrv-analysis' ``pnni_50``, which divides by the number of differences);
* ``mean_hr``: 60000 / mean NN, beats per minute. (hrv-analysis' ``mean_hr`` is the mean
  of the instantaneous rates 60000 / NN, slightly higher by Jensen's inequality; this
  module's is the rate of the mean interval.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MIN_RR_MS = 300.0
MAX_RR_MS = 2000.0
NEIGHBOURS = 5  # on each side: a local window of 11 beats
MAX_DEVIATION = 0.20  # of the local median

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class HrvFigures:
    """Time-domain figures of one window ending at ``t_end`` (seconds)."""

    t_end: float
    rmssd_ms: float
    sdnn_ms: float
    pnn50: float  # percent, 0-100
    mean_hr: float  # bpm, 60000 / mean NN
    beats: int  # accepted (NN) beats in the window
    rejected: int  # rejected beats in the window


def accepted_mask(
    rr_ms: Sequence[float] | FloatArray,
    *,
    neighbours: int = NEIGHBOURS,
    max_deviation: float = MAX_DEVIATION,
    min_rr_ms: float = MIN_RR_MS,
    max_rr_ms: float = MAX_RR_MS,
) -> NDArray[np.bool_]:
    """True for each beat that passes the range and local-median rules (module docstring).

    The neighbours of a beat are the up to ``neighbours`` in-range beats on each side in
    ``rr_ms`` (fewer at the ends); a beat with no in-range neighbour passes on range alone.
    ``max_deviation=float("inf")`` keeps the range rule only.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    n = rr.size
    with np.errstate(invalid="ignore"):
        in_range = np.isfinite(rr) & (rr >= min_rr_ms) & (rr <= max_rr_ms)
    if n == 0 or neighbours <= 0 or not np.isfinite(max_deviation):
        return in_range
    vals = np.where(in_range, rr, np.nan)
    padded = np.concatenate([np.full(neighbours, np.nan), vals, np.full(neighbours, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * neighbours + 1).copy()
    win[:, neighbours] = np.nan  # the beat itself is not its own neighbour
    has_neighbour = np.isfinite(win).any(axis=1)
    med = np.full(n, np.nan)
    if has_neighbour.any():
        med[has_neighbour] = np.nanmedian(win[has_neighbour], axis=1)
    with np.errstate(invalid="ignore"):
        close = np.abs(rr - med) <= max_deviation * med
    return in_range & (close | ~has_neighbour)


def time_domain(
    rr_ms: Sequence[float] | FloatArray,
    accepted: Sequence[bool] | NDArray[np.bool_] | None = None,
    *,
    t_end: float = 0.0,
) -> HrvFigures | None:
    """The figures of a run of consecutive beats; ``accepted`` marks the NN ones (default all).

    None when fewer than two beats are accepted or no two accepted beats are adjacent.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    ok = np.ones(rr.size, dtype=bool) if accepted is None else np.asarray(accepted, dtype=bool)
    if ok.shape != rr.shape:
        raise ValueError(f"accepted has {ok.size} entries for {rr.size} beats")
    nn = rr[ok]
    pairs = ok[1:] & ok[:-1]
    if nn.size < 2 or not pairs.any():
        return None
    diffs = np.diff(rr)[pairs]
    mean_nn = float(nn.mean())
    return HrvFigures(
        t_end=float(t_end),
        rmssd_ms=float(np.sqrt(np.mean(diffs * diffs))),
        sdnn_ms=float(nn.std(ddof=1)),
        pnn50=float(100.0 * np.count_nonzero(np.abs(diffs) > 50.0) / diffs.size),
        mean_hr=60_000.0 / mean_nn,
        beats=int(nn.size),
        rejected=int(rr.size - nn.size),
    )


class HrvWindow:
    """The figures of the last ``window_seconds`` of a live stream of beats.

    ``add(t, rr_ms)`` one beat at a time, in time order; ``figures(t_now)`` covers the
    beats with ``t_now - window_seconds < t <= t_now``, each judged by the rejection rule
    against its neighbours that have arrived by ``t_now`` (so a beat's verdict may change
    once its later neighbours arrive). None until ``min_beats`` beats of the window are
    accepted. ``reject=False`` keeps every beat (the reference's view of clean data).
    Memory is bounded: beats older than the window (plus the neighbours the rule needs)
    are dropped on ``add``, so ``t_now`` should not lie before the latest beat's time
    minus the window.
    """

    def __init__(
        self,
        window_seconds: float = 60.0,
        *,
        min_beats: int = 10,
        reject: bool = True,
        neighbours: int = NEIGHBOURS,
        max_deviation: float = MAX_DEVIATION,
    ) -> None:
        if not window_seconds > 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        if min_beats < 2:
            raise ValueError(f"min_beats must be at least 2, got {min_beats}")
        self.window_seconds = float(window_seconds)
        self.min_beats = min_beats
        self.reject = reject
        self.neighbours = neighbours
        self.max_deviation = max_deviation
        self._beats: deque[tuple[float, float]] = deque()

    def add(self, t: float, rr_ms: float) -> None:
        """One beat at time ``t`` (seconds); a time before the previous beat's is an error."""
        t = float(t)
        if not np.isfinite(t):
            raise ValueError(f"beat time must be finite, got {t}")
        if self._beats and t < self._beats[-1][0]:
            raise ValueError(f"beat time {t} is before the previous beat's {self._beats[-1][0]}")
        self._beats.append((t, float(rr_ms)))
        horizon = t - self.window_seconds
        # keep the window and `neighbours` older beats for the first ones' rule
        while len(self._beats) > self.neighbours + 1 and self._beats[self.neighbours][0] <= horizon:
            self._beats.popleft()

    def figures(self, t_now: float) -> HrvFigures | None:
        """The window ending at ``t_now``; None until ``min_beats`` of its beats are accepted."""
        if not self._beats:
            return None
        times = np.fromiter((b[0] for b in self._beats), dtype=np.float64, count=len(self._beats))
        rr = np.fromiter((b[1] for b in self._beats), dtype=np.float64, count=len(self._beats))
        lo = int(np.searchsorted(times, t_now - self.window_seconds, side="right"))
        hi = int(np.searchsorted(times, t_now, side="right"))
        if hi - lo < self.min_beats:
            return None
        if self.reject:
            a = max(0, lo - self.neighbours)
            ok = accepted_mask(
                rr[a:hi], neighbours=self.neighbours, max_deviation=self.max_deviation
            )[lo - a :]
        else:
            ok = np.ones(hi - lo, dtype=bool)
        if np.count_nonzero(ok) < self.min_beats:
            return None
        return time_domain(rr[lo:hi], ok, t_end=t_now)


def hrv_windows(
    times: Sequence[float] | FloatArray,
    rr_ms: Sequence[float] | FloatArray,
    window_s: float = 60.0,
    step_s: float = 10.0,
    *,
    min_beats: int = 10,
    reject: bool = True,
) -> list[HrvFigures]:
    """Sliding windows over a recorded series: ends at first beat + ``window_s``, then every
    ``step_s`` up to the last beat (a shorter series gives one window ending at its last
    beat). The same figures an ``HrvWindow`` fed the beats live gives at each end; windows
    with too few accepted beats are left out."""
    t = np.asarray(times, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    if t.shape != rr.shape or t.ndim != 1:
        raise ValueError(f"times and rr_ms must be 1-D of one length, got {t.shape}, {rr.shape}")
    if not step_s > 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    if t.size == 0:
        return []
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
        raise ValueError("beat times must be finite and non-decreasing")
    first, last = float(t[0]), float(t[-1])
    n_ends = max(0, int(np.floor((last - first - window_s) / step_s + 1e-9)) + 1)
    ends = [first + window_s + k * step_s for k in range(n_ends)] or [last]
    win = HrvWindow(window_s, min_beats=min_beats, reject=reject)
    out: list[HrvFigures] = []
    i = 0
    for end in ends:
        while i < t.size and t[i] <= end:
            win.add(float(t[i]), float(rr[i]))
            i += 1
        fig = win.figures(end)
        if fig is not None:
            out.append(fig)
    return out
