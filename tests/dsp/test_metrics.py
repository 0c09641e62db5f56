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
