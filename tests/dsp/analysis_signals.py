"""Synthetic recordings with known partials, for the analysis tests."""

from __future__ import annotations

import numpy as np

BELL_RATIOS = (1.0, 2.756, 5.404, 8.933)  # a struck bar's modes: inharmonic


def tone(
    freqs: list[float] | tuple[float, ...],
    amps: list[float] | tuple[float, ...],
    sr: int,
    seconds: float,
    *,
    vibrato_cents: float = 0.0,
    vibrato_hz: float = 5.0,
    seed: int = 0,
) -> np.ndarray:
    """A sum of sinusoids (random phases), optionally with a common vibrato."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(sr * seconds)) / sr
    dev = 2.0 ** (vibrato_cents / 1200.0 * np.sin(2 * np.pi * vibrato_hz * t))  # (n,)
    x = np.zeros_like(t)
    for f, a in zip(freqs, amps, strict=True):
        phase = 2 * np.pi * np.cumsum(f * dev) / sr + rng.uniform(0, 2 * np.pi)
        x += a * np.sin(phase)
    return x


def harmonic(f0: float, n: int, sr: int, seconds: float, **kw: float) -> np.ndarray:
    """n harmonics of f0 at 1/k amplitude (0.3 for the first)."""
    return tone([k * f0 for k in range(1, n + 1)], [0.3 / k for k in range(1, n + 1)], sr,
                seconds, **kw)  # type: ignore[arg-type]  # fmt: skip


def bell(f0: float, sr: int, seconds: float) -> np.ndarray:
    """The four inharmonic modes of BELL_RATIOS at falling levels, steady."""
    return tone([r * f0 for r in BELL_RATIOS], [0.2, 0.12, 0.08, 0.05], sr, seconds, seed=1)


def noise(n: int, level_db: float, seed: int = 2) -> np.ndarray:
    """White noise at ``level_db`` rms (dB re full scale)."""
    return 10 ** (level_db / 20) * np.random.default_rng(seed).standard_normal(n)


def cents(f: float, g: float) -> float:
    return float(1200.0 * np.log2(f / g))
