"""Audio metrics logged per segment: level, crest, centroid, loudness, peak.

Loudness is ITU-R BS.1770-4 integrated loudness (K-weighting, 400 ms blocks
with 75 % overlap, absolute gate −70 LUFS, relative gate −10 LU), computed here
with the C biquad kernel: pyloudnorm (the tests' reference) pulls in
``scipy.signal``, whose import alone cost ``bassd render`` half a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bassd.dsp._dspcore import ffi, lib

#: BS.1770 K-weighting as analogue parameters, so the filters exist at any
#: sample rate: a high shelf (+4 dB above ~1.7 kHz) and the RLB high-pass (~38 Hz)
SHELF_GAIN_DB, SHELF_HZ, SHELF_Q = 3.999843853973347, 1681.974450955533, 0.7071752369554196
RLB_HZ, RLB_Q = 38.13547087602444, 0.5003270373238773
BLOCK_S, HOP_S = 0.4, 0.1  # gating blocks: 400 ms, every 100 ms
ABSOLUTE_GATE_LUFS, RELATIVE_GATE_LU = -70.0, -10.0


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


def k_weighting_sos(sample_rate: float) -> np.ndarray:
    """The two K-weighting biquads at ``sample_rate``: (2, 6) rows b0 b1 b2 a0 a1 a2, a0 = 1.

    Bilinear transform of the analogue shelf and high-pass, pre-warped at their
    corner frequencies; at 48 kHz these are the coefficients printed in BS.1770.
    """
    k = math.tan(math.pi * SHELF_HZ / sample_rate)
    vh = 10.0 ** (SHELF_GAIN_DB / 20.0)
    vb = vh**0.4996667741545416  # the shelf's mid-band gain
    a0 = 1.0 + k / SHELF_Q + k * k
    shelf = [
        (vh + vb * k / SHELF_Q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / SHELF_Q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / SHELF_Q + k * k) / a0,
    ]
    k = math.tan(math.pi * RLB_HZ / sample_rate)
    a0 = 1.0 + k / RLB_Q + k * k
    rlb = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / RLB_Q + k * k) / a0]
    return np.array([shelf, rlb])


def integrated_loudness(x: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 integrated loudness of a (frames, channels) signal (L, R, C weigh 1), LUFS.

    −inf when no 400 ms block passes the gates (silence, or shorter than a block).
    """
    y = np.array(x, dtype=np.float64)  # a copy: filtered in place
    y = np.ascontiguousarray(y[:, None] if y.ndim == 1 else y)
    frames, channels = y.shape
    block, hop = round(BLOCK_S * sample_rate), round(HOP_S * sample_rate)
    if frames < block:
        return -math.inf
    sos = np.ascontiguousarray(k_weighting_sos(sample_rate))
    zi = np.zeros((2, 2, channels))
    ptr: Any = ffi.cast("double *", ffi.from_buffer(y))
    lib.bassd_sosfilt(
        ffi.cast("double *", ffi.from_buffer(sos)),
        2,
        ffi.cast("double *", ffi.from_buffer(zi)),
        ptr,
        ptr,
        frames,
        channels,
    )
    # mean square of every block, summed over channels, from a running sum of squares
    energy = np.concatenate([[0.0], np.cumsum(np.einsum("ij,ij->i", y, y))])
    starts = np.arange(0, frames - block + 1, hop)
    z = (energy[starts + block] - energy[starts]) / block
    with np.errstate(divide="ignore"):
        lj = -0.691 + 10.0 * np.log10(z)
    gated = z[lj > ABSOLUTE_GATE_LUFS]
    if len(gated) == 0:
        return -math.inf
    relative = -0.691 + 10.0 * math.log10(float(gated.mean())) + RELATIVE_GATE_LU
    gated = z[(lj > ABSOLUTE_GATE_LUFS) & (lj > relative)]
    return -0.691 + 10.0 * math.log10(float(gated.mean())) if len(gated) else -math.inf


def measure(x: np.ndarray, sample_rate: int) -> AudioMetrics:
    """Metrics of a (frames, channels) float signal."""
    x64 = np.asarray(x, dtype=np.float64)
    rms = float(np.sqrt(np.mean(x64**2))) if x64.size else 0.0
    peak = float(np.max(np.abs(x64))) if x64.size else 0.0
    lufs = integrated_loudness(x64, sample_rate) if x64.size else -math.inf
    return AudioMetrics(
        rms_dbfs=_db(rms),
        peak_dbfs=_db(peak),
        crest_db=_db(peak) - _db(rms) if rms > 0 else 0.0,
        centroid_hz=spectral_centroid(x64, sample_rate),
        lufs=lufs,
    )
