"""Synthesized metronome click (issue 8).

Each click is an exponentially decaying cosine burst: 1.5 kHz for a normal beat, 2.5 kHz
(and ``accent_db`` louder) for a downbeat, 30 ms long with a 2 ms raised-cosine taper at
its end so it stops at exactly zero.

Onset definition: the click's sample 0 lands exactly on the beat frame.  Because the burst
is a *cosine* with no attack ramp, that sample is the click's first non-zero sample and its
largest-magnitude sample (``10 ** (level_db / 20)``, times the accent for downbeats).  So
"first sample above a small threshold after silence" in the audio is the beat frame.

The gain is fixed when a click starts: changing ``level_db`` affects later clicks only,
which keeps block-wise rendering identical to one-piece rendering.  Disabling stops new
clicks and fades any ringing tail out over ``FADE_S`` from the first disabled block.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NORMAL_HZ = 1500.0
ACCENT_HZ = 2500.0
CLICK_S = 0.030
DECAY_S = 0.005
TAPER_S = 0.002
FADE_S = 0.002


def _burst(sample_rate: int, freq: float) -> npt.NDArray[np.float64]:
    n = max(1, round(CLICK_S * sample_rate))
    t = np.arange(n) / sample_rate
    wave = np.cos(2.0 * math.pi * freq * t) * np.exp(-t / DECAY_S)
    nt = min(n - 1, max(1, round(TAPER_S * sample_rate)))
    # raised-cosine taper over the last nt samples, ending at exactly 0
    wave[n - nt :] *= 0.5 * (1.0 + np.cos(math.pi * (np.arange(1, nt + 1) / nt)))
    return wave


@dataclass
class _Voice:
    start: int
    wave: npt.NDArray[np.float64]  # gain already applied
    fade_start: int | None = None


class Click:
    """Metronome click renderer with tail state kept across blocks."""

    def __init__(self, sample_rate: int, level_db: float = -12.0, accent_db: float = 6.0) -> None:
        """``level_db`` is the normal click's peak in dBFS; downbeats get ``+accent_db``."""
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
        self.sample_rate = sample_rate
        self.level_db = level_db
        self.accent_db = accent_db
        self._normal = _burst(sample_rate, NORMAL_HZ)
        self._accent = _burst(sample_rate, ACCENT_HZ)
        self._fade_len = max(1, round(FADE_S * sample_rate))
        self._voices: list[_Voice] = []
        self._enabled = True

    @property
    def level_db(self) -> float:
        """Peak level of a normal click in dBFS (applies to clicks started afterwards)."""
        return self._level_db

    @level_db.setter
    def level_db(self, value: float) -> None:
        if not math.isfinite(value) or value > 0.0:
            raise ValueError(f"level_db {value!r} must be finite and <= 0 dBFS")
        self._level_db = float(value)

    @property
    def accent_db(self) -> float:
        """Extra gain of the downbeat click in dB."""
        return self._accent_db

    @accent_db.setter
    def accent_db(self, value: float) -> None:
        if not math.isfinite(value) or not 0.0 <= value <= 24.0:
            raise ValueError(f"accent_db {value!r} must be within 0..24 dB")
        self._accent_db = float(value)

    @property
    def enabled(self) -> bool:
        """On/off.  Off: no new clicks; ringing tails fade out over FADE_S."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = bool(value)

    @property
    def ringing(self) -> bool:
        """True while some click tail is still sounding."""
        return bool(self._voices)

    def render(
        self, frame0: int, frames: int, beats: Iterable[tuple[int, int, bool]]
    ) -> npt.NDArray[np.float32]:
        """Stereo (frames, 2) float32 block of clicks for [frame0, frame0 + frames).

        ``beats`` are (frame, beat index, is_downbeat) as from ``BeatClock.beats_in``;
        beats outside the block are ignored.  Tails of earlier clicks continue.
        """
        if frames < 0:
            raise ValueError(f"frames {frames!r} must be >= 0")
        end = frame0 + frames
        if self._enabled:
            gain = 10.0 ** (self._level_db / 20.0)
            for frame, _k, down in beats:
                if frame0 <= frame < end:
                    wave = self._accent if down else self._normal
                    g = gain * 10.0 ** (self._accent_db / 20.0) if down else gain
                    self._voices.append(_Voice(int(frame), wave * g))
        else:
            for v in self._voices:
                if v.fade_start is None:
                    v.fade_start = frame0
        mono = np.zeros(frames, dtype=np.float64)
        keep: list[_Voice] = []
        for v in self._voices:
            v_end = v.start + len(v.wave)
            if v.fade_start is not None:
                v_end = min(v_end, v.fade_start + self._fade_len)
            lo, hi = max(frame0, v.start), min(end, v_end)
            if hi > lo:
                seg = v.wave[lo - v.start : hi - v.start]
                if v.fade_start is not None:
                    n = np.arange(lo, hi) - v.fade_start
                    seg = seg * np.clip(1.0 - n / self._fade_len, 0.0, 1.0)
                mono[lo - frame0 : hi - frame0] += seg
            if v_end > end:
                keep.append(v)
        self._voices = keep
        out = np.empty((frames, 2), dtype=np.float32)
        out[:, 0] = mono
        out[:, 1] = mono
        return out
