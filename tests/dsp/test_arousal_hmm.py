"""The arousal HMM: the forward filter, the hysteretic decision, the derived parameters."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.arousal_hmm import ArousalHmm, ArousalHmmParams


def settled(seconds: int = 60) -> ArousalHmm:
    hmm = ArousalHmm()
    for _ in range(seconds):
        hmm.update(0.0, 1.0)
    return hmm


def first_at(hmm: ArousalHmm, d: float, state: str, limit: int = 300) -> int | None:
    """Feed ``d`` at 1 Hz; the number of samples until ``state``, or None."""
    for k in range(1, limit + 1):
        hmm.update(d, 1.0)
        if hmm.state == state:
            return k
    return None


def test_sustained_rise_reaches_stress() -> None:
    """A step to baseline + 25 held for a minute ends in stress, not before several seconds."""
    n = first_at(settled(), 25.0, "stress", limit=60)
    assert n is not None and 5 <= n <= 30


def test_sustained_drop_reaches_underaroused() -> None:
    """A step to baseline - 18 ends in under-aroused within a minute, after several seconds."""
    n = first_at(settled(), -18.0, "underaroused", limit=60)
    assert n is not None and 5 <= n <= 40


@pytest.mark.parametrize("d", [25.0, 60.0, -18.0, -60.0])
def test_three_sample_spike_does_not_flip(d: float) -> None:
    """Three samples far out (either way, any height) then back leave the state neutral."""
    hmm = settled()
    for _ in range(3):
        hmm.update(d, 1.0)
        assert hmm.state == "neutral"
    for _ in range(30):
        hmm.update(0.0, 1.0)
        assert hmm.state == "neutral"


def test_posterior_is_a_distribution() -> None:
    """After every update the posterior is non-negative and sums to 1."""
    hmm = ArousalHmm()
    rng = np.random.default_rng(0)
    for d, dt in zip(rng.normal(0, 20, 500), rng.uniform(0.2, 5.0, 500), strict=True):
        p = hmm.update(float(d), float(dt))
        assert p.shape == (3,) and (p >= 0).all() and p.sum() == pytest.approx(1.0)


def test_hysteresis_holds_between_states() -> None:
    """Once in stress, a value at the stress/neutral boundary (+15) never leaves it."""
    hmm = settled()
    assert first_at(hmm, 30.0, "stress") is not None
    for _ in range(300):
        hmm.update(15.0, 1.0)
        assert hmm.state == "stress"
    assert first_at(hmm, 0.0, "neutral", limit=60) is not None


def test_evidence_accrues_per_second_not_per_sample() -> None:
    """At 4 Hz a step takes about as many seconds to reach stress as at 1 Hz."""
    slow = first_at(settled(), 25.0, "stress")
    fast, hmm = None, settled()
    for k in range(1, 400):
        hmm.update(25.0, 0.25)
        if hmm.state == "stress":
            fast = k
            break
    assert slow is not None and fast is not None
    assert abs(fast * 0.25 - slow) <= 2.0


def test_means_put_boundaries_on_thresholds() -> None:
    """From thresholds +15 / -10 the likelihoods tie exactly at +15 (stress) and -10 (under)."""
    p = ArousalHmmParams.from_thresholds(15.0, 10.0)
    assert p.means == (-20.0, 0.0, 30.0)
    hmm = ArousalHmm(p)
    ll_hi, ll_lo = hmm.log_likelihood(15.0, 1.0), hmm.log_likelihood(-10.0, 1.0)
    assert ll_hi[1] == pytest.approx(ll_hi[2]) and ll_lo[0] == pytest.approx(ll_lo[1])


def test_transition_rows_are_sticky_distributions() -> None:
    """Each row sums to 1; staying over 1 s has probability exp(-1/dwell)."""
    m = ArousalHmm().transition(1.0)
    assert np.allclose(m.sum(axis=1), 1.0)
    assert np.allclose(np.diag(m), np.exp(-1.0 / 60.0))


def test_rejects_bad_inputs() -> None:
    """Non-finite d, non-positive dt and inconsistent parameters raise."""
    hmm = ArousalHmm()
    with pytest.raises(ValueError):
        hmm.update(float("nan"), 1.0)
    with pytest.raises(ValueError):
        hmm.update(0.0, 0.0)
    with pytest.raises(ValueError):
        ArousalHmmParams(means=(0.0, -5.0, 10.0))
    with pytest.raises(ValueError):
        ArousalHmmParams(p_enter=0.4)


def test_reset_returns_to_neutral() -> None:
    """reset() restores the initial posterior and the neutral decision."""
    hmm = settled()
    first_at(hmm, 30.0, "stress")
    hmm.reset()
    assert hmm.state == "neutral"
    assert np.allclose(hmm.posterior, ArousalHmmParams().initial)
