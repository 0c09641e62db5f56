"""Tests for the onset-driven tempo follower (folding, median window, hysteresis)."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.tempo_follow import TempoFollower


def feed(f: TempoFollower, times: list[float]) -> list[tuple[int, float]]:
    """The (onset index, new bpm) of every tempo change while feeding ``times``."""
    changes = []
    for i, t in enumerate(times):
        r = f.onset(t)
        if r is not None:
            changes.append((i, r))
    return changes


def steady(bpm: float, n: int, beats: float = 1.0, start: float = 10.0) -> list[float]:
    step = 60.0 / bpm * beats
    return [start + i * step for i in range(n)]


def test_moves_to_player_tempo_after_hold_onsets() -> None:
    """Following a steady 100 bpm player from 90, the tempo changes once, on the hold-th IOI."""
    f = TempoFollower(90.0, hold=4)
    changes = feed(f, steady(100.0, 20))
    assert len(changes) == 1
    index, bpm = changes[0]
    assert index == 4  # onset 0 starts the clock; IOIs 1..4 make the streak of 4
    assert bpm == pytest.approx(100.0, rel=1e-9)
    assert f.bpm == pytest.approx(100.0, rel=1e-9)


def test_fewer_than_hold_differing_onsets_do_not_change() -> None:
    """A run of three slow onsets then a return to tempo leaves the tempo alone (hysteresis)."""
    f = TempoFollower(100.0, hold=4)
    times = steady(100.0, 6)
    t = times[-1]
    for _ in range(3):
        t += 0.66  # ~91 bpm
        times.append(t)
    times += [t + 0.6 * (i + 1) for i in range(10)]
    assert feed(f, times) == []
    assert f.bpm == 100.0


def test_jitter_of_three_percent_does_not_change_tempo() -> None:
    """IOIs jittered uniformly by +-3 % around 100 bpm never move a follower at 100 bpm."""
    rng = np.random.default_rng(1)
    f = TempoFollower(100.0)
    t, times = 0.0, []
    for _ in range(400):
        t += 0.6 * (1.0 + rng.uniform(-0.03, 0.03))
        times.append(t)
    assert feed(f, times) == []
    assert f.bpm == 100.0


def test_eighth_notes_fold_to_the_beat() -> None:
    """Eighth notes at 100 bpm take a follower at 90 to 100 bpm, not 200."""
    f = TempoFollower(90.0)
    changes = feed(f, steady(100.0, 30, beats=0.5))
    assert [round(b, 6) for _, b in changes] == [100.0]


@pytest.mark.parametrize("beats", [0.25, 1.0 / 3.0, 2.0])
def test_subdivisions_and_half_notes_fold(beats: float) -> None:
    """Sixteenths, triplets and half notes at 110 bpm all take a follower at 100 to 110."""
    f = TempoFollower(100.0)
    feed(f, steady(110.0, 40, beats=beats))
    assert f.bpm == pytest.approx(110.0, rel=1e-6)


def test_chords_are_ignored() -> None:
    """Three-note chords (notes 10-20 ms apart) on every beat give the beat tempo, as single notes do."""
    f = TempoFollower(90.0)
    times = []
    for beat in steady(100.0, 20):
        times += [beat, beat + 0.012, beat + 0.020]
    changes = feed(f, times)
    assert len(changes) == 1
    assert changes[0][1] == pytest.approx(100.0, rel=1e-6)


def test_gaps_are_ignored() -> None:
    """Pauses over 2 s between phrases at the follower's tempo do not count as slow beats."""
    f = TempoFollower(120.0)
    times = steady(120.0, 5) + steady(120.0, 5, start=20.0) + steady(120.0, 5, start=40.0)
    assert feed(f, times) == []


def test_new_tempo_is_clamped() -> None:
    """A player slower than min_bpm moves the tempo to min_bpm, and then no further change is reported."""
    f = TempoFollower(60.0, min_bpm=55.0)
    changes = feed(f, steady(50.0, 40))
    assert [b for _, b in changes] == [55.0]
    assert f.bpm == 55.0


def test_reset_and_validation() -> None:
    """reset() sets the (clamped) tempo and forgets the streak; bad arguments raise ValueError."""
    f = TempoFollower(90.0)
    feed(f, steady(100.0, 4))  # a streak of 3 under way
    f.reset(100.0)
    assert f.bpm == 100.0
    assert feed(f, steady(90.0, 4, start=50.0)) == []
    f.reset(300.0)
    assert f.bpm == 240.0  # clamped to max_bpm
    with pytest.raises(ValueError, match="positive"):
        f.reset(0.0)
    with pytest.raises(ValueError, match="hold"):
        TempoFollower(100.0, hold=0)
    with pytest.raises(ValueError, match="min_bpm"):
        TempoFollower(100.0, min_bpm=200, max_bpm=100)
    with pytest.raises(ValueError, match="finite"):
        f.onset(float("nan"))
