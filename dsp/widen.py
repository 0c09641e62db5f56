"""The width stage: a mono signal spread to stereo without duplicating it.

L = (x + w·d) / √(1 + w²), R = (x − w·d) / √(1 + w²), where d is x through a
decorrelating all-pass FIR (flat magnitude, random phase, ~21 ms at 48 kHz).
Each channel keeps the power of x; L + R is x again (up to the constant), so
the stereo image folds back to mono without comb filtering. ``w`` is the same
width (0 … 1) as the oscillator bank's. Streaming: the filter's history is
carried from one block to the next, so chunked and one-piece processing agree.
"""

from __future__ import annotations

import numpy as np


def decorrelation_fir(taps: int, seed: int = 7) -> np.ndarray:
    """An FIR with unit magnitude at every bin and random phase (unit energy)."""
    rng = np.random.default_rng(seed)
    bins = taps // 2 + 1
    phase = rng.uniform(-np.pi, np.pi, bins)
    phase[0] = 0.0
    if taps % 2 == 0:
        phase[-1] = 0.0
    h = np.fft.irfft(np.exp(1j * phase), n=taps)
    return (h / np.sqrt(np.sum(h**2))).astype(np.float64)


class MonoWidener:
    """Mono (n,) or (n, 1) blocks in, stereo (n, 2) float32 out."""

    def __init__(self, width: float, sample_rate: int = 48000, seed: int = 7) -> None:
        if not 0.0 <= width <= 1.0:
            raise ValueError(f"width must be within 0..1, got {width}")
        self.width = width
        self._h = decorrelation_fir(max(64, round(0.021 * sample_rate)), seed)
        self._hist = np.zeros(len(self._h) - 1)
        self._norm = 1.0 / np.sqrt(1.0 + width * width)

    def process(self, x: np.ndarray) -> np.ndarray:
        mono = np.asarray(x, dtype=np.float64).reshape(-1)
        n = len(mono)
        if n == 0:
            return np.zeros((0, 2), dtype=np.float32)
        buf = np.concatenate([self._hist, mono])
        size = 1 << int(np.ceil(np.log2(len(buf) + len(self._h) - 1)))
        d = np.fft.irfft(np.fft.rfft(buf, size) * np.fft.rfft(self._h, size), size)
        d = d[len(self._h) - 1 : len(self._h) - 1 + n]  # the 'valid' part: one output per input
        self._hist = buf[len(buf) - len(self._hist) :]
        out = np.empty((n, 2), dtype=np.float32)
        out[:, 0] = (mono + self.width * d) * self._norm
        out[:, 1] = (mono - self.width * d) * self._norm
        return out
