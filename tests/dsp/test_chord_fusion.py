"""Fusion of the chord predictor's distribution with the Ear's (product of experts)."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.chord_fusion import decide, fuse
from bassd.dsp.chords import vocabulary


def test_weight_one_is_the_model_and_zero_the_ear() -> None:
    """w=1 returns the model's distribution, w=0 the Ear's (normalised)."""
    m = np.array([0.5, 0.3, 0.2, 0.0])
    e = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(fuse(m, e, 1.0), m)
    np.testing.assert_allclose(fuse(m, e, 0.0), e / e.sum())


def test_half_weight_is_the_normalised_geometric_mean() -> None:
    """At w=0.5 the result is proportional to sqrt(model * ear) and sums to 1."""
    m = np.array([0.6, 0.3, 0.1])
    e = np.array([0.1, 0.3, 0.6])
    g = np.sqrt(m * e)
    np.testing.assert_allclose(fuse(m, e, 0.5), g / g.sum())


def test_a_zero_does_not_veto() -> None:
    """A chord one expert gives 0 and the other is sure of keeps a positive probability, and
    wins when the other expert is sure enough."""
    m = np.array([0.0, 0.5, 0.5])
    e = np.array([1.0, 1e-6, 1e-6])
    p = fuse(m, e, 0.5)
    assert p[0] > 0
    assert int(np.argmax(p)) == 0


def test_agreement_sharpens() -> None:
    """Where both experts favour the same chord, the fused one is at least as sure as the
    less sure expert, and the ranking is kept."""
    m = np.array([0.5, 0.3, 0.2])
    e = np.array([0.6, 0.25, 0.15])
    p = fuse(m, e, 0.5)
    assert list(np.argsort(-p)) == [0, 1, 2]
    assert p[0] >= min(m[0], e[0])


@pytest.mark.parametrize("w", [-0.1, 1.1, float("nan")])
def test_weight_outside_unit_interval_raises(w: float) -> None:
    """A weight outside [0, 1] (or NaN) raises ValueError."""
    with pytest.raises(ValueError, match="weight"):
        fuse(np.ones(3), np.ones(3), w)


def test_bad_distributions_raise() -> None:
    """Different lengths, negative entries or all zeros raise ValueError."""
    with pytest.raises(ValueError):
        fuse(np.ones(3), np.ones(4), 0.5)
    with pytest.raises(ValueError):
        fuse(np.array([1.0, -0.1]), np.ones(2), 0.5)
    with pytest.raises(ValueError):
        fuse(np.zeros(2), np.ones(2), 0.5)


def test_decide_picks_the_argmax_first_on_ties() -> None:
    """decide returns the most probable chord and its probability; a tie goes to the
    earlier chord; a length mismatch raises."""
    chords = vocabulary("major")
    p = np.zeros(len(chords))
    p[4] = p[11] = 0.5
    chord, prob = decide(p, chords)
    assert chord.roman == "V" and prob == 0.5
    with pytest.raises(ValueError):
        decide(p[:-1], chords)
