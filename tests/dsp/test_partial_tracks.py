"""Partial tracking: harmonic, inharmonic and vibrato tones, silence, bands, stability."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.partial_tracks import (
    Partial,
    group_partials,
    is_stable,
    split_stable,
    stability,
    track_partials,
)
from bassd.dsp.spectral_peaks import Peak, iter_peaks


def _partials(x: np.ndarray, sr: int, **stft: int) -> list[Partial]:
    frames = list(iter_peaks(x, sr, **stft))
    return track_partials([p for _, p in frames], np.array([t for t, _ in frames]))


def _cents(f: float, g: float) -> float:
    return float(1200 * np.log2(f / g))


def _nearest(partials: list[Partial], f: float) -> Partial:
    return min(partials, key=lambda p: abs(_cents(p.median_freq_hz, f)))


@pytest.mark.parametrize("sr", [48000, 44100])
def test_harmonic_tone_with_noise(sr: int) -> None:
    """f0 220 Hz, 8 harmonics at 1/k, decaying, plus -40 dB white noise: each harmonic is
    one partial within 3 cents (measured worst 1.4 cents at 48 kHz, 0.8 at 44.1 kHz), stable;
    nothing else louder than the fundamental - 30 dB (the noise's tracks sit near -60 dB)."""
    rng = np.random.default_rng(4)
    t = np.arange(2 * sr) / sr
    env = np.exp(-t / 3.0)
    x = sum(0.5 / k * np.sin(2 * np.pi * 220 * k * t + k) for k in range(1, 9)) * env
    x = x + 0.01 * rng.standard_normal(t.size)
    parts = _partials(x, sr)
    fund = _nearest(parts, 220)
    for k in range(1, 9):
        p = _nearest(parts, 220 * k)
        assert abs(_cents(p.median_freq_hz, 220 * k)) <= 3.0
        assert p.duration_s > 1.5
        assert is_stable(p)
    spurious = [
        p for p in parts if min(abs(_cents(p.median_freq_hz, 220 * k)) for k in range(1, 9)) > 50
    ]
    assert all(p.mean_amp_db < fund.mean_amp_db - 30 for p in spurious)
    strong = [p for p in parts if p.mean_amp_db > fund.mean_amp_db - 30]
    assert len(strong) == 8


def test_inharmonic_set() -> None:
    """317, 523.7, 1111.1 and 2903 Hz at 44.1 kHz: four partials within 3 cents
    (measured worst 0.5 cents), nothing else."""
    sr = 44100
    freqs = (317.0, 523.7, 1111.1, 2903.0)
    t = np.arange(sr * 3 // 2) / sr
    x = np.sum([0.2 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate(freqs)], axis=0)
    parts = _partials(x, sr)
    assert len(parts) == 4
    for p, f in zip(sorted(parts, key=lambda p: p.median_freq_hz), freqs, strict=True):
        assert abs(_cents(p.median_freq_hz, f)) <= 3.0


def test_vibrato_is_one_unstable_partial() -> None:
    """440 Hz with +-20 cents vibrato at 5 Hz: one partial whose spread is near the
    vibrato's 14.1 cents rms (measured 14.25 with n_fft 2048; 12.8 with 4096, whose
    85 ms window smooths the 5 Hz modulation),
    unstable at 5 cents, stable at 30."""
    sr = 48000
    t = np.arange(3 * sr) / sr
    f = 440 * 2 ** (20 / 1200 * np.sin(2 * np.pi * 5 * t))
    x = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr)
    parts = _partials(x, sr, n_fft=2048, hop=256)
    (p,) = [q for q in parts if q.mean_amp_db > -40]
    assert p.duration_s > 2.8
    assert 12.5 <= p.freq_std_cents <= 15.5
    assert not is_stable(p, max_freq_std_cents=5)
    assert is_stable(p, max_freq_std_cents=30)
    split = split_stable([p], max_freq_std_cents=5)
    assert split == {"stable": [], "unstable": [p]}


def test_silence_has_no_partials() -> None:
    """Digital silence tracks to no partials."""
    assert _partials(np.zeros(48000), 48000) == []


def test_tracking_gaps_jumps_and_short_tracks() -> None:
    """A track survives a gap of max_gap_frames, not a longer one; a jump beyond
    max_jump_cents starts a new track; tracks shorter than min_length_frames are dropped."""

    def pk(f: float) -> list[Peak]:
        return [Peak(f, -10.0, 20.0)]

    frames = [pk(440), pk(441), [], [], pk(440), pk(440), pk(600), pk(600), pk(600)]
    got = track_partials(frames, np.arange(9.0), min_length_frames=3)
    assert [len(p) for p in got] == [4, 3]
    np.testing.assert_array_equal(got[0].times, [0, 1, 4, 5])
    frames = [pk(440), pk(440), [], [], [], pk(440), pk(440)]
    assert track_partials(frames, np.arange(7.0), min_length_frames=3) == []
    assert [
        len(p)
        for p in track_partials(frames, np.arange(7.0), max_gap_frames=3, min_length_frames=3)
    ] == [4]


def test_tracking_takes_the_closest_pair() -> None:
    """Two peaks near one track: the closer in cents continues it, the other starts a track."""
    frames = [[Peak(440, -10, 20)], [Peak(445, -5, 20), Peak(441, -20, 20)]] + [
        [Peak(441, -20, 20), Peak(445, -5, 20)]
    ] * 3
    a, b = track_partials(frames, np.arange(5.0), min_length_frames=4)
    assert (len(a), a.freqs[1]) == (5, 441)
    assert (len(b), b.times[0]) == (4, 1)


def test_group_by_band_and_stability_figures() -> None:
    """Bands take the median frequency, lo inclusive; a decay alone is not amplitude jitter."""
    t = np.linspace(0, 1, 20)

    def part(f: float, amps: np.ndarray) -> Partial:
        return Partial(t, np.full(20, f), amps)

    low, mid, edge = (
        part(100, -6 - 20 * t),
        part(1000, np.full(20, -10.0)),
        part(250, np.full(20, -10.0)),
    )
    trem = part(3000, -10 + 6 * np.sin(2 * np.pi * 4 * t))
    out = group_partials([low, mid, edge, trem, part(25000, np.zeros(20))])
    assert out == {"20-250": [low], "250-2000": [mid, edge], "2000-20000": [trem]}
    assert stability(low).amp_jitter_db == pytest.approx(0, abs=1e-9)
    assert stability(low).freq_std_cents == 0
    assert not is_stable(trem) and is_stable(low)
