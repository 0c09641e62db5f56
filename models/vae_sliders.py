"""Sliders: the principal directions of a VAE's latent space, named by what they do.

PCA of the training patches' latent means (``mu``) gives directions ordered by the
variance they explain; the ones explaining at least ``min_variance`` (2 %, the
Small DataSet Audio system's threshold) become sliders, at least ``min_sliders`` and
at most ``max_sliders``. A slider at ``v`` (0..1, 0.5 = the mean) sits at
``(2v - 1) * span`` standard deviations along its direction.

**Names are measured, never guessed.** Each direction is rendered at ``steps``
points from -span to +span sigma, about ``bases`` starting points (the mean and
training latents), and every render is described (``dsp/audio_descriptors.py``:
brightness, warmth, roughness, loudness, density, pitch height). A slider is named
after the descriptor whose Spearman correlation with the slider value is strongest
(each descriptor names one slider at most, strongest pairs first), provided
|rho| >= ``min_rho`` and the descriptor changes audibly over the range
(:data:`MIN_CHANGE`); the direction is flipped where rho is negative, so moving the
slider up raises its descriptor. A direction no descriptor follows is called
``texture N``. The correlations are kept, and ``bassd vae sliders NAME`` prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bassd.dsp.audio_descriptors import DESCRIPTORS, describe

FloatArray = npt.NDArray[np.float64]

SPAN_SIGMAS = 2.0  # a slider's end is this many standard deviations from the mean
DISPLAY = {"pitch_height": "pitch"}  # descriptor -> slider name where they differ
#: the least change over a slider's range that names it (a direction may follow a
#: descriptor perfectly and still be inaudible): brightness relative to its mean,
#: loudness in LU, pitch height in octaves, the shares absolute
MIN_CHANGE = {"brightness": 0.05, "warmth": 0.02, "roughness": 0.02, "loudness": 1.0,
              "density": 0.02, "pitch_height": 0.05}  # fmt: skip


@dataclass(frozen=True)
class Slider:
    index: int
    name: str
    descriptor: str  # "" when no descriptor follows the direction
    rho: float  # Spearman correlation of slider value and descriptor (after the flip)
    explained: float  # share of the latent variance along this direction
    sigma: float  # standard deviation of the training latents along it
    correlations: dict[str, float] = field(default_factory=dict)  # every descriptor's rho


@dataclass(frozen=True)
class SliderSet:
    """The latent mean, the slider directions (unit, flipped so the name rises) and the
    sliders' figures."""

    mean: FloatArray  # (latent,)
    directions: FloatArray  # (k, latent)
    sliders: tuple[Slider, ...]
    span: float = SPAN_SIGMAS

    def __len__(self) -> int:
        return len(self.sliders)

    def latent(self, values: Sequence[float]) -> FloatArray:
        """The latent point (latent,) of slider values (k,), each 0..1 (0.5 = mean)."""
        v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)  # (k,)
        if v.shape != (len(self.sliders),):
            raise ValueError(f"expected {len(self.sliders)} slider values, got {v.shape}")
        sig = np.array([s.sigma for s in self.sliders])  # (k,)
        offset = (2.0 * v - 1.0) * self.span * sig  # (k,)
        return np.asarray(self.mean + offset @ self.directions, dtype=np.float64)

    def by_name(self, name: str) -> Slider:
        for s in self.sliders:
            if s.name == name:
                return s
        raise KeyError(f"no slider {name!r} (sliders: {', '.join(s.name for s in self.sliders)})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "bassd-vae-sliders",
            "version": 1,
            "span": self.span,
            "mean": self.mean.tolist(),
            "directions": self.directions.tolist(),
            "sliders": [asdict(s) for s in self.sliders],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SliderSet:
        if d.get("format") != "bassd-vae-sliders" or d.get("version") != 1:
            raise ValueError("not a bassd slider file (format/version)")
        try:
            mean = np.asarray(d["mean"], dtype=np.float64)
            dirs = np.asarray(d["directions"], dtype=np.float64)
            sliders = tuple(Slider(**s) for s in d["sliders"])
            span = float(d["span"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"slider file: {exc}") from None
        if dirs.ndim != 2 or dirs.shape != (len(sliders), mean.shape[0]):
            raise ValueError(f"slider file: directions {dirs.shape} do not fit the sliders")
        return cls(mean, dirs, sliders, span)


def principal_directions(mu: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(mean (latent,), unit directions (latent, latent) by decreasing variance, the
    variance share of each (latent,)) of latent means ``mu`` (N, latent)."""
    x = np.asarray(mu, dtype=np.float64)  # (N, latent)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need at least 2 latent vectors (N, latent), got {x.shape}")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)  # vt (r, latent)
    var = s**2
    share = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    return mean, vt, share


def spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Spearman's rho (ranks with ties averaged); 0 when either is constant."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def ranks(v: FloatArray) -> FloatArray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        for val in np.unique(v):  # average ties
            tie = v == val
            r[tie] = r[tie].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if np.std(ra) == 0 or np.std(rb) == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


Render = Callable[[FloatArray], tuple[FloatArray, int]]  # latent (latent,) -> (audio, rate)


def fit_sliders(
    mu: npt.ArrayLike,
    render: Render,
    *,
    min_variance: float = 0.02,
    min_sliders: int = 4,
    max_sliders: int = 8,
    steps: int = 7,
    bases: int = 3,
    min_rho: float = 0.8,
    seed: int = 0,
) -> SliderSet:
    """Sliders of a model whose training latents are ``mu``; ``render(z)`` gives a short
    render of latent ``z`` (see the module)."""
    x = np.asarray(mu, dtype=np.float64)
    mean, vt, share = principal_directions(x)
    k = int(np.sum(share >= min_variance))
    k = max(min(k, max_sliders), min(min_sliders, vt.shape[0]))
    proj = (x - mean) @ vt[:k].T  # (N, k)
    sigma = proj.std(axis=0)  # (k,)
    rng = np.random.default_rng(seed)
    starts = [mean] + [x[i] for i in rng.choice(len(x), size=min(bases - 1, len(x)),
                                                  replace=False)]  # fmt: skip
    values = np.linspace(-1.0, 1.0, steps)  # (steps,)
    rho = np.zeros((k, len(DESCRIPTORS)))  # (k, descriptors) mean over the starts
    change = np.zeros((k, len(DESCRIPTORS)))  # (k, descriptors) mean range over the sweep
    for j in range(k):
        for start in starts:
            # the start's own coordinate along j is replaced by the sweep
            base = start - ((start - mean) @ vt[j]) * vt[j]
            rows = []
            for v in values:
                audio, sr = render(base + v * SPAN_SIGMAS * sigma[j] * vt[j])
                d = describe(audio, sr)
                rows.append([d[name] for name in DESCRIPTORS])
            table = np.array(rows)  # (steps, descriptors)
            rho[j] += [spearman(values, table[:, i]) for i in range(len(DESCRIPTORS))]
            span = table.max(axis=0) - table.min(axis=0)  # (descriptors,)
            for i, name in enumerate(DESCRIPTORS):
                scale = abs(float(table[:, i].mean())) if name == "brightness" else 1.0
                change[j, i] += span[i] / max(scale, 1e-9)
        rho[j] /= len(starts)
        change[j] /= len(starts)
    # strongest (direction, descriptor) pairs first, each used once
    names: dict[int, tuple[str, float]] = {}
    used: set[int] = set()
    for flat in np.argsort(-np.abs(rho), axis=None):
        j, i = divmod(int(flat), len(DESCRIPTORS))
        if j in names or i in used or abs(rho[j, i]) < min_rho:
            continue
        if change[j, i] < MIN_CHANGE[DESCRIPTORS[i]]:
            continue
        names[j] = (DESCRIPTORS[i], float(rho[j, i]))
        used.add(i)
    dirs = vt[:k].copy()
    sliders = []
    for j in range(k):
        desc, r = names.get(j, ("", 0.0))
        sign = -1.0 if r < 0 else 1.0
        dirs[j] *= sign
        corr = {name: round(float(sign * rho[j, i]), 4) for i, name in enumerate(DESCRIPTORS)}
        sliders.append(Slider(
            index=j + 1,
            name=DISPLAY.get(desc, desc) if desc else f"texture {j + 1}",
            descriptor=desc,
            rho=round(abs(r), 4),
            explained=round(float(share[j]), 5),
            sigma=float(sigma[j]),
            correlations=corr,
        ))  # fmt: skip
    return SliderSet(mean, dirs, tuple(sliders))
