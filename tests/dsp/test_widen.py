"""The width stage: mono spread to stereo, power kept, mono-compatible, streamable."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bassd.dsp.widen import MonoWidener, decorrelation_fir


def noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32) * 0.1


def test_fir_is_all_pass() -> None:
    """The decorrelating filter has unit magnitude at each of its frequency bins."""
    h = decorrelation_fir(1008)
    np.testing.assert_allclose(np.abs(np.fft.rfft(h)), 1.0, atol=1e-9)


def test_width_spreads_keeps_power_and_folds_back_to_mono() -> None:
    """At width 1 the channels decorrelate; each keeps the input's power; L + R is the input."""
    x = noise(48000)
    y = MonoWidener(1.0).process(x)
    corr = np.corrcoef(y[:, 0], y[:, 1])[0, 1]
    assert abs(corr) < 0.2
    for ch in (0, 1):
        assert np.mean(y[:, ch] ** 2) == pytest.approx(np.mean(x**2), rel=0.05)
    np.testing.assert_allclose(y[:, 0] + y[:, 1], 2 * x / np.sqrt(2), atol=1e-5)


def test_width_zero_is_dual_mono() -> None:
    """Width 0 gives the input on both channels."""
    x = noise(4800)
    y = MonoWidener(0.0).process(x)
    np.testing.assert_allclose(y[:, 0], x, atol=1e-7)
    np.testing.assert_allclose(y[:, 1], x, atol=1e-7)


def test_chunked_equals_one_piece() -> None:
    """Blocks of any size give the same output as one call (the filter's history carries)."""
    x = noise(20000, seed=3)
    whole = MonoWidener(0.7).process(x)
    w = MonoWidener(0.7)
    cuts = [0, 1, 257, 4096, 4097, 12000, 20000]
    parts = [w.process(x[a:b]) for a, b in itertools.pairwise(cuts)]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)


def test_bad_width_is_rejected() -> None:
    """A width outside 0..1 is an error naming the value."""
    with pytest.raises(ValueError, match=r"1\.5"):
        MonoWidener(1.5)
