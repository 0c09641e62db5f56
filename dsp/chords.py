"""The chord vocabulary of a key, key-relative: Roman numerals, pitch classes, lead-sheet symbols.

A :class:`Chord` is written relative to the tonic (pitch class 0 = the tonic), so one
vocabulary serves all twelve keys of a mode; :func:`absolute` and :func:`symbol` place it in
a key. The Ear (:mod:`bassd.dsp.chord_ear`) gives a distribution over :func:`vocabulary`, and a
chord predictor over the same Roman numerals reads its corpus with :func:`parse_roman`.

Roman numerals (ASCII except the half-diminished sign): case gives the triad (upper major,
lower minor), ``o`` diminished, ``+`` augmented; ``7`` after an upper-case numeral is a
dominant seventh, after a lower-case one a minor seventh; ``maj7`` a major seventh, ``ø7``
half-diminished (``/o7`` is accepted when parsing), ``o7`` fully diminished. A ``b``/``#``
prefix lowers/raises the root from the mode's scale degree; ``X/Y`` is chord X of the key
of degree Y (``V7/ii``).

Degrees follow the mode's scale: major, and natural minor for minor -- except that in minor a
lower-case ``vii`` (``viio``, ``viiø7``, ``viio7``) stands on the raised leading tone and a
lower-case ``vi`` on the raised sixth, as usual; ``V`` in minor is the harmonic-minor major
triad, ``v`` the natural-minor one, ``VII`` the subtonic major triad.

Vocabulary choices (each pitch-class set appears once, so the Ear can tell chords apart):

* major -- diatonic I ii iii IV V vi viio and Imaj7 ii7 iii7 IVmaj7 V7 vi7 viiø7; secondary
  dominants V/ii V/iii V/V V/vi and V7/ii V7/iii V7/IV V7/V V7/vi (V/IV is I, so only its
  seventh); borrowed from the parallel minor iv bVI bVII bIII iio.
* minor -- diatonic i iio III iv V v VI VII viio (harmonic V and viio, natural v and VII) and
  i7 iiø7 IIImaj7 iv7 V7 VImaj7 VII7 viio7; secondary dominants V/V V7/V V7/iv V7/VI (V/III
  is VII and V7/III is VII7, which keep their diatonic names; V/iv is the Picardy I and V/VI
  is III); borrowed from the parallel major I (Picardy third) and IV (the Dorian/melodic IV).
  No Neapolitan or augmented-sixth chords yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

MODES: Final[tuple[str, str]] = ("major", "minor")

QUALITIES: Final[dict[str, tuple[int, ...]]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "hdim7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
}
"""Intervals above the root of each chord quality."""

FUNCTIONS: Final[tuple[str, str, str]] = ("tonic", "subdominant", "dominant")
KINDS: Final[tuple[str, ...]] = ("diatonic", "secondary", "borrowed", "chromatic")

_SCALES: Final[dict[str, tuple[int, ...]]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}
_MAJOR_SCALE: Final = _SCALES["major"]
_NUMERALS: Final[tuple[str, ...]] = ("I", "II", "III", "IV", "V", "VI", "VII")
_SUFFIX: Final[dict[str, str]] = {
    "maj": "",
    "min": "m",
    "dim": "dim",
    "aug": "aug",
    "dom7": "7",
    "maj7": "maj7",
    "min7": "m7",
    "hdim7": "m7b5",
    "dim7": "dim7",
}
_LETTERS: Final = "CDEFGAB"
_LETTER_PCS: Final = (0, 2, 4, 5, 7, 9, 11)
# The tonic spellings of bassd.dsp.key_finding.key_name (music21's), with "b" for flat.
_TONIC_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "major": ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"),
    "minor": ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"),
}
_SHARP_NAMES: Final = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES: Final = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")

_ROMAN_RE: Final = re.compile(
    r"^(?P<acc>[b#]?)(?P<num>VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)"
    r"(?P<qual>maj7|ø7|/o7|o7|o|\+|7)?$"
)


@dataclass(frozen=True)
class Chord:
    """A chord relative to the tonic of a key of the given mode."""

    roman: str
    """Roman numeral, canonical spelling: "I", "V7", "viio", "viiø7", "V7/ii", "bVII"."""
    mode: str
    """The mode of the key it belongs to, "major" or "minor"."""
    root: int
    """Pitch class of the root above the tonic, 0..11."""
    quality: str
    """One of :data:`QUALITIES`: maj, min, dim, aug, dom7, maj7, min7, hdim7, dim7."""
    degree: int
    """Letter degree of the root above the tonic's letter, 0..6 (for spelling)."""
    function: str
    """"tonic", "subdominant" or "dominant" (secondary dominants: "dominant")."""
    kind: str
    """"diatonic", "secondary", "borrowed" or, for parsed chords outside the vocabulary,
    "chromatic"."""

    @property
    def pcs(self) -> tuple[int, ...]:
        """Pitch classes above the tonic, root first then upwards (third, fifth, seventh)."""
        return tuple((self.root + i) % 12 for i in QUALITIES[self.quality])

    @property
    def is_seventh(self) -> bool:
        """Whether it is a four-note (seventh) chord."""
        return len(QUALITIES[self.quality]) == 4


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be 'major' or 'minor', not {mode!r}")


def _parse_simple(text: str, mode: str) -> tuple[int, str, int]:
    """(root, quality, degree) of a numeral without "/"; ValueError if malformed."""
    m = _ROMAN_RE.match(text)
    if m is None:
        raise ValueError(f"not a Roman numeral: {text!r}")
    num, acc, qual = m["num"], m["acc"], m["qual"] or ""
    upper = num.isupper()
    degree = _NUMERALS.index(num.upper())
    step = _SCALES[mode][degree]
    if mode == "minor" and not upper and degree in (5, 6):
        step += 1  # lower-case vi / vii in minor: the raised sixth / leading tone
    step += {"": 0, "b": -1, "#": 1}[acc]
    if qual == "":
        quality = "maj" if upper else "min"
    elif qual == "o":
        quality = "dim"
    elif qual == "+":
        quality = "aug"
    elif qual == "7":
        quality = "dom7" if upper else "min7"
    elif qual == "maj7":
        quality = "maj7"
    elif qual in ("ø7", "/o7"):
        quality = "hdim7"
    else:  # "o7"
        quality = "dim7"
    if (quality in ("dim", "hdim7", "dim7") and upper) or (quality == "aug" and not upper):
        raise ValueError(f"numeral case does not fit the quality: {text!r}")
    return step % 12, quality, degree


def _canonical(text: str) -> str:
    return text.replace("/o7", "ø7").replace("°", "o")


def _make(roman: str, mode: str, function: str, kind: str) -> Chord:
    """A Chord from a canonical Roman numeral (with "/" for secondary chords)."""
    head, sep, target = roman.partition("/")
    if sep:
        t_root, t_quality, t_degree = _parse_simple(target, mode)
        if t_quality not in ("maj", "min"):
            raise ValueError(f"only a major or minor triad can be tonicised: {roman!r}")
        # the secondary numeral is read in the major key of the target
        root, quality, degree = _parse_simple(head, "major")
        root, degree = (root + t_root) % 12, (degree + t_degree) % 7
    else:
        root, quality, degree = _parse_simple(head, mode)
    return Chord(roman, mode, root, quality, degree, function, kind)


# (roman, function, kind) in vocabulary order
_TABLE: Final[dict[str, tuple[tuple[str, str, str], ...]]] = {
    "major": (
        ("I", "tonic", "diatonic"),
        ("ii", "subdominant", "diatonic"),
        ("iii", "tonic", "diatonic"),
        ("IV", "subdominant", "diatonic"),
        ("V", "dominant", "diatonic"),
        ("vi", "tonic", "diatonic"),
        ("viio", "dominant", "diatonic"),
        ("Imaj7", "tonic", "diatonic"),
        ("ii7", "subdominant", "diatonic"),
        ("iii7", "tonic", "diatonic"),
        ("IVmaj7", "subdominant", "diatonic"),
        ("V7", "dominant", "diatonic"),
        ("vi7", "tonic", "diatonic"),
        ("viiø7", "dominant", "diatonic"),
        ("V/ii", "dominant", "secondary"),
        ("V/iii", "dominant", "secondary"),
        ("V/V", "dominant", "secondary"),
        ("V/vi", "dominant", "secondary"),
        ("V7/ii", "dominant", "secondary"),
        ("V7/iii", "dominant", "secondary"),
        ("V7/IV", "dominant", "secondary"),
        ("V7/V", "dominant", "secondary"),
        ("V7/vi", "dominant", "secondary"),
        ("iv", "subdominant", "borrowed"),
        ("bVI", "subdominant", "borrowed"),
        ("bVII", "dominant", "borrowed"),
        ("bIII", "tonic", "borrowed"),
        ("iio", "subdominant", "borrowed"),
    ),
    "minor": (
        ("i", "tonic", "diatonic"),
        ("iio", "subdominant", "diatonic"),
        ("III", "tonic", "diatonic"),
        ("iv", "subdominant", "diatonic"),
        ("V", "dominant", "diatonic"),
        ("v", "dominant", "diatonic"),
        ("VI", "subdominant", "diatonic"),
        ("VII", "dominant", "diatonic"),
        ("viio", "dominant", "diatonic"),
        ("i7", "tonic", "diatonic"),
        ("iiø7", "subdominant", "diatonic"),
        ("IIImaj7", "tonic", "diatonic"),
        ("iv7", "subdominant", "diatonic"),
        ("V7", "dominant", "diatonic"),
        ("VImaj7", "subdominant", "diatonic"),
        ("VII7", "dominant", "diatonic"),
        ("viio7", "dominant", "diatonic"),
        ("V/V", "dominant", "secondary"),
        ("V7/V", "dominant", "secondary"),
        ("V7/iv", "dominant", "secondary"),
        ("V7/VI", "dominant", "secondary"),
        ("I", "tonic", "borrowed"),
        ("IV", "subdominant", "borrowed"),
    ),
}


@cache
def vocabulary(mode: str) -> tuple[Chord, ...]:
    """The candidate chords of a key of ``mode`` ("major" or "minor"), in a fixed order:
    diatonic triads, diatonic sevenths, secondary dominants, borrowed chords."""
    _check_mode(mode)
    return tuple(_make(r, mode, f, k) for r, f, k in _TABLE[mode])


def absolute(chord: Chord, tonic_pc: int) -> tuple[int, ...]:
    """The chord's pitch classes (0 = C) in the key whose tonic is ``tonic_pc``, root first."""
    return tuple((tonic_pc + pc) % 12 for pc in chord.pcs)


def root_name(chord: Chord, tonic_pc: int) -> str:
    """The root's letter name in the key, spelled from the tonic's letter and the chord's
    letter degree (Eb major's V/V is F, D major's bVII is C); a root that would need a double
    sharp or flat is respelled with a single accidental."""
    tonic_name = _TONIC_NAMES[chord.mode][tonic_pc % 12]
    letter = (_LETTERS.index(tonic_name[0]) + chord.degree) % 7
    pc = (tonic_pc + chord.root) % 12
    alter = (pc - _LETTER_PCS[letter] + 6) % 12 - 6
    if alter == 0:
        return _LETTERS[letter]
    if alter == 1:
        return _LETTERS[letter] + "#"
    if alter == -1:
        return _LETTERS[letter] + "b"
    return (_FLAT_NAMES if "b" in tonic_name else _SHARP_NAMES)[pc]


def symbol(chord: Chord, tonic_pc: int) -> str:
    """Lead-sheet symbol in the key whose tonic is ``tonic_pc``: "G7", "F#m", "Bdim",
    "Cmaj7", "Bm7b5", "G#dim7", "Caug". The root is spelled by letter degree (see
    :func:`root_name`), so Eb major's bVI is "Cb", not "B"."""
    return root_name(chord, tonic_pc) + _SUFFIX[chord.quality]


def parse_roman(text: str, mode: str) -> Chord:
    """The chord a Roman numeral names in ``mode``: the vocabulary's own chord when it is
    one (so ``parse_roman(c.roman, c.mode) == c``), otherwise a chord of kind "chromatic"
    (function guessed: dominant for V/viio-type and secondary chords, subdominant for
    ii/IV, tonic otherwise). Accepts "°" for "o" and "/o7" for "ø7"; ValueError if malformed.
    """
    _check_mode(mode)
    roman = _canonical(text.strip())
    for chord in vocabulary(mode):
        if chord.roman == roman:
            return chord
    head = roman.partition("/")[0]
    m = _ROMAN_RE.match(head)
    num = m["num"].upper() if m else ""
    if "/" in roman or num in ("V", "VII"):
        function = "dominant"
    elif num in ("II", "IV"):
        function = "subdominant"
    else:
        function = "tonic"
    return _make(roman, mode, function, "chromatic")
