"""Streaming Butterworth high- and low-pass filters.

Second-order sections with their state carried across blocks, so filtering a
signal block by block gives the same samples as filtering it whole. The
bilinear transform is pre-warped at the cut-off, so the response there is the
Butterworth −3.01 dB exactly.

The design is a few lines of numpy and the kernel a few lines of C
(``dsp/sos.c``): importing ``scipy.signal`` alone took 0.54 s, more than the
daemon's whole start-up budget. The tests check the design against scipy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bassd.dsp._dspcore import ffi, lib


def butter_sos(order: int, cutoff_hz: float, sample_rate: float, kind: str) -> np.ndarray:
    """Digital Butterworth filter as second-order sections, shape (order // 2, 6)."""
    if order < 2 or order % 2:
        raise ValueError(f"filter order must be an even number ≥ 2, got {order}")
    if kind not in ("highpass", "lowpass"):
        raise ValueError(f"filter kind must be 'highpass' or 'lowpass', got {kind!r}")
    fs2 = 2.0 * sample_rate
    warped = fs2 * np.tan(np.pi * cutoff_hz / sample_rate)  # pre-warp the cut-off
    k = np.arange(order // 2)
    proto = np.exp(1j * np.pi * (2 * k + order + 1) / (2 * order))  # upper-half-plane poles
    s = warped * proto if kind == "lowpass" else warped / proto
    z = (fs2 + s) / (fs2 - s)  # bilinear transform
    sos = np.zeros((order // 2, 6))
    zero = -1.0 if kind == "lowpass" else 1.0  # double zero at Nyquist (LP) or DC (HP)
    for i, p in enumerate(z):
        b = np.array([1.0, -2.0 * zero, 1.0])
        a = np.array([1.0, -2.0 * p.real, abs(p) ** 2])
        ref = 1.0 if kind == "lowpass" else -1.0  # unity gain at DC (LP) / Nyquist (HP)
        powers = ref ** np.arange(3)
        b *= (a @ powers) / (b @ powers)
        sos[i, :3], sos[i, 3:] = b, a
    return sos


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
        self.cutoff_hz = cutoff_hz
        self._sos = self._design(cutoff_hz)
        self._zi = np.zeros((self._sos.shape[0], 2, channels), dtype=np.float64)

    def _design(self, cutoff_hz: float) -> np.ndarray:
        nyquist = self.sample_rate / 2
        if not 0 < cutoff_hz < nyquist:
            raise ValueError(
                f"{self.kind} cut-off must be between 0 and {nyquist:g} Hz, got {cutoff_hz:g}"
            )
        return np.ascontiguousarray(butter_sos(self.order, cutoff_hz, self.sample_rate, self.kind))

    def set_cutoff(self, cutoff_hz: float) -> None:
        """Change the cut-off at run time; the state is kept (same filter structure)."""
        self._sos = self._design(cutoff_hz)
        self.cutoff_hz = cutoff_hz

    def reset(self) -> None:
        self._zi[:] = 0.0

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter a (frames, channels) block; returns float64 of the same shape."""
        y = np.ascontiguousarray(x, dtype=np.float64).copy()
        if len(y) == 0:
            return y.reshape(0, self.channels)
        if y.ndim != 2 or y.shape[1] != self.channels:
            raise ValueError(f"expected (frames, {self.channels}) samples, got {y.shape}")
        ptr: Any = ffi.cast("double *", ffi.from_buffer(y))
        lib.bassd_sosfilt(
            ffi.cast("double *", ffi.from_buffer(self._sos)),
            self._sos.shape[0],
            ffi.cast("double *", ffi.from_buffer(self._zi)),
            ptr,
            ptr,
            len(y),
            self.channels,
        )
        if not np.isfinite(self._zi).all():  # never let a bad block poison the state
            self._zi[:] = 0.0
            y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
        return y
