"""Tests for chord voicing: voice leading within a register, and the bass note."""

from __future__ import annotations

import itertools

import pytest

from bassd.dsp.voicing import bass_note, chord_tones, voice_lead

C, F, G, G7 = (0, 4, 7), (5, 9, 0), (7, 11, 2), (7, 11, 2, 5)
CHORDS = [C, F, G, G7, (9, 0, 4), (2, 5, 9, 0), (11, 2, 5), (0, 4, 8), (1, 4, 7, 10)]


def moved(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum(abs(x - y) for x, y in zip(sorted(a), sorted(b), strict=True))


@pytest.mark.parametrize("voices", [3, 4, 5])
@pytest.mark.parametrize("pcs", CHORDS)
def test_every_pc_covered_in_range_sorted(pcs: tuple[int, ...], voices: int) -> None:
    """Each voicing is `voices` sorted distinct notes in [low, high] sounding every kept pitch class."""
    prev = None
    for low, high in ((48, 72), (50, 74), (45, 70)):
        notes = voice_lead(pcs, prev, low=low, high=high, voices=voices)
        assert len(notes) == voices
        assert list(notes) == sorted(set(notes))
        assert all(low <= n <= high for n in notes)
        assert {n % 12 for n in notes} == set(chord_tones(pcs, voices))
        if voices >= len(pcs):
            assert {n % 12 for n in notes} == set(pcs)
        prev = notes


def test_doubling_and_dropping_order() -> None:
    """Extra voices double the root first, then the fifth; fewer voices drop the fifth, then the root."""
    assert sorted(chord_tones(C, 4)) == sorted((0, 0, 4, 7))
    assert sorted(chord_tones(C, 5)) == sorted((0, 0, 4, 7, 7))
    assert sorted(chord_tones(G7, 5)) == sorted((7, 7, 11, 2, 5))
    assert chord_tones(G7, 3) == (7, 11, 5)
    assert chord_tones(G7, 2) == (11, 5)
    assert chord_tones(C, 2) == (0, 4)
    assert [n % 12 for n in voice_lead(G7, None, voices=3)].count(2) == 0


def test_close_position_centred_without_previous() -> None:
    """With no previous chord the voicing is the narrowest one, its mean nearest the range centre."""
    notes = voice_lead(C, None, voices=3)
    assert notes[-1] - notes[0] < 12
    centre = (48 + 72) / 2
    best = min(
        (
            n
            for n in itertools.combinations(range(48, 73), 3)
            if sorted(x % 12 for x in n) == [0, 4, 7] and n[-1] - n[0] == notes[-1] - notes[0]
        ),
        key=lambda n: abs(sum(n) / 3 - centre),
    )
    assert notes == best


def test_minimal_movement_is_optimal() -> None:
    """The chosen voicing moves no more than any other valid voicing in range (brute force)."""
    prev = (55, 60, 64, 67)
    for pcs in (F, G, G7, (9, 0, 4)):
        got = voice_lead(pcs, prev)
        tones = sorted(chord_tones(pcs, 4))
        valid = [
            n
            for n in itertools.combinations(range(48, 73), 4)
            if sorted(x % 12 for x in n) == tones
        ]
        assert moved(got, prev) == min(moved(n, prev) for n in valid)


def test_i_iv_v_i_moves_less_than_root_position() -> None:
    """I-IV-V-I in C with voice leading moves less in total than root-position block chords."""
    led = [voice_lead(C, None)]
    for pcs in (F, G, C):
        led.append(voice_lead(pcs, led[-1]))
    root_pos = [(48, 52, 55, 60), (53, 57, 60, 65), (55, 59, 62, 67), (48, 52, 55, 60)]
    total_led = sum(moved(a, b) for a, b in itertools.pairwise(led))
    total_root = sum(moved(a, b) for a, b in itertools.pairwise(root_pos))
    assert total_led < total_root


def test_common_tone_kept() -> None:
    """C to A minor in three voices keeps the common tones C and E and moves G up to A."""
    assert voice_lead((9, 0, 4), (60, 64, 67), voices=3) == (60, 64, 69)


def test_deterministic_tie_breaking() -> None:
    """Among equal-movement voicings the narrowest wins, then the most centred, then the lowest."""
    prev = (54, 66)  # F# in two octaves: many C-major voicings tie in movement
    got = voice_lead(C, prev, voices=4)
    tones = sorted(chord_tones(C, 4))
    valid = [
        n for n in itertools.combinations(range(48, 73), 4) if sorted(x % 12 for x in n) == tones
    ]

    def cost(n: tuple[int, ...]) -> int:
        return sum(min(abs(x - p) for p in prev) for x in n)

    least = min(cost(n) for n in valid)
    tied = [n for n in valid if cost(n) == least]
    assert len(tied) > 1
    expected = min(tied, key=lambda n: (n[-1] - n[0], abs(sum(n) / 4 - 60), n))
    assert got == expected
    voice_lead(G, (50, 60, 70), voices=4)
    assert voice_lead(C, list(prev), voices=4) == got


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"pcs": (0, 4)}, "3 or 4"),
        ({"pcs": (0, 4, 12)}, "0..11"),
        ({"pcs": (0, 4, 4)}, "distinct"),
        ({"pcs": C, "low": 72, "high": 48}, "above"),
        ({"pcs": C, "low": 60, "high": 130}, "MIDI"),
        ({"pcs": C, "low": 60, "high": 66}, "pitch class"),
        ({"pcs": C, "voices": 0}, "voices"),
        ({"pcs": C, "voices": 9}, "voices"),
        ({"pcs": C, "previous": ()}, "previous"),
    ],
)
def test_invalid_arguments_raise(kwargs: dict[str, object], match: str) -> None:
    """Bad chords, ranges, voice counts and empty previous raise ValueError with the reason."""
    args = {"previous": None, **kwargs}
    with pytest.raises(ValueError, match=match):
        voice_lead(**args)


def test_bass_note() -> None:
    """The bass is the lowest note of the root's pitch class in its range; none in range raises."""
    assert bass_note(0) == 36
    assert bass_note(11) == 47
    assert bass_note(7, low=40, high=50) == 43
    assert all(36 <= bass_note(pc) <= 47 and bass_note(pc) % 12 == pc for pc in range(12))
    with pytest.raises(ValueError, match="no note"):
        bass_note(9, low=40, high=44)
    with pytest.raises(ValueError, match="root_pc"):
        bass_note(12)
