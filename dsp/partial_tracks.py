"""Partials: spectral peaks tracked over time, grouped by band and stability.

:func:`track_partials` continues tracks greedily frame by frame: every (open track, peak)
pair within ``max_jump_cents`` of the track's last frequency is a candidate, and pairs are
taken closest first (in cents; the louder peak on a tie), each track and peak at most once.
A peak left over starts a track; a track unmatched for more than ``max_gap_frames``
consecutive frames is closed. Gaps are not filled: a :class:`Partial` holds only the
frames where it was seen. Tracks seen in fewer than ``min_length_frames`` frames are
dropped.

Stability (:func:`stability`, :func:`split_stable`): the frequency's standard deviation in
cents about its geometric mean (a vibrato of +-d cents reads about d/sqrt(2), less the
STFT window's smoothing of fast modulation), and the amplitude's *jitter*: the rms
residual (dB) of a straight line fitted to the amplitude in dB over time, so a steady
exponential decay counts as stable and tremolo does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from bassd.dsp._dspcore import ffi, lib

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

DEFAULT_BANDS: Final = ((20.0, 250.0), (250.0, 2000.0), (2000.0, 20000.0))


class PeakLike(Protocol):
    """What tracking reads of a peak (:class:`bassd.dsp.spectral_peaks.Peak`)."""

    @property
    def freq_hz(self) -> float: ...

    @property
    def amp_db(self) -> float: ...


@dataclass(frozen=True, eq=False)
class Partial:
    """One tracked partial: the frames it was seen in (equal-length arrays)."""

    times: FloatArray  # (n,) seconds
    freqs: FloatArray  # (n,) Hz
    amps_db: FloatArray  # (n,) dB

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def mean_freq_hz(self) -> float:
        return float(np.mean(self.freqs))

    @property
    def median_freq_hz(self) -> float:
        return float(np.median(self.freqs))

    @property
    def mean_amp_db(self) -> float:
        return float(np.mean(self.amps_db))

    @property
    def freq_std_cents(self) -> float:
        """Standard deviation of the frequency in cents (about its geometric mean)."""
        c = 1200.0 * np.log2(self.freqs / np.median(self.freqs))  # (n,)
        return float(np.std(c))

    @property
    def amp_jitter_db(self) -> float:
        """Rms residual (dB) of a straight-line fit of ``amps_db`` over time."""
        if len(self) < 3:
            return 0.0
        slope, icpt = np.polyfit(self.times, self.amps_db, 1)
        return float(np.sqrt(np.mean((self.amps_db - (slope * self.times + icpt)) ** 2)))

    @property
    def duration_s(self) -> float:
        """From the first frame's time to the last's."""
        return float(self.times[-1] - self.times[0])


def _i64(a: npt.NDArray[np.int64]) -> Any:
    return ffi.cast("int64_t *", ffi.from_buffer(a))


class PartialTracker:
    """Streaming tracking (see the module): :meth:`feed` one frame's peaks at a time;
    each call returns the tracks that frame closed (seen in >= ``min_length_frames``
    frames), :meth:`close` the rest at the end. Only open tracks are held.

    A track is closed by the frame that makes its gap exceed ``max_gap_frames`` (the
    ``max_gap_frames + 1``-th frame in a row without it). Matching is vectorised: each
    track's window of peaks within ``max_jump_cents`` by a binary search over the peaks
    sorted by frequency, their cents distances in numpy, the candidate pairs ordered by
    |cents|, then the louder peak, then the older track, then the lower peak index, and
    the greedy pass over them in C (``peaks.c``).
    """

    def __init__(
        self,
        *,
        max_jump_cents: float = 50.0,
        max_gap_frames: int = 2,
        min_length_frames: int = 5,
        max_length_frames: int | None = None,
    ) -> None:
        self.max_jump_cents = float(max_jump_cents)
        self.max_gap_frames = int(max_gap_frames)
        self.min_length_frames = int(min_length_frames)
        # a track this long is returned and its partial goes on as a new track, so a tone
        # held for an hour costs what one held for a minute does (None: no limit)
        self.max_length_frames = max_length_frames
        self._frame = 0  # index of the next frame
        # open tracks, oldest first: their (time, freq, amp) points, last freq and frame
        self._pts: list[list[tuple[float, float, float]]] = []
        self._last_f = np.zeros(0)  # (n_open,)
        self._last_k = np.zeros(0, dtype=np.int64)  # (n_open,)

    @property
    def n_open(self) -> int:
        """Tracks open now."""
        return len(self._pts)

    def feed(self, t: float, freqs: npt.ArrayLike, amps_db: npt.ArrayLike) -> list[Partial]:
        """Consume one frame's peaks (``freqs`` (m,) Hz, ``amps_db`` (m,)) at time ``t``;
        peaks at <= 0 Hz are ignored. Returns the tracks closed by this frame."""
        return self._step(t, freqs, amps_db, close_stale=True)

    def _step(
        self, t: float, freqs: npt.ArrayLike, amps_db: npt.ArrayLike, *, close_stale: bool
    ) -> list[Partial]:
        """:meth:`feed`; without ``close_stale`` the stale tracks stay open (for a last
        frame followed by :meth:`close`, which then returns every track in age order)."""
        f = np.asarray(freqs, dtype=np.float64).reshape(-1)  # (m,)
        a = np.asarray(amps_db, dtype=np.float64).reshape(-1)  # (m,)
        if f.shape != a.shape:
            raise ValueError(f"{f.shape[0]} freqs but {a.shape[0]} amplitudes")
        k = self._frame
        self._frame += 1
        t = float(t)
        valid = f > 0.0
        if not valid.all():
            f, a = f[valid], a[valid]
        matched = np.zeros(f.shape[0], dtype=bool)  # (m,)
        if self._last_f.shape[0] and f.shape[0]:
            ti, pi = self._match(f, a)
            matched[pi] = True
            self._last_f[ti] = f[pi]
            self._last_k[ti] = k
            pts = self._pts
            for i, fv, av in zip(ti.tolist(), f[pi].tolist(), a[pi].tolist(), strict=True):
                pts[i].append((t, fv, av))
        closed = self._close(k - self._last_k > self.max_gap_frames) if close_stale else []
        if self.max_length_frames is not None and self._pts:
            full = np.fromiter((len(p) >= self.max_length_frames for p in self._pts), dtype=bool,
                               count=len(self._pts))  # fmt: skip
            if full.any():
                closed += self._close(full)
        new = np.flatnonzero(~matched)
        if new.size:
            self._pts += [
                [(t, fv, av)] for fv, av in zip(f[new].tolist(), a[new].tolist(), strict=True)
            ]
            self._last_f = np.concatenate([self._last_f, f[new]])
            self._last_k = np.concatenate([self._last_k, np.full(new.size, k, dtype=np.int64)])
        return closed

    def close(self) -> list[Partial]:
        """Close every open track (the end of the input); returns those long enough."""
        return self._close(np.ones(self.n_open, dtype=bool))

    def _match(self, f: FloatArray, a: FloatArray) -> tuple[IntArray, IntArray]:
        """The greedy assignment: (track indices, peak indices) of the pairs taken."""
        n_t, m = self._last_f.shape[0], f.shape[0]
        by_f = np.argsort(f, kind="stable")  # (m,)
        fs = f[by_f]
        lim = 2.0 ** (self.max_jump_cents / 1200.0) * (1.0 + 1e-9)  # a little wide
        lo = np.searchsorted(fs, self._last_f / lim, "left")  # (n_t,) each track's window
        cnt = np.searchsorted(fs, self._last_f * lim, "right") - lo
        n_c = int(cnt.sum())
        if n_c == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        ti = np.repeat(np.arange(n_t), cnt)  # (n_c,) candidate pairs
        pi = by_f[np.arange(n_c) - np.repeat(np.cumsum(cnt) - cnt - lo, cnt)]
        d = np.abs(1200.0 * np.log2(f[pi] / self._last_f[ti]))  # (n_c,) cents
        ok = d <= self.max_jump_cents
        ti, pi, d = ti[ok], pi[ok], d[ok]
        order = np.lexsort((pi, ti, -a[pi], d))
        ti = np.ascontiguousarray(ti[order], dtype=np.int64)
        pi = np.ascontiguousarray(pi[order], dtype=np.int64)
        flags = np.zeros(n_t + m, dtype=np.uint8)  # tracks taken, peaks taken
        take = np.empty(ti.shape[0], dtype=np.int64)
        fp = ffi.cast("uint8_t *", ffi.from_buffer(flags))
        n = lib.bassd_greedy_pairs(_i64(ti), _i64(pi), ti.shape[0], fp, fp + n_t, _i64(take))
        sel = take[:n]
        return ti[sel], pi[sel]

    def _close(self, mask: npt.NDArray[np.bool_]) -> list[Partial]:
        """Remove the open tracks where ``mask`` (n_open,); return the long enough ones."""
        gone = np.flatnonzero(mask).tolist()
        if not gone:
            return []
        out = []
        for i in gone:
            if len(self._pts[i]) >= self.min_length_frames:
                tfa = np.array(self._pts[i]).T.copy()  # (3, n) rows: times, freqs, amps
                out.append(Partial(tfa[0], tfa[1], tfa[2]))
        for i in reversed(gone):
            del self._pts[i]
        keep = ~mask
        self._last_f = self._last_f[keep]
        self._last_k = self._last_k[keep]
        return out


def track_partials(
    frames_of_peaks: Sequence[Sequence[PeakLike]],
    times: npt.ArrayLike,
    *,
    max_jump_cents: float = 50.0,
    max_gap_frames: int = 2,
    min_length_frames: int = 5,
) -> list[Partial]:
    """Track per-frame peaks into partials (see the module), ordered by start then
    frequency; ``times`` (n_frames,) the frames' times. A :class:`PartialTracker` run over
    the whole input."""
    ts = np.asarray(times, dtype=np.float64)  # (n_frames,)
    if ts.shape[0] != len(frames_of_peaks):
        raise ValueError(f"{len(frames_of_peaks)} frames of peaks but {ts.shape[0]} times")
    tracker = PartialTracker(
        max_jump_cents=max_jump_cents,
        max_gap_frames=max_gap_frames,
        min_length_frames=min_length_frames,
    )
    out: list[Partial] = []
    last = len(frames_of_peaks) - 1
    for k, (t, peaks) in enumerate(zip(ts.tolist(), frames_of_peaks, strict=True)):
        f, a = [p.freq_hz for p in peaks], [p.amp_db for p in peaks]
        out += tracker._step(t, f, a, close_stale=k < last)  # the end closes in age order
    out += tracker.close()
    out.sort(key=lambda p: (float(p.times[0]), p.median_freq_hz))
    return out


def band_label(lo: float, hi: float) -> str:
    """A band's key in :func:`group_partials`' result, e.g. ``"250-2000"``."""
    return f"{lo:g}-{hi:g}"


def group_partials(
    partials: Sequence[Partial],
    bands: Sequence[tuple[float, float]] = DEFAULT_BANDS,
) -> dict[str, list[Partial]]:
    """Partials by band of their median frequency, ``lo <= f < hi``; every band has a key
    (perhaps an empty list); a partial in no band is left out."""
    out: dict[str, list[Partial]] = {band_label(lo, hi): [] for lo, hi in bands}
    for p in partials:
        f = p.median_freq_hz
        for lo, hi in bands:
            if lo <= f < hi:
                out[band_label(lo, hi)].append(p)
                break
    return out


@dataclass(frozen=True, slots=True)
class Stability:
    """A partial's stability figures (see the module)."""

    freq_std_cents: float
    amp_jitter_db: float


def stability(p: Partial) -> Stability:
    """The partial's frequency spread (cents) and amplitude jitter (dB)."""
    return Stability(p.freq_std_cents, p.amp_jitter_db)


def is_stable(
    p: Partial, *, max_freq_std_cents: float = 5.0, max_amp_jitter_db: float = 3.0
) -> bool:
    """Whether both figures are within their thresholds."""
    s = stability(p)
    return s.freq_std_cents <= max_freq_std_cents and s.amp_jitter_db <= max_amp_jitter_db


def split_stable(
    partials: Sequence[Partial],
    *,
    max_freq_std_cents: float = 5.0,
    max_amp_jitter_db: float = 3.0,
) -> dict[str, list[Partial]]:
    """``{"stable": [...], "unstable": [...]}`` by :func:`is_stable`."""
    out: dict[str, list[Partial]] = {"stable": [], "unstable": []}
    for p in partials:
        ok = is_stable(
            p, max_freq_std_cents=max_freq_std_cents, max_amp_jitter_db=max_amp_jitter_db
        )
        out["stable" if ok else "unstable"].append(p)
    return out
