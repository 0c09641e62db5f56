"""Synthetic training files for the VAE tests: tones whose brightness and pitch vary, noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 24_000


def write_set(
    folder: Path, n: int = 6, seconds: float = 4.0, *, harmonics: int = 8, tilt: bool = True
) -> Path:
    """n files: harmonic tones of different fundamentals (with tilt, of steeper spectra too:
    1/k^(0.5 + i/4); without, 1/k), white and brown noise."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * SR)) / SR
    rng = np.random.default_rng(0)
    for i in range(n):
        if i % 3 == 2:
            x = rng.standard_normal(t.size)
        elif i % 3 == 1:
            x = np.cumsum(rng.standard_normal(t.size))
            x -= np.linspace(x[0], x[-1], x.size)
        else:
            f0 = 80.0 * 2 ** (i / 2)
            slope = 0.5 + i / 4 if tilt else 1
            x = sum(np.sin(2 * np.pi * f0 * k * t) / k**slope for k in range(1, harmonics + 1))
        sf.write(folder / f"take{i}.wav", 0.3 * x / np.max(np.abs(x)), SR)
    return folder
