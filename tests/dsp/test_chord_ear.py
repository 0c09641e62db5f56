"""The Ear: chord distributions over the key's vocabulary from the notes in a window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from bassd.dsp.chord_ear import Ear, EarConfig, entropy_bits, listen, profiles
from bassd.dsp.chords import vocabulary
from bassd.dsp.key_finding import find_key_of_notes


@dataclass(frozen=True)
class Key:
    tonic: int
    mode: str


C_MAJOR = Key(0, "major")
A_MINOR = Key(9, "minor")
W = (0.0, 1.0)


def block(pitches: list[int], velocity: int | None = None) -> list[tuple[float, ...]]:
    if velocity is None:
        return [(0.0, 1.0, p) for p in pitches]
    return [(0.0, 1.0, p, velocity) for p in pitches]


def arpeggio(pitches: list[int]) -> list[tuple[float, float, int]]:
    n = len(pitches)
    return [(i / n, (i + 1) / n, p) for i, p in enumerate(pitches)]


def voicing(pcs: tuple[int, ...], tonic: int) -> list[int]:
    """Root in the bass (octave 2-3), upper tones above it in octave 4."""
    return [36 + (tonic + pcs[0]) % 12] + [60 + (tonic + pc) % 12 for pc in pcs[1:]]


def best(p: dict[str, float]) -> str:
    return max(p, key=lambda r: p[r])


TRIADS = {"major": ["I", "ii", "iii", "IV", "V", "vi", "viio"],
          "minor": ["i", "iio", "III", "iv", "V", "v", "VI", "VII", "viio"]}  # fmt: skip


@pytest.mark.parametrize("key", [C_MAJOR, A_MINOR])
@pytest.mark.parametrize("style", ["block", "arpeggio"])
def test_diatonic_triads_recognised(key: Key, style: str) -> None:
    """Each diatonic triad played (block or arpeggiated in the window) gets the top probability."""
    ear = Ear()
    chords = {c.roman: c for c in vocabulary(key.mode)}
    for roman in TRIADS[key.mode]:
        pitches = voicing(chords[roman].pcs, key.tonic)
        notes = block(pitches) if style == "block" else arpeggio(pitches)
        assert best(ear.listen(notes, key, window=W)) == roman


@pytest.mark.parametrize("key", [C_MAJOR, A_MINOR])
def test_every_vocabulary_chord_recognised_in_root_position(key: Key) -> None:
    """Every chord of the vocabulary, played complete with its root in the bass, comes out on top."""
    ear = Ear()
    for c in vocabulary(key.mode):
        p = ear.listen(block(voicing(c.pcs, key.tonic)), key, window=W)
        assert best(p) == c.roman


def test_seventh_prefers_v7() -> None:
    """G-B-D-F in C major is V7; G-B-D is V, the absent seventh counting against V7."""
    ear = Ear()
    with7 = ear.listen(block([43, 59, 62, 65]), C_MAJOR, window=W)
    triad = ear.listen(block([43, 59, 62]), C_MAJOR, window=W)
    assert best(with7) == "V7" and with7["V7"] > 2 * with7["V"]
    assert best(triad) == "V" and triad["V"] > 3 * triad["V7"]


def test_f_sharp_makes_v_of_v() -> None:
    """D-F#-A in C major is V/V (secondary dominant), not ii; D-F-A is ii."""
    ear = Ear()
    sec = ear.listen(block([50, 54, 57]), C_MAJOR, window=W)
    dia = ear.listen(block([50, 53, 57]), C_MAJOR, window=W)
    assert best(sec) == "V/V" and sec["V/V"] > 10 * sec["ii"]
    assert best(dia) == "ii"


@pytest.mark.parametrize("key", [C_MAJOR, A_MINOR, Key(6, "major"), Key(3, "minor")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distribution_is_a_probability(key: Key, seed: int) -> None:
    """Random notes give non-negative probabilities over the whole vocabulary summing to 1."""
    rng = np.random.default_rng(seed)
    notes = [(float(s), float(s + d), int(p), int(v)) for s, d, p, v in zip(
        rng.uniform(-1, 2, 12), rng.uniform(0, 1, 12), rng.integers(30, 90, 12),
        rng.integers(1, 128, 12), strict=True)]  # fmt: skip
    p = Ear().listen(notes, key, window=(0.0, 1.5))
    assert list(p) == [c.roman for c in vocabulary(key.mode)]
    vals = np.array(list(p.values()))
    assert np.all(vals >= 0) and np.all(np.isfinite(vals))
    assert vals.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_empty_window_gives_prior(mode: str) -> None:
    """No notes, or notes all outside the window, give exactly the prior."""
    ear = Ear()
    prior = ear.prior(mode)
    key = Key(4, mode)
    assert np.array_equal(ear.distribution([], key, window=W), prior)
    outside = [(1.0, 2.0, 60), (-1.0, 0.0, 64)]
    assert np.array_equal(ear.distribution(outside, key, window=W), prior)
    assert prior.sum() == pytest.approx(1.0)


def test_prior_favours_diatonic_functions() -> None:
    """The default prior puts I above V above ii, and every diatonic triad above secondary/borrowed ones."""
    ear = Ear()
    p = dict(zip([c.roman for c in vocabulary("major")], ear.prior("major"), strict=True))
    assert p["I"] > p["V"] > p["ii"]
    lowest_diatonic = min(p[r] for r in TRIADS["major"])
    assert all(p[r] < lowest_diatonic for r in ("V/V", "V/vi", "bVII", "iv", "bVI", "V7/V"))


def test_prior_is_configurable() -> None:
    """Overrides replace a chord's prior weight, which shows in the empty-window distribution."""
    ear = Ear(EarConfig(overrides={"bVII": 1000.0}))
    p = ear.listen([], C_MAJOR, window=W)
    assert best(p) == "bVII" and p["bVII"] > 0.9


@pytest.mark.parametrize("mode", ["major", "minor"])
@pytest.mark.parametrize("shift", [6, 5, 1])
def test_transposition_invariance(mode: str, shift: int) -> None:
    """The same music transposed with its key gives the same Roman-numeral distribution."""
    rng = np.random.default_rng(shift)
    notes = [(float(s), float(s) + 0.5, int(p), 90) for s, p in zip(
        rng.uniform(0, 1, 8), rng.integers(40, 80, 8), strict=True)]  # fmt: skip
    moved = [(s, e, p + shift, v) for s, e, p, v in notes]
    ear = Ear()
    a = ear.listen(notes, Key(0, mode), window=(0.0, 1.2))
    b = ear.listen(moved, Key(shift, mode), window=(0.0, 1.2))
    assert list(a) == list(b)
    np.testing.assert_allclose(list(a.values()), list(b.values()), rtol=1e-12)


def test_bass_breaks_tie_between_relative_chords() -> None:
    """Rule: same pitch classes, the chord rooted on the bass wins -- C-E-G-A over A is vi7, over C is I."""
    ear = Ear()
    over_a = ear.listen(block([57, 60, 64, 67]), C_MAJOR, window=W)
    over_c = ear.listen(block([60, 64, 67, 69]), C_MAJOR, window=W)
    assert best(over_a) == "vi7" and over_a["vi7"] > 10 * over_a["I"]
    assert best(over_c) == "I" and over_c["I"] > 5 * over_c["vi7"]


def test_first_inversion_still_the_triad() -> None:
    """E-G-C (I6) is still I: a complete triad beats iii missing its fifth despite E in the bass."""
    p = Ear().listen(block([52, 55, 60]), C_MAJOR, window=W)
    assert best(p) == "I"


def test_overlap_with_window_weighs_notes() -> None:
    """Only the part of a note inside the window counts: a long-gone F hardly shifts G-B-D."""
    notes = [(-10.0, 0.02, 65), (0.0, 1.0, 43), (0.0, 1.0, 59), (0.0, 1.0, 62)]
    assert best(Ear().listen(notes, C_MAJOR, window=W)) == "V"
    notes[0] = (-10.0, 1.0, 65)
    assert best(Ear().listen(notes, C_MAJOR, window=W)) == "V7"


def test_velocity_weighs_notes() -> None:
    """A ghosted seventh (velocity 5 against 110) leaves V; at full velocity it makes V7."""
    soft = [*block([43, 59, 62], 110), (0.0, 1.0, 65, 5)]
    loud = [*block([43, 59, 62], 110), (0.0, 1.0, 65, 110)]
    assert best(Ear().listen(soft, C_MAJOR, window=W)) == "V"
    assert best(Ear().listen(loud, C_MAJOR, window=W)) == "V7"


def test_profiles_are_key_relative_and_normalised() -> None:
    """Salience and bass profiles index pitch classes from the tonic and each sum to 1."""
    sal, bass = profiles(block([43, 59, 62]), 7, W, EarConfig()) or (None, None)
    assert sal is not None and bass is not None
    assert sal.sum() == pytest.approx(1.0) and bass.sum() == pytest.approx(1.0)
    assert set(np.flatnonzero(sal)) == {0, 4, 7}
    assert int(np.argmax(bass)) == 0


def test_bad_window_and_notes_rejected() -> None:
    """An empty or reversed window and a note ending before it starts raise ValueError."""
    with pytest.raises(ValueError):
        Ear().listen([], C_MAJOR, window=(1.0, 1.0))
    with pytest.raises(ValueError):
        Ear().listen([(1.0, 0.5, 60)], C_MAJOR, window=W)


def test_works_with_a_key_estimate_and_module_listen() -> None:
    """A KeyEstimate from find_key is a key; module-level listen equals Ear().listen; entropy drops when notes are heard."""
    cadence = [(0, 1, 48), (0, 1, 64), (0, 1, 67), (1, 2, 53), (1, 2, 65), (1, 2, 69),
               (2, 3, 43), (2, 3, 59), (2, 3, 62), (3, 4, 48), (3, 4, 64), (3, 4, 67)]  # fmt: skip
    key = find_key_of_notes(cadence)
    assert (key.tonic, key.mode) == (0, "major")
    p = listen(cadence, key, window=(2.0, 3.0))
    assert p == Ear().listen(cadence, key, window=(2.0, 3.0))
    assert best(p) == "V"
    assert entropy_bits(p) < entropy_bits(Ear().listen([], key, window=W))
    ranked = Ear().ranked(cadence, key, window=(2.0, 3.0))
    assert ranked[0][0].roman == "V" and ranked[0][1] >= ranked[1][1]
