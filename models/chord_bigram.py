"""Count-based next-chord baselines: a bigram (first-order Markov) model and a unigram one.

Both work per mode over :func:`bassd.dsp.chords.vocabulary` plus one "unknown" bucket (chords
a corpus names outside the vocabulary), with add-k smoothing, and both predict a distribution
over the mode's vocabulary, in its order, that sums to 1 (the unknown bucket's share is left
out and the rest renormalised: the predictor can only propose vocabulary chords). The bigram
conditions on the last chord of the history (an empty history uses a start state); the
unigram ignores the history. :func:`evaluate` scores either on held-out progressions. A
learned predictor is to beat these numbers. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from bassd.dsp.chords import MODES, vocabulary
from bassd.models.chord_corpus import Progression

__all__ = ["BigramModel", "UnigramModel", "evaluate"]


def _index(mode: str) -> dict[str, int]:
    return {c.roman: i for i, c in enumerate(vocabulary(mode))}


class UnigramModel:
    """P(next) = (count(next) + k) / (N + k (V + 1)), per mode; the history is ignored."""

    def __init__(self, k: float = 0.5) -> None:
        if k <= 0:
            raise ValueError(f"k must be positive, not {k}")
        self.k = k
        self.counts = {m: np.zeros(len(vocabulary(m)) + 1) for m in MODES}

    def fit(self, progressions: Iterable[Progression]) -> UnigramModel:
        """Count every chord of ``progressions``; returns self."""
        for p in progressions:
            idx = _index(p.mode)
            unk = len(idx)
            for c in p.chords:
                self.counts[p.mode][idx.get(c, unk)] += 1
        return self

    def predict(self, history: Sequence[str], mode: str) -> np.ndarray:
        """Distribution over ``vocabulary(mode)`` of the next chord."""
        p = self.counts[mode][:-1] + self.k
        return p / p.sum()


class BigramModel:
    """P(next | prev) = (count(prev, next) + k) / (count(prev) + k (V + 1)), per mode; rows
    for each vocabulary chord, the unknown bucket and a start state."""

    def __init__(self, k: float = 0.5) -> None:
        if k <= 0:
            raise ValueError(f"k must be positive, not {k}")
        self.k = k
        # rows: V vocabulary chords, unknown (V), start (V + 1); columns: V chords, unknown
        self.counts = {m: np.zeros((len(vocabulary(m)) + 2, len(vocabulary(m)) + 1)) for m in MODES}

    def fit(self, progressions: Iterable[Progression]) -> BigramModel:
        """Count every transition (and start -> first chord) of ``progressions``; returns self."""
        for p in progressions:
            idx = _index(p.mode)
            unk, start = len(idx), len(idx) + 1
            prev = start
            for c in p.chords:
                cur = idx.get(c, unk)
                self.counts[p.mode][prev, cur] += 1
                prev = cur
        return self

    def predict(self, history: Sequence[str], mode: str) -> np.ndarray:
        """Distribution over ``vocabulary(mode)`` of the chord after ``history``."""
        idx = _index(mode)
        row = idx.get(history[-1], len(idx)) if history else len(idx) + 1
        p = self.counts[mode][row, :-1] + self.k
        return p / p.sum()


def evaluate(
    model: UnigramModel | BigramModel, progressions: Iterable[Progression]
) -> dict[str, float]:
    """Top-1 and top-3 accuracy of ``model`` over every next-chord position (each chord after
    the first, given all chords before it) of ``progressions``. A target outside the
    vocabulary counts as a miss. Returns {"n": positions, "top1": ..., "top3": ...}."""
    n = hit1 = hit3 = 0
    for p in progressions:
        idx = _index(p.mode)
        for i in range(1, len(p.chords)):
            dist = model.predict(p.chords[:i], p.mode)
            target = idx.get(p.chords[i], -1)
            # stable descending order: ties go to the earlier vocabulary chord
            order = np.argsort(-dist, kind="stable")
            n += 1
            hit1 += int(target == order[0])
            hit3 += int(target in order[:3])
    return {
        "n": n,
        "top1": hit1 / n if n else float("nan"),
        "top3": hit3 / n if n else float("nan"),
    }
