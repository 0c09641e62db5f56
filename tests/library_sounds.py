"""A generated, labelled sound library: tones, coloured noises, click trains, corrupt files.

Shared by the library's tests and ``benchmarks/bench_library.py``. Every file is written
with soundfile in a mix of formats, rates and channel counts; its class is the first word
of its name (``tone``, ``noise``, ``clicks``), the rest says how it was made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

CLASSES = ("tone", "noise", "clicks")
FORMATS = (("wav", 44100, 2), ("flac", 48000, 1), ("ogg", 22050, 1), ("wav", 16000, 1))


def tone(f: float, secs: float, sr: int, amp: float = 0.3, harmonics: int = 0) -> np.ndarray:
    t = np.arange(int(secs * sr)) / sr
    x = amp * np.sin(2 * np.pi * f * t)
    for h in range(2, 2 + harmonics):
        x += amp / h * np.sin(2 * np.pi * f * h * t)
    return x


def noise(colour: str, secs: float, sr: int, amp: float = 0.2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(secs * sr)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    spec[f < 20] = 0
    f = np.maximum(f, 20.0)
    spec *= {"white": 1.0, "pink": f**-0.5, "brown": f**-1.0, "blue": f**0.5}[colour]
    x = np.fft.irfft(spec, n)
    return amp * x / np.abs(x).max()


def clicks(rate: float, secs: float, sr: int, amp: float = 0.5, seed: int = 0) -> np.ndarray:
    """A train of 5 ms decaying noise bursts, ``rate`` a second."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(secs * sr))
    step, n = int(sr / rate), int(0.005 * sr)
    for i in range(0, len(x) - n, step):
        x[i : i + n] = amp * rng.standard_normal(n) * np.exp(-np.arange(n) / (n / 5))
    return np.clip(x, -1, 1)


def write(path: Path, x: np.ndarray, sr: int, channels: int = 1) -> Path:
    data = np.stack([x] * channels, axis=1) if channels > 1 else x
    fmt = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG"}[path.suffix[1:]]
    sub = "VORBIS" if fmt == "OGG" else ("PCM_16" if fmt != "FLAC" else "PCM_24")
    sf.write(str(path), data, sr, format=fmt, subtype=sub)
    return path


def labelled_set(folder: Path, per_class: int = 8, secs: float = 3.0) -> dict[Path, str]:
    """Write ``per_class`` files of each class into ``folder``; returns path -> class."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[Path, str] = {}
    pitches = np.geomspace(110, 1046, per_class)
    colours = ("white", "pink", "brown", "blue")
    rates = np.geomspace(1.0, 8.0, per_class)
    for i in range(per_class):
        ext, sr, ch = FORMATS[i % len(FORMATS)]
        p = write(folder / f"tone_{pitches[i]:.0f}hz.{ext}",
                  tone(pitches[i], secs, sr, 0.1 + 0.03 * i, i % 3), sr, ch)  # fmt: skip
        out[p] = "tone"
        c = colours[i % 4]
        p = write(folder / f"noise_{c}_{i}.{ext}", noise(c, secs, sr, 0.1 + 0.03 * i, i), sr, ch)
        out[p] = "noise"
        p = write(folder / f"clicks_{rates[i]:.2f}hz.{ext}",
                  clicks(rates[i], secs + 1, sr, 0.3 + 0.05 * i, i), sr, ch)  # fmt: skip
        out[p] = "clicks"
    return out


def corrupt_files(folder: Path) -> dict[Path, str]:
    """Unreadable files with audio suffixes; returns path -> what is wrong with it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    bad = {}
    p = folder / "garbage.wav"
    p.write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    bad[p] = "random bytes"
    p = folder / "empty.flac"
    p.write_bytes(b"")
    bad[p] = "empty"
    p = folder / "text.ogg"
    p.write_text("this is not audio\n")
    bad[p] = "text"
    good = write(folder / "whole.flac", tone(440, 2.0, 44100), 44100)
    p = folder / "truncated.flac"
    p.write_bytes(good.read_bytes()[:200])
    good.unlink()
    bad[p] = "truncated"
    return bad
