"""Held-out evaluation of the next-chord predictors, the Ear, and their fusion.

For every next-chord position of the held-out progressions (each chord after the first,
given all chords before it), five methods give a distribution over the mode's vocabulary
and are scored by top-1 / top-3 (stable ranking: ties go to the earlier vocabulary chord; a
target outside the vocabulary is a miss): the unigram and bigram baselines
(:mod:`bassd.models.chord_bigram`, fitted on the training pieces), the LSTM checkpoint
(:class:`bassd.models.chord_predictor.ChordPredictor`), the Ear
(:class:`bassd.dsp.chord_ear.Ear`, default config) and the fusion of the LSTM and the Ear
(:func:`bassd.dsp.chord_fusion.fuse`) at a weight.

**The Ear's notes are simulated, not recorded playing.** The corpus has no notes, so for
each target chord a seeded random generator (``numpy.random.default_rng(seed)``, drawn in
position order) invents what a player plays in the listening window just before the change:
2-4 notes (uniform), each a tone of the *target* chord with probability 0.7 (uniform over its
tones) and otherwise a tone of the key's scale (major, or natural minor, uniform), placed in
octave 4 or 5 (MIDI 60 + pitch class, plus 12 with probability 1/2), velocity uniform in
64..100, played one after another filling the window (0, 1). The key is tonic 0 in the
progression's mode (progressions are key-relative). So the Ear's figures measure how well it
reads such sketches; the fused figures how much a model's foresight adds to that.

The split is the checkpoint's: ``held_out`` fraction and ``seed`` from its metadata (the
split it was trained with) unless overridden; the fusion-weight sweep picks its best weight
(top-1, then top-3, then the larger weight) on the *validation* pieces the trainer carved from
the training pieces (also in the metadata) when present, else on the held-out pieces (then
the best fused figure is optimistic, and the table says so).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bassd.dsp.chord_ear import Ear
from bassd.dsp.chord_fusion import DEFAULT_WEIGHT, fuse
from bassd.dsp.chords import parse_roman, vocabulary
from bassd.models.chord_bigram import BigramModel, UnigramModel
from bassd.models.chord_corpus import SHIPPED_CORPUS, Progression, read_corpus, split_by_piece
from bassd.models.chord_predictor import ChordPredictor

__all__ = [
    "CAPTION",
    "METHODS",
    "SWEEP",
    "Predictor",
    "format_table",
    "run_eval",
    "score",
    "simulate_notes",
]

METHODS = ("unigram", "bigram", "lstm", "ear", "fused")
SWEEP = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
P_CHORD_TONE = 0.7
CAPTION = (
    "Ear and fused rows use SIMULATED playing, not recorded notes: per target chord 2-4 "
    "seeded notes, each a target-chord tone with p=0.7 else a scale tone, key tonic 0."
)
_SCALE = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}


class Predictor(Protocol):
    """Anything with ``BigramModel.predict``'s contract."""

    def predict(self, history: Sequence[str], mode: str) -> np.ndarray: ...


@dataclass(frozen=True)
class _Key:
    tonic: int
    mode: str


def simulate_notes(
    roman: str, mode: str, rng: np.random.Generator
) -> list[tuple[float, float, int, int]]:
    """A simulated sketch of ``roman`` (see the module docstring): (start, end, pitch,
    velocity) notes filling the window (0, 1), key tonic 0."""
    chord_pcs = parse_roman(roman, mode).pcs
    n = int(rng.integers(2, 5))
    notes = []
    for k in range(n):
        pool = chord_pcs if rng.random() < P_CHORD_TONE else _SCALE[mode]
        pc = int(pool[int(rng.integers(len(pool)))])
        pitch = 60 + pc + 12 * int(rng.integers(2))
        notes.append((k / n, (k + 1) / n, pitch, int(rng.integers(64, 101))))
    return notes


def _ranks(dist: np.ndarray, target: int) -> tuple[bool, bool]:
    order = np.argsort(-dist, kind="stable")
    return bool(target == order[0]), bool(target in order[:3])


def score(
    dist_of: Callable[[Progression, int], np.ndarray], progressions: Sequence[Progression]
) -> dict[str, float]:
    """{"n", "top1", "top3"} of ``dist_of(progression, i)`` (the distribution for chord i
    given chords[:i]) over every position i >= 1, scored as the module docstring says."""
    n = hit1 = hit3 = 0
    for p in progressions:
        idx = {c.roman: i for i, c in enumerate(vocabulary(p.mode))}
        for i in range(1, len(p.chords)):
            h1, h3 = _ranks(dist_of(p, i), idx.get(p.chords[i], -1))
            n += 1
            hit1 += h1
            hit3 += h3
    return {
        "n": n,
        "top1": hit1 / n if n else float("nan"),
        "top3": hit3 / n if n else float("nan"),
    }


def _positions(
    progs: Sequence[Progression], lstm: Predictor, ear: Ear, rng: np.random.Generator
) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """(LSTM, Ear) distributions per (progression number, position), simulated notes drawn
    in position order."""
    out = {}
    for j, p in enumerate(progs):
        key = _Key(0, p.mode)
        for i in range(1, len(p.chords)):
            notes = simulate_notes(p.chords[i], p.mode, rng)
            out[(j, i)] = (
                lstm.predict(p.chords[:i], p.mode),
                ear.distribution(notes, key, window=(0.0, 1.0)),
            )
    return out


def _fused_scores(
    progs: Sequence[Progression],
    cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]],
    weight: float,
) -> dict[str, float]:
    number = {id(p): j for j, p in enumerate(progs)}
    return score(lambda p, i: fuse(*cache[(number[id(p)], i)], weight), progs)


def run_eval(
    checkpoint: str | Path | None = None,
    corpus: str | Path | None = None,
    weight: float = DEFAULT_WEIGHT,
    seed: int = 0,
    held_out: float | None = None,
    split_seed: int | None = None,
) -> dict[str, Any]:
    """The evaluation as a JSON-able dict: ``rows`` {method: {"n","top1","top3"}}, ``sweep``
    (held-out fused figures per weight), ``best_weight`` and where it was chosen, the split."""
    predictor = ChordPredictor.load(checkpoint)
    split = predictor.meta.get("training", {}).get("split", {})
    held_out = float(split.get("held_out", 0.2)) if held_out is None else held_out
    split_seed = int(split.get("seed", 0)) if split_seed is None else split_seed
    corpus_path = Path(corpus) if corpus is not None else SHIPPED_CORPUS
    progs = read_corpus(corpus_path)
    train, test = split_by_piece(progs, held_out, split_seed)
    ear = Ear()
    rng = np.random.default_rng(seed)
    cache = _positions(test, predictor, ear, rng)
    number = {id(p): j for j, p in enumerate(test)}
    uni = UnigramModel().fit(train)
    bi = BigramModel().fit(train)
    rows = {
        "unigram": score(lambda p, i: uni.predict(p.chords[:i], p.mode), test),
        "bigram": score(lambda p, i: bi.predict(p.chords[:i], p.mode), test),
        "lstm": score(lambda p, i: cache[(number[id(p)], i)][0], test),
        "ear": score(lambda p, i: cache[(number[id(p)], i)][1], test),
        "fused": _fused_scores(test, cache, weight),
    }
    sweep = {w: _fused_scores(test, cache, w) for w in SWEEP}
    chosen_on = "held-out"
    select = sweep
    if "validation" in split and "validation_seed" in split:
        _, val = split_by_piece(train, float(split["validation"]), int(split["validation_seed"]))
        if val:
            val_cache = _positions(val, predictor, ear, np.random.default_rng(seed + 1))
            select = {w: _fused_scores(val, val_cache, w) for w in SWEEP}
            chosen_on = "validation"
    best = max(SWEEP, key=lambda w: (select[w]["top1"], select[w]["top3"], w))
    return {
        "checkpoint": str(checkpoint if checkpoint is not None else "shipped"),
        "corpus": str(corpus_path),
        "split": {
            "held_out": held_out,
            "seed": split_seed,
            "pieces_held_out": len({p.piece for p in test}),
        },
        "simulation_seed": seed,
        "weight": weight,
        "rows": rows,
        "sweep": {str(w): s for w, s in sweep.items()},
        "selection": {str(w): s for w, s in select.items()},
        "best_weight": best,
        "best_weight_chosen_on": chosen_on,
        "caption": CAPTION,
    }


def format_table(res: dict[str, Any]) -> str:
    """The result of :func:`run_eval` as plain text: the five rows, the sweep, the best weight."""
    lines = [
        f"held-out next-chord accuracy ({res['rows']['bigram']['n']} positions, "
        f"{res['split']['pieces_held_out']} pieces; split held_out={res['split']['held_out']} "
        f"seed={res['split']['seed']})",
        f"{'method':<22}{'top1':>8}{'top3':>8}",
    ]
    for m in METHODS:
        r = res["rows"][m]
        label = f"fused (w={res['weight']:g})" if m == "fused" else m
        lines.append(f"{label:<22}{r['top1']:>8.3f}{r['top3']:>8.3f}")
    lines.append(CAPTION)
    lines.append("")
    lines.append(
        f"fusion sweep (held-out top1/top3; selection on {res['best_weight_chosen_on']} pieces):"
    )
    for w, s in res["sweep"].items():
        sel = res["selection"][w]
        lines.append(
            f"  w={float(w):.1f}  held-out {s['top1']:.3f}/{s['top3']:.3f}"
            f"  {res['best_weight_chosen_on']} {sel['top1']:.3f}/{sel['top3']:.3f}"
        )
    best = res["best_weight"]
    note = (
        "" if res["best_weight_chosen_on"] == "validation" else " (optimistic: chosen on held-out)"
    )
    lines.append(
        f"best fusion weight: {best:g} (chosen on {res['best_weight_chosen_on']} pieces){note}"
    )
    return "\n".join(lines)


def write_json(res: dict[str, Any], path: str | Path) -> Path:
    """Write :func:`run_eval`'s result as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return path
