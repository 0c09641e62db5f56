"""Chord voicing for the accompanist: voice leading between chords, and the bass note.

:func:`voice_lead` places a chord's pitch classes as ``voices`` MIDI notes inside a register,
choosing -- by exhaustive search over the few candidate notes in range -- the voicing that
moves least from the previous chord's notes (total absolute movement in semitones). Without a
previous chord it gives a close position centred in the register. Pure and deterministic:
ties are broken by a fixed order of secondary criteria, never by chance.

Which pitch classes sound (``pcs`` is root, third, fifth[, seventh], as
:meth:`bassd.dsp.chords.Chord.pcs` gives them):

* more voices than pitch classes: the root is doubled first, then the fifth, then the
  third, then the seventh, and round again (root, fifth, ...);
* fewer voices than pitch classes: the fifth is dropped first, then the root (a seventh
  chord in two voices is its third and seventh, the jazz shell), then from the top.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

MAX_VOICES = 8
MAX_SEARCH = 200_000
"""The most candidate combinations :func:`voice_lead` will try (a four-octave range holds
four voices in 5**4 = 625)."""


def _check_range(low: int, high: int) -> None:
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{name} must be an int MIDI note, got {v!r}")
        if not 0 <= v <= 127:
            raise ValueError(f"{name} {v} is not a MIDI note (0..127)")
    if low > high:
        raise ValueError(f"low {low} is above high {high}")


def _check_pcs(pcs: Sequence[int]) -> tuple[int, ...]:
    out = tuple(pcs)
    if len(out) not in (3, 4):
        raise ValueError(f"a chord has 3 or 4 pitch classes (root first), got {len(out)}: {out}")
    for pc in out:
        if isinstance(pc, bool) or not isinstance(pc, int) or not 0 <= pc <= 11:
            raise ValueError(f"pitch classes must be ints 0..11, got {pc!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"pitch classes must be distinct, got {out}")
    return out


def chord_tones(pcs: Sequence[int], voices: int) -> tuple[int, ...]:
    """The pitch classes the ``voices`` notes sound, with doublings or omissions (see module)."""
    p = _check_pcs(pcs)
    if isinstance(voices, bool) or not isinstance(voices, int) or not 1 <= voices <= MAX_VOICES:
        raise ValueError(f"voices must be an int 1..{MAX_VOICES}, got {voices!r}")
    if voices >= len(p):
        doubling = [p[0], p[2], p[1], *p[3:]]  # root, fifth, third, seventh
        extra = [doubling[i % len(doubling)] for i in range(voices - len(p))]
        return (*p, *extra)
    dropping = [p[2], p[0], *reversed([x for x in p if x not in (p[0], p[2])])]
    drop = set(dropping[: len(p) - voices])
    return tuple(x for x in p if x not in drop)


def _movement(notes: Sequence[int], previous: Sequence[int]) -> int:
    if len(notes) == len(previous):
        # in one dimension the sorted matching is the least total |movement| of any matching
        return sum(abs(a - b) for a, b in zip(sorted(notes), sorted(previous), strict=True))
    return sum(min(abs(n - p) for p in previous) for n in notes)


def voice_lead(
    pcs: Sequence[int],
    previous: Sequence[int] | None,
    *,
    low: int = 48,
    high: int = 72,
    voices: int = 4,
) -> tuple[int, ...]:
    """``voices`` sorted, distinct MIDI notes in [low, high] sounding the chord ``pcs``.

    With ``previous`` (the last chord's notes), the voicing of least total movement from it;
    ties go to the narrower voicing, then the one whose mean is nearer the register's centre,
    then the lowest notes. With ``previous`` None: the narrowest (close) voicing, centred.
    ValueError when the register cannot hold the notes (each doubled pitch class needs as
    many octaves of it in range).
    """
    _check_range(low, high)
    tones = chord_tones(pcs, voices)
    if previous is not None:
        prev = tuple(previous)
        if not prev:
            raise ValueError("previous must hold at least one note (or be None)")
        for n in prev:
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 127:
                raise ValueError(f"previous notes must be MIDI notes 0..127, got {n!r}")
    candidates = {pc: [n for n in range(low, high + 1) if n % 12 == pc] for pc in set(tones)}
    for pc, in_range in candidates.items():
        need = tones.count(pc)
        if len(in_range) < need:
            raise ValueError(
                f"range {low}..{high} has {len(in_range)} note(s) of pitch class {pc}, "
                f"the voicing needs {need}"
            )
    size = 1
    for pc in tones:
        size *= len(candidates[pc])
    if size > MAX_SEARCH:
        raise ValueError(
            f"range {low}..{high} with {voices} voices is {size} candidate voicings "
            f"(at most {MAX_SEARCH}): narrow the range"
        )
    centre2 = low + high  # twice the centre: keeps the tie-breaks in integers
    best: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    seen: set[tuple[int, ...]] = set()
    for combo in itertools.product(*(candidates[pc] for pc in tones)):
        notes = tuple(sorted(combo))
        if notes in seen or len(set(notes)) != len(notes):
            continue
        seen.add(notes)
        spread = notes[-1] - notes[0]
        off_centre = abs(2 * sum(notes) - centre2 * len(notes))  # 2n * |mean - centre|
        moved = _movement(notes, prev) if previous is not None else 0
        key = (moved, spread, off_centre, *notes)
        if best is None or key < best[0]:
            best = (key, notes)
    assert best is not None  # every pc has enough candidates, so some voicing exists
    return best[1]


def bass_note(root_pc: int, *, low: int = 36, high: int = 47) -> int:
    """The lowest MIDI note of pitch class ``root_pc`` in [low, high]; ValueError if none."""
    _check_range(low, high)
    if isinstance(root_pc, bool) or not isinstance(root_pc, int) or not 0 <= root_pc <= 11:
        raise ValueError(f"root_pc must be an int 0..11, got {root_pc!r}")
    first = low + (root_pc - low) % 12
    if first > high:
        raise ValueError(f"range {low}..{high} has no note of pitch class {root_pc}")
    return first
