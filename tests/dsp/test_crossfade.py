"""Equal-power crossfades: the law, level through the fade, continuity at the edges."""

from __future__ import annotations

import numpy as np

from bassd.dsp.crossfade import crossfade, equal_power_gains, fade_positions


def test_gains_follow_equal_power_law() -> None:
    """Outgoing² + incoming² = 1 everywhere; out falls and in rises monotonically."""
    g_out, g_in = equal_power_gains(np.linspace(0, 1, 1001))
    np.testing.assert_allclose(g_out**2 + g_in**2, 1.0, atol=1e-12)
    assert np.all(np.diff(g_out) <= 0) and np.all(np.diff(g_in) >= 0)
    assert (g_out[0], g_in[0]) == (1.0, 0.0)
    np.testing.assert_allclose((g_out[-1], g_in[-1]), (0.0, 1.0), atol=1e-12)


def _window_rms_db(x: np.ndarray, win: int) -> np.ndarray:
    n = len(x) // win
    blocks = x[: n * win].reshape(n, win, -1)
    return 10 * np.log10(np.mean(blocks**2, axis=(1, 2)))


def test_uncorrelated_signals_keep_their_power() -> None:
    """Two independent noises of equal level: no dip through the fade (within noise, ±0.6 dB)."""
    rng = np.random.default_rng(1)
    n = 48_000
    a, b = rng.normal(0, 0.1, (n, 2)), rng.normal(0, 0.1, (n, 2))
    rms = _window_rms_db(crossfade(a, b), 2400)
    assert np.all(np.abs(rms - rms.mean()) < 0.6)
    assert abs(rms.mean() - 20 * np.log10(0.1)) < 0.3


def test_correlated_signals_never_dip() -> None:
    """Identical signals: the sum is cos+sin ≥ 1, i.e. never below the unfaded level (+3 dB max)."""
    t = np.arange(48_000) / 48_000
    a = np.stack([np.sin(2 * np.pi * 220 * t)] * 2, axis=1)
    y = crossfade(a, a)
    env = np.abs(y[:, 0]) / np.maximum(np.abs(a[:, 0]), 1e-9)
    mask = np.abs(a[:, 0]) > 0.1
    assert env[mask].min() >= 1.0 - 1e-9
    assert env[mask].max() <= np.sqrt(2) + 1e-9


def test_no_discontinuity_at_the_edges() -> None:
    """The fade starts at the outgoing signal and ends at the incoming one, half a step from each."""
    pos = fade_positions(0, 100, 100)
    g_out, g_in = equal_power_gains(pos)
    assert g_in[0] < 0.02 and g_out[-1] < 0.02
    # consecutive fades cover the span without a repeated or skipped position
    a = fade_positions(0, 40, 100)
    b = fade_positions(40, 60, 100)
    np.testing.assert_allclose(np.concatenate([a, b]), pos)
