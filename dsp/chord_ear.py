"""The Ear: a probability distribution over a key's chord vocabulary from the notes just heard.

Model, plainly. The notes sounding in a window ``(t0, t1)`` (``(start, end, midi_pitch
[, velocity])`` tuples, as :mod:`bassd.dsp.key_finding` takes them) become two key-relative
pitch-class profiles, each summing to 1:

* salience ``s[pc]``: each note weighs its overlap with the window times
  ``(velocity / 127) ** velocity_exponent`` (1 when no velocity is given);
* bass ``b[pc]``: the same weights times ``exp(-(pitch - lowest) / bass_width)``, where
  ``lowest`` is the lowest pitch in the window -- so the lowest notes dominate it.

Each chord ``c`` of :func:`bassd.dsp.chords.vocabulary` gets a fit (all weights in
:class:`EarConfig`)::

    fit(c) = tone_weight    * sum(s[p] for p in c)          # chord tones present
           - nct_weight     * sum(s[p] for p not in c)      # non-chord tones
           + root_weight    * s[root(c)]                    # the root heard
           + bass_weight    * b[root(c)]                    # the root in the bass
           - missing_weight * mean over p in c of f(p) * (1 - min(1, s[p] / presence))

with ``f`` = ``fifth_missing_factor`` for the fifth of a seventh chord (often left out) and
1 for every other tone: a chord tone with at least ``presence`` of the salience counts as
fully there. The distribution is ``p(c) ∝ prior(c) * exp(fit(c) / temperature)``: a softmax of
``log prior + fit / T``; an empty window gives the prior itself.

The prior (:meth:`Ear.prior`) is ``function_prior[function] * kind_prior[kind]`` times
``primary_factor`` for chords not on the tonic, subdominant or dominant root, times
``seventh_prior`` for seventh chords (``dominant_seventh_prior`` for dominant sevenths),
with ``overrides`` replacing any chord's weight by Roman numeral; then normalised. So
diatonic tonic/subdominant/dominant chords start likelier than secondary and borrowed ones.

The bass rule, pinned by the tests: with the same pitch classes, the chord whose root is in
the bass wins -- C-E-G-A over A is vi7 (Am7), over C it is I (C6, the A a non-chord tone),
because ``bass_weight`` outweighs one non-chord tone's share of the salience.

Everything is relative to the tonic, so the distribution over Roman numerals is the same in
every key (transposition invariance). Pure numpy, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import numpy as np

from bassd.dsp.chords import QUALITIES, Chord, vocabulary

Note = Sequence[float]
"""(start, end, midi_pitch) or (start, end, midi_pitch, velocity)."""


class KeyLike(Protocol):
    """Anything with a tonic pitch class and a mode, e.g. a ``KeyEstimate``."""

    @property
    def tonic(self) -> int: ...

    @property
    def mode(self) -> str: ...


def _default_function_prior() -> dict[str, float]:
    return {"tonic": 1.0, "subdominant": 0.8, "dominant": 0.9}


def _default_kind_prior() -> dict[str, float]:
    return {"diatonic": 1.0, "secondary": 0.25, "borrowed": 0.2, "chromatic": 0.1}


@dataclass(frozen=True)
class EarConfig:
    """The Ear's weights; see the module docstring for the model they enter."""

    temperature: float = 0.2
    tone_weight: float = 1.0
    nct_weight: float = 1.0
    root_weight: float = 0.5
    bass_weight: float = 1.2
    missing_weight: float = 1.0
    fifth_missing_factor: float = 0.5
    presence: float = 0.1
    bass_width: float = 3.0
    """Semitones above the lowest note over which the bass weight falls by 1/e."""
    velocity_exponent: float = 1.0
    function_prior: Mapping[str, float] = field(default_factory=_default_function_prior)
    kind_prior: Mapping[str, float] = field(default_factory=_default_kind_prior)
    primary_factor: float = 0.7
    seventh_prior: float = 0.5
    dominant_seventh_prior: float = 0.8
    overrides: Mapping[str, float] = field(default_factory=dict)
    """Prior weight by Roman numeral, replacing the computed one (before normalising)."""

    def __post_init__(self) -> None:
        if not self.temperature > 0 or not self.presence > 0 or not self.bass_width > 0:
            raise ValueError("temperature, presence and bass_width must be positive")


@cache
def _matrices(mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the vocabulary (n chords): membership, root one-hot, and the missing-tone weights
    split in two -- 1/len for each tone but a seventh chord's fifth, and 1/len for that fifth
    alone (scaled by ``fifth_missing_factor`` in :meth:`Ear.fit`); each n x 12."""
    chords = vocabulary(mode)
    n = len(chords)
    member = np.zeros((n, 12))
    root = np.zeros((n, 12))
    other = np.zeros((n, 12))
    fifth = np.zeros((n, 12))
    for i, c in enumerate(chords):
        k = len(QUALITIES[c.quality])
        for j, pc in enumerate(c.pcs):
            member[i, pc] = 1.0
            (fifth if j == 2 and k == 4 else other)[i, pc] = 1.0 / k
        root[i, c.root] = 1.0
    for m in (member, root, other, fifth):
        m.setflags(write=False)
    return member, root, other, fifth


def profiles(
    notes: Iterable[Note], tonic: int, window: tuple[float, float], config: EarConfig
) -> tuple[np.ndarray, np.ndarray] | None:
    """Key-relative (salience, bass) profiles of the notes in ``window``, each summing to 1;
    None when nothing sounds in the window. Entry ``pc`` is pitch class ``tonic + pc``."""
    t0, t1 = float(window[0]), float(window[1])
    if not t1 > t0:
        raise ValueError(f"window must have t1 > t0, not {window!r}")
    pitches: list[int] = []
    weights: list[float] = []
    for note in notes:
        start, end, pitch = float(note[0]), float(note[1]), int(note[2])
        if end < start:
            raise ValueError(f"note ends before it starts: {tuple(note)!r}")
        overlap = min(end, t1) - max(start, t0)
        if overlap <= 0:
            continue
        w = overlap
        if len(note) > 3:
            w *= (max(0.0, float(note[3])) / 127.0) ** config.velocity_exponent
        if w > 0:
            pitches.append(pitch)
            weights.append(w)
    if not weights:
        return None
    p = np.asarray(pitches)
    w_arr = np.asarray(weights)
    rel = (p - tonic) % 12
    sal = np.bincount(rel, weights=w_arr, minlength=12)
    bass = np.bincount(
        rel, weights=w_arr * np.exp(-(p - p.min()) / config.bass_width), minlength=12
    )
    return sal / sal.sum(), bass / bass.sum()


class Ear:
    """Chord distributions from heard notes, by functional fit (see the module docstring)."""

    def __init__(self, config: EarConfig | None = None) -> None:
        self.config = config or EarConfig()

    def chords(self, mode: str) -> tuple[Chord, ...]:
        """The vocabulary the distributions are over, in their order."""
        return vocabulary(mode)

    def prior(self, mode: str) -> np.ndarray:
        """The prior over ``vocabulary(mode)``, summing to 1."""
        cfg = self.config
        w = []
        for c in vocabulary(mode):
            if c.roman in cfg.overrides:
                w.append(float(cfg.overrides[c.roman]))
                continue
            x = cfg.function_prior.get(c.function, 1.0) * cfg.kind_prior.get(c.kind, 1.0)
            if c.root not in (0, 5, 7):
                x *= cfg.primary_factor
            if c.is_seventh:
                x *= cfg.dominant_seventh_prior if c.quality == "dom7" else cfg.seventh_prior
            w.append(x)
        arr = np.asarray(w, dtype=float)
        if np.any(arr < 0) or not arr.sum() > 0:
            raise ValueError("prior weights must be non-negative and not all zero")
        out: np.ndarray = arr / arr.sum()
        return out

    def fit(self, salience: np.ndarray, bass: np.ndarray, mode: str) -> np.ndarray:
        """The fit of every chord of ``vocabulary(mode)`` to key-relative profiles."""
        cfg = self.config
        member, root, other, fifth = _matrices(mode)
        tones = member @ salience
        lack = 1.0 - np.minimum(1.0, salience / cfg.presence)
        missing = other @ lack + cfg.fifth_missing_factor * (fifth @ lack)
        out: np.ndarray = (
            cfg.tone_weight * tones
            - cfg.nct_weight * (1.0 - tones)
            + cfg.root_weight * (root @ salience)
            + cfg.bass_weight * (root @ bass)
            - cfg.missing_weight * missing
        )
        return out

    def distribution(
        self, notes: Iterable[Note], key: KeyLike, *, window: tuple[float, float]
    ) -> np.ndarray:
        """Probabilities over ``vocabulary(key.mode)`` in its order, summing to 1."""
        prior = self.prior(key.mode)
        prof = profiles(notes, key.tonic % 12, window, self.config)
        if prof is None:
            return prior
        with np.errstate(divide="ignore"):
            logits = np.log(prior) + self.fit(prof[0], prof[1], key.mode) / self.config.temperature
        logits -= logits.max()
        p = np.exp(logits)
        out: np.ndarray = p / p.sum()
        return out

    def listen(
        self, notes: Iterable[Note], key: KeyLike, *, window: tuple[float, float]
    ) -> dict[str, float]:
        """``{roman: probability}`` in vocabulary order, summing to 1."""
        p = self.distribution(notes, key, window=window)
        return {c.roman: float(x) for c, x in zip(vocabulary(key.mode), p, strict=True)}

    def ranked(
        self, notes: Iterable[Note], key: KeyLike, *, window: tuple[float, float]
    ) -> list[tuple[Chord, float]]:
        """(chord, probability), most probable first."""
        p = self.distribution(notes, key, window=window)
        pairs = [(c, float(x)) for c, x in zip(vocabulary(key.mode), p, strict=True)]
        return sorted(pairs, key=lambda cp: -cp[1])


def listen(
    notes: Iterable[Note],
    key: KeyLike,
    *,
    window: tuple[float, float],
    config: EarConfig | None = None,
) -> dict[str, float]:
    """``Ear(config).listen(notes, key, window=window)``."""
    return Ear(config).listen(notes, key, window=window)


def entropy_bits(p: Mapping[str, float] | np.ndarray) -> float:
    """Shannon entropy of a distribution in bits (how unsure the Ear is)."""
    vals = np.asarray(list(p.values()) if isinstance(p, Mapping) else p, dtype=float)
    vals = vals[vals > 0]
    return float(-(vals * np.log2(vals)).sum()) if vals.size else math.nan
