"""Streaming 24-bit PCM WAV writer and a reader (stdlib ``wave`` + numpy)."""

from __future__ import annotations

import wave
from pathlib import Path
from types import TracebackType

import numpy as np

_FULL = 8388607.0  # 2**23 - 1


def float_to_pcm24(x: np.ndarray) -> bytes:
    """(frames, channels) float → little-endian 24-bit PCM bytes (clipped to ±1)."""
    if not np.isfinite(x).all():  # rare: one mask per block instead of nan_to_num's three
        x = np.nan_to_num(x)
    ints = np.ascontiguousarray(np.round(np.clip(x, -1.0, 1.0) * _FULL), "<i4")
    return ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


class WavWriter:
    """Writes float blocks to a 24-bit WAV as they come."""

    def __init__(self, path: str | Path, sample_rate: int, channels: int = 2) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._w = wave.open(str(self.path), "wb")  # noqa: SIM115  # closed by close()
        self._w.setnchannels(channels)
        self._w.setsampwidth(3)
        self._w.setframerate(sample_rate)
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        self._w.writeframesraw(float_to_pcm24(block))
        self.frames += len(block)

    def close(self) -> None:
        self._w.close()  # patches the header sizes

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> None:
    with WavWriter(path, sample_rate, audio.shape[1]) as w:
        w.write(audio)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a 16- or 24-bit PCM WAV as (frames, channels) float64 in [-1, 1]."""
    with wave.open(str(path), "rb") as r:
        sr, ch, width, n = r.getframerate(), r.getnchannels(), r.getsampwidth(), r.getnframes()
        raw = np.frombuffer(r.readframes(n), dtype=np.uint8)
    if width == 3:
        b = raw.reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        x = ints / _FULL
    elif width == 2:
        x = raw.view("<i2") / 32767.0
    else:
        raise ValueError(f"{path}: unsupported sample width {width * 8} bits")
    return x.reshape(-1, ch), sr
