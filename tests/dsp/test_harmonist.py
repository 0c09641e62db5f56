"""The harmonist: key parsing, listening, thinking ahead and deciding by fusion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bassd.dsp.chords import vocabulary
from bassd.dsp.harmonist import Harmonist, Key, parse_key


@pytest.mark.parametrize(
    ("text", "key"),
    [("G major", Key(7, "major")), ("e minor", Key(4, "minor")), ("F#m", Key(6, "minor")),
     ("Bb", Key(10, "major")), ("Gmaj", Key(7, "major")), ("c", Key(0, "minor"))],
)  # fmt: skip
def test_parse_key(text: str, key: Key) -> None:
    """Key names in the usual spellings parse; a lower-case bare letter is minor."""
    assert parse_key(text) == key


def test_parse_key_rejects_what_is_not_a_key() -> None:
    """A bad name is a ValueError that quotes it."""
    with pytest.raises(ValueError, match="H major"):
        parse_key("H major")


class Counting:
    """A predictor that always favours one chord, counting its calls and their histories."""

    def __init__(self, favourite: str) -> None:
        self.favourite = favourite
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, history: Sequence[str], mode: str) -> np.ndarray:
        self.calls.append(tuple(history))
        p = np.full(len(vocabulary(mode)), 0.01)
        p[[c.roman for c in vocabulary(mode)].index(self.favourite)] = 1.0
        return p / p.sum()


def play_c_major(h: Harmonist, until: float) -> None:
    t = 0.0
    for p in [60, 64, 67, 72, 65, 69, 67, 71, 60, 64, 67, 60] * 4:
        if t >= until:
            break
        h.note_on(p, 90, t)
        h.note_off(p, t + 0.4)
        t += 0.5


def test_decision_fuses_and_thinks_ahead_once_per_change() -> None:
    """A decision uses the prediction made ahead after the previous one (the decision itself
    calls no predictor), and the history thinking ahead passes grows with the chords."""
    pred = Counting("IV")
    h = Harmonist(pred, fusion_weight=1.0)
    play_c_major(h, 6.0)
    first = h.decide((4.0, 6.0))
    assert first is not None and first.key == Key(0, "major") and first.roman == "IV"
    h.think_ahead(first.key)
    calls = len(pred.calls)
    assert pred.calls[-1] == ("IV",) and h.next_chord() == "F"
    second = h.decide((6.0, 8.0))
    assert second is not None and second.roman == "IV"
    assert len(pred.calls) == calls  # the decision used the prediction made ahead
    h.think_ahead(second.key)
    assert pred.calls[-1] == ("IV", "IV")


def test_weight_zero_is_the_ear_alone() -> None:
    """With fusion weight 0 the predictor's favourite does not matter: the Ear decides."""
    h = Harmonist(Counting("bVII"), fusion_weight=0.0)
    play_c_major(h, 6.0)
    d = h.decide((4.0, 6.0))
    assert d is not None and d.roman == d.ear_top and d.roman != "bVII"


def test_no_key_no_decision_and_a_locked_key_decides_at_once() -> None:
    """Before a key is heard there is no decision; a locked key needs no notes."""
    h = Harmonist(None)
    assert h.decide((0.0, 1.0)) is None
    h.lock_key(parse_key("D minor"))
    d = h.decide((0.0, 1.0))
    assert d is not None and d.key == Key(2, "minor")
    assert d.roman in {c.roman for c in vocabulary("minor")}


def test_a_new_key_starts_the_history_afresh() -> None:
    """Roman numerals are relative to a key: after a key change the predictor gets an empty
    history, not the old key's numerals."""
    pred = Counting("V")
    h = Harmonist(pred, fusion_weight=1.0)
    h.lock_key(parse_key("C major"))
    h.decide((0.0, 1.0))
    h.decide((1.0, 2.0))
    h.lock_key(parse_key("A minor"))
    h.decide((2.0, 3.0))
    assert () in pred.calls[2:] and h.history == ["V"]
