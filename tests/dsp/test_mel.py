"""Mel spectrograms: spec validation, Slaney filterbank, exact STFT inverse, mel inversion."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.mel import (
    MelSpec,
    hz_to_mel,
    istft,
    log_mel,
    mel_edges_hz,
    mel_filterbank,
    mel_to_hz,
    mel_to_magnitude,
    stft,
)

SPEC = MelSpec()


def test_spec_round_trips_through_dict() -> None:
    """to_dict/from_dict give back an equal spec; unknown keys are refused."""
    spec = MelSpec(sample_rate=22050, n_fft=2048, hop=512, n_mels=64, fmax=8000.0)
    assert MelSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="unknown"):
        MelSpec.from_dict({"hop_length": 256})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fmax": 13000.0}, "fmax"),
        ({"fmin": 12000.0, "fmax": 11000.0}, "fmax"),
        ({"fmin": -1.0}, "fmin"),
        ({"hop": 600}, "hop"),
        ({"n_fft": 1023}, "n_fft"),
        ({"n_mels": 0}, "n_mels"),
        ({"log_floor": 0.0}, "log_floor"),
        ({"sample_rate": 0}, "sample_rate"),
    ],
)
def test_invalid_spec_names_the_field(kwargs: dict[str, float], field: str) -> None:
    """A bad value raises ValueError whose message names the offending field."""
    with pytest.raises(ValueError, match=field):
        MelSpec(**kwargs)


def test_slaney_scale_matches_hand_values() -> None:
    """Linear 3 mels / 200 Hz below 1 kHz (1 kHz = 15 mel), 27 mels per factor 6.4 above."""
    np.testing.assert_allclose(hz_to_mel([0.0, 200.0, 1000.0, 6400.0]), [0.0, 3.0, 15.0, 42.0])
    f = np.array([30.0, 700.0, 1000.0, 3000.0, 11000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f)


def test_filterbank_triangles_have_unit_area_and_rising_centres() -> None:
    """Each row integrates to ~1 over Hz, peaks at 2/(right-left), centres increase."""
    fb = mel_filterbank(SPEC)
    df = SPEC.sample_rate / SPEC.n_fft
    assert fb.shape == (SPEC.n_mels, SPEC.n_bins) and np.all(fb >= 0)
    edges = mel_edges_hz(SPEC)
    area = fb.sum(axis=1) * df
    np.testing.assert_allclose(area, 1.0, atol=0.07)  # discretised triangles >= 3.4 bins
    wide = (edges[2:] - edges[:-2]) > 20 * df
    np.testing.assert_allclose(area[wide], 1.0, atol=0.005)
    assert np.all(fb.max(axis=1) <= 2.0 / (edges[2:] - edges[:-2]) + 1e-12)
    centroid = fb @ np.arange(SPEC.n_bins) / fb.sum(axis=1)
    assert np.all(np.diff(edges) > 0) and np.all(np.diff(centroid) > 0)
    assert not fb.flags.writeable and mel_filterbank(SPEC) is fb  # cached, read-only


def test_filter_value_by_hand() -> None:
    """Filter 40 at a bin on its rising slope equals (f - left)/(centre - left) * 2/width."""
    fb = mel_filterbank(SPEC)
    edges = mel_edges_hz(SPEC)
    lo, mid, hi = edges[40], edges[41], edges[42]
    df = SPEC.sample_rate / SPEC.n_fft
    k = int(np.ceil(lo / df)) + 1
    assert k * df < mid
    assert fb[40, k] == pytest.approx((k * df - lo) / (mid - lo) * 2.0 / (hi - lo))


@pytest.mark.parametrize("hz", [150.0, 440.0, 1234.0, 5000.0])
def test_pure_tone_lands_in_nearest_filter(hz: float) -> None:
    """A sine's mel energy peaks in the filter whose centre frequency is nearest the tone."""
    t = np.arange(SPEC.sample_rate) / SPEC.sample_rate
    lm = log_mel(0.5 * np.sin(2 * np.pi * hz * t), SPEC)  # (n_mels, T)
    centres = mel_edges_hz(SPEC)[1:-1]
    assert int(np.argmax(lm.mean(axis=1))) == int(np.argmin(np.abs(centres - hz)))


def test_istft_inverts_stft() -> None:
    """istft(stft(x)) == x to 1e-9 on every sample (zero-padded centred frames)."""
    x = np.random.default_rng(0).normal(size=12_345)
    X = stft(x, SPEC)
    assert X.shape == (SPEC.n_bins, 1 + len(x) // SPEC.hop)
    np.testing.assert_allclose(istft(X, SPEC, length=len(x)), x, atol=1e-9)
    odd = MelSpec(n_fft=800, hop=300)  # hop does not divide n_fft
    np.testing.assert_allclose(istft(stft(x, odd), odd, length=len(x)), x, atol=1e-9)
    assert istft(X, SPEC).shape == ((X.shape[1] - 1) * SPEC.hop,)


def test_log_mel_is_log_of_magnitude_mel_with_floor() -> None:
    """log_mel = log(max(M |X|, floor)): doubling the signal adds log 2; silence is the floor."""
    x = np.random.default_rng(1).normal(size=4800)
    np.testing.assert_allclose(log_mel(2 * x, SPEC) - log_mel(x, SPEC), np.log(2.0), atol=1e-9)
    assert np.all(log_mel(np.zeros(4800), SPEC) == np.log(SPEC.log_floor))


def test_mel_to_magnitude_reproduces_mel_projection() -> None:
    """A smooth spectrum with empty regions: the inverse is >= 0 and matches M s within 0.1 %."""
    fb = mel_filterbank(SPEC)
    f = np.arange(SPEC.n_bins) * SPEC.sample_rate / SPEC.n_fft
    frames = np.arange(30)
    s = np.exp(-(((f[:, None] - 2000 - 500 * np.sin(frames / 5)) / 400) ** 2))  # (n_bins, T)
    for k in (3, 5, 8):
        s += 0.5 * np.exp(-(((f[:, None] - 300.0 * k) / 60.0) ** 2))
    m = fb @ s
    lm = np.log(np.maximum(m, SPEC.log_floor))
    rel = [
        np.linalg.norm(fb @ mel_to_magnitude(lm, SPEC, iters=i) - m) / np.linalg.norm(m)
        for i in (0, 64)
    ]
    est = mel_to_magnitude(lm, SPEC)
    assert est.shape == s.shape and np.all(est >= 0)
    assert rel[1] < 1e-3 and rel[1] < rel[0]  # the updates improve on the clipped pinv
    in_range = (f > 60) & (f < 10_000)
    assert np.linalg.norm((est - s)[in_range]) / np.linalg.norm(s[in_range]) < 0.3
