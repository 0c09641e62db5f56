"""Frame features: chroma, envelope, loudness, centroid, flatness; region means."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.frame_features import (
    FeatureSpec,
    RegionAccumulator,
    feature_names,
    frame_features,
)
from bassd.dsp.spectral_peaks import stft_frames

SR = 22050
N_FFT = 4096
SPEC = FeatureSpec(sr=SR, n_fft=N_FFT)
NAMES = feature_names(SPEC)
CHROMA = slice(0, 12)
BANDS = slice(12, 12 + SPEC.n_bands)
LOUD, CENTROID, FLAT = NAMES.index("loudness_db"), NAMES.index("centroid_log2hz"), -1


def _mags(x: np.ndarray) -> np.ndarray:
    return stft_frames(x, SR, n_fft=N_FFT, hop=1024)[1]  # (n_frames, n_bins)


def _tone(freqs: list[float], amps: list[float], seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    out = np.zeros_like(t)
    for f, a in zip(freqs, amps, strict=True):
        out += a * np.sin(2 * np.pi * f * t)
    return out


def _midi_hz(m: int) -> float:
    return 440.0 * 2 ** ((m - 69) / 12)


def test_names_match_vector_length() -> None:
    """feature_names lists one name per feature, chroma first and flatness last."""
    f = frame_features(np.zeros(SPEC.n_bins), SPEC)
    assert f.shape == (len(NAMES),) == (SPEC.n_features,)
    assert NAMES[0] == "chroma_C" and NAMES[9] == "chroma_A" and NAMES[12] == "band_00"
    assert NAMES[-3:] == ["loudness_db", "centroid_log2hz", "flatness"]


def test_a3_harmonic_tone_peaks_at_a() -> None:
    """An A3 tone with 6 harmonics has its largest chroma at A; chroma sums to 1."""
    f0 = 220.0
    x = _tone([f0 * k for k in range(1, 7)], [1.0 / k for k in range(1, 7)])
    feats = frame_features(_mags(x), SPEC)  # (n_frames, D)
    chroma = feats[:, CHROMA]
    assert np.all(np.argmax(chroma, axis=1) == 9)
    np.testing.assert_allclose(chroma.sum(axis=1), 1.0)


def test_c_major_triad_top_three_are_c_e_g() -> None:
    """A C4-E4-G4 triad (3 harmonics each) has C, E and G as its three largest chroma."""
    freqs, amps = [], []
    for m in (60, 64, 67):
        for k in (1, 2, 3):
            freqs.append(_midi_hz(m) * k)
            amps.append(0.2 / k)
    chroma = frame_features(_mags(_tone(freqs, amps)), SPEC)[:, CHROMA].mean(axis=0)
    assert set(np.argsort(chroma)[-3:]) == {0, 4, 7}


def test_bins_below_fmin_do_not_count_in_chroma() -> None:
    """Energy only below fmin leaves chroma uniform; raising fmin above a tone drops it."""
    m = np.zeros(SPEC.n_bins)
    m[: int(40.0 * N_FFT / SR)] = 1.0  # every bin below 40 Hz
    np.testing.assert_allclose(frame_features(m, SPEC)[CHROMA], 1.0 / 12)
    spec = FeatureSpec(sr=SR, n_fft=N_FFT, fmin=300.0)
    x = _tone([220.0, 330.0], [1.0, 0.1])  # A3 loud, E4 quiet
    chroma = frame_features(_mags(x), spec)[:, CHROMA].mean(axis=0)
    assert np.argmax(chroma) == 4


def test_brighter_spectrum_has_higher_centroid() -> None:
    """Boosting the upper harmonics raises the centroid (log2 Hz)."""
    freqs = [200.0 * k for k in range(1, 11)]
    dark = frame_features(_mags(_tone(freqs, [1.0 / k**2 for k in range(1, 11)])), SPEC)
    bright = frame_features(_mags(_tone(freqs, [0.1] * 10)), SPEC)
    assert np.all(bright[:, CENTROID] > dark[:, CENTROID] + 1.0)


def test_centroid_of_a_sine_is_its_frequency() -> None:
    """A lone 1 kHz sine's centroid reads log2(1000) within a few cents' worth."""
    c = frame_features(_mags(_tone([1000.0], [0.5])), SPEC)[:, CENTROID]
    np.testing.assert_allclose(c, np.log2(1000.0), atol=0.01)


def test_flatness_noise_near_one_sine_near_zero() -> None:
    """White noise has flatness near 1 (and a flat envelope), a sine near 0."""
    noise = np.random.default_rng(0).standard_normal(3 * SR) * 0.1
    fn = frame_features(_mags(noise), SPEC)
    assert fn[:, FLAT].mean() > 0.9 and fn[:, FLAT].min() > 0.8
    assert np.median(fn[:, BANDS]) > -3.0
    fs = frame_features(_mags(_tone([1000.0], [0.5])), SPEC)
    assert fs[:, FLAT].max() < 1e-3
    assert np.sum(fs[0, BANDS] > -60.0) <= 2  # the sine's band (and a leaking neighbour)


def test_loudness_of_full_scale_sine_and_noise() -> None:
    """A full-scale sine reads -3.01 dB rms (within 0.5 dB), noise of rms 0.1 reads -20 dB,
    and halving the amplitude lowers loudness by 6.02 dB."""
    full = frame_features(_mags(_tone([997.0], [1.0])), SPEC)[:, LOUD]
    np.testing.assert_allclose(full, -3.0103, atol=0.5)
    half = frame_features(_mags(_tone([997.0], [0.5])), SPEC)[:, LOUD]
    np.testing.assert_allclose(full - half, 6.0206, atol=1e-6)
    noise = np.random.default_rng(1).standard_normal(3 * SR) * 0.1
    np.testing.assert_allclose(frame_features(_mags(noise), SPEC)[:, LOUD], -20.0, atol=0.5)


def test_silence_gives_finite_floored_features() -> None:
    """Silence: finite features, loudness at the -100 dB floor, uniform chroma."""
    f = frame_features(np.zeros((3, SPEC.n_bins)), SPEC)
    assert np.all(np.isfinite(f))
    np.testing.assert_array_equal(f[:, LOUD], -100.0)
    np.testing.assert_allclose(f[:, CHROMA], 1.0 / 12)
    assert np.all(f[:, BANDS] >= -60.0) and np.all(f[:, BANDS] <= 0.0)


def test_envelope_is_relative_and_floored() -> None:
    """The loudest band reads 0 dB, none below -60, and scaling the frame changes nothing."""
    m = _mags(_tone([100.0, 3000.0], [1.0, 1e-4]))[0]
    f = frame_features(m, SPEC)
    assert f[BANDS].max() == 0.0 and f[BANDS].min() == -60.0
    np.testing.assert_allclose(frame_features(m * 0.01, SPEC)[BANDS], f[BANDS], atol=1e-9)


def test_batch_equals_frame_by_frame() -> None:
    """A stack of frames gives the same rows as one frame at a time."""
    m = _mags(_tone([220.0, 445.0], [0.3, 0.2]) + 0.01)
    batch = frame_features(m, SPEC)
    for k in range(m.shape[0]):
        np.testing.assert_allclose(batch[k], frame_features(m[k], SPEC), rtol=1e-12)


def test_malformed_input_raises() -> None:
    """Wrong bin counts, NaN magnitudes and an fmax above Nyquist raise ValueError."""
    with pytest.raises(ValueError, match="2049"):
        frame_features(np.zeros(100), SPEC)
    with pytest.raises(ValueError, match="finite"):
        frame_features(np.full(SPEC.n_bins, np.nan), SPEC)
    with pytest.raises(ValueError, match="fmax"):
        FeatureSpec(sr=SR, n_fft=N_FFT, fmax=12000.0)


def test_region_accumulator_means_since_last_take() -> None:
    """take() gives the mean since the previous take, then None until more frames come."""
    acc = RegionAccumulator()
    assert acc.take() is None
    acc.add(np.array([1.0, 2.0]))
    acc.add(np.array([3.0, 6.0]))
    np.testing.assert_allclose(acc.take(), [2.0, 4.0])
    assert acc.take() is None and acc.count == 0
    acc.add(np.array([[5.0, 1.0], [7.0, 3.0]]))  # a block of frames
    assert acc.count == 2
    np.testing.assert_allclose(acc.take(), [6.0, 2.0])
    with pytest.raises(ValueError, match="expected 2 features"):
        acc.add(np.zeros(3))
