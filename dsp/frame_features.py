"""Per-frame features of a magnitude spectrum, and their mean over a region of frames.

The input is one frame (or a stack of frames) of :func:`bassd.dsp.spectral_peaks.iter_stft`'s
amplitude-corrected linear magnitudes (a full-scale sine reads 1.0). The feature vector, in
the order of :func:`feature_names`:

* **chroma** (12, C first): the energy (magnitude squared) of the bins in ``[fmin, fmax]``
  summed per pitch class (each bin goes to its nearest equal-tempered pitch, A4 = 440 Hz),
  normalised to sum 1; silence reads uniform (1/12 each).
* **spectral envelope** (``n_bands``): the mean energy per bin in ``n_bands`` log-spaced
  bands over ``[fmin, fmax]`` in dB relative to the frame's loudest band, floored at
  -60 dB; a band narrower than the bin spacing takes the bin nearest its centre. Mean per
  bin (a density), so white noise reads flat.
* **loudness** (dB): the frame's rms from the magnitudes by Parseval's theorem, floored at
  -100 dB. With the amplitude correction ``2/sum(w)``, ``rms^2 = S / (4 ENBW)`` where ``S``
  is the two-sided energy sum of the magnitudes and ``ENBW = n_fft sum(w^2) / sum(w)^2`` the
  window's equivalent noise bandwidth in bins (Hann 1.5); a full-scale sine reads -3.01 dB.
* **centroid** (log2 Hz): the magnitude-weighted mean frequency of the bins in
  ``[fmin, fmax]``.
* **flatness**: geometric over arithmetic mean of the band energies (Wiener entropy of the
  envelope): near 1 for white noise, near 0 for a sine. On single bins a frame of white
  noise reads only about 0.56 (each bin's energy is exponentially distributed); the bands
  average that scatter away.

The bin-to-chroma and bin-to-band matrices are built once per :class:`FeatureSpec`
(cached), so a frame costs two small matrix-vector products and a few reductions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

from bassd.dsp.spectral_peaks import make_window

FloatArray = npt.NDArray[np.float64]

PITCH_CLASSES: Final = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
ENVELOPE_FLOOR_DB: Final[float] = -60.0
LOUDNESS_FLOOR_DB: Final[float] = -100.0
_TINY: Final[float] = 1e-30  # energy added before logs and ratios: silence stays finite


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """The STFT the magnitudes come from and the analysis range of the features."""

    sr: float
    n_fft: int
    n_bands: int = 16
    fmin: float = 40.0
    fmax: float = 10000.0
    window: str = "hann"  # the STFT's window: its noise bandwidth scales the loudness

    def __post_init__(self) -> None:
        if self.sr <= 0 or self.n_fft < 4:
            raise ValueError(f"need sr > 0 and n_fft >= 4, got sr={self.sr}, n_fft={self.n_fft}")
        if self.n_bands < 1:
            raise ValueError(f"need n_bands >= 1, got {self.n_bands}")
        if not 0 < self.fmin < self.fmax <= self.sr / 2:
            raise ValueError(
                f"need 0 < fmin < fmax <= sr/2, got fmin={self.fmin}, fmax={self.fmax}, "
                f"sr={self.sr}"
            )

    @property
    def n_bins(self) -> int:
        """Bins per frame: ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def n_features(self) -> int:
        """Length ``D`` of a feature vector."""
        return 12 + self.n_bands + 3


@dataclass(frozen=True, slots=True)
class _Tables:
    """Per-spec constants: bin weights of the chroma and bands, centroid frequencies."""

    chroma: FloatArray  # (12, n_bins) 0/1: the pitch class of each in-range bin
    bands: FloatArray  # (n_bands, n_bins) 1/count over each band's bins
    in_range: npt.NDArray[np.bool_]  # (n_bins,)
    freqs: FloatArray  # (n_bins,) Hz
    parseval: FloatArray  # (n_bins,) two-sided energy weights over 4 ENBW


@lru_cache(maxsize=16)
def _tables(spec: FeatureSpec) -> _Tables:
    """The spec's matrices, built once (read-only)."""
    n_bins = spec.n_bins
    freqs = np.arange(n_bins, dtype=np.float64) * (spec.sr / spec.n_fft)  # (n_bins,)
    in_range = (freqs >= spec.fmin) & (freqs <= spec.fmax)

    chroma = np.zeros((12, n_bins))
    k = np.flatnonzero(in_range)
    pc = (np.rint(12.0 * np.log2(freqs[k] / 440.0)).astype(np.int64) + 9) % 12  # A is 9
    chroma[pc, k] = 1.0

    edges = np.geomspace(spec.fmin, spec.fmax, spec.n_bands + 1)  # (n_bands+1,)
    bands = np.zeros((spec.n_bands, n_bins))
    for b in range(spec.n_bands):
        hi = freqs <= edges[b + 1] if b == spec.n_bands - 1 else freqs < edges[b + 1]
        members = np.flatnonzero((freqs >= edges[b]) & hi)
        if members.size == 0:
            centre = np.sqrt(edges[b] * edges[b + 1])
            members = np.array([int(np.argmin(np.abs(freqs - centre)))])
        bands[b, members] = 1.0 / members.size

    w = make_window(spec.window, spec.n_fft)
    enbw = spec.n_fft * float(np.sum(w * w)) / float(np.sum(w)) ** 2
    two_sided = np.full(n_bins, 2.0)
    two_sided[0] = 1.0
    if spec.n_fft % 2 == 0:
        two_sided[-1] = 1.0  # the Nyquist bin has no mirror
    parseval = two_sided / (4.0 * enbw)

    for a in (chroma, bands, in_range, freqs, parseval):
        a.setflags(write=False)
    return _Tables(chroma, bands, in_range, freqs, parseval)


def feature_names(spec: FeatureSpec) -> list[str]:
    """Names of the ``D`` features in order."""
    return (
        [f"chroma_{p}" for p in PITCH_CLASSES]
        + [f"band_{b:02d}" for b in range(spec.n_bands)]
        + ["loudness_db", "centroid_log2hz", "flatness"]
    )


def frame_features(mag: npt.ArrayLike, spec: FeatureSpec) -> FloatArray:
    """Features of ``mag`` (n_bins,) -> (D,), or (n_frames, n_bins) -> (n_frames, D)."""
    m = np.asarray(mag, dtype=np.float64)
    single = m.ndim == 1
    m2 = m[None, :] if single else m  # (n_frames, n_bins)
    if m2.ndim != 2 or m2.shape[1] != spec.n_bins:
        raise ValueError(
            f"expected magnitudes of shape ({spec.n_bins},) or (n_frames, {spec.n_bins}) for "
            f"n_fft={spec.n_fft}, got {m.shape}"
        )
    if not np.all(np.isfinite(m2)):
        raise ValueError("magnitudes must be finite")
    t = _tables(spec)
    energy = m2 * m2  # (n_frames, n_bins)

    pc = energy @ t.chroma.T + _TINY  # (n_frames, 12)
    chroma = pc / pc.sum(axis=1, keepdims=True)

    band_e = energy @ t.bands.T + _TINY  # (n_frames, n_bands)
    band_db = 10.0 * np.log10(band_e)
    envelope = np.maximum(band_db - band_db.max(axis=1, keepdims=True), ENVELOPE_FLOOR_DB)

    ms = energy @ t.parseval  # (n_frames,) mean square of the signal
    loudness = np.maximum(10.0 * np.log10(ms + _TINY), LOUDNESS_FLOOR_DB)

    mr = np.abs(m2[:, t.in_range]) + _TINY  # (n_frames, n_in_range)
    centroid = np.log2(mr @ t.freqs[t.in_range] / mr.sum(axis=1))

    flatness = np.exp(np.mean(np.log(band_e), axis=1)) / np.mean(band_e, axis=1)

    out = np.concatenate(
        [chroma, envelope, loudness[:, None], centroid[:, None], flatness[:, None]], axis=1
    )  # (n_frames, D)
    return out[0] if single else out


class RegionAccumulator:
    """Running mean of feature vectors since the last :meth:`take`."""

    def __init__(self) -> None:
        self._sum: FloatArray | None = None  # (D,)
        self._count = 0

    @property
    def count(self) -> int:
        """Frames added since the last take."""
        return self._count

    def add(self, features: npt.ArrayLike) -> None:
        """Add one frame's vector (D,) or a block of frames (n, D)."""
        f = np.asarray(features, dtype=np.float64)
        block = f[None, :] if f.ndim == 1 else f  # (n, D)
        if block.ndim != 2:
            raise ValueError(f"expected features of shape (D,) or (n, D), got {f.shape}")
        if self._sum is None:
            self._sum = np.zeros(block.shape[1])
        elif block.shape[1] != self._sum.shape[0]:
            raise ValueError(
                f"expected {self._sum.shape[0]} features per frame, got {block.shape[1]}"
            )
        self._sum += block.sum(axis=0)
        self._count += block.shape[0]

    def take(self) -> FloatArray | None:
        """The mean (D,) over the frames since the last take and restart; None if none."""
        if self._sum is None or self._count == 0:
            return None
        mean = self._sum / self._count
        self._sum = np.zeros_like(self._sum)
        self._count = 0
        return mean
