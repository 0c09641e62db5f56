"""Log-mel spectrograms for the VAE renderer: STFT, its exact inverse, a Slaney filterbank.

**STFT.** Periodic Hann window of ``n_fft`` samples, hop ``hop``, *centred* frames: the
signal is padded with ``n_fft // 2`` **zeros** on both sides, so frame ``t`` is centred on
sample ``t * hop`` and a signal of ``n`` samples gives ``T = 1 + n // hop`` frames. Zeros,
not reflection: padding is then defined for any length (reflection needs ``n > n_fft/2``)
and the inverse is exact on every sample, edges included; the price is that the first and
last frames see a tapered signal. Spectra are unnormalised (``rfft`` of the windowed
frame): a full-scale sine centred on a bin reads ``n_fft / 4``.

**Inverse.** Weighted overlap-add: each frame's ``irfft`` is windowed again and summed,
and the sum is divided by the overlap-added squared window. With ``hop <= n_fft // 2``
that sum is positive everywhere, so ``istft(stft(x)) == x`` to rounding for any ``x``.

**Mel.** Triangles on the Slaney mel scale (linear below 1 kHz, logarithmic above), each
scaled to unit area in Hz (``2 / (f_right - f_left)`` at its peak), as librosa's default
``htk=False, norm="slaney"``. :func:`log_mel` applies it to the *magnitude* ``|X|`` (not
the power ``|X|^2``): ``log(max(M @ |X|, log_floor))``, natural log.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from bassd.dsp.spectral_peaks import make_window

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]

# Slaney's mel scale: 3 mels per 200 Hz up to 1 kHz, then 27 mels per factor 6.4
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = math.log(6.4) / 27.0


@dataclass(frozen=True)
class MelSpec:
    """STFT and mel parameters shared by the trainer and the renderer (hashable)."""

    sample_rate: int = 24000
    n_fft: int = 1024
    hop: int = 256
    n_mels: int = 80
    fmin: float = 30.0
    fmax: float = 11000.0
    log_floor: float = 1e-5

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0, got {self.sample_rate}")
        if self.n_fft < 4 or self.n_fft % 2:
            raise ValueError(f"n_fft must be even and >= 4, got {self.n_fft}")
        if not 1 <= self.hop <= self.n_fft // 2:
            raise ValueError(f"hop must be in [1, n_fft // 2 = {self.n_fft // 2}], got {self.hop}")
        if self.n_mels < 1:
            raise ValueError(f"n_mels must be >= 1, got {self.n_mels}")
        if self.fmin < 0:
            raise ValueError(f"fmin must be >= 0, got {self.fmin}")
        if not self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(
                f"fmax must lie in (fmin, sample_rate / 2] = ({self.fmin}, "
                f"{self.sample_rate / 2}], got {self.fmax}"
            )
        if not self.log_floor > 0:
            raise ValueError(f"log_floor must be > 0, got {self.log_floor}")

    @property
    def n_bins(self) -> int:
        """STFT bins per frame: ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    def n_frames(self, n_samples: int) -> int:
        """Frames :func:`stft` gives for a signal of ``n_samples``."""
        return 1 + n_samples // self.hop

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (JSON-ready)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MelSpec:
        """Inverse of :meth:`to_dict`; missing keys take defaults, unknown keys are errors."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown MelSpec fields: {unknown}")
        ints = ("sample_rate", "n_fft", "hop", "n_mels")
        kwargs: dict[str, Any] = {k: int(v) if k in ints else float(v) for k, v in d.items()}
        return cls(**kwargs)


def hz_to_mel(hz: npt.ArrayLike) -> FloatArray:
    """Slaney mel of ``hz`` (linear below 1 kHz, log above)."""
    f = np.asarray(hz, dtype=np.float64)
    lin = f / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, log, lin)


def mel_to_hz(mel: npt.ArrayLike) -> FloatArray:
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(mel, dtype=np.float64)
    lin = m * _F_SP
    log = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, log, lin)


def mel_edges_hz(spec: MelSpec) -> FloatArray:
    """The ``n_mels + 2`` filter corners in Hz, equally spaced in mel: filter ``i`` rises
    from ``edges[i]``, peaks at ``edges[i + 1]`` and falls to ``edges[i + 2]``."""
    m = np.linspace(hz_to_mel(spec.fmin), hz_to_mel(spec.fmax), spec.n_mels + 2)
    return mel_to_hz(m)  # (n_mels + 2,)


@lru_cache(maxsize=16)
def mel_filterbank(spec: MelSpec) -> FloatArray:
    """Slaney-normalised mel filterbank (n_mels, n_bins), read-only and cached per spec.

    Raises ValueError when a filter covers no FFT bin (too many mels for ``n_fft``).
    """
    freqs = np.arange(spec.n_bins) * (spec.sample_rate / spec.n_fft)  # (n_bins,)
    edges = mel_edges_hz(spec)  # (n_mels + 2,)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # (n_mels, 1)
    rise = (freqs[None, :] - lo) / (mid - lo)
    fall = (hi - freqs[None, :]) / (hi - mid)
    fb = np.maximum(0.0, np.minimum(rise, fall)) * (2.0 / (hi - lo))  # (n_mels, n_bins)
    empty = np.flatnonzero(fb.max(axis=1) <= 0)
    if empty.size:
        raise ValueError(
            f"n_mels={spec.n_mels} is too many for n_fft={spec.n_fft}: filters "
            f"{empty.tolist()[:5]} cover no FFT bin"
        )
    fb.setflags(write=False)
    return fb


@lru_cache(maxsize=16)
def _pinv(spec: MelSpec) -> FloatArray:
    p = np.asarray(np.linalg.pinv(mel_filterbank(spec)), dtype=np.float64)  # (n_bins, n_mels)
    p.setflags(write=False)
    return p


@lru_cache(maxsize=16)
def _window(n_fft: int) -> FloatArray:
    w = make_window("hann", n_fft)  # (n_fft,) periodic
    w.setflags(write=False)
    return w


def stft(x: npt.ArrayLike, spec: MelSpec) -> ComplexArray:
    """Centred STFT of a mono signal ``x`` (n,) -> complex (n_bins, T), T = 1 + n // hop."""
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim != 1:
        raise ValueError(f"expected a mono (1-D) signal, got shape {xa.shape}")
    half = spec.n_fft // 2
    padded = np.pad(xa, half)  # zeros, see the module docstring
    frames = np.lib.stride_tricks.sliding_window_view(padded, spec.n_fft)[:: spec.hop]
    out: ComplexArray = np.fft.rfft(frames * _window(spec.n_fft), axis=1).T  # (n_bins, T)
    return out


def _overlap_add(frames: FloatArray, hop: int) -> FloatArray:
    """Sum of ``frames`` (T, L) placed every ``hop`` samples -> ((T - 1) * hop + L,)."""
    t, n = frames.shape
    k = -(-n // hop)  # hop-blocks per frame
    blocks = np.zeros((t, k * hop))
    blocks[:, :n] = frames
    blocks3 = blocks.reshape(t, k, hop)  # (T, k, hop)
    out = np.zeros((t + k - 1, hop))
    for j in range(k):
        out[j : j + t] += blocks3[:, j]
    return out.reshape(-1)[: (t - 1) * hop + n]


def istft(X: npt.ArrayLike, spec: MelSpec, length: int | None = None) -> FloatArray:
    """Inverse of :func:`stft` by weighted overlap-add: (n_bins, T) -> (n,).

    ``length`` trims or zero-pads the result; by default ``(T - 1) * hop`` samples.
    """
    Xa = np.asarray(X)
    if Xa.ndim != 2 or Xa.shape[0] != spec.n_bins:
        raise ValueError(f"expected a spectrogram of shape ({spec.n_bins}, T), got {Xa.shape}")
    w = _window(spec.n_fft)
    t = Xa.shape[1]
    frames = np.fft.irfft(Xa.T, n=spec.n_fft, axis=1) * w  # (T, n_fft)
    num = _overlap_add(frames, spec.hop)
    den = _overlap_add(np.broadcast_to(w * w, (t, spec.n_fft)), spec.hop)
    half = spec.n_fft // 2
    y = (num / np.maximum(den, 1e-12))[half:]  # drop the padding
    n = (t - 1) * spec.hop if length is None else int(length)
    if y.shape[0] >= n:
        return y[:n]
    return np.pad(y, (0, n - y.shape[0]))


def log_mel(x: npt.ArrayLike, spec: MelSpec) -> FloatArray:
    """Natural-log mel *magnitude* spectrogram of ``x`` (n,) -> (n_mels, T)."""
    mag = np.abs(stft(x, spec))  # (n_bins, T)
    return np.log(np.maximum(mel_filterbank(spec) @ mag, spec.log_floor))


def mel_to_magnitude(logmel: npt.ArrayLike, spec: MelSpec, iters: int = 64) -> FloatArray:
    """A non-negative linear magnitude (n_bins, T) whose mel projection matches ``logmel``
    (n_mels, T).

    Starts from the pseudo-inverse ``pinv(M) @ exp(logmel)`` clipped at a tiny positive
    floor, then ``iters`` multiplicative updates ``s <- s * (M^T m) / (M^T M s)`` (Lee &
    Seung), which keep ``s >= 0`` and do not increase ``||M s - m||^2``. Bins outside
    ``[fmin, fmax]`` (no filter weight) come out 0.
    """
    lm = np.asarray(logmel, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] != spec.n_mels:
        raise ValueError(f"expected log-mel of shape ({spec.n_mels}, T), got {lm.shape}")
    if iters < 0:
        raise ValueError(f"iters must be >= 0, got {iters}")
    fb = mel_filterbank(spec)  # (n_mels, n_bins)
    m = np.exp(lm)  # (n_mels, T)
    s = _pinv(spec) @ m  # (n_bins, T)
    s = np.maximum(s, 1e-6 * max(float(m.max()), spec.log_floor))
    s *= fb.sum(axis=0)[:, None] > 0  # bins no filter sees stay 0
    num = fb.T @ m  # (n_bins, T)
    for _ in range(iters):
        s *= num / np.maximum(fb.T @ (fb @ s), 1e-30)
    return s
