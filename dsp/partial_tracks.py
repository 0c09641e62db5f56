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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

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


def _cents(f: float, g: float) -> float:
    return 1200.0 * math.log2(f / g)


def track_partials(
    frames_of_peaks: Sequence[Sequence[PeakLike]],
    times: npt.ArrayLike,
    *,
    max_jump_cents: float = 50.0,
    max_gap_frames: int = 2,
    min_length_frames: int = 5,
) -> list[Partial]:
    """Track per-frame peaks into partials (see the module), ordered by start then
    frequency; ``times`` (n_frames,) the frames' times."""
    ts = np.asarray(times, dtype=np.float64)  # (n_frames,)
    if ts.shape[0] != len(frames_of_peaks):
        raise ValueError(f"{len(frames_of_peaks)} frames of peaks but {ts.shape[0]} times")
    # a track: [frame indices, freqs, amps]; open ones also remember their last frame
    done: list[tuple[list[int], list[float], list[float]]] = []
    open_: list[tuple[list[int], list[float], list[float]]] = []
    for k, peaks in enumerate(frames_of_peaks):
        still = []
        for tr in open_:
            if k - tr[0][-1] - 1 > max_gap_frames:
                done.append(tr)
            else:
                still.append(tr)
        open_ = still
        pairs = []  # (|cents|, -amp, track index, peak index)
        for ti, tr in enumerate(open_):
            f_last = tr[1][-1]
            for pi, p in enumerate(peaks):
                if p.freq_hz > 0.0:
                    d = abs(_cents(p.freq_hz, f_last))
                    if d <= max_jump_cents:
                        pairs.append((d, -p.amp_db, ti, pi))
        pairs.sort()
        used_t: set[int] = set()
        used_p: set[int] = set()
        for _, _, ti, pi in pairs:
            if ti in used_t or pi in used_p:
                continue
            used_t.add(ti)
            used_p.add(pi)
            tr = open_[ti]
            tr[0].append(k)
            tr[1].append(peaks[pi].freq_hz)
            tr[2].append(peaks[pi].amp_db)
        for pi, p in enumerate(peaks):
            if pi not in used_p and p.freq_hz > 0.0:
                open_.append(([k], [p.freq_hz], [p.amp_db]))
    done.extend(open_)
    out = [
        Partial(
            ts[np.asarray(ks)], np.asarray(fs, dtype=np.float64), np.asarray(a_, dtype=np.float64)
        )
        for ks, fs, a_ in done
        if len(ks) >= min_length_frames
    ]
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
