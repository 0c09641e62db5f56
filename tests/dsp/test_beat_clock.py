"""Tests for the metronome's beat clock (issue 8)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from bassd.dsp.beat_clock import BeatClock

SR = 48000


def exact(anchor: int | Fraction, k: int, bpm: float, sr: int = SR) -> int:
    return math.floor(Fraction(anchor) + k * Fraction(60 * sr) / Fraction(bpm) + Fraction(1, 2))


def collect(
    clock: BeatClock, start: int, stop: int, block: int = 256
) -> list[tuple[int, int, bool]]:
    out: list[tuple[int, int, bool]] = []
    for f in range(start, stop, block):
        out.extend(clock.beats_in(f, min(block, stop - f)))
    return out


def test_120_bpm_beats_24000_apart() -> None:
    """At 120 bpm / 48 kHz beats fall exactly every 24000 frames from start_frame."""
    clock = BeatClock(SR, 120.0, 4, start_frame=1000)
    beats = clock.beats_in(0, 24000 * 10 + 1000)
    assert [b[0] for b in beats] == [1000 + 24000 * k for k in range(10)]
    assert [b[1] for b in beats] == list(range(10))


def test_awkward_tempo_no_drift_after_10000_beats() -> None:
    """At 97 bpm every beat up to 10,000 equals the exact rational formula (no drift)."""
    clock = BeatClock(SR, 97.0, 4, start_frame=7)
    for k in (0, 1, 2, 3, 999, 5000, 9999, 10000):
        assert clock.beat_frame(k) == exact(7, k, 97.0)
    beats = clock.beats_in(0, clock.beat_frame(10000) + 1)
    assert len(beats) == 10001
    assert all(f == exact(7, k, 97.0) for f, k, _ in beats)
    # an accumulate-the-rounded-period implementation would be off by ~thousands of frames
    assert beats[-1][0] != 7 + 10000 * round(60 * SR / 97)


def test_float_tempo_uses_exact_value() -> None:
    """A non-integer tempo (97.3 bpm) still follows the exact formula at beat 10,000."""
    clock = BeatClock(SR, 97.3, 3)
    assert clock.beat_frame(10000) == exact(0, 10000, 97.3)


def test_blocks_of_256_yield_each_beat_once() -> None:
    """Consecutive 256-frame blocks yield every beat exactly once, in order."""
    clock = BeatClock(SR, 97.0, 4, start_frame=123)
    stop = clock.beat_frame(2000) + 1
    beats = collect(clock, 0, stop)
    assert [k for _, k, _ in beats] == list(range(2001))
    assert beats == clock.beats_in(0, stop)


def test_beats_in_half_open_interval() -> None:
    """beats_in includes frame0 and excludes frame0 + frames."""
    clock = BeatClock(SR, 120.0, 4)
    assert [b[0] for b in clock.beats_in(24000, 1)] == [24000]
    assert clock.beats_in(23999, 1) == []
    assert clock.beats_in(1, 23999) == []
    assert clock.beats_in(0, 0) == []


def test_downbeats_every_beats_per_bar() -> None:
    """Downbeats fall on beats 0, n, 2n, ... for beats_per_bar n."""
    for n in (1, 3, 4, 7, 16):
        clock = BeatClock(SR, 150.0, n)
        beats = clock.beats_in(0, clock.beat_frame(64))
        assert [k for _, k, d in beats if d] == list(range(0, 64, n))


def test_set_tempo_mid_bar() -> None:
    """set_tempo mid-bar: beats up to the next one unchanged, then new period; bar continues."""
    clock = BeatClock(SR, 120.0, 4)
    at = 24000 * 5 + 100  # just after beat 5 (mid-bar)
    k = clock.set_tempo(97.0, at)
    assert k == 6
    beats = collect(clock, 0, 24000 * 6 + 20 * 30000)
    frames = [f for f, _, _ in beats]
    assert [b[1] for b in beats] == list(range(len(beats)))  # none lost or doubled
    assert frames[:7] == [24000 * i for i in range(7)]  # beat 6 kept its frame
    for j in range(1, len(frames) - 6):
        assert frames[6 + j] == exact(24000 * 6, j, 97.0)
    assert [k for _, k, d in beats if d] == list(range(0, len(beats), 4))


def test_set_tempo_on_a_beat_keeps_that_beat() -> None:
    """A tempo change requested exactly on a beat frame re-anchors at that very beat."""
    clock = BeatClock(SR, 120.0, 4)
    assert clock.set_tempo(240.0, 48000) == 2
    assert [clock.beat_frame(i) for i in range(5)] == [0, 24000, 48000, 60000, 72000]


def test_set_tempo_does_not_shift_already_due_beats_in_block() -> None:
    """A change while rendering: beats already reported keep their frames."""
    clock = BeatClock(SR, 97.0, 4)
    before = clock.beats_in(0, 200000)
    clock.set_tempo(200.0, 200000)
    assert clock.beats_in(0, 200000) == before


def test_set_meter_at_next_bar_line() -> None:
    """set_meter mid-bar takes effect at the next bar line; downbeats then every new meter."""
    clock = BeatClock(SR, 120.0, 4)
    k = clock.set_meter(3, 24000 * 5)  # beat 5 is mid-bar (bar starts at 4)
    assert k == 8
    beats = clock.beats_in(0, clock.beat_frame(30))
    assert [k for _, k, d in beats if d] == [0, 4, 8, 11, 14, 17, 20, 23, 26, 29]
    assert clock.meter_at_beat(7) == 4 and clock.meter_at_beat(8) == 3


def test_set_meter_on_bar_line_immediate() -> None:
    """set_meter requested exactly on a bar line takes effect at that bar line."""
    clock = BeatClock(SR, 120.0, 4)
    assert clock.set_meter(2, 24000 * 4) == 4
    assert [k for _, k, d in clock.beats_in(0, clock.beat_frame(10)) if d] == [0, 4, 6, 8]


def test_meter_and_tempo_together() -> None:
    """A tempo change does not move bar lines (beat indices continue)."""
    clock = BeatClock(SR, 100.0, 3)
    clock.set_tempo(180.0, 1)
    clock.set_meter(5, clock.beat_frame(4))
    downs = [k for _, k, d in clock.beats_in(0, clock.beat_frame(20)) if d]
    assert downs == [0, 3, 6, 11, 16]


@pytest.mark.parametrize("bpm", [19.99, 300.5, 0.0, -120.0, float("nan"), float("inf")])
def test_bad_tempo_raises_naming_value(bpm: float) -> None:
    """Tempo outside 20..300 bpm raises ValueError naming the value."""
    with pytest.raises(ValueError, match=re_escape(repr(bpm))):
        BeatClock(SR, bpm, 4)
    clock = BeatClock(SR, 120.0, 4)
    with pytest.raises(ValueError, match=re_escape(repr(bpm))):
        clock.set_tempo(bpm, 0)


@pytest.mark.parametrize("meter", [0, 17, -1])
def test_bad_meter_raises_naming_value(meter: int) -> None:
    """Meter outside 1..16 raises ValueError naming the value."""
    with pytest.raises(ValueError, match=rf"beats_per_bar {meter}\b"):
        BeatClock(SR, 120.0, meter)
    clock = BeatClock(SR, 120.0, 4)
    with pytest.raises(ValueError, match=rf"beats_per_bar {meter}\b"):
        clock.set_meter(meter, 0)


def test_range_edges_accepted() -> None:
    """20 and 300 bpm, meters 1 and 16 are valid."""
    BeatClock(SR, 20.0, 1)
    BeatClock(SR, 300.0, 16)


def re_escape(s: str) -> str:
    import re

    return re.escape(s)


def test_a_tempo_change_every_bar_for_hours_keeps_the_schedule_bounded_and_exact() -> None:
    """Tempo following (or Link) may change tempo once a bar for weeks: the schedule keeps
    only what the last ``history_beats`` need, and every recent beat, bar line and beat
    range is exactly where a clock that kept everything puts it."""
    pruned = BeatClock(SR, 96.0, 4, start_frame=500, history_beats=64)
    full = BeatClock(SR, 96.0, 4, start_frame=500, history_beats=None)
    frame = 500
    for bar in range(600):  # ~25 min of bars at ~96 bpm
        bpm = 90.0 + (bar * 7919 % 130) / 10
        at = full.beat_frame(4 * bar + 4)
        assert pruned.set_tempo(bpm, at) == full.set_tempo(bpm, at)
        if bar % 200 == 0:
            meter = 3 + bar % 400 // 200
            assert pruned.set_meter(meter, at) == full.set_meter(meter, at)
        frame = at
    assert len(pruned._tempo) <= 64 // 4 + 2 and len(full._tempo) > 550
    last = full.next_beat_at_or_after(frame)
    for k in range(last - 60, last + 40):
        assert pruned.beat_frame(k) == full.beat_frame(k)
        assert pruned.is_downbeat(k) == full.is_downbeat(k)
    lo = full.beat_frame(last - 50)
    assert collect(pruned, lo, lo + 48000 * 30) == collect(full, lo, lo + 48000 * 30)


def test_history_beats_must_be_positive() -> None:
    """A history of zero beats (or fewer) is refused by name."""
    with pytest.raises(ValueError, match="history_beats"):
        BeatClock(SR, 120.0, 4, history_beats=0)


def test_a_shift_moves_every_beat_from_its_beat_on_and_lengthens_the_gap_before() -> None:
    """shift(8, 3000): beats 0-7 keep their frames, 8 and after land 3000 frames later at
    the same period; beat_at and bar_phase read the shifted grid; over half a period is
    refused by name."""
    c = BeatClock(48000, 120.0, 4)
    before = [c.beat_frame(k) for k in range(12)]
    c.shift(8, 3000)
    assert [c.beat_frame(k) for k in range(8)] == before[:8]
    assert [c.beat_frame(k) for k in range(8, 12)] == [f + 3000 for f in before[8:]]
    assert c.beat_at(before[8] + 3000) == 8.0 and c.bar_phase(8.0) == 0.0
    assert c.beat_at(before[7] + 13500) == pytest.approx(7.5)  # the gap is 27000 frames
    assert c.bar_phase(c.beat_at(before[9] + 3000 + 12000)) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="half a period"):
        c.shift(10, 12001)
