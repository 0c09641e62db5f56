"""24-bit WAV writing: round trip, clipping, and non-finite samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bassd.engine.wavfile import read_wav, write_wav

SR = 48_000


def test_round_trip_within_one_step(tmp_path: Path) -> None:
    """Samples in [-1, 1] come back within one 24-bit step."""
    x = np.random.default_rng(0).uniform(-1.0, 1.0, (1000, 2)).astype(np.float32)
    write_wav(tmp_path / "a.wav", x, SR)
    y, sr = read_wav(tmp_path / "a.wav")
    assert sr == SR
    np.testing.assert_allclose(y, x, atol=1.0 / 8388607.0)


def test_bad_samples_become_silence_or_full_scale(tmp_path: Path) -> None:
    """NaN is written as 0, ±inf and out-of-range values as ±full scale."""
    x = np.array([[np.nan, np.inf], [-np.inf, 3.0], [-2.0, 0.5]], dtype=np.float32)
    write_wav(tmp_path / "b.wav", x, SR)
    y, _ = read_wav(tmp_path / "b.wav")
    np.testing.assert_allclose(y, [[0.0, 1.0], [-1.0, 1.0], [-1.0, 0.5]], atol=1e-6)
