"""The chord-progression corpus format, its music21-derived shipped corpus, and the bigram
baseline of the next-chord predictor (issue 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bassd.dsp.chords import parse_roman
from bassd.models.chord_corpus import (
    SHIPPED_CORPUS,
    Progression,
    music21_rntxt_paths,
    read_corpus,
    rntxt_to_progressions,
    split_by_piece,
    write_corpus,
)

SHIPPED = SHIPPED_CORPUS  # through the installed package (package data), not the checkout


@pytest.fixture(scope="module")
def shipped() -> list[Progression]:
    return read_corpus(SHIPPED)


def _rntxt(name: str) -> Path:
    pytest.importorskip("music21")
    (path,) = [p for p in music21_rntxt_paths() if p.name == name]
    return path


def test_format_round_trips(tmp_path: Path) -> None:
    """write_corpus then read_corpus gives back the same progressions, comments skipped."""
    progs = [
        Progression("song a", "major", ("I", "vi", "IV", "V7")),
        Progression("song a", "minor", ("i", "iv", "V", "i")),
        Progression("b/2", "major", ("ii7", "V7/V", "bVII", "viiø7", "bII")),  # bII: chromatic
    ]
    path = tmp_path / "c.txt"
    write_corpus(path, progs, header=["a header"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# a header\n")
    assert "song a\tmajor\tI vi IV V7\n" in text
    path.write_text(text + "\n# trailing comment\n\n", encoding="utf-8")
    assert read_corpus(path) == progs


@pytest.mark.parametrize(
    "bad",
    [
        "piece\tmajor",  # two fields
        "piece\tdorian\tI V",  # unknown mode
        "piece\tmajor\t  ",  # no chords
        "piece\tmajor\tI Q V",  # not a numeral
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    """A malformed line is a ValueError whose message names the file and its line number."""
    path = tmp_path / "bad.txt"
    path.write_text(f"# header\nok\tmajor\tI V I\n\n{bad}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.txt:4: "):
        read_corpus(path)


def test_split_by_piece_keeps_pieces_apart_and_is_deterministic(
    shipped: list[Progression],
) -> None:
    """No piece is in both parts, about 20% of pieces are held out, and a seed fixes it."""
    train, test = split_by_piece(shipped, held_out=0.2, seed=0)
    train_pieces, test_pieces = {p.piece for p in train}, {p.piece for p in test}
    assert not train_pieces & test_pieces
    assert len(train) + len(test) == len(shipped)
    n = len(train_pieces | test_pieces)
    assert len(test_pieces) == round(0.2 * n)
    assert split_by_piece(shipped, held_out=0.2, seed=0) == (train, test)
    assert split_by_piece(list(reversed(shipped)), 0.2, 0)[1] == list(reversed(test))
    assert {p.piece for p in split_by_piece(shipped, 0.2, seed=1)[1]} != test_pieces


def test_shipped_corpus_loads_and_parses(shipped: list[Progression]) -> None:
    """The shipped corpus has >= 60 pieces, both modes, and every chord parses in its mode."""
    assert len({p.piece for p in shipped}) >= 60
    assert {p.mode for p in shipped} == {"major", "minor"}
    assert sum(len(p.chords) for p in shipped) > 5000
    for p in shipped:
        assert len(p.chords) >= 2
        for roman in p.chords:
            parse_roman(roman, p.mode)
    header = SHIPPED.read_text(encoding="utf-8").splitlines()[:25]
    assert any("music21 10.5" in line for line in header)
    assert any("BSD-3" in line for line in header)


def test_music21_chorale_opening() -> None:
    """riemenschneider001 (BWV 269, G major) opens I IV6 V6 | I V vi | IV viio6 I | V || I:
    inversions dropped and repeats merged, it converts to I IV V I V vi IV viio I V I."""
    path = _rntxt("riemenschneider001.rntxt")
    progs = rntxt_to_progressions(path)
    assert progs[0].piece == "bach/riemenschneider001"
    assert progs[0].mode == "major"
    assert progs[0].chords[:14] == (
        "I", "IV", "V", "I", "V", "vi", "IV", "viio", "I", "V", "I", "V", "vi7", "viio",
    )  # fmt: skip
    assert "ii7" in progs[0].chords and "V7" in progs[0].chords  # sevenths kept


def test_music21_modulation_starts_new_progression() -> None:
    """A key change in the analysis (madrigal 3.1 moves F major -> g minor) starts a new
    progression in the new key's mode."""
    path = _rntxt("madrigal.3.1.rntxt")
    progs = rntxt_to_progressions(path)
    assert progs[0].mode == "major" and progs[1].mode == "minor"
    assert progs[1].chords[:2] == ("V", "i")
    assert len(progs) > 2


def test_shipped_file_matches_converter_for_one_piece(shipped: list[Progression]) -> None:
    """The shipped file's lines for a piece are what the converter gives today."""
    path = _rntxt("riemenschneider001.rntxt")
    expected = rntxt_to_progressions(path)
    assert [p for p in shipped if p.piece == "bach/riemenschneider001"] == expected


def test_bigram_distributions_sum_to_one(shipped: list[Progression]) -> None:
    """Bigram and unigram give a probability distribution over each mode's vocabulary."""
    from bassd.dsp.chords import vocabulary
    from bassd.models.chord_bigram import BigramModel, UnigramModel

    for model in (BigramModel().fit(shipped), UnigramModel().fit(shipped)):
        for mode, history in (("major", ["I", "V7"]), ("minor", ["i", "bII"]), ("major", [])):
            dist = model.predict(history, mode)
            assert dist.shape == (len(vocabulary(mode)),)
            assert np.all(dist > 0)
            assert dist.sum() == pytest.approx(1.0)


def test_bigram_beats_unigram_on_held_out_pieces(shipped: list[Progression]) -> None:
    """Fit on the training pieces; on the held-out pieces the bigram's top-1 and top-3
    next-chord accuracy both beat the unigram's."""
    from bassd.models.chord_bigram import BigramModel, UnigramModel, evaluate

    train, test = split_by_piece(shipped, held_out=0.2, seed=0)
    bigram = evaluate(BigramModel().fit(train), test)
    unigram = evaluate(UnigramModel().fit(train), test)
    assert bigram["n"] == unigram["n"] == sum(len(p.chords) - 1 for p in test)
    assert bigram["top1"] > unigram["top1"] + 0.05
    assert bigram["top3"] > unigram["top3"] + 0.05
    assert bigram["top3"] >= bigram["top1"]
