"""Loudness of a sum of sinusoids, predicted without rendering it (BS.1770 estimate).

An oscillator bank is a sum of partials with known frequencies and mean-square
amplitudes, so its integrated loudness after the master chain can be computed
from them: every partial's power is weighted by the K-weighting filter of
ITU-R BS.1770 and the master high/low-pass at its frequency, summed per
channel, and converted to LUFS (−0.691 + 10·log10 Σ channels). Partials on
different pitches are orthogonal over the integration time, so their powers
add. The soft limiter y = peak·tanh(drive·x) is modelled on a Gaussian signal
of the same RMS (a sum of many partials is close to one), which gives the loss
of power it causes at each level.

That makes choosing a gain for a target loudness a few microseconds of numpy,
cheap enough for the idle-time work before a segment is heard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bassd.dsp.filters import butter_sos

#: BS.1770 K-weighting, as analogue parameters (any sample rate): a high shelf
#: (+4 dB above ~1.7 kHz) and the RLB high-pass (~38 Hz)
SHELF_GAIN_DB, SHELF_HZ, SHELF_Q = 3.999843853973347, 1681.974450955533, 0.7071752369554196
RLB_HZ, RLB_Q = 38.13547087602444, 0.5003270373238773

# the limiter's power ratio E[(peak·tanh(drive·σz))²] / σ², z ~ N(0, 1), on a grid of σ
_Z = np.linspace(-5.0, 5.0, 201)
_W = np.exp(-0.5 * _Z**2)
_W /= _W.sum()


def _biquad_power(b: np.ndarray, a: np.ndarray, hz: np.ndarray, sample_rate: float) -> np.ndarray:
    z = np.exp(-1j * 2.0 * np.pi * hz / sample_rate)
    num = b[0] + b[1] * z + b[2] * z**2
    den = a[0] + a[1] * z + a[2] * z**2
    power: np.ndarray = np.abs(num / den) ** 2
    return power


def k_weighting_power(hz: np.ndarray, sample_rate: float) -> np.ndarray:
    """|H(f)|² of the BS.1770 K-weighting filters at ``hz``."""
    k = math.tan(math.pi * SHELF_HZ / sample_rate)
    vh = 10.0 ** (SHELF_GAIN_DB / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / SHELF_Q + k * k
    shelf_b = np.array(
        [vh + vb * k / SHELF_Q + k * k, 2.0 * (k * k - vh), vh - vb * k / SHELF_Q + k * k]
    )
    shelf_a = np.array([a0, 2.0 * (k * k - 1.0), 1.0 - k / SHELF_Q + k * k])
    k = math.tan(math.pi * RLB_HZ / sample_rate)
    rlb_b = np.array([1.0, -2.0, 1.0])
    rlb_a = np.array([1.0, 2.0 * (k * k - 1.0) / (1.0 + k / RLB_Q + k * k), 0.0])
    rlb_a[2] = (1.0 - k / RLB_Q + k * k) / (1.0 + k / RLB_Q + k * k)
    return _biquad_power(shelf_b / a0, shelf_a / a0, hz, sample_rate) * _biquad_power(
        rlb_b, rlb_a, hz, sample_rate
    )


def butter_power(hz: np.ndarray, sample_rate: float, cutoff_hz: float, kind: str) -> np.ndarray:
    """|H(f)|² of the master chain's 4th-order Butterworth filter at ``hz``."""
    power = np.ones_like(hz, dtype=np.float64)
    for sec in butter_sos(4, cutoff_hz, sample_rate, kind):
        power *= _biquad_power(sec[:3], sec[3:], hz, sample_rate)
    return power


def limiter_power_ratio(rms: float, drive: float, peak: float) -> float:
    """Output/input power of y = peak·tanh(drive·x) for Gaussian x of RMS ``rms``."""
    if rms <= 0:
        return (peak * drive) ** 2
    y = peak * np.tanh(drive * rms * _Z)
    return float(np.sum(_W * y**2) / rms**2)


@dataclass(frozen=True)
class MasterChain:
    """What lies between a renderer and the listener: master filters and the limiter."""

    sample_rate: int = 48000
    hpf_hz: float = 120.0
    lpf_hz: float = 10_000.0
    drive: float = 1.6
    peak: float = 0.9
    gain_db: float = 0.0


def weighted_power(hz: np.ndarray, power: np.ndarray, chain: MasterChain) -> float:
    """K-weighted mean-square of partials (``power``: mean square per partial, summed
    over channels) after the chain's filters, before the limiter."""
    sr = chain.sample_rate
    w = k_weighting_power(hz, sr) * butter_power(hz, sr, chain.hpf_hz, "highpass")
    w *= butter_power(hz, sr, chain.lpf_hz, "lowpass")
    return float(np.sum(power * w))


def predicted_lufs(
    hz: np.ndarray, power: np.ndarray, chain: MasterChain, gain_db: float = 0.0
) -> float:
    """Integrated loudness (LUFS) of the partials through the chain, with ``gain_db``
    applied before it (and the chain's own gain)."""
    g2 = 10.0 ** ((gain_db + chain.gain_db) / 10.0)
    kw = weighted_power(hz, power, chain) * g2
    if kw <= 0:
        return -math.inf
    sr = chain.sample_rate
    filt = butter_power(hz, sr, chain.hpf_hz, "highpass") * butter_power(
        hz, sr, chain.lpf_hz, "lowpass"
    )
    channels = 2
    rms = math.sqrt(float(np.sum(power * filt)) * g2 / channels)  # per channel, pre-limiter
    return -0.691 + 10.0 * math.log10(kw * limiter_power_ratio(rms, chain.drive, chain.peak))


def gain_for_target(
    hz: np.ndarray,
    power: np.ndarray,
    chain: MasterChain,
    target_lufs: float,
    max_gain_db: float = 24.0,
) -> float:
    """The gain (dB, within ±max_gain_db) that brings the partials to ``target_lufs``."""
    if weighted_power(hz, power, chain) <= 0:
        return 0.0
    lo, hi = -max_gain_db, max_gain_db
    for _ in range(40):  # predicted loudness rises monotonically with the gain
        mid = 0.5 * (lo + hi)
        if predicted_lufs(hz, power, chain, mid) < target_lufs:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
