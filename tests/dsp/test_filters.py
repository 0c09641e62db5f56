"""Streaming Butterworth filters: −3 dB at the design cut-offs; blocks equal whole arrays.

Tolerance: the design is a 4th-order Butterworth with the bilinear transform
pre-warped at the cut-off, so the ideal response there is −3.01 dB. We measure
it with a steady sine after the transient has decayed, over whole periods, so
the only error is numerical: ±0.05 dB is ample, and a cut-off off by 2 % would
already move the level by more than 0.2 dB at this order.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bassd.dsp.filters import StreamingFilter
from bassd.dsp.postfx import PostFX

SR = 48_000


def _gain_db(f: StreamingFilter, hz: float) -> float:
    t = np.arange(SR * 2) / SR
    x = np.sin(2 * np.pi * hz * t)
    y = f.process(np.stack([x, x], axis=1))[:, 0]
    tail = slice(SR, 2 * SR)  # one second after the transient: whole periods of 120 Hz and 10 kHz
    return 20 * np.log10(np.sqrt(np.mean(y[tail] ** 2)) / np.sqrt(np.mean(x[tail] ** 2)))


@pytest.mark.parametrize(("kind", "cutoff"), [("highpass", 120.0), ("lowpass", 10_000.0)])
def test_minus_3db_at_cutoff(kind: str, cutoff: float) -> None:
    """The measured response at the cut-off is −3.01 dB ± 0.05 dB."""
    assert _gain_db(StreamingFilter(kind, cutoff, SR), cutoff) == pytest.approx(-3.01, abs=0.05)


def test_stopband_attenuation() -> None:
    """24 dB/octave: 60 Hz is ≥ 22 dB down through the HPF, 20 kHz ≥ 24 dB down through the LPF."""
    assert _gain_db(StreamingFilter("highpass", 120.0, SR), 60.0) < -22
    assert _gain_db(StreamingFilter("lowpass", 10_000.0, SR), 20_000.0) < -24
    assert _gain_db(StreamingFilter("highpass", 120.0, SR), 1000.0) > -0.1


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(1, 3000), min_size=1, max_size=12))
def test_streaming_equals_whole_array(cuts: list[int]) -> None:
    """Filtering block by block (any block sizes) equals filtering the whole signal."""
    x = np.random.default_rng(7).normal(0, 0.3, (12_000, 2))
    whole = StreamingFilter("highpass", 120.0, SR).process(x)
    f = StreamingFilter("highpass", 120.0, SR)
    edges = np.unique(np.clip(np.cumsum(cuts), 0, len(x)))
    parts, start = [], 0
    for e in [*edges.tolist(), len(x)]:
        parts.append(f.process(x[start:e]))
        start = e
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-12)


def test_postfx_blocks_equal_whole() -> None:
    """The whole master chain (filters + limiter) is block-size invariant."""
    x = np.random.default_rng(3).normal(0, 0.5, (10_000, 2))
    whole = PostFX(SR).process(x)
    fx = PostFX(SR)
    blocks = np.concatenate([fx.process(x[i : i + 333]) for i in range(0, len(x), 333)])
    np.testing.assert_allclose(blocks, whole, atol=1e-6)


def test_bad_cutoff_is_a_clear_error() -> None:
    """A cut-off at or above Nyquist names the limit."""
    with pytest.raises(ValueError, match="between 0 and 24000"):
        StreamingFilter("lowpass", 30_000.0, SR)


def test_nan_does_not_poison_the_state() -> None:
    """A NaN block through a filter leaves it working for the next blocks."""
    f = StreamingFilter("lowpass", 1000.0, SR)
    f.process(np.full((64, 2), np.nan))
    y = f.process(np.ones((4800, 2)))
    assert np.isfinite(y).all() and abs(y[-1, 0] - 1.0) < 1e-3


@pytest.mark.parametrize(
    ("kind", "cutoff"), [("highpass", 120.0), ("lowpass", 10_000.0), ("lowpass", 300.0)]
)
def test_design_matches_scipy(kind: str, cutoff: float) -> None:
    """Our numpy Butterworth design has scipy.signal.butter's frequency response (to 1e-9)."""
    from scipy import signal

    from bassd.dsp.filters import butter_sos

    ours = butter_sos(4, cutoff, SR, kind)
    ref = signal.butter(4, cutoff, btype=kind, fs=SR, output="sos")
    _, h_ours = signal.sosfreqz(ours, 8192, fs=SR)
    _, h_ref = signal.sosfreqz(ref, 8192, fs=SR)
    np.testing.assert_allclose(np.abs(h_ours), np.abs(h_ref), atol=1e-9)
