"""The soft tanh limiter never exceeds its peak, even on hostile input."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bassd.dsp.limiter import SoftLimiter
from bassd.dsp.postfx import PostFX


def test_full_scale_square_and_impulses() -> None:
    """Full-scale and 10x-over square waves and impulses stay ≤ 0.90."""
    lim = SoftLimiter(1.6, 0.9)
    sq = np.sign(np.sin(np.arange(48_000) * 2 * np.pi * 100 / 48_000))
    for x in (sq, 10 * sq, np.r_[np.zeros(100), 1e6, np.zeros(100)]):
        assert np.max(np.abs(lim.process(x))) <= 0.9


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 500), elements=st.floats(allow_nan=True, allow_infinity=True))
)
def test_any_input_is_finite_and_bounded(x: np.ndarray) -> None:
    """NaN and ±inf are sanitised, never propagated: output finite and ≤ peak."""
    y = SoftLimiter(1.6, 0.9).process(x)
    assert np.isfinite(y).all()
    assert np.max(np.abs(y)) <= 0.9


def test_nan_becomes_silence_and_inf_the_peak() -> None:
    """NaN → 0; +inf → +peak; −inf → −peak."""
    y = SoftLimiter(1.6, 0.9).process(np.array([np.nan, np.inf, -np.inf]))
    np.testing.assert_allclose(y, [0.0, 0.9, -0.9], atol=1e-6)


def test_postfx_chain_bounded_on_hostile_blocks() -> None:
    """The master chain stays ≤ 0.90 and finite through inf/NaN/huge blocks, then recovers."""
    fx = PostFX(48_000)
    rng = np.random.default_rng(0)
    for block in (
        np.full((256, 2), np.inf),
        np.full((256, 2), np.nan),
        rng.normal(0, 1e4, (256, 2)),
    ):
        y = fx.process(block)
        assert np.isfinite(y).all() and np.max(np.abs(y)) <= 0.9
    t = np.arange(4800) / 48_000
    tone = 0.1 * np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1)
    y = fx.process(tone)
    assert 0.05 < np.max(np.abs(y[2400:])) < 0.2  # normal sound again after the bad blocks


def test_small_signal_gain_is_drive_times_peak() -> None:
    """Below saturation the limiter is (almost) linear with gain drive·peak."""
    y = SoftLimiter(1.6, 0.9).process(np.array([1e-4]))
    assert abs(y[0] / 1e-4 - 1.44) < 1e-3
