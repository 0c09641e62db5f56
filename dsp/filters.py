"""Streaming Butterworth high- and low-pass filters.

Second-order sections with their state carried across blocks, so filtering a
signal block by block gives the same samples as filtering it whole. The
bilinear transform is pre-warped at the cut-off, so the response there is the
Butterworth −3.01 dB exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import signal


class StreamingFilter:
    """One Butterworth filter (``kind`` 'highpass' or 'lowpass') over ``channels``."""

    def __init__(
        self, kind: str, cutoff_hz: float, sample_rate: int, channels: int = 2, order: int = 4
    ) -> None:
        if kind not in ("highpass", "lowpass"):
            raise ValueError(f"filter kind must be 'highpass' or 'lowpass', got {kind!r}")
        self.kind = kind
        self.sample_rate = sample_rate
        self.order = order
        self.channels = channels
        self._sos = self._design(cutoff_hz)
        self.cutoff_hz = cutoff_hz
        # state: (sections, 2, channels) for sosfilt along axis 0
        self._zi = np.zeros((self._sos.shape[0], 2, channels), dtype=np.float64)

    def _design(self, cutoff_hz: float) -> np.ndarray:
        nyquist = self.sample_rate / 2
        if not 0 < cutoff_hz < nyquist:
            raise ValueError(
                f"{self.kind} cut-off must be between 0 and {nyquist:g} Hz, got {cutoff_hz:g}"
            )
        sos: np.ndarray = signal.butter(
            self.order, cutoff_hz, btype=self.kind, fs=self.sample_rate, output="sos"
        )
        return sos

    def set_cutoff(self, cutoff_hz: float) -> None:
        """Change the cut-off at run time; the state is kept (same filter structure)."""
        self._sos = self._design(cutoff_hz)
        self.cutoff_hz = cutoff_hz

    def reset(self) -> None:
        self._zi[:] = 0.0

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter a (frames, channels) block; returns float64 of the same shape."""
        if len(x) == 0:  # scipy's sosfilt refuses an empty block with state
            return np.zeros((0, self.channels))
        y, self._zi = signal.sosfilt(self._sos, x, axis=0, zi=self._zi)
        if not np.isfinite(self._zi).all():  # never let a bad block poison the state
            self._zi[:] = 0.0
            y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
        out: np.ndarray = y
        return out
