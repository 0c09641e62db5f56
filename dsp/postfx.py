"""Master post-FX: gain → high-pass → low-pass → soft limiter, all streaming.

Every setting can change while the music plays. A change is applied from the
next block and smoothed so it makes no zipper noise: gain, drive and peak ramp
linearly across one block; cut-offs glide exponentially (time constant 20 ms),
with the filter coefficients recomputed per block while they move.
"""

from __future__ import annotations

import math

import numpy as np

from bassd.dsp.filters import StreamingFilter
from bassd.dsp.limiter import SoftLimiter

CUTOFF_GLIDE_S = 0.02


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
        self.sample_rate = sample_rate
        self.hpf = StreamingFilter("highpass", hpf_hz, sample_rate, channels, order)
        self.lpf = StreamingFilter("lowpass", lpf_hz, sample_rate, channels, order)
        self.limiter = SoftLimiter(drive, peak)
        self.gain_db = gain_db
        self._gain = 10.0 ** (gain_db / 20.0)
        self._targets = {"hpf": hpf_hz, "lpf": lpf_hz, "drive": drive, "peak": peak}

    # ---------------------------------------------------------------- control
    def set(
        self,
        *,
        gain_db: float | None = None,
        hpf_hz: float | None = None,
        lpf_hz: float | None = None,
        drive: float | None = None,
        peak: float | None = None,
    ) -> None:
        """Change settings (validated now, applied smoothly from the next block)."""
        nyquist = self.sample_rate / 2
        hpf = self._targets["hpf"] if hpf_hz is None else hpf_hz
        lpf = self._targets["lpf"] if lpf_hz is None else lpf_hz
        if not 0 < hpf < lpf < nyquist:
            raise ValueError(f"need 0 < hpf ({hpf:g} Hz) < lpf ({lpf:g} Hz) < {nyquist:g} Hz")
        if drive is not None and not 0.1 <= drive <= 10.0:
            raise ValueError(f"drive must be 0.1..10, got {drive:g}")
        if peak is not None and not 0.05 <= peak <= 1.0:
            raise ValueError(f"peak must be 0.05..1, got {peak:g}")
        if gain_db is not None:
            self.gain_db = gain_db
        self._targets["hpf"], self._targets["lpf"] = hpf, lpf
        if drive is not None:
            self._targets["drive"] = drive
        if peak is not None:
            self._targets["peak"] = peak

    @property
    def settings(self) -> dict[str, float]:
        t = self._targets
        return {
            "gain_db": self.gain_db,
            "hpf_hz": t["hpf"],
            "lpf_hz": t["lpf"],
            "drive": t["drive"],
            "peak": t["peak"],
        }

    def _glide_cutoffs(self, frames: int) -> None:
        k = math.exp(-frames / (self.sample_rate * CUTOFF_GLIDE_S))
        for flt, name in ((self.hpf, "hpf"), (self.lpf, "lpf")):
            target = self._targets[name]
            if flt.cutoff_hz == target:
                continue
            # glide in log frequency; snap when within 0.1 %
            nxt = math.exp(math.log(target) + (math.log(flt.cutoff_hz) - math.log(target)) * k)
            flt.set_cutoff(target if abs(nxt / target - 1.0) < 1e-3 else nxt)

    @staticmethod
    def _ramp(start: float, end: float, n: int) -> np.ndarray | float:
        if start == end:
            return start
        return (start + (end - start) * (np.arange(1, n + 1) / n))[:, None]

    def process(self, x: np.ndarray) -> np.ndarray:
        """Process a (frames, channels) block; returns float32, |y| ≤ peak."""
        n = len(x)
        y = np.asarray(x, dtype=np.float64)
        if not np.isfinite(y).all():  # rare: one mask instead of three per block
            y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
        target_gain = 10.0 ** (self.gain_db / 20.0)
        gain = self._ramp(self._gain, target_gain, n)
        self._gain = target_gain
        if not (isinstance(gain, float) and gain == 1.0):
            y = y * gain
        if n:
            self._glide_cutoffs(n)
        y = self.lpf.process(self.hpf.process(y))
        lim = self.limiter
        drive = self._ramp(lim.drive, self._targets["drive"], n)
        peak = self._ramp(lim.peak, self._targets["peak"], n)
        lim.set(drive=self._targets["drive"], peak=self._targets["peak"])
        return lim.process(y, drive=drive, peak=peak)
