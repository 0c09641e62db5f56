"""A corpus of key-relative chord progressions for training a next-chord predictor.

Format (UTF-8 text, one progression per line)::

    # comment lines start with "#"; blank lines are ignored
    <piece id>\\t<mode>\\t<roman> <roman> ...

* ``piece id`` -- any non-empty text without a tab; several lines may share one piece (one
  line per key region of a piece, say), and :func:`split_by_piece` keeps such lines together.
* ``mode`` -- ``major`` or ``minor``, the mode of the key the numerals are relative to.
* the chords -- Roman numerals separated by spaces, spelled as :mod:`bassd.dsp.chords` spells
  them (``I``, ``V7``, ``viio``, ``viiø7``, ``V7/ii``, ``bVII`` ...); each must be accepted by
  :func:`bassd.dsp.chords.parse_roman` (chords outside the mode's vocabulary are allowed and
  read as "chromatic"; a predictor maps them to its unknown bucket).

A malformed line (wrong number of tab-separated fields, an unknown mode, no chords, a numeral
``parse_roman`` rejects) raises :class:`ValueError` naming the file and the line number.

A user with a pop or jazz corpus writes it in this format and retrains on it; the shipped
corpus, ``models/data/chords_music21.txt``, is built from music21's Roman-numeral analyses by::

    python -m bassd.models.chord_corpus --build models/data/chords_music21.txt

music21 is needed only for that build (and the tests); it is imported lazily.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bassd.dsp.chords import MODES, QUALITIES, parse_roman, vocabulary

__all__ = [
    "Progression",
    "from_music21_rntxt",
    "music21_rntxt_paths",
    "read_corpus",
    "rntxt_to_progressions",
    "split_by_piece",
    "write_corpus",
]

_SEVENTH_TO_TRIAD = {
    "dom7": "maj",
    "maj7": "maj",
    "min7": "min",
    "hdim7": "dim",
    "dim7": "dim",
}


@dataclass(frozen=True)
class Progression:
    """One chord progression in one key: Roman numerals relative to that key's tonic."""

    piece: str
    """Identifier of the piece it comes from (the unit of the train/held-out split)."""
    mode: str
    """"major" or "minor"."""
    chords: tuple[str, ...]
    """Roman numerals in :mod:`bassd.dsp.chords` spelling, in order."""


#: the corpus shipped with bassd, found through the installed package
SHIPPED_CORPUS = Path(__file__).resolve().parent / "data" / "chords_music21.txt"


def _parse_line(line: str, where: str) -> Progression:
    fields = line.split("\t")
    if len(fields) != 3:
        raise ValueError(
            f"{where}: expected '<piece id>\\t<mode>\\t<romans>' (3 tab-separated fields), "
            f"got {len(fields)}"
        )
    piece, mode, romans = (f.strip() for f in fields)
    if not piece:
        raise ValueError(f"{where}: empty piece id")
    if mode not in MODES:
        raise ValueError(f"{where}: mode must be 'major' or 'minor', not {mode!r}")
    chords = tuple(romans.split())
    if not chords:
        raise ValueError(f"{where}: no chords")
    for roman in chords:
        try:
            parse_roman(roman, mode)
        except ValueError as exc:
            raise ValueError(f"{where}: bad chord {roman!r}: {exc}") from None
    return Progression(piece, mode, chords)


def read_corpus(path: str | Path) -> list[Progression]:
    """The progressions of a corpus file (format in the module docstring), in file order."""
    path = Path(path)
    out: list[Progression] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            out.append(_parse_line(line, f"{path}:{lineno}"))
    return out


def write_corpus(
    path: str | Path, progressions: Iterable[Progression], header: Sequence[str] = ()
) -> None:
    """Write ``progressions`` in the corpus format, after ``header`` lines written as comments."""
    lines = [f"# {h}".rstrip() for h in header]
    for p in progressions:
        if "\t" in p.piece or "\n" in p.piece or not p.piece.strip():
            raise ValueError(f"piece id must be non-empty without tabs/newlines: {p.piece!r}")
        if p.mode not in MODES:
            raise ValueError(f"mode must be 'major' or 'minor', not {p.mode!r}")
        if not p.chords or any(not c or any(ch.isspace() for ch in c) for c in p.chords):
            raise ValueError(f"bad chords in progression of {p.piece!r}: {p.chords!r}")
        lines.append(f"{p.piece}\t{p.mode}\t{' '.join(p.chords)}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def split_by_piece(
    progressions: Sequence[Progression], held_out: float = 0.2, seed: int = 0
) -> tuple[list[Progression], list[Progression]]:
    """(train, held-out): a ``held_out`` fraction of the *pieces* (at least one when there are
    two or more), chosen by a seeded shuffle of the sorted piece ids, so no piece is in both
    and the same input and seed always give the same split. Order within each part is kept."""
    if not 0.0 <= held_out <= 1.0:
        raise ValueError(f"held_out must be in [0, 1], not {held_out}")
    pieces = sorted({p.piece for p in progressions})
    n_held = round(held_out * len(pieces))
    if held_out > 0 and len(pieces) >= 2:
        n_held = min(max(n_held, 1), len(pieces) - 1)
    order = np.random.default_rng(seed).permutation(len(pieces))
    held = {pieces[i] for i in order[:n_held]}
    train = [p for p in progressions if p.piece not in held]
    test = [p for p in progressions if p.piece in held]
    return train, test


# --- music21 Roman-numeral analyses -------------------------------------------------------


def music21_rntxt_paths() -> list[Path]:
    """The RomanText analyses shipped in music21's corpus, sorted."""
    from music21 import corpus

    return sorted(Path(p) for p in corpus.getPaths(fileExtensions=("rntxt",)))


def _piece_id(path: Path) -> str:
    parts = path.parts
    if "corpus" in parts:
        i = len(parts) - 1 - parts[::-1].index("corpus")
        rel = parts[i + 1 :]
    else:
        rel = parts[-2:]
    rel = tuple(r for r in rel if r != "choraleAnalyses")
    name = "/".join(rel)
    return name[: -len(".rntxt")] if name.endswith(".rntxt") else name


def _quality(intervals: frozenset[int]) -> str | None:
    """The chord quality whose intervals are exactly ``intervals``, else the largest one (a
    seventh before a triad) contained in them, else None."""
    for q, iv in QUALITIES.items():
        if frozenset(iv) == intervals:
            return q
    for q in ("dom7", "maj7", "min7", "hdim7", "dim7", "maj", "min", "dim", "aug"):
        if frozenset(QUALITIES[q]) <= intervals:
            return q
    return None


def _normalise(rn: Any, mode: str, tonic_pc: int) -> tuple[str | None, str]:
    """(our numeral or None, what happened: "exact", "simplified" or a reason for dropping).

    Inversions and figured bass are dropped by construction: the chord is identified by its
    root and the quality of its pitch-class set relative to the tonic, then looked up in the
    mode's vocabulary; a seventh chord outside the vocabulary falls back to its triad."""
    try:
        root_pc = rn.root().pitchClass
        pcs = {p.pitchClass for p in rn.pitches}
    except Exception:  # any music21 failure: drop the chord
        return None, "unreadable"
    intervals = frozenset((pc - root_pc) % 12 for pc in pcs)
    quality = _quality(intervals)
    if quality is None and intervals <= {0, 7}:  # open fifth ("V[no3]"): the numeral's case
        numeral = str(getattr(rn, "romanNumeral", ""))
        quality = "maj" if numeral.isupper() else "min" if numeral.islower() else None
    if quality is None:
        return None, "no-quality"
    root = (root_pc - tonic_pc) % 12
    by_sound = {(c.root, c.quality): c.roman for c in vocabulary(mode)}
    if (root, quality) in by_sound:
        return by_sound[(root, quality)], "exact"
    triad = _SEVENTH_TO_TRIAD.get(quality)
    if triad is not None and (root, triad) in by_sound:
        return by_sound[(root, triad)], "simplified"
    return None, "outside-vocabulary"


def rntxt_to_progressions(
    path: str | Path, piece: str | None = None, stats: Counter[str] | None = None
) -> list[Progression]:
    """Key-relative progressions of one RomanText analysis: one per key region (a modulation
    starts a new progression in the new key), inversions dropped, each chord mapped to the
    mode's vocabulary (a seventh outside it to its triad) or dropped, repeated chords merged,
    regions left with fewer than two chords dropped. ``stats`` (if given) counts "chords"
    (read), "exact", "simplified", the drop reasons and "short-regions"."""
    from music21 import converter

    path = Path(path)
    piece = piece if piece is not None else _piece_id(path)
    stats = stats if stats is not None else Counter()
    score = converter.parse(str(path), format="romanText")
    regions: list[tuple[str, list[str]]] = []
    current_key: tuple[int, str] | None = None
    for rn in score.recurse().getElementsByClass("RomanNumeral"):
        stats["chords"] += 1
        key = rn.key
        mode = str(getattr(key, "mode", None))
        if key is None or mode not in MODES:
            stats["dropped-mode"] += 1
            continue
        key_id = (key.tonic.pitchClass, mode)
        if key_id != current_key:
            regions.append((mode, []))
            current_key = key_id
        roman, what = _normalise(rn, mode, key.tonic.pitchClass)
        if roman is None:
            stats[f"dropped-{what}"] += 1
            continue
        stats[what] += 1
        chords = regions[-1][1]
        if not chords or chords[-1] != roman:
            chords.append(roman)
        else:
            stats["merged-repeats"] += 1
    out = []
    for mode, chords in regions:
        if len(chords) >= 2:
            out.append(Progression(piece, mode, tuple(chords)))
        else:
            stats["short-regions"] += 1
    return out


def from_music21_rntxt(stats: Counter[str] | None = None) -> list[Progression]:
    """Key-relative progressions from all of music21's shipped RomanText analyses (20 Bach
    chorales, 48 Monteverdi madrigals in music21 10.5), see :func:`rntxt_to_progressions`."""
    out: list[Progression] = []
    for path in music21_rntxt_paths():
        out.extend(rntxt_to_progressions(path, stats=stats))
    return out


def _build(out_path: Path) -> None:
    import music21

    stats: Counter[str] = Counter()
    paths = music21_rntxt_paths()
    progressions = from_music21_rntxt(stats)
    dropped = sum(v for k, v in stats.items() if k.startswith("dropped-"))
    reasons = ", ".join(
        f"{k[8:]} {v}" for k, v in sorted(stats.items()) if k.startswith("dropped-")
    )
    groups = Counter(_piece_id(p).split("/")[0] for p in paths)
    header = [
        "Key-relative chord progressions (format: see bassd/models/chord_corpus.py).",
        f"Built by `python -m bassd.models.chord_corpus --build` from music21 "
        f"{music21.__version__}'s corpus: its {len(paths)} RomanText (.rntxt) expert analyses",
        f"({', '.join(f'{n} {g}' for g, n in sorted(groups.items()))}: "
        "music21/corpus/bach/choraleAnalyses/riemenschneider001-020.rntxt,",
        "music21/corpus/monteverdi/madrigal.*.rntxt).",
        "Bach analyses by Andrew Jones et al. (proofread by Dmitri Tymoczko and Hamish Robb),",
        "as credited in each file.",
        "Licence: music21 is BSD-3-Clause (Copyright (c) 2006-2026 Michael Scott Asato Cuthbert);",
        "its corpus/license.txt says: 'The music21 creators assume no copyright or change in",
        "licensing for content distributed in the corpus' and 'Some encodings included in the",
        "corpus may not be used for commercial uses or have other restrictions: please see the",
        "licenses embedded in individual compositions or directories for more details.' The",
        ".rntxt files used here embed no licence of their own.",
        "Conversion: one line per key region; inversions/figured bass dropped; sevenths kept;",
        "chords mapped to dsp/chords.py's vocabulary by root and quality (a seventh outside it",
        "to its triad), others dropped; repeated chords merged; regions < 2 chords dropped.",
        f"Counts: {len({p.piece for p in progressions})} pieces, {len(progressions)} "
        f"progressions, {sum(len(p.chords) for p in progressions)} chords;",
        f"{stats['chords']} analysed chords read, {stats['exact']} mapped exactly, "
        f"{stats['simplified']} seventh->triad, {dropped} dropped ({reasons}),",
        f"{stats['merged-repeats']} repeats merged, {stats['short-regions']} short regions "
        "dropped.",
    ]
    write_corpus(out_path, progressions, header)
    print("\n".join(header))


def main(argv: Sequence[str] | None = None) -> int:
    """``--build PATH``: write the music21-derived corpus to PATH."""
    parser = argparse.ArgumentParser(prog="python -m bassd.models.chord_corpus")
    parser.add_argument("--build", type=Path, required=True, metavar="PATH")
    args = parser.parse_args(argv)
    _build(args.build)
    return 0


if __name__ == "__main__":
    sys.exit(main())
