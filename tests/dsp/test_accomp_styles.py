"""Tests for the one-bar accompaniment patterns (pad, block, arpeggio)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bassd.dsp.accomp_styles import STYLES, NoteEvent, pattern

CHORD = (64, 60, 67)  # unsorted on purpose
BASS = 36


@pytest.mark.parametrize("beats", [2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("style", STYLES)
def test_events_inside_the_bar(style: str, beats: int) -> None:
    """Every event of every style starts at or after 0 and ends by the bar line, sorted by beat."""
    events = pattern(style, CHORD, BASS, beats)
    assert events
    for e in events:
        assert isinstance(e, NoteEvent)
        assert isinstance(e.beat, Fraction) and isinstance(e.length, Fraction)
        assert e.beat >= 0 and e.length > 0
        assert e.beat + e.length <= beats
        assert 1 <= e.velocity <= 127
    assert [e.beat for e in events] == sorted(e.beat for e in events)


def test_pad_holds_everything_the_whole_bar() -> None:
    """Pad: bass and each chord note once, at beat 0, the bar long, at the given velocity."""
    events = pattern("pad", CHORD, BASS, 4, velocity=70)
    assert events == [NoteEvent(Fraction(0), n, 70, Fraction(4)) for n in (36, 60, 64, 67)]
    assert [e.note for e in pattern("pad", CHORD, None, 3)] == [60, 64, 67]


def test_block_every_beat_accented_downbeat() -> None:
    """Block in 4/4: the chord on beats 0-3, loud on 0 and softer after; bass on 0 and 2; 0.9 beats."""
    events = pattern("block", CHORD, BASS, 4, velocity=100)
    chord_ev = [e for e in events if e.note != BASS]
    bass_ev = [e for e in events if e.note == BASS]
    assert sorted({e.beat for e in chord_ev}) == [0, 1, 2, 3]
    for beat in range(4):
        at = [e for e in chord_ev if e.beat == beat]
        assert sorted(e.note for e in at) == [60, 64, 67]
        if beat == 0:
            assert all(e.velocity == 100 for e in at)
        else:
            assert all(0 < e.velocity < 100 for e in at)
    assert [e.beat for e in bass_ev] == [0, 2]
    assert all(e.length == Fraction(9, 10) for e in events)


def test_block_three_four_bass_on_downbeat_only() -> None:
    """Block in 3/4 puts the bass on beat 0 only; the chord still sounds on each of the 3 beats."""
    events = pattern("block", CHORD, BASS, 3)
    assert [e.beat for e in events if e.note == BASS] == [0]
    assert len([e for e in events if e.note != BASS]) == 9


def test_arpeggio_up_and_down_in_eighths() -> None:
    """Arpeggio: the bass held from 0, then chord notes up then down in eighths filling the bar."""
    events = pattern("arpeggio", (60, 64, 67, 72), BASS, 4)
    assert events[0] == NoteEvent(Fraction(0), BASS, 80, Fraction(4))
    arp = [e for e in events if e.note != BASS]
    assert [e.beat for e in arp] == [Fraction(i, 2) for i in range(8)]
    assert all(e.length == Fraction(1, 2) for e in arp)
    assert [e.note for e in arp] == [60, 64, 67, 72, 67, 64, 60, 64]
    assert arp[0].velocity == 80 and arp[1].velocity < 80


def test_arpeggio_triad_in_three_four() -> None:
    """A triad in 3/4 arpeggiates c e g e c e: six eighths, the turning notes not repeated."""
    arp = [e.note for e in pattern("arpeggio", CHORD, None, 3)]
    assert arp == [60, 64, 67, 64, 60, 64]


def test_unknown_style_lists_styles() -> None:
    """An unknown style raises ValueError naming every known style."""
    with pytest.raises(ValueError) as info:
        pattern("waltz", CHORD, BASS, 4)
    for s in STYLES:
        assert s in str(info.value)


@pytest.mark.parametrize(
    "args,match",
    [
        (("pad", (60, 128), None, 4), "note"),
        (("pad", CHORD, -1, 4), "bass"),
        (("pad", CHORD, None, 0), "beats_per_bar"),
        (("pad", CHORD, None, 4, 0), "velocity"),
    ],
)
def test_invalid_arguments_raise(args: tuple[object, ...], match: str) -> None:
    """Out-of-range notes, bar lengths and velocities raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=match):
        pattern(*args)
