"""Master post-FX: gain → high-pass → low-pass → soft limiter, all streaming.

The chain itself is C (``dsp/fx.c``), the same code the live audio callback runs
(``engine/rtcore.c``), so an offline render and the device play the same samples.
This class is its shell for offline renders, tests and the engine's capture of
each segment: it validates settings and hands them to the chain as updates.

Every setting can change while the music plays. An update applies at the next
control step (every 32 frames of the stream, counted from its first frame, so the
output does not depend on the block size) and is smoothed so it makes no zipper
noise: gain, drive and peak ramp linearly over 256 frames; cut-offs glide
exponentially in log frequency (time constant 20 ms), the filters redesigned at
every step while they move. |y| ≤ peak always; a NaN or inf input sample is
treated as silence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bassd.dsp._dspcore import ffi, lib

CUTOFF_GLIDE_S = 0.02
CONTROL_STEP = int(lib.BASSD_FX_STEP)
RAMP_FRAMES = int(lib.BASSD_FX_RAMP)


def validate_fx(
    sample_rate: int, current: dict[str, float], **settings: float | None
) -> dict[str, float]:
    """``current`` with ``settings`` (gain_db, hpf_hz, lpf_hz, drive, peak) applied, checked
    together; a ValueError names what is wrong."""
    unknown = set(settings) - set(current)
    if unknown:
        raise ValueError(f"unknown post-FX setting(s): {', '.join(sorted(unknown))}")
    out = dict(current)
    out.update({k: float(v) for k, v in settings.items() if v is not None})
    nyquist = sample_rate / 2
    hpf, lpf = out["hpf_hz"], out["lpf_hz"]
    if not 0 < hpf < lpf < nyquist:
        raise ValueError(f"need 0 < hpf ({hpf:g} Hz) < lpf ({lpf:g} Hz) < {nyquist:g} Hz")
    if not 0.1 <= out["drive"] <= 10.0:
        raise ValueError(f"drive must be 0.1..10, got {out['drive']:g}")
    if not 0.05 <= out["peak"] <= 1.0:
        raise ValueError(f"peak must be 0.05..1, got {out['peak']:g}")
    if not math.isfinite(out["gain_db"]):
        raise ValueError(f"gain must be finite, got {out['gain_db']:g} dB")
    return out


def fill_settings(s: Any, settings: dict[str, float], *, frame: int = 0, seq: int = 0) -> None:
    """Write ``settings`` into a ``bassd_fx_settings`` (of either C core)."""
    s.frame = frame
    s.seq = seq
    s.gain = 10.0 ** (settings["gain_db"] / 20.0)
    s.hpf_hz = settings["hpf_hz"]
    s.lpf_hz = settings["lpf_hz"]
    s.drive = settings["drive"]
    s.peak = settings["peak"]


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
    ) -> None:
        if not 1 <= channels <= int(lib.BASSD_FX_CHANNELS):
            raise ValueError(
                f"the post-FX takes 1..{lib.BASSD_FX_CHANNELS} channels, got {channels}"
            )
        self.sample_rate = sample_rate
        self.channels = channels
        start = {"gain_db": 0.0, "hpf_hz": 1.0, "lpf_hz": 2.0, "drive": 1.0, "peak": 1.0}
        self._settings = validate_fx(
            sample_rate, start, gain_db=gain_db, hpf_hz=hpf_hz, lpf_hz=lpf_hz, drive=drive,
            peak=peak,
        )  # fmt: skip
        self._fx: Any = ffi.new("bassd_fx *")
        self._queue: Any = ffi.new("bassd_fx_queue *")
        self._pending: dict[str, float] | None = None
        self._at: list[tuple[int, dict[str, float]]] = []  # updates for later frames
        self.frame = 0  # the stream's frame of the next sample processed
        init = ffi.new("bassd_fx_settings *")
        fill_settings(init, self._settings)
        lib.bassd_fx_init(self._fx, float(sample_rate), channels, init)

    # ---------------------------------------------------------------- control
    def set(self, *, at_frame: int = 0, **settings: float | None) -> None:
        """Change settings (validated now; applied smoothly from the next control step, or
        from the first one at or after ``at_frame``)."""
        self._settings = validate_fx(self.sample_rate, self._settings, **settings)
        if at_frame > self.frame:
            self._at.append((at_frame, dict(self._settings)))
        else:
            self._pending = dict(self._settings)  # only the latest immediate one matters

    @property
    def settings(self) -> dict[str, float]:
        """What was last set (the chain glides towards it)."""
        return dict(self._settings)

    @property
    def hpf_hz(self) -> float:
        """The high-pass cut-off the chain uses now (it glides towards the setting)."""
        return float(self._fx.hpf_hz)

    @property
    def lpf_hz(self) -> float:
        return float(self._fx.lpf_hz)

    def _flush(self) -> None:
        upd = ffi.new("bassd_fx_settings *")
        if self._pending is not None:
            fill_settings(upd, self._pending)
            if lib.bassd_fx_push(self._queue, upd):
                self._pending = None
        while self._at:
            frame, settings = self._at[0]
            fill_settings(upd, settings, frame=frame)
            if not lib.bassd_fx_push(self._queue, upd):
                break
            self._at.pop(0)

    def process(self, x: np.ndarray) -> np.ndarray:
        """Process a (frames, channels) block; returns float32, |y| ≤ peak."""
        if getattr(x, "dtype", None) != np.float32:  # finite beyond float32: the limiter's peak
            wide = np.asarray(x, dtype=np.float64)
            x = np.where(np.isfinite(wide), np.clip(wide, -1e30, 1e30), wide)
        y = np.array(x, dtype=np.float32, order="C", copy=True)
        if y.ndim != 2 or y.shape[1] != self.channels:
            raise ValueError(f"expected (frames, {self.channels}) samples, got {y.shape}")
        self._flush()
        if len(y):
            lib.bassd_fx_process(
                self._fx, self._queue, ffi.cast("float *", ffi.from_buffer(y)), len(y), self.frame
            )
        self.frame += len(y)
        return y
