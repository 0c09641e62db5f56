"""Master post-FX: a bad sample in an input block is treated as silence, nothing more."""

from __future__ import annotations

import numpy as np

from bassd.dsp.postfx import PostFX

SR = 48_000


def test_one_bad_sample_acts_as_a_zero() -> None:
    """A block with a NaN or inf sample gives exactly the output of that block with a zero there."""
    x = (np.random.default_rng(1).standard_normal((256, 2)) * 0.3).astype(np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        dirty, clean = x.copy(), x.copy()
        dirty[100, 1], clean[100, 1] = bad, 0.0
        a, b = PostFX(SR), PostFX(SR)
        np.testing.assert_array_equal(a.process(dirty), b.process(clean))
        np.testing.assert_array_equal(a.process(x), b.process(x))  # the state is not poisoned


def test_huge_finite_block_is_limited_not_silenced() -> None:
    """Finite values whose sum overflows still pass (as the limiter's peak), not as silence."""
    x = np.full((256, 2), 1e308)
    y = PostFX(SR, hpf_hz=20.0).process(x)
    assert np.isfinite(y).all() and np.abs(y).max() > 0.5
