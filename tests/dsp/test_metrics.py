"""Segment metrics against signals with known values."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.metrics import measure

SR = 48_000


def test_sine_metrics() -> None:
    """A 997 Hz sine at 0.1 in both channels: −23.0 dBFS RMS, −20 dBFS peak, 3 dB crest, −20 LUFS."""
    t = np.arange(5 * SR) / SR
    x = 0.1 * np.sin(2 * np.pi * 997 * t)
    m = measure(np.stack([x, x], axis=1), SR)
    assert m.rms_dbfs == pytest.approx(-23.01, abs=0.02)
    assert m.peak_dbfs == pytest.approx(-20.0, abs=0.02)
    assert m.crest_db == pytest.approx(3.01, abs=0.03)
    assert m.centroid_hz == pytest.approx(997, abs=2)
    assert m.lufs == pytest.approx(-20.0, abs=0.3)  # BS.1770: full-scale 997 Hz in 2 ch = 0 LUFS


def test_silence_and_short_signals() -> None:
    """Silence has −inf levels; too short for a gating block gives −inf loudness, not an error."""
    m = measure(np.zeros((1000, 2)), SR)
    assert m.rms_dbfs == -np.inf and m.lufs == -np.inf and m.centroid_hz == 0.0


def test_k_weighting_at_48k_is_the_standards() -> None:
    """At 48 kHz the K-weighting biquads are the coefficients printed in ITU-R BS.1770-4."""
    from bassd.dsp.metrics import k_weighting_sos

    printed = np.array(
        [
            [
                1.53512485958697,
                -2.69169618940638,
                1.19839281085285,
                1.0,
                -1.69065929318241,
                0.73248077421585,
            ],
            [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
        ]
    )
    np.testing.assert_allclose(k_weighting_sos(48_000), printed, atol=1e-9)


@pytest.mark.parametrize("sr", [44_100, 48_000, 96_000])
def test_loudness_agrees_with_pyloudnorm(sr: int) -> None:
    """Noise and a rendered bank read as pyloudnorm does, within its 0.04 dB high-pass loss."""
    import pyloudnorm

    from bassd.dsp.metrics import integrated_loudness
    from bassd.dsp.oscillators import BankParams, KuramotoBank

    noise = np.random.default_rng(3).standard_normal((6 * sr, 2)) * 0.05
    bank = KuramotoBank(BankParams(density=226), sr, seed=2).render(6 * sr).astype(np.float64)
    for x in (noise, bank):
        ref = pyloudnorm.Meter(sr).integrated_loudness(x.copy())
        # pyloudnorm's cookbook high-pass has a 0.995 passband (−0.04 dB); the standard's none
        assert integrated_loudness(x, sr) - ref == pytest.approx(0.04, abs=0.02)


def test_relative_gate_ignores_quiet_passages() -> None:
    """Half a signal 30 dB down is gated out: the whole reads as its loud half alone."""
    from bassd.dsp.metrics import integrated_loudness

    t = np.arange(8 * SR) / SR
    loud = 0.2 * np.sin(2 * np.pi * 440 * t)
    both = np.concatenate([loud, loud * 10 ** (-30 / 20)])
    whole = integrated_loudness(np.stack([both, both], axis=1), SR)
    alone = integrated_loudness(np.stack([loud, loud], axis=1), SR)
    # ungated, the quiet half would halve the power (−3 dB); only the blocks across the
    # step (a few of 78) pull the reading down
    assert whole == pytest.approx(alone, abs=0.15)
    assert integrated_loudness(np.zeros((SR, 2)), SR) == -np.inf
