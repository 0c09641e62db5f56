"""Builds the sounds shipped with bassd (``glass``) with ``bassd analyse`` itself.

The material is synthesised here (nothing is downloaded): a struck glass (five
inharmonic modes, two of them beating), a bowed drone on G2 (16 harmonics, a slow
vibrato) and a sung "aah" on A3 (harmonics shaped by three formants, vibrato,
breath noise): three recordings, so the map has three regions to travel between.

    python configs/sounds/build.py        # rewrites configs/sounds/glass/
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from bassd.app.analyse import analyse_files

SR = 44_100
SECONDS = 16.0
HERE = Path(__file__).resolve().parent


def _partials(freqs, amps, *, vibrato_cents=0.0, vibrato_hz=5.0, swell=0.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(round(SR * SECONDS)) / SR
    dev = 2.0 ** (vibrato_cents / 1200.0 * np.sin(2 * np.pi * vibrato_hz * t))
    env = 1.0 - swell * 0.5 * (1 + np.cos(2 * np.pi * t / SECONDS))
    x = np.zeros_like(t)
    for f, a in zip(freqs, amps, strict=True):
        x += a * np.sin(2 * np.pi * np.cumsum(f * dev) / SR + rng.uniform(0, 2 * np.pi))
    return x * env


def glass() -> np.ndarray:
    ratios = (1.0, 1.004, 2.32, 4.25, 6.63, 9.38)  # the first two beat at ~1.6 Hz
    return _partials([392.0 * r for r in ratios], [0.2, 0.12, 0.1, 0.07, 0.04, 0.025], seed=1)


def drone() -> np.ndarray:
    f0 = 98.0
    return _partials([f0 * k for k in range(1, 17)], [0.25 / k**0.8 for k in range(1, 17)],
                     vibrato_cents=4.0, vibrato_hz=0.3, swell=0.4, seed=2)  # fmt: skip


def voice() -> np.ndarray:
    f0 = 220.0
    ks = np.arange(1, 21)
    formants = ((700.0, 90.0), (1220.0, 110.0), (2600.0, 160.0))
    amps = sum(np.exp(-0.5 * ((ks * f0 - fc) / bw) ** 2) for fc, bw in formants) * 0.15 + 0.01
    x = _partials(list(ks * f0), list(amps), vibrato_cents=12.0, vibrato_hz=5.5, seed=3)
    return x + 0.002 * np.random.default_rng(4).standard_normal(len(x))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, fn in (("glass", glass), ("drone", drone), ("voice", voice)):
            path = Path(tmp) / f"{name}.wav"
            sf.write(path, fn(), SR, subtype="FLOAT")
            paths.append(path)
        out = HERE / "glass"
        result = analyse_files(paths, out, name="glass", pngs=False)
    s = result.sound
    print(f"{out}: {len(s.oscset)} partials, map {s.som.rows}x{s.som.cols}" if s.som else out)


if __name__ == "__main__":
    main()
