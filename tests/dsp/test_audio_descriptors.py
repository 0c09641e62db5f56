"""Audio descriptors: each moves the right way on signals built to differ in one property."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.audio_descriptors import DESCRIPTORS, describe

SR = 24000
T = np.arange(SR) / SR


def _sine(hz: float, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * hz * T)


def _harmonic(f0: float, decay: float, n: int = 10) -> np.ndarray:
    k = np.arange(n)[:, None]
    return 0.3 * np.sum(decay**k * np.sin(2 * np.pi * f0 * (k + 1) * T), axis=0)


def test_describe_returns_all_descriptors_as_floats() -> None:
    """describe() gives exactly DESCRIPTORS, every value a finite float, silence included."""
    for x in (_harmonic(220, 0.5), np.zeros(SR), _sine(440)[:1000]):
        d = describe(x, SR)
        assert tuple(d) == DESCRIPTORS
        assert all(isinstance(v, float) and np.isfinite(v) for v in d.values())


def test_brighter_tone_has_larger_brightness() -> None:
    """Slower harmonic decay raises the centroid; a lone sine's centroid is its frequency."""
    assert (
        describe(_harmonic(220, 0.9), SR)["brightness"]
        > describe(_harmonic(220, 0.3), SR)["brightness"]
    )
    assert describe(_sine(1000), SR)["brightness"] == pytest.approx(1000.0, rel=1e-3)


def test_low_tone_is_warmer() -> None:
    """200 Hz sits in the 100-500 Hz band (warmth ~1), 2 kHz outside it (~0)."""
    warm, cold = describe(_sine(200), SR)["warmth"], describe(_sine(2000), SR)["warmth"]
    assert warm > 0.95 and cold < 0.05


def test_close_sines_are_rougher_than_one_or_an_octave() -> None:
    """400 + 420 Hz beats are rough; a single 400 Hz sine and 400 + 800 Hz are near 0."""
    beating = describe(_sine(400) + _sine(420), SR)["roughness"]
    single = describe(_sine(400), SR)["roughness"]
    octave = describe(_sine(400) + _sine(800), SR)["roughness"]
    assert beating > 0.3
    assert beating > 10 * max(single, octave, 1e-3)


def test_gain_shifts_loudness_by_its_db() -> None:
    """Scaling a signal by +6 dB raises loudness by 6 LU (BS.1770, gating scale-free)."""
    x = 0.05 * np.random.default_rng(0).normal(size=SR)
    gain_db = 6.0
    louder = describe(x * 10 ** (gain_db / 20), SR)["loudness"]
    assert louder - describe(x, SR)["loudness"] == pytest.approx(gain_db, abs=1e-6)
    short = _sine(440)[:2400]  # 100 ms, looped to a 400 ms block
    assert describe(2 * short, SR)["loudness"] - describe(short, SR)["loudness"] == (
        pytest.approx(20 * np.log10(2), abs=1e-6)
    )


def test_white_noise_is_denser_than_a_sine() -> None:
    """Per-frame flatness: white noise ~0.56 (e^-gamma), a sine ~0."""
    noise = describe(0.1 * np.random.default_rng(2).normal(size=SR), SR)["density"]
    sine = describe(_sine(440), SR)["density"]
    assert 0.45 < noise < 0.7 and sine < 0.01


def test_higher_note_has_higher_pitch_height() -> None:
    """A4 vs A3 with the same timbre: pitch height rises by one octave (log2 Hz)."""
    a3 = describe(_harmonic(220, 0.5, 8), SR)["pitch_height"]
    a4 = describe(_harmonic(440, 0.5, 8), SR)["pitch_height"]
    assert a4 - a3 == pytest.approx(1.0, abs=0.01)
    assert a3 == pytest.approx(np.log2(220), abs=0.01)
