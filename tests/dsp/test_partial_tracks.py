"""Partial tracking: harmonic, inharmonic and vibrato tones, silence, bands, stability."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from bassd.dsp.partial_tracks import (
    Partial,
    PartialTracker,
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


def _track_reference(frames, times, *, max_jump_cents=50.0, max_gap_frames=2, min_length_frames=5):
    """The pure-Python tracker before PartialTracker (all pairs, sorted), for comparison."""
    ts = np.asarray(times, dtype=np.float64)
    done, open_ = [], []
    for k, peaks in enumerate(frames):
        done += [tr for tr in open_ if k - tr[0][-1] - 1 > max_gap_frames]
        open_ = [tr for tr in open_ if k - tr[0][-1] - 1 <= max_gap_frames]
        pairs = []
        for ti, tr in enumerate(open_):
            for pi, p in enumerate(peaks):
                if p.freq_hz > 0.0:
                    d = abs(1200.0 * math.log2(p.freq_hz / tr[1][-1]))
                    if d <= max_jump_cents:
                        pairs.append((d, -p.amp_db, ti, pi))
        pairs.sort()
        used_t, used_p = set(), set()
        for _, _, ti, pi in pairs:
            if ti not in used_t and pi not in used_p:
                used_t.add(ti)
                used_p.add(pi)
                open_[ti][0].append(k)
                open_[ti][1].append(peaks[pi].freq_hz)
                open_[ti][2].append(peaks[pi].amp_db)
        open_ += [
            ([k], [p.freq_hz], [p.amp_db])
            for pi, p in enumerate(peaks)
            if pi not in used_p and p.freq_hz > 0.0
        ]
    out = [
        Partial(ts[np.asarray(ks)], np.asarray(fs, float), np.asarray(a_, float))
        for ks, fs, a_ in done + open_
        if len(ks) >= min_length_frames
    ]
    out.sort(key=lambda p: (float(p.times[0]), p.median_freq_hz))
    return out


def _random_frames(rng: np.random.Generator, n: int, *, crowded: bool) -> list[list[Peak]]:
    """Drifting tones that come and go plus random peaks; ``crowded`` puts many peaks
    within a jump of each other (conflicts), with repeated frequencies and amplitudes
    (exact ties) and some at 0 Hz (ignored)."""
    base = 100.0 * 2.0 ** (rng.uniform(0, 6, size=24))
    frames = []
    for _ in range(n):
        base *= 2.0 ** (rng.normal(0, 10, size=base.size) / 1200)
        f = base[rng.random(base.size) < 0.8]
        if crowded:
            f = np.r_[f, f[: f.size // 2] * 2 ** (rng.uniform(-60, 60, f.size // 2) / 1200)]
            f = np.r_[f, np.round(rng.uniform(200, 260, 6)), 0.0]
        f = np.r_[f, 50.0 * 2.0 ** rng.uniform(0, 8, size=int(rng.integers(0, 8)))]
        amps = np.round(rng.uniform(-60, 0, f.size)) if crowded else rng.uniform(-60, 0, f.size)
        frames.append([Peak(float(x), float(y), 20.0) for x, y in zip(f, amps, strict=True)])
    return frames


def _same(a: list[Partial], b: list[Partial]) -> None:
    assert len(a) == len(b)
    for p, q in zip(a, b, strict=True):
        for x, y in ((p.times, q.times), (p.freqs, q.freqs), (p.amps_db, q.amps_db)):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("crowded", [False, True])
def test_track_partials_equals_the_reference(crowded: bool) -> None:
    """The vectorised tracker gives exactly the pure-Python all-pairs tracker's partials
    (same points, same order), for several gap, jump and length settings."""
    rng = np.random.default_rng(7 + crowded)
    frames = _random_frames(rng, 300, crowded=crowded)
    times = np.cumsum(rng.uniform(0.01, 0.05, len(frames)))
    for kw in (
        {},
        {"max_gap_frames": 0, "min_length_frames": 1},
        {"max_jump_cents": 120.0, "max_gap_frames": 4, "min_length_frames": 3},
    ):
        _same(track_partials(frames, times, **kw), _track_reference(frames, times, **kw))


def test_streaming_equals_batch() -> None:
    """Feeding PartialTracker frame by frame and sorting what it returns gives
    track_partials' result; every returned partial ended before the frame that closed it."""
    rng = np.random.default_rng(9)
    frames = _random_frames(rng, 400, crowded=True)
    times = np.arange(len(frames)) * 0.046
    tr = PartialTracker(max_gap_frames=3, min_length_frames=4)
    got: list[Partial] = []
    for t, peaks in zip(times, frames, strict=True):
        f = np.array([p.freq_hz for p in peaks])
        a = np.array([p.amp_db for p in peaks])
        closed = tr.feed(t, f, a)
        assert all(p.times[-1] < t and len(p) >= 4 for p in closed)
        got += closed
    got += tr.close()
    assert tr.n_open == 0 and tr.close() == []
    got.sort(key=lambda p: (float(p.times[0]), p.median_freq_hz))
    _same(got, track_partials(frames, times, max_gap_frames=3, min_length_frames=4))


def test_a_track_closes_when_its_gap_exceeds_max_gap() -> None:
    """Seen at frames 0-4, a track with max_gap_frames 2 is returned by frame 7, the third
    frame in a row without it, and not before; a too short one is closed but dropped."""
    tr = PartialTracker(max_gap_frames=2, min_length_frames=5)
    for k in range(5):
        assert tr.feed(k, [440.0], [-10.0]) == []
    assert tr.n_open == 1
    for k in (5, 6):
        assert tr.feed(k, [], []) == []
        assert tr.n_open == 1
    (p,) = tr.feed(7, [1000.0], [-20.0])  # 1000 Hz starts a track
    np.testing.assert_array_equal(p.times, np.arange(5.0))
    np.testing.assert_array_equal(p.freqs, np.full(5, 440.0))
    assert tr.n_open == 1
    for k in (8, 9, 10):
        assert tr.feed(k, [], []) == []
    assert tr.n_open == 0
    with pytest.raises(ValueError, match="amplitudes"):
        tr.feed(11, [1.0, 2.0], [0.0])


def test_memory_does_not_grow_with_closed_tracks() -> None:
    """A long feed of short-lived random peaks (~50,000 tracks closed): the traced
    memory's peak stays bounded by the open tracks (measured 52 kB over 19,000 frames),
    far under what the closed tracks take (> 500 B each as Partials)."""
    rng = np.random.default_rng(10)
    tr = PartialTracker(max_gap_frames=1, min_length_frames=1)
    n_frames, closed = 3000, 0
    tracemalloc.start()
    try:
        for k in range(n_frames):
            f = 100.0 * 2.0 ** rng.uniform(0, 7, size=32)
            closed += len(tr.feed(k * 0.05, f, rng.uniform(-60, 0, 32)))
            if k == 300:
                tracemalloc.reset_peak()
                base, _ = tracemalloc.get_traced_memory()
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert closed > 40_000
    assert tr.n_open < 200
    assert peak - base < 500_000  # the closed tracks: > 20 MB
    assert now - base < 200_000


def test_a_long_track_is_cut_at_max_length() -> None:
    """With max_length_frames, a tone held for 25 frames comes back as tracks of at most 10,
    each continuing where the last stopped (no frame lost but the cut's own)."""
    from bassd.dsp.partial_tracks import PartialTracker

    tr = PartialTracker(min_length_frames=1, max_length_frames=10)
    out = []
    for k in range(25):
        out += tr.feed(0.1 * k, [440.0], [-10.0])
    out += tr.close()
    assert [len(p) for p in out] == [10, 10, 5]
    assert out[1].times[0] == pytest.approx(1.0) and out[2].times[0] == pytest.approx(2.0)
