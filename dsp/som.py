"""A self-organising map over region features whose nodes carry sound states.

**Why MiniSom.** MiniSom is one small, well-kept, pure-numpy file (no compiled code, no
framework) with the standard online Kohonen update, Gaussian neighbourhoods, decay
schedules, a seeded generator, and the two quality measures built in
(``quantization_error``, ``topographic_error``). We drive its ``update``/``winner`` calls
ourselves, one global schedule over all iterations, so that the errors can be recorded at
checkpoints without restarting the decay (``MiniSom.train`` restarts it on every call).
Schedule: the learning rate decays linearly to zero and sigma linearly to one, so the
map ends with a neighbourhood of about one node; the weights start as MiniSom's seeded
random unit vectors, so a seed fixes the whole map.

**What we add.**

(a) *Standardisation*: features are centred and scaled per column (a constant column
keeps scale 1) before training; the map's weights live in these units and every query
(:meth:`SomMap.bmu`, the errors) standardises with the training mean and std.

(b) *Node states*: each node holds a payload vector (an amplitude per palette partial),
the neighbourhood-weighted mean of the training rows' payloads,
``state[n] = sum_r h(n, bmu(r)) payload[r] / sum_r h(n, bmu(r))`` with ``h`` the map's
final Gaussian neighbourhood (``exp(-d^2 / 2 sigma^2)``, ``d`` the grid distance, sigma
the final training sigma). Every node gets a state, hit or not, and neighbouring states
vary smoothly. (Each node's weights are rescaled so its nearest hit node weighs 1; this
cancels in the ratio and keeps far nodes of large maps from underflowing.)

(c) *Labels and hits*: ``hits[n]`` counts the training rows whose BMU is ``n``;
``labels[n]`` is the most frequent source label among them (the smallest on a tie), or
-1 for a node without hits.

Live, :meth:`SomMap.state_at` interpolates the four node states around a point of the
unit square bilinearly (x along columns, y along rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from minisom import MiniSom

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_DEFAULT_ITERATIONS: Final[int] = 50_000
_ARRAY_KEYS: Final = ("weights", "mean", "std", "states", "labels", "hits", "sigma", "history")


@dataclass(eq=False)
class SomMap:
    """A trained map: weights in standardised units and a state, label and hit count per
    node. ``sigma`` is the final neighbourhood width the states were spread with;
    ``history`` holds ``(iteration, qe, te)`` at the training checkpoints."""

    rows: int
    cols: int
    weights: FloatArray  # (rows, cols, D) standardised units
    mean: FloatArray  # (D,)
    std: FloatArray  # (D,)
    states: FloatArray  # (rows, cols, P) >= 0
    labels: IntArray  # (rows, cols) -1 where no hits
    hits: IntArray  # (rows, cols)
    sigma: float
    history: list[tuple[int, float, float]] = field(default_factory=list)

    def _standardise(self, features: npt.ArrayLike) -> FloatArray:
        x = _as_features(features)  # (n, D)
        if x.shape[1] != self.weights.shape[2]:
            raise ValueError(f"expected {self.weights.shape[2]} features per row, got {x.shape[1]}")
        return (x - self.mean) / self.std

    def bmu(self, features: npt.ArrayLike) -> IntArray:
        """The best-matching node ``(row, col)`` of each feature row: (n, 2)."""
        flat = _best_two(self._standardise(features), self.weights)[:, 0]  # (n,)
        return np.stack(np.unravel_index(flat, (self.rows, self.cols)), axis=1).astype(np.int64)

    def quantization_error(self, features: npt.ArrayLike) -> float:
        """Mean distance (standardised units) of each row to its BMU's weights."""
        z = self._standardise(features)  # (n, D)
        flat = _best_two(z, self.weights)[:, 0]
        w = self.weights.reshape(-1, self.weights.shape[2])  # (rows*cols, D)
        return float(np.linalg.norm(z - w[flat], axis=1).mean())

    def topographic_error(self, features: npt.ArrayLike) -> float:
        """Fraction of rows whose two best nodes are not grid neighbours (diagonals count
        as neighbours, as in MiniSom)."""
        best = _best_two(self._standardise(features), self.weights)  # (n, 2)
        r, c = np.unravel_index(best, (self.rows, self.cols))
        return float((np.hypot(r[:, 0] - r[:, 1], c[:, 0] - c[:, 1]) > 1.42).mean())

    def state_at(self, x: float, y: float) -> FloatArray:
        """Bilinear interpolation (P,) of the node states at ``x`` (columns) and ``y``
        (rows), 0..1 each (clipped) spanning the node centres."""
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ValueError(f"x and y must be finite, got ({x}, {y})")
        u = float(np.clip(x, 0.0, 1.0)) * (self.cols - 1)
        v = float(np.clip(y, 0.0, 1.0)) * (self.rows - 1)
        c0, r0 = min(int(u), max(self.cols - 2, 0)), min(int(v), max(self.rows - 2, 0))
        c1, r1 = min(c0 + 1, self.cols - 1), min(r0 + 1, self.rows - 1)
        fu, fv = u - c0, v - r0
        s = self.states
        top = (1.0 - fu) * s[r0, c0] + fu * s[r0, c1]
        bottom = (1.0 - fu) * s[r1, c0] + fu * s[r1, c1]
        return np.asarray((1.0 - fv) * top + fv * bottom, dtype=np.float64)

    def u_matrix(self) -> FloatArray:
        """Mean distance (rows, cols) of each node's weights to its 4-neighbours'."""
        total = np.zeros((self.rows, self.cols))
        count = np.zeros((self.rows, self.cols))
        dv = np.linalg.norm(np.diff(self.weights, axis=0), axis=2)  # (rows-1, cols)
        dh = np.linalg.norm(np.diff(self.weights, axis=1), axis=2)  # (rows, cols-1)
        total[:-1] += dv
        total[1:] += dv
        count[:-1] += 1
        count[1:] += 1
        total[:, :-1] += dh
        total[:, 1:] += dh
        count[:, :-1] += 1
        count[:, 1:] += 1
        return total / np.maximum(count, 1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The map as named arrays (for ``np.savez``); :meth:`from_arrays` inverts it."""
        return {
            "weights": self.weights.copy(),
            "mean": self.mean.copy(),
            "std": self.std.copy(),
            "states": self.states.copy(),
            "labels": self.labels.copy(),
            "hits": self.hits.copy(),
            "sigma": np.array(self.sigma, dtype=np.float64),
            "history": np.array(self.history, dtype=np.float64).reshape(-1, 3),
        }

    @classmethod
    def from_arrays(cls, d: Mapping[str, npt.ArrayLike]) -> SomMap:
        """Rebuild a map from :meth:`to_arrays`' dict, checking every shape."""
        missing = [k for k in _ARRAY_KEYS if k not in d]
        if missing:
            raise ValueError(f"SOM arrays lack {missing}")
        weights = np.array(d["weights"], dtype=np.float64)
        if weights.ndim != 3 or weights.shape[0] * weights.shape[1] < 2:
            raise ValueError(
                f"weights must be (rows, cols, D) with at least 2 nodes, got {weights.shape}"
            )
        rows, cols, dim = weights.shape
        mean = np.array(d["mean"], dtype=np.float64)
        std = np.array(d["std"], dtype=np.float64)
        states = np.array(d["states"], dtype=np.float64)
        labels_raw = np.asarray(d["labels"])
        hits_raw = np.asarray(d["hits"])
        sigma = np.asarray(d["sigma"], dtype=np.float64)
        history = np.array(d["history"], dtype=np.float64)
        _check_shape("mean", mean, (dim,))
        _check_shape("std", std, (dim,))
        if states.ndim != 3 or states.shape[:2] != (rows, cols):
            raise ValueError(f"states must be ({rows}, {cols}, P), got {states.shape}")
        _check_shape("labels", labels_raw, (rows, cols))
        _check_shape("hits", hits_raw, (rows, cols))
        _check_shape("sigma", sigma, ())
        if history.ndim != 2 or history.shape[1] != 3:
            raise ValueError(f"history must be (k, 3), got {history.shape}")
        for name, a in (("labels", labels_raw), ("hits", hits_raw)):
            if not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"{name} must be integers, got dtype {a.dtype}")
        for name, f in (("weights", weights), ("mean", mean), ("states", states)):
            if not np.all(np.isfinite(f)):
                raise ValueError(f"{name} must be finite")
        if not np.all(np.isfinite(std)) or np.any(std <= 0):
            raise ValueError("std must be finite and > 0")
        if np.any(states < 0):
            raise ValueError("states must be >= 0")
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be finite and > 0, got {sigma}")
        if np.any(hits_raw < 0) or np.any(labels_raw < -1):
            raise ValueError("hits must be >= 0 and labels >= -1")
        return cls(
            rows=rows,
            cols=cols,
            weights=weights,
            mean=mean,
            std=std,
            states=states,
            labels=labels_raw.astype(np.int64),
            hits=hits_raw.astype(np.int64),
            sigma=float(sigma),
            history=[(int(i), float(q), float(t)) for i, q, t in history],
        )


def train_map(
    features: npt.ArrayLike,
    payload: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    rows: int = 8,
    cols: int = 8,
    iterations: int | None = None,
    sigma: float | None = None,
    learning_rate: float = 0.5,
    seed: int = 0,
    checkpoints: int = 5,
) -> SomMap:
    """Train a ``rows`` x ``cols`` map on ``features`` (n, D) carrying ``payload`` (n, P)
    (>= 0) and integer source ``labels`` (n,) >= 0; deterministic for a seed.

    ``iterations`` defaults to ``max(2000, 20 n)`` capped at ``MAX_DEFAULT_ITERATIONS``,
    ``sigma`` (the initial neighbourhood width) to ``max(rows, cols) / 2``. The rows are
    visited in a seeded random order, cycling; QE and TE are recorded at ``checkpoints``
    evenly spaced iterations from 0 (untrained) to the end."""
    x = _as_features(features)  # (n, D)
    n, dim = x.shape
    if n < 2:
        raise ValueError(f"need at least 2 feature rows to train a map, got {n}")
    pay = np.asarray(payload, dtype=np.float64)
    if pay.ndim != 2 or pay.shape[0] != n:
        raise ValueError(f"payload must be (n, P) with n = {n} rows, got {pay.shape}")
    if not np.all(np.isfinite(pay)) or np.any(pay < 0):
        raise ValueError("payload must be finite and >= 0")
    lab = np.asarray(labels)
    if lab.shape != (n,):
        raise ValueError(f"labels must be (n,) with n = {n}, got {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {lab.dtype}")
    lab = lab.astype(np.int64)
    if np.any(lab < 0):
        raise ValueError("labels must be >= 0")
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise ValueError(f"need a map of at least 2 nodes, got {rows} x {cols}")
    n_iter = min(max(2000, 20 * n), MAX_DEFAULT_ITERATIONS) if iterations is None else iterations
    if n_iter < 1:
        raise ValueError(f"need iterations >= 1, got {n_iter}")
    sigma0 = max(rows, cols) / 2.0 if sigma is None else float(sigma)
    if not sigma0 > 0 or not learning_rate > 0:
        raise ValueError(f"need sigma > 0 and learning_rate > 0, got {sigma0}, {learning_rate}")
    if checkpoints < 2:
        raise ValueError(f"need checkpoints >= 2 (before and after training), got {checkpoints}")

    mean = x.mean(axis=0)  # (D,)
    std = x.std(axis=0)
    std = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)
    z = (x - mean) / std  # (n, D)

    som = MiniSom(
        rows,
        cols,
        dim,
        sigma=sigma0,
        learning_rate=learning_rate,
        decay_function="linear_decay_to_zero",
        sigma_decay_function="linear_decay_to_one",
        neighborhood_function="gaussian",
        random_seed=seed,
    )
    order = np.random.default_rng(seed).permutation(n_iter) % n  # (n_iter,) row per step
    marks = np.unique(np.linspace(0, n_iter, checkpoints).round().astype(np.int64))
    history: list[tuple[int, float, float]] = []
    t = 0
    for mark in marks:
        while t < mark:
            row = z[order[t]]
            som.update(row, som.winner(row), t, n_iter)
            t += 1
        history.append(
            (int(mark), float(som.quantization_error(z)), float(som.topographic_error(z)))
        )

    weights = np.array(som.get_weights(), dtype=np.float64)  # (rows, cols, D)
    sigma_final = 1.0  # linear_decay_to_one's sigma at the end of the schedule
    flat = _best_two(z, weights)[:, 0]  # (n,)
    n_nodes = rows * cols
    hits = np.bincount(flat, minlength=n_nodes)  # (nodes,)
    states = _spread_states(flat, pay, hits, rows, cols, sigma_final)  # (nodes, P)
    node_labels = np.full(n_nodes, -1, dtype=np.int64)
    for node in np.flatnonzero(hits):
        node_labels[node] = int(np.argmax(np.bincount(lab[flat == node])))
    return SomMap(
        rows=rows,
        cols=cols,
        weights=weights,
        mean=mean,
        std=std,
        states=states.reshape(rows, cols, -1),
        labels=node_labels.reshape(rows, cols),
        hits=hits.reshape(rows, cols).astype(np.int64),
        sigma=float(sigma_final),
        history=history,
    )


def _spread_states(
    flat: IntArray, pay: FloatArray, hits: IntArray, rows: int, cols: int, sigma: float
) -> FloatArray:
    """Neighbourhood-weighted mean payload (nodes, P) of the rows by their BMUs."""
    n_nodes = rows * cols
    sums = np.zeros((n_nodes, pay.shape[1]))  # (nodes, P) payload summed per BMU
    np.add.at(sums, flat, pay)
    r, c = np.divmod(np.arange(n_nodes), cols)
    d2 = (r[:, None] - r[None, :]) ** 2 + (c[:, None] - c[None, :]) ** 2  # (nodes, nodes)
    d2 = d2.astype(np.float64)
    hit = hits > 0
    nearest = np.min(np.where(hit[None, :], d2, np.inf), axis=1, keepdims=True)  # (nodes, 1)
    h = np.exp(-(d2 - nearest) / (2.0 * sigma * sigma)) * hit[None, :]  # (nodes, nodes)
    return np.asarray((h @ sums) / (h @ hits.astype(np.float64))[:, None], dtype=np.float64)


def _as_features(features: npt.ArrayLike) -> FloatArray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"features must be (n, D), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("features must be finite (no NaN or inf)")
    return x


def _best_two(z: FloatArray, weights: FloatArray) -> IntArray:
    """Flat indices (n, 2) of each row's best and second-best node."""
    w = weights.reshape(-1, weights.shape[2])  # (nodes, D)
    d2 = (z * z).sum(axis=1)[:, None] - 2.0 * z @ w.T + (w * w).sum(axis=1)[None, :]
    return np.argsort(d2, axis=1, kind="stable")[:, :2].astype(np.int64)


def _check_shape(name: str, a: np.ndarray, shape: tuple[int, ...]) -> None:
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
