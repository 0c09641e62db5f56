"""Audio metrics logged per segment: level, crest, centroid, loudness, peak."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AudioMetrics:
    rms_dbfs: float
    peak_dbfs: float
    crest_db: float
    centroid_hz: float
    lufs: float


def _db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def spectral_centroid(x: np.ndarray, sample_rate: int) -> float:
    """Power-weighted mean frequency of a (frames, channels) signal, Hz."""
    mono = x.mean(axis=1) if x.ndim == 2 else x
    if len(mono) == 0:
        return 0.0
    spec = np.abs(np.fft.rfft(mono.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1.0 / sample_rate)
    total = spec.sum()
    return float((freqs * spec).sum() / total) if total > 0 else 0.0


def measure(x: np.ndarray, sample_rate: int) -> AudioMetrics:
    """Metrics of a (frames, channels) float signal."""
    x64 = np.asarray(x, dtype=np.float64)
    rms = float(np.sqrt(np.mean(x64**2))) if x64.size else 0.0
    peak = float(np.max(np.abs(x64))) if x64.size else 0.0
    lufs = -math.inf
    if len(x64) >= int(0.4 * sample_rate):  # BS.1770 needs one 400 ms gating block
        # ITU-R BS.1770-4 meter with gating; imported here because it pulls in
        # scipy.signal (half a second), which the daemon's start-up must not pay
        import pyloudnorm

        lufs = float(pyloudnorm.Meter(sample_rate).integrated_loudness(x64))
    return AudioMetrics(
        rms_dbfs=_db(rms),
        peak_dbfs=_db(peak),
        crest_db=_db(peak) - _db(rms) if rms > 0 else 0.0,
        centroid_hz=spectral_centroid(x64, sample_rate),
        lufs=lufs,
    )
