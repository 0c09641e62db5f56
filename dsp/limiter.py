"""Soft tanh limiter: y = peak · tanh(drive · x).

tanh is below one for every finite input, so |y| < peak always; NaN becomes
silence and ±inf the peak, so no bad sample passes through.
"""

from __future__ import annotations

import numpy as np


class SoftLimiter:
    def __init__(self, drive: float = 1.6, peak: float = 0.9) -> None:
        self.set(drive=drive, peak=peak)

    def set(self, *, drive: float | None = None, peak: float | None = None) -> None:
        if drive is not None:
            if not 0.1 <= drive <= 10.0:
                raise ValueError(f"limiter drive must be 0.1..10, got {drive:g}")
            self.drive = float(drive)
        if peak is not None:
            if not 0.05 <= peak <= 1.0:
                raise ValueError(f"limiter peak must be 0.05..1.0, got {peak:g}")
            self.peak = float(peak)

    def process(
        self,
        x: np.ndarray,
        *,
        drive: float | np.ndarray | None = None,
        peak: float | np.ndarray | None = None,
    ) -> np.ndarray:
        """Limit a block (any shape); returns float32.

        ``drive`` and ``peak`` may be per-frame ramps (shape (frames, 1)) while a
        setting changes; by default the limiter's own settings are used.
        """
        drive = self.drive if drive is None else drive
        peak = self.peak if peak is None else peak
        y = np.asarray(x, dtype=np.float64)
        if not np.isfinite(y).all():  # rare: one mask per block instead of nan_to_num's three
            y = np.nan_to_num(y, nan=0.0, posinf=1e3, neginf=-1e3)
        y = np.clip(y, -1e3, 1e3)  # (a new array) tanh is flat out there; no overflow below
        y = np.tanh(y * drive)
        y *= peak
        out = y.astype(np.float32)
        # float32 rounding of peak·tanh can land one ulp above the peak
        ceiling = np.float32(np.max(peak))
        np.clip(out, -ceiling, ceiling, out=out)
        return out
