"""The key-relative chord vocabulary: contents, pitch classes, symbols, Roman-numeral parsing."""

from __future__ import annotations

import pytest

from bassd.dsp.chords import (
    QUALITIES,
    Chord,
    absolute,
    parse_roman,
    symbol,
    vocabulary,
)


def by_roman(mode: str) -> dict[str, Chord]:
    return {c.roman: c for c in vocabulary(mode)}


def test_major_vocabulary_contents() -> None:
    """Major has the diatonic triads and sevenths, secondary dominants and borrowed chords."""
    romans = set(by_roman("major"))
    expected = {
        "I", "ii", "iii", "IV", "V", "vi", "viio",
        "Imaj7", "ii7", "iii7", "IVmaj7", "V7", "vi7", "viiø7",
        "V/ii", "V/iii", "V/V", "V/vi", "V7/ii", "V7/iii", "V7/IV", "V7/V", "V7/vi",
        "iv", "bVI", "bVII", "bIII", "iio",
    }  # fmt: skip
    assert romans == expected


def test_minor_vocabulary_contents() -> None:
    """Minor has i iio III iv, harmonic V/V7/viio/viio7, natural v/VII, VI, and Picardy I, IV."""
    romans = set(by_roman("minor"))
    expected = {
        "i", "iio", "III", "iv", "V", "v", "VI", "VII", "viio",
        "i7", "iiø7", "IIImaj7", "iv7", "V7", "VImaj7", "VII7", "viio7",
        "V/V", "V7/V", "V7/iv", "V7/VI", "I", "IV",
    }  # fmt: skip
    assert romans == expected


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_pitch_class_sets_are_distinct(mode: str) -> None:
    """No two chords of a vocabulary share a pitch-class set (the Ear could not tell them apart)."""
    sets = [frozenset(c.pcs) for c in vocabulary(mode)]
    assert len(set(sets)) == len(sets)


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_kinds_and_functions(mode: str) -> None:
    """Every chord has a known function and kind; the tonic triad is diatonic tonic."""
    for c in vocabulary(mode):
        assert c.function in ("tonic", "subdominant", "dominant")
        assert c.kind in ("diatonic", "secondary", "borrowed")
        assert c.mode == mode
        assert len(c.pcs) == len(QUALITIES[c.quality])
    tonic = vocabulary(mode)[0]
    assert (tonic.roman, tonic.root, tonic.function, tonic.kind) == (
        "I" if mode == "major" else "i", 0, "tonic", "diatonic")  # fmt: skip
    assert by_roman(mode)["V7"].kind == "diatonic"
    assert by_roman(mode)["V/V"].kind == "secondary"


def test_relative_pitch_classes() -> None:
    """Key-relative pcs: major V7 = {7,11,2,5}; minor V = {7,11,2} (harmonic); minor viio7 = {11,2,5,8}."""
    assert by_roman("major")["V7"].pcs == (7, 11, 2, 5)
    assert by_roman("major")["V7"].quality == "dom7"
    assert by_roman("minor")["V"].pcs == (7, 11, 2)
    assert by_roman("minor")["v"].pcs == (7, 10, 2)
    assert by_roman("minor")["viio7"].pcs == (11, 2, 5, 8)
    assert by_roman("minor")["VII"].pcs == (10, 2, 5)
    assert by_roman("major")["viiø7"].quality == "hdim7"
    assert by_roman("major")["V7/IV"].pcs == (0, 4, 7, 10)
    assert by_roman("minor")["V7/VI"].pcs == (3, 7, 10, 1)
    assert by_roman("major")["iio"].pcs == (2, 5, 8)


@pytest.mark.parametrize(
    ("mode", "tonic", "roman", "pcs", "sym"),
    [
        ("major", 0, "V7", (7, 11, 2, 5), "G7"),
        ("major", 0, "Imaj7", (0, 4, 7, 11), "Cmaj7"),
        ("major", 0, "viio", (11, 2, 5), "Bdim"),
        ("major", 0, "V/V", (2, 6, 9), "D"),
        ("major", 0, "bVII", (10, 2, 5), "Bb"),
        ("major", 0, "viiø7", (11, 2, 5, 9), "Bm7b5"),
        ("minor", 9, "V", (4, 8, 11), "E"),
        ("minor", 9, "i", (9, 0, 4), "Am"),
        ("minor", 9, "viio7", (8, 11, 2, 5), "G#dim7"),
        ("minor", 9, "VII", (7, 11, 2), "G"),
        ("major", 3, "V/V", (5, 9, 0), "F"),
        ("major", 3, "ii", (5, 8, 0), "Fm"),
        ("major", 3, "bVI", (11, 3, 6), "Cb"),
        ("major", 2, "bVII", (0, 4, 7), "C"),
        ("major", 2, "iii", (6, 9, 1), "F#m"),
        ("major", 5, "IV", (10, 2, 5), "Bb"),
        ("major", 6, "V/vi", (10, 2, 5), "A#"),
        ("minor", 8, "V", (3, 7, 10), "D#"),
        ("minor", 3, "VI", (11, 3, 6), "Cb"),
    ],
)
def test_absolute_and_symbol(
    mode: str, tonic: int, roman: str, pcs: tuple[int, ...], sym: str
) -> None:
    """Absolute pitch classes and lead-sheet symbols spelled from the key's letters."""
    chord = by_roman(mode)[roman]
    assert absolute(chord, tonic) == pcs
    assert symbol(chord, tonic) == sym


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_parse_roman_round_trips_vocabulary(mode: str) -> None:
    """parse_roman(chord.roman, mode) gives back the vocabulary chord itself."""
    for c in vocabulary(mode):
        assert parse_roman(c.roman, mode) == c


def test_parse_roman_aliases_and_chromatic() -> None:
    """ "vii°" and "vii/o7" are aliases; a numeral outside the vocabulary parses as chromatic."""
    assert parse_roman("vii°", "major") == by_roman("major")["viio"]
    assert parse_roman("vii/o7", "major") == by_roman("major")["viiø7"]
    nap = parse_roman("bII", "minor")
    assert (nap.root, nap.quality, nap.kind) == (1, "maj", "chromatic")
    assert symbol(nap, 9) == "Bb"
    v_of_iv = parse_roman("V/IV", "major")  # not in the vocabulary: it is I
    assert v_of_iv.pcs == (0, 4, 7) and v_of_iv.kind == "chromatic"
    assert v_of_iv.function == "dominant"


@pytest.mark.parametrize("bad", ["", "VIII", "Io", "v+", "V/viio", "X7", "ii9"])
def test_parse_roman_rejects_malformed(bad: str) -> None:
    """Malformed numerals and tonicised diminished chords raise ValueError."""
    with pytest.raises(ValueError):
        parse_roman(bad, "major")


def test_unknown_mode_rejected() -> None:
    """Only "major" and "minor" have vocabularies."""
    with pytest.raises(ValueError):
        vocabulary("dorian")
