"""Fusing the chord predictor's guess with the Ear's: a weighted product of experts.

Both inputs are distributions over the same chord list (one mode's
:func:`bassd.dsp.chords.vocabulary`, in its order). :func:`fuse` combines them log-linearly::

    p(c) ∝ max(model(c), floor) ** w  *  max(ear(c), floor) ** (1 - w)

so ``w = 1`` is the model alone, ``w = 0`` the Ear alone (both returned exactly, renormalised),
and the ``floor`` keeps one expert's zero from vetoing a chord the other hears. :func:`decide`
picks the chord. Pure numpy, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bassd.dsp.chords import Chord

__all__ = ["DEFAULT_WEIGHT", "FLOOR", "decide", "fuse"]

FLOOR = 1e-4
"""Smallest probability either expert is taken to give (before renormalising)."""

DEFAULT_WEIGHT = 0.8
"""Model weight picked by ``bassd jam eval``'s sweep on the shipped checkpoint (the best
top-1 on the validation pieces; see bassd/models/README.md)."""


def _check(p: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d distribution, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or not arr.sum() > 0:
        raise ValueError(f"{name} must be finite, non-negative and not all zero")
    out: np.ndarray = arr / arr.sum()
    return out


def fuse(model: np.ndarray, ear: np.ndarray, weight: float, floor: float = FLOOR) -> np.ndarray:
    """The weighted product of the two distributions, summing to 1 (see the module
    docstring); ValueError for a weight outside [0, 1], a non-positive floor or
    distributions of different lengths."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"fusion weight must be in [0, 1], not {weight}")
    if not floor > 0:
        raise ValueError(f"floor must be positive, not {floor}")
    m = _check(model, "model")
    e = _check(ear, "ear")
    if m.shape != e.shape:
        raise ValueError(f"model and ear distributions differ in length: {m.size} vs {e.size}")
    if weight == 1.0:
        return m
    if weight == 0.0:
        return e
    logp = weight * np.log(np.maximum(m, floor)) + (1.0 - weight) * np.log(np.maximum(e, floor))
    logp -= logp.max()
    p = np.exp(logp)
    out: np.ndarray = p / p.sum()
    return out


def decide(dist: np.ndarray, chords: Sequence[Chord]) -> tuple[Chord, float]:
    """The most probable chord and its probability (ties: the earlier chord)."""
    p = np.asarray(dist, dtype=float)
    if p.ndim != 1 or p.size != len(chords) or p.size == 0:
        raise ValueError(f"distribution of length {p.size} for {len(chords)} chords")
    i = int(np.argmax(p))
    return chords[i], float(p[i])
