"""The library's features: streamed loudness, tempo, key, tonality, waveform, embedding."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.library_features import (
    EMBEDDING_DIM,
    SAMPLE_RATE,
    WAVEFORM_POINTS,
    FeatureAccumulator,
    features_of,
)
from bassd.dsp.metrics import integrated_loudness
from tests.library_sounds import clicks, noise, tone

SR = SAMPLE_RATE


@pytest.mark.parametrize("chunk", [1000, 2205, 65536])
def test_streamed_loudness_equals_integrated_loudness(chunk: int) -> None:
    """BS.1770 loudness streamed in chunks of any size equals
    bassd.dsp.metrics.integrated_loudness of the whole signal (gates included)."""
    rng = np.random.default_rng(1)
    x = np.concatenate([tone(440, 2.0, SR, 0.3), 0.01 * rng.standard_normal(SR * 2),
                        noise("pink", 1.5, SR, 0.4)])  # fmt: skip
    acc = FeatureAccumulator(x.size)
    for i in range(0, x.size, chunk):
        acc.add(x[i : i + chunk])
    f = acc.finish()
    assert f.loudness_lufs == pytest.approx(integrated_loudness(x, SR), abs=1e-6)


def test_silence_and_very_short_signals() -> None:
    """Silence has no loudness (nothing passes the gates) and no key; a signal shorter than
    one STFT frame still gives a unit embedding and a full waveform."""
    silent = features_of(np.zeros(SR))
    assert silent.loudness_lufs is None and silent.key is None and silent.peak_dbfs is None
    short = features_of(tone(440, 0.02, SR))
    assert short.embedding.shape == (EMBEDDING_DIM,)
    assert np.linalg.norm(short.embedding) == pytest.approx(1.0, abs=1e-5)
    assert short.waveform.shape == (WAVEFORM_POINTS, 2)


@pytest.mark.parametrize("rate", [1.5, 2.0, 2.5])
def test_click_train_tempo(rate: float) -> None:
    """A click train at R per second reads 60·R BPM (±3 %) and about R onsets a second."""
    f = features_of(clicks(rate, 8.0, SR))
    assert f.tempo_bpm == pytest.approx(60.0 * rate, rel=0.03)
    assert f.onset_rate == pytest.approx(rate, rel=0.2)
    assert "rhythmic" in f.auto_tags


def test_tonality_key_and_noise() -> None:
    """A C major triad is tonal and in C major; noises of every colour (brown included,
    which flatness alone calls tonal) are not tonal and have no key."""
    triad = sum(tone(f, 4.0, SR, 0.2, 2) for f in (261.63, 329.63, 392.0))
    f = features_of(triad)
    assert f.tonality > 0.5 and f.key == "C major" and "tonal" in f.auto_tags
    for colour in ("white", "pink", "brown", "blue"):
        n = features_of(noise(colour, 3.0, SR))
        assert n.tonality < 0.2 and n.key is None, colour
        assert "noise" in n.auto_tags and "tonal" not in n.auto_tags, colour


def test_waveform_overview_follows_the_envelope() -> None:
    """512 (min, max) pairs: a 1 kHz sine at amplitude 0.5 whose second half is silent reads
    ±0.5 in the first half and 0 in the second."""
    x = tone(1000, 2.0, SR, 0.5)
    x[x.size // 2 :] = 0.0
    w = features_of(x).waveform
    half = WAVEFORM_POINTS // 2
    assert np.allclose(w[: half - 1, 0], -0.5, atol=0.02)
    assert np.allclose(w[: half - 1, 1], 0.5, atol=0.02)
    assert np.all(w[half + 1 :] == 0.0)


def test_embedding_is_level_independent_and_separates_classes() -> None:
    """The same sound 20 dB quieter embeds almost identically (cosine > 0.99); each of a
    tone, a noise and a click train is nearer another sound of its class (another pitch,
    colour or rate) than any sound of the other two classes."""
    a = features_of(tone(330, 3.0, SR, 0.5, 2)).embedding
    b = features_of(tone(330, 3.0, SR, 0.05, 2)).embedding
    assert float(a @ b) > 0.99
    pairs = {"tone": (a, features_of(tone(523, 3.0, SR, 0.2, 1)).embedding),
             "noise": (features_of(noise("pink", 3.0, SR)).embedding,
                       features_of(noise("white", 3.0, SR, seed=3)).embedding),
             "clicks": (features_of(clicks(3.0, 4.0, SR)).embedding,
                        features_of(clicks(5.0, 4.0, SR, seed=2)).embedding)}  # fmt: skip
    for name, (x, y) in pairs.items():
        others = [v for n, p in pairs.items() if n != name for v in p]
        assert float(x @ y) > max(float(x @ o) for o in others), name
