"""Loudness predicted from partials: K-weighting, chain filters, limiter, gain search."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from bassd.dsp.loudness import (
    MasterChain,
    chain_sums,
    gain_for_target,
    k_weighting_power,
    limiter_power_ratio,
    lufs_for_gains,
    predicted_lufs,
    solve_gain,
)
from bassd.dsp.postfx import PostFX

SR = 48000
# ITU-R BS.1770-4, table 1 and 2: the K-weighting biquads at 48 kHz
SHELF_48K = (
    [1.53512485958697, -2.69169618940638, 1.19839281085285],
    [1.0, -1.69065929318241, 0.73248077421585],
)
RLB_48K = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])


def _power(ba: tuple[list[float], list[float]], hz: np.ndarray) -> np.ndarray:
    z = np.exp(-1j * 2 * np.pi * hz / SR)
    b, a = ba
    return np.abs((b[0] + b[1] * z + b[2] * z**2) / (a[0] + a[1] * z + a[2] * z**2)) ** 2


def _through_chain(x: np.ndarray, gain_db: float = 0.0) -> np.ndarray:
    fx = PostFX(SR, gain_db=gain_db)
    return np.concatenate([fx.process(x[i : i + 256]) for i in range(0, len(x), 256)])


def test_k_weighting_matches_the_standards_48k_filters() -> None:
    """The K-weighting designed at any rate equals BS.1770's 48 kHz biquads within 0.01 dB."""
    hz = np.geomspace(20.0, 20000.0, 60)
    ours = 10 * np.log10(k_weighting_power(hz, SR))
    ref = 10 * np.log10(_power(SHELF_48K, hz) * _power(RLB_48K, hz))
    assert np.max(np.abs(ours - ref)) < 0.01


def test_predicted_loudness_of_two_tones_matches_the_meter() -> None:
    """Two stereo tones through the master chain measure within 0.3 LU of the prediction."""
    t = np.arange(6 * SR) / SR
    tones = {220.0: 0.2, 1760.0: 0.05}
    mono = sum(a * np.sin(2 * np.pi * f * t) for f, a in tones.items())
    x = np.stack([mono, mono], axis=1)
    hz = np.array(list(tones))
    power = np.array([2 * 0.5 * a**2 for a in tones.values()])  # both channels
    measured = pyloudnorm.Meter(SR).integrated_loudness(_through_chain(x).astype(np.float64))
    assert abs(measured - predicted_lufs(hz, power, MasterChain())) < 0.3


def test_limiter_loses_power_only_when_driven() -> None:
    """Quiet signals get the small-signal gain (peak·drive)²; loud ones less."""
    small = limiter_power_ratio(1e-4, 1.6, 0.9)
    assert abs(small - (0.9 * 1.6) ** 2) < 1e-3
    assert limiter_power_ratio(0.5, 1.6, 0.9) < 0.5 * small


def test_gain_for_target_reaches_the_target() -> None:
    """The gain found brings the predicted loudness to the target within 0.01 LU."""
    hz, power, chain = np.array([300.0]), np.array([0.01]), MasterChain()
    for target in (-24.0, -16.0, -12.0):
        gain = gain_for_target(hz, power, chain, target)
        assert abs(predicted_lufs(hz, power, chain, gain) - target) < 0.01


def test_tabled_limiter_loss_matches_the_exact_expectation() -> None:
    """The limiter loss read from the table is within 0.01 dB of the Gaussian expectation."""
    rms = np.geomspace(1e-4, 5.0, 40)
    for drive, peak in ((1.6, 0.9), (4.0, 0.5)):
        exact = np.array([limiter_power_ratio(r, drive, peak) for r in rms])
        tabled = lufs_for_gains(1.0, 2.0 * rms**2, MasterChain(drive=drive, peak=peak), np.zeros(1))
        # lufs_for_gains with weighted 1 at gain 0: −0.691 + 10·log10(ratio(rms))
        assert np.max(np.abs(tabled - (-0.691 + 10 * np.log10(exact)))) < 0.01


def test_a_target_the_limiter_cannot_reach_gets_the_largest_gain() -> None:
    """Above what the limiter can output, the search stops at +max_gain_db instead of guessing."""
    chain = MasterChain()
    weighted, flat = chain_sums(np.array([300.0]), np.array([0.01]), chain)
    assert solve_gain(weighted, flat, chain, 0.0, max_gain_db=12.0) == 12.0
    assert solve_gain(weighted, flat, chain, -90.0, max_gain_db=12.0) == -12.0


def test_audio_gain_brings_a_clip_to_its_target_through_the_chain() -> None:
    """A rendered clip's spectrum predicts its loudness through the master chain: with the
    normaliser's gain, the post-FX output measures within 1 LU of the target."""
    from bassd.dsp.metrics import integrated_loudness
    from bassd.engine.renderer import Normaliser, RenderRequest

    sr = 48000
    rng = np.random.default_rng(1)
    t = np.arange(10 * sr) / sr
    mono = 0.02 * rng.standard_normal(len(t)) + 0.05 * np.sin(2 * np.pi * 220 * t)
    clip = np.stack([mono, np.roll(mono, 37)], axis=1).astype(np.float32)
    chain = MasterChain(sr)
    for target in (-20.0, -16.0):
        norm = Normaliser(target, {}, lambda: chain)
        gain = 10 ** (norm.gain_db_audio(clip, RenderRequest(0, 0, len(clip), sr)) / 20)
        out = PostFX(
            sr, 2, hpf_hz=chain.hpf_hz, lpf_hz=chain.lpf_hz, drive=chain.drive, peak=chain.peak
        ).process((clip * gain).astype(np.float32))
        assert integrated_loudness(out, sr) == pytest.approx(target, abs=1.0)
