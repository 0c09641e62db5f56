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

Choosing a gain for a target loudness is then a scalar problem: the filter
sums (K-weighted and flat power after the chain's filters) are computed once,
and the loudness as a function of the gain is evaluated on a grid of gains at
once, with the limiter's power ratio read from a table computed once per
process (tens of microseconds in all), cheap enough for the idle-time work
before a segment is heard.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from bassd.dsp.filters import butter_sos
from bassd.dsp.metrics import k_weighting_sos

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
    """|H(f)|² of the BS.1770 K-weighting filters at ``hz`` (the meter's own biquads)."""
    power = np.ones_like(hz, dtype=np.float64)
    for sec in k_weighting_sos(sample_rate):
        power *= _biquad_power(sec[:3], sec[3:], hz, sample_rate)
    return power


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


@functools.cache
def _tanh_table() -> tuple[np.ndarray, np.ndarray]:
    """(log u, E[tanh²(u·z)]/u²) for z ~ N(0, 1) on a grid of u (the limiter's loss)."""
    log_u = np.linspace(math.log(1e-4), math.log(1e4), 1601)
    u = np.exp(log_u)
    ratio = np.tanh(u[:, None] * _Z[None, :]) ** 2 @ _W / u**2
    return log_u, ratio


def precompute() -> None:
    """Build the limiter's table now (~15 ms of numpy, more on a busy machine): a daemon
    calls this before the music starts, so the first bank's loudness solve on the loop
    does not build it while the device plays."""
    _tanh_table()


def _limiter_ratios(rms: np.ndarray, drive: float, peak: float) -> np.ndarray:
    """limiter_power_ratio for an array of RMS values, from the table (|error| < 1e-4)."""
    log_u, ratio = _tanh_table()
    with np.errstate(divide="ignore"):
        x = np.log(np.maximum(rms * drive, 1e-300))
    out: np.ndarray = (peak * drive) ** 2 * np.interp(x, log_u, ratio)
    beyond = x > log_u[-1]  # fully saturated: y² → peak²
    out[beyond] = peak**2 / np.maximum(rms[beyond], 1e-300) ** 2
    return out


@dataclass(frozen=True)
class MasterChain:
    """What lies between a renderer and the listener: master filters and the limiter."""

    sample_rate: int = 48000
    hpf_hz: float = 120.0
    lpf_hz: float = 10_000.0
    drive: float = 1.6
    peak: float = 0.9
    gain_db: float = 0.0


class SpectrumAccumulator:
    """The power spectrum of audio (n, channels) as it streams in: a Welch average of
    Hann-windowed frames (hop n_fft/2), scaled so the powers add up to the mean square
    summed over channels — the audio's partials, for the same chain prediction as a
    bank's. ``sums`` holds the state (bin sums, then the mean-square sum and frame
    count), so another process can keep it in shared memory."""

    def __init__(self, sample_rate: float, n_fft: int = 4096, sums: np.ndarray | None = None):
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        bins = n_fft // 2 + 1
        self.sums = np.zeros(bins + 3) if sums is None else sums  # bins, ms sum, frames, ffts
        self._win = np.hanning(n_fft)
        self._rest = np.zeros((0, 0))

    def add(self, x: np.ndarray) -> None:
        a = np.asarray(x, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]
        bins = self.n_fft // 2 + 1
        self.sums[bins] += float(np.sum(a**2))
        self.sums[bins + 1] += len(a)
        buf = a if self._rest.size == 0 else np.concatenate([self._rest, a])
        hop = self.n_fft // 2
        start = 0
        while start + self.n_fft <= len(buf):
            spec = np.fft.rfft(buf[start : start + self.n_fft] * self._win[:, None], axis=0)
            self.sums[:bins] += np.sum(np.abs(spec) ** 2, axis=1)
            self.sums[bins + 2] += 1
            start += hop
        self._rest = buf[start:]

    @staticmethod
    def powers_from(
        sums: np.ndarray, sample_rate: float, n_fft: int = 4096
    ) -> tuple[np.ndarray, np.ndarray]:
        """(bin frequencies, mean square per bin summed over channels) from the state."""
        bins = n_fft // 2 + 1
        hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
        power = np.array(sums[:bins], dtype=np.float64)
        total, frames = float(power.sum()), float(sums[bins + 1])
        if total > 0 and frames > 0:
            power *= float(sums[bins]) / frames / total
        return hz, power

    def powers(self) -> tuple[np.ndarray, np.ndarray]:
        if self.sums[self.n_fft // 2 + 3] == 0 and len(self._rest):  # shorter than one frame
            pad = np.zeros((self.n_fft - len(self._rest), self._rest.shape[1]))
            tail, self._rest = np.concatenate([self._rest, pad]), np.zeros((0, 0))
            ms, frames = self.sums[self.n_fft // 2 + 1], self.sums[self.n_fft // 2 + 2]
            self.add(tail)
            self.sums[self.n_fft // 2 + 1], self.sums[self.n_fft // 2 + 2] = ms, frames
        return self.powers_from(self.sums, self.sample_rate, self.n_fft)


def audio_powers(
    x: np.ndarray, sample_rate: float, n_fft: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """(bin frequencies, mean square per bin summed over channels) of audio (n, channels),
    in one piece (see :class:`SpectrumAccumulator`)."""
    acc = SpectrumAccumulator(sample_rate, n_fft)
    acc.add(x)
    return acc.powers()


def chain_sums(hz: np.ndarray, power: np.ndarray, chain: MasterChain) -> tuple[float, float]:
    """(K-weighted, unweighted) mean square of partials after the chain's filters, before the
    limiter and any gain (``power``: mean square per partial, summed over channels)."""
    sr = chain.sample_rate
    filt = butter_power(hz, sr, chain.hpf_hz, "highpass") * butter_power(
        hz, sr, chain.lpf_hz, "lowpass"
    )
    return float(np.sum(power * filt * k_weighting_power(hz, sr))), float(np.sum(power * filt))


def weighted_power(hz: np.ndarray, power: np.ndarray, chain: MasterChain) -> float:
    """K-weighted mean-square of partials (``power``: mean square per partial, summed
    over channels) after the chain's filters, before the limiter."""
    return chain_sums(hz, power, chain)[0]


CHANNELS = 2


def lufs_for_gains(
    weighted: float, flat: float, chain: MasterChain, gains_db: np.ndarray
) -> np.ndarray:
    """Integrated loudness (LUFS) at each of ``gains_db`` (before the chain's own gain),
    from the chain sums of :func:`chain_sums`."""
    g2 = 10.0 ** ((np.asarray(gains_db, dtype=np.float64) + chain.gain_db) / 10.0)
    if weighted <= 0:
        return np.full_like(g2, -math.inf)
    rms = np.sqrt(flat * g2 / CHANNELS)  # per channel, pre-limiter
    out: np.ndarray = -0.691 + 10.0 * np.log10(
        weighted * g2 * _limiter_ratios(rms, chain.drive, chain.peak)
    )
    return out


def predicted_lufs(
    hz: np.ndarray, power: np.ndarray, chain: MasterChain, gain_db: float = 0.0
) -> float:
    """Integrated loudness (LUFS) of the partials through the chain, with ``gain_db``
    applied before it (and the chain's own gain)."""
    weighted, flat = chain_sums(hz, power, chain)
    return float(lufs_for_gains(weighted, flat, chain, np.array([gain_db]))[0])


def solve_gain(
    weighted: float,
    flat: float,
    chain: MasterChain,
    target_lufs: float,
    max_gain_db: float = 24.0,
    step_db: float = 0.05,
) -> float:
    """The gain (dB, within ±max_gain_db) that brings chain sums to ``target_lufs``: the
    loudness on a grid of gains, interpolated where it crosses the target."""
    if weighted <= 0:
        return 0.0
    gains = np.linspace(-max_gain_db, max_gain_db, round(2 * max_gain_db / step_db) + 1)
    lufs = np.maximum.accumulate(lufs_for_gains(weighted, flat, chain, gains))
    i = int(np.searchsorted(lufs, target_lufs))
    if i == 0:
        return -max_gain_db
    if i == len(gains):
        return max_gain_db  # the limiter cannot get that loud
    lo, hi = lufs[i - 1], lufs[i]
    frac = 0.0 if hi <= lo else (target_lufs - lo) / (hi - lo)
    return float(gains[i - 1] + frac * (gains[i] - gains[i - 1]))


def gain_for_target(
    hz: np.ndarray,
    power: np.ndarray,
    chain: MasterChain,
    target_lufs: float,
    max_gain_db: float = 24.0,
) -> float:
    """The gain (dB, within ±max_gain_db) that brings the partials to ``target_lufs``."""
    weighted, flat = chain_sums(hz, power, chain)
    return solve_gain(weighted, flat, chain, target_lufs, max_gain_db)
