"""Spectral peaks over time: a streaming STFT and peak picking with prominence and
parabolic interpolation.

**STFT.** Frame ``k`` covers samples ``[k*hop, k*hop + n_fft)`` and is stamped with its
centre, ``(k*hop + n_fft/2) / sr`` seconds; only whole frames are taken (no padding), so a
signal of ``n`` samples gives ``1 + (n - n_fft) // hop`` frames (none if ``n < n_fft``).
:func:`iter_stft` takes an array (a memory-mapped one too) or an iterable of 1-D chunks of
any sizes and yields one frame at a time; it holds at most ``n_fft`` samples plus one chunk
plus a block of ``_BLOCK`` frames, so memory does not grow with the input's length.
:func:`stft_frames` stacks the frames for inputs short enough to hold whole.

**Amplitude correction.** Magnitudes are scaled by ``2 / sum(w)`` (``w`` the periodic
window): a sinusoid of amplitude ``A`` centred on a bin then reads ``A``, i.e. ``20 log10 A``
dB (a full-scale sine reads 0 dB). ``sum(w)`` is the window's coherent gain times
``n_fft`` (Hann 0.5, Hamming 0.54, Blackman 0.42); the 2 folds the negative frequency's
half back in. Between bins the window's main lobe lowers the bin value (scalloping: up to
1.4 dB for Hann at half a bin); the parabolic fit recovers most of it.

**Peaks.** :func:`pick_peaks` takes local maxima of a dB spectrum above a floor, keeps those
whose *prominence* (as in ``scipy.signal.peak_prominences``: the height above the higher of
the two lowest points reached before a strictly higher sample or the spectrum's edge, on
each side) is at least ``min_prominence_db``, and refines each by fitting a parabola
through the log magnitude of the peak bin and its two neighbours: the vertex gives the
frequency (to a small fraction of a bin) and the amplitude. The per-frame work is one
call into ``peaks.c`` (local maxima, prominence by an O(n) monotonic-stack scan each way,
the parabola), about 10 us for 2049 bins; :func:`peak_arrays` returns numpy arrays and
:func:`pick_peaks` wraps them as :class:`Peak`. ``dsp`` does not import scipy (a test
dependency only; its import alone costs the daemon half a second); the tests check the
prominences against scipy's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bassd.dsp._dspcore import ffi, lib

FloatArray = npt.NDArray[np.float64]

_BLOCK: Final[int] = 64  # frames transformed together (one rfft call)
_WINDOWS: Final = ("hann", "hamming", "blackman")


@dataclass(frozen=True, slots=True)
class Peak:
    """One spectral peak: interpolated frequency (Hz), amplitude (dB re a full-scale
    sine's amplitude) and prominence (dB)."""

    freq_hz: float
    amp_db: float
    prominence_db: float


def make_window(name: str, n_fft: int) -> FloatArray:
    """The periodic (DFT-even) window of length ``n_fft``: "hann", "hamming" or "blackman"."""
    ph = 2.0 * np.pi * np.arange(n_fft) / n_fft  # (n_fft,)
    if name == "hann":
        return 0.5 - 0.5 * np.cos(ph)
    if name == "hamming":
        return 0.54 - 0.46 * np.cos(ph)
    if name == "blackman":
        return 0.42 - 0.5 * np.cos(ph) + 0.08 * np.cos(2.0 * ph)
    raise ValueError(f"unknown window {name!r}; expected one of {_WINDOWS}")


def n_frames(n_samples: int, n_fft: int, hop: int) -> int:
    """How many whole frames a signal of ``n_samples`` gives."""
    return 0 if n_samples < n_fft else 1 + (n_samples - n_fft) // hop


def _chunks(x: npt.ArrayLike | Iterable[npt.ArrayLike], size: int) -> Iterator[FloatArray]:
    """An array as consecutive slices of ``size`` samples (a memmap is read slice by slice);
    an iterable of chunks as it comes."""
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"expected a mono (1-D) signal, got shape {x.shape}")
        for s in range(0, x.shape[0], size):
            yield np.asarray(x[s : s + size], dtype=np.float64)
        return
    for c in x:  # type: ignore[union-attr]
        a = np.asarray(c, dtype=np.float64)
        if a.ndim != 1:
            raise ValueError(f"expected 1-D chunks, got shape {a.shape}")
        yield a


def iter_stft(
    x: npt.ArrayLike | Iterable[npt.ArrayLike],
    sr: float,
    *,
    n_fft: int = 4096,
    hop: int = 1024,
    window: str = "hann",
) -> Iterator[tuple[float, FloatArray]]:
    """Yield ``(time_s, mag)`` per frame, ``mag`` (n_fft//2 + 1,) the amplitude-corrected
    linear magnitude; ``x`` a mono array or an iterable of 1-D chunks (see the module)."""
    if n_fft < 4 or hop < 1:
        raise ValueError("need n_fft >= 4 and hop >= 1")
    w = make_window(window, n_fft)  # (n_fft,)
    scale = 2.0 / float(w.sum())
    buf = np.zeros(0)  # (m,) samples not yet consumed; buf[0] is sample `start`
    start = 0  # index of buf[0] in the whole signal
    for chunk in _chunks(x, _BLOCK * hop):
        buf = np.concatenate([buf, chunk])
        while True:
            k = n_frames(buf.shape[0], n_fft, hop)  # whole frames in buf
            if k == 0:
                break
            k = min(k, _BLOCK)
            frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft)[: k * hop : hop]
            mag = np.abs(np.fft.rfft(frames * w, axis=1)) * scale  # (k, n_fft//2 + 1)
            for j in range(k):
                yield (start + j * hop + n_fft / 2) / sr, mag[j]
            buf = buf[k * hop :]
            start += k * hop


def stft_frames(
    x: npt.ArrayLike,
    sr: float,
    *,
    n_fft: int = 4096,
    hop: int = 1024,
    window: str = "hann",
) -> tuple[FloatArray, FloatArray]:
    """``(times (n_frames,), mag (n_frames, n_fft//2 + 1))`` of a mono signal, computed in
    blocks by :func:`iter_stft` into one preallocated array."""
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim != 1:
        raise ValueError(f"expected a mono (1-D) signal, got shape {xa.shape}")
    n = n_frames(xa.shape[0], n_fft, hop)
    times = np.empty(n)  # (n_frames,)
    mag = np.empty((n, n_fft // 2 + 1))  # (n_frames, n_bins)
    for i, (t, m) in enumerate(iter_stft(xa, sr, n_fft=n_fft, hop=hop, window=window)):
        times[i] = t
        mag[i] = m
    return times, mag


def to_db(mag: npt.ArrayLike, *, floor_db: float = -240.0) -> FloatArray:
    """``20 log10 mag``, clipped below at ``floor_db`` (silence has no -inf)."""
    m = np.asarray(mag, dtype=np.float64)
    return np.maximum(20.0 * np.log10(np.maximum(m, 1e-300)), floor_db)


def local_maxima(y: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Indices of strict local maxima (higher than both neighbours; edges never count)."""
    a = np.asarray(y, dtype=np.float64)  # (n,)
    return np.flatnonzero((a[1:-1] > a[:-2]) & (a[1:-1] > a[2:])) + 1


def _f64(a: FloatArray) -> Any:
    return ffi.cast("double *", ffi.from_buffer(a))


def prominences(y: npt.ArrayLike, peaks: npt.ArrayLike) -> FloatArray:
    """Prominence of each peak index in ``y`` (as ``scipy.signal.peak_prominences``)."""
    a = np.ascontiguousarray(y, dtype=np.float64)  # (n,)
    p = np.ascontiguousarray(peaks, dtype=np.int64)  # (n_peaks,)
    if a.ndim != 1 or p.ndim != 1:
        raise ValueError("expected 1-D y and peaks")
    n = a.shape[0]
    if p.size and (int(p.min()) < 0 or int(p.max()) >= n):
        raise ValueError(f"peak indices must lie in [0, {n})")
    out = np.empty(p.shape[0])  # (n_peaks,)
    work = np.empty(3 * n)  # (3n,)
    lib.bassd_prominences(
        _f64(a), n, ffi.cast("int64_t *", ffi.from_buffer(p)), p.shape[0], _f64(out), _f64(work)
    )
    return out


def parabolic(y: FloatArray, i: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Vertex of the parabola through ``y[i-1], y[i], y[i+1]``: (fractional index, value).
    The offset is in [-0.5, 0.5] for a local maximum."""
    k = np.asarray(i, dtype=np.intp)  # (n_peaks,)
    a, b, c = y[k - 1], y[k], y[k + 1]
    den = a - 2.0 * b + c
    off = np.where(den < 0.0, 0.5 * (a - c) / np.where(den < 0.0, den, -1.0), 0.0)
    return k.astype(np.float64) + off, b - 0.25 * (a - c) * off


def peak_arrays(
    mag_db_frame: npt.ArrayLike,
    sr: float,
    n_fft: int,
    *,
    min_prominence_db: float = 12.0,
    max_peaks: int = 64,
    floor_db: float = -80.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The frame's peaks (dB spectrum of n_fft//2 + 1 bins) as ``(freqs_hz, amps_db,
    prominences_db)``, each (m,), in order of frequency: local maxima above ``floor_db``
    with prominence >= ``min_prominence_db``, refined by parabolic interpolation; the
    ``max_peaks`` strongest (by bin value)."""
    y = np.ascontiguousarray(mag_db_frame, dtype=np.float64)  # (n_bins,)
    if y.ndim != 1:
        raise ValueError(f"expected one frame (1-D), got shape {y.shape}")
    n = y.shape[0]
    cap = n // 2 + 1  # room for every strict local maximum
    ibuf = np.empty(cap + n, dtype=np.int64)  # peak bins (cap,); work (n,)
    buf = np.empty(3 * cap + 4 * n)  # fractional bins, amplitudes, prominences; work (4n,)
    b = _f64(buf)
    ib = ffi.cast("int64_t *", ffi.from_buffer(ibuf))
    m = lib.bassd_pick_peaks(
        _f64(y), n, floor_db, min_prominence_db, ib, b, b + cap, b + 2 * cap, b + 3 * cap, ib + cap
    )
    idx = ibuf[:cap]
    res = buf[: 3 * cap].reshape(3, cap)  # (3, cap)
    pos, amp, prom = res[0, :m], res[1, :m], res[2, :m]
    if m > max_peaks:
        top = np.sort(np.argsort(-y[idx[:m]], kind="stable")[:max_peaks])
        pos, amp, prom = pos[top], amp[top], prom[top]
    return pos * (sr / n_fft), amp.copy(), prom.copy()


def pick_peaks(
    mag_db_frame: npt.ArrayLike,
    sr: float,
    n_fft: int,
    *,
    min_prominence_db: float = 12.0,
    max_peaks: int = 64,
    floor_db: float = -80.0,
) -> list[Peak]:
    """:func:`peak_arrays` as a list of :class:`Peak`."""
    hz, amp, prom = peak_arrays(
        mag_db_frame,
        sr,
        n_fft,
        min_prominence_db=min_prominence_db,
        max_peaks=max_peaks,
        floor_db=floor_db,
    )
    return [Peak(f, d, p) for f, d, p in zip(hz.tolist(), amp.tolist(), prom.tolist(), strict=True)]


def iter_peaks(
    x: npt.ArrayLike | Iterable[npt.ArrayLike],
    sr: float,
    *,
    n_fft: int = 4096,
    hop: int = 1024,
    window: str = "hann",
    min_prominence_db: float = 12.0,
    max_peaks: int = 64,
    floor_db: float = -80.0,
) -> Iterator[tuple[float, list[Peak]]]:
    """``(time_s, peaks)`` per frame of :func:`iter_stft`, in bounded memory."""
    for t, mag in iter_stft(x, sr, n_fft=n_fft, hop=hop, window=window):
        yield (
            t,
            pick_peaks(
                to_db(mag),
                sr,
                n_fft,
                min_prominence_db=min_prominence_db,
                max_peaks=max_peaks,
                floor_db=floor_db,
            ),
        )
