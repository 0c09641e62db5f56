"""Master post-FX: gain → high-pass → low-pass → soft limiter, all streaming."""

from __future__ import annotations

import numpy as np
from bassd.dsp.filters import StreamingFilter
from bassd.dsp.limiter import SoftLimiter


class PostFX:
    def __init__(
        self,
        sample_rate: int,
        channels: int = 2,
        *,
        hpf_hz: float = 120.0,
        lpf_hz: float = 10_000.0,
        drive: float = 1.6,
        peak: float = 0.9,
        gain_db: float = 0.0,
        order: int = 4,
    ) -> None:
        self.hpf = StreamingFilter("highpass", hpf_hz, sample_rate, channels, order)
        self.lpf = StreamingFilter("lowpass", lpf_hz, sample_rate, channels, order)
        self.limiter = SoftLimiter(drive, peak)
        self.gain_db = gain_db

    def process(self, x: np.ndarray) -> np.ndarray:
        """Process a (frames, channels) block; returns float32, |y| ≤ peak."""
        y = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if self.gain_db:
            y = y * (10.0 ** (self.gain_db / 20.0))
        y = self.lpf.process(self.hpf.process(y))
        return self.limiter.process(y)
