"""Soundscape layers: up to four looping recordings, an engine layer on the sample clock.

Each of the :data:`SLOTS` slots plays one :class:`LayerVoice` (a seamless loop made off the
loop by :func:`bassd.app.layers_mix.load_voice`) with its gain, pan and low-pass filter,
each wandering slowly (seeded drift). Everything a block does is numpy on arrays that exist
already: no file I/O, no decoding. A new voice (``set_voice``) crossfades in over
``crossfade_seconds`` (equal power, the old one out), a mute or a gain fades over the same
time and pan and cut-off glide, so nothing is ever cut.

Determinism: every change applies at the first frame of the block rendered after it was
made, the drift comes from one ``numpy`` generator per slot seeded by ``(seed, slot)`` and
advanced per block, never by wall time: the live pump and an offline render produce the same
samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bassd.dsp.filters import StreamingFilter

SLOTS = 4
_CUTOFF_STEP = 16  # blocks between filter redesigns while the cut-off moves
_MAX_CUTOFF = 20000.0


@dataclass
class LayerVoice:
    """A ready loop: mono float32 samples at the engine rate, played cyclically."""

    loop: np.ndarray
    name: str
    entry_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Slot:
    index: int
    rng: np.random.Generator
    voice: LayerVoice | None = None
    pos: int = 0
    old: LayerVoice | None = None  # fading out
    old_pos: int = 0
    fade_pos: int = 0
    fade_len: int = 0
    gain: float = 0.0  # linear, as heard at the last block's end
    gain_db: float = -6.0  # target (without drift)
    muted: bool = False
    pan: float = 0.0  # -1..1, as heard
    pan_target: float = 0.0
    cutoff: float = _MAX_CUTOFF  # Hz target (without drift)
    cutoff_heard: float = _MAX_CUTOFF
    filt: StreamingFilter | None = None
    drift_from: np.ndarray = field(default_factory=lambda: np.zeros(2))
    drift_to: np.ndarray = field(default_factory=lambda: np.zeros(2))
    drift_t: int = 0
    blocks: int = 0


def _read(loop: np.ndarray, pos: int, n: int) -> tuple[np.ndarray, int]:
    """n samples of ``loop`` from ``pos``, wrapping; and the next position."""
    size = len(loop)
    if pos + n <= size:
        return loop[pos : pos + n], (pos + n) % size
    idx = (pos + np.arange(n)) % size
    return loop[idx], int((pos + n) % size)


class SoundscapeLayers:
    """The engine layer (``Engine.add_layer``): four slots mixed to stereo."""

    def __init__(
        self,
        sample_rate: int,
        *,
        seed: int = 0,
        crossfade_seconds: float = 4.0,
        drift_db: float = 2.0,
        drift_octaves: float = 0.5,
        drift_seconds: float = 20.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.crossfade_frames = max(1, round(crossfade_seconds * sample_rate))
        self.drift_db = drift_db
        self.drift_octaves = drift_octaves
        self.drift_frames = max(1, round(drift_seconds * sample_rate))
        self.slots = [
            _Slot(i, np.random.default_rng([int(seed) & 0xFFFFFFFF, i])) for i in range(SLOTS)
        ]
        self.vibe = ""
        self.changes = 0

    # ----------------------------------------------------------------- controls
    def _slot(self, n: int) -> _Slot:
        if not 1 <= n <= SLOTS:
            raise ValueError(f"layer {n} does not exist (1..{SLOTS})")
        return self.slots[n - 1]

    def set_voice(self, n: int, voice: LayerVoice | None, crossfade_seconds: float | None = None
                  ) -> None:  # fmt: skip
        """Crossfade layer ``n`` (1..4) to ``voice`` (None: fade it out) from the next block."""
        s = self._slot(n)
        fade = (
            self.crossfade_frames
            if crossfade_seconds is None
            else max(1, round(crossfade_seconds * self.sample_rate))
        )
        if s.voice is None and s.old is None:
            s.gain = 0.0  # an empty slot: the gain ramp is the fade-in
        s.old, s.old_pos = s.voice, s.pos
        s.voice, s.pos = voice, 0
        s.fade_pos, s.fade_len = 0, fade
        self.changes += 1

    def set_gain_db(self, n: int, db: float) -> None:
        self._slot(n).gain_db = float(db)

    def set_pan(self, n: int, pan: float) -> None:
        self._slot(n).pan_target = float(np.clip(pan, -1.0, 1.0))

    def set_cutoff(self, n: int, hz: float) -> None:
        self._slot(n).cutoff = float(np.clip(hz, 20.0, _MAX_CUTOFF))

    def set_mute(self, n: int, muted: bool) -> None:
        self._slot(n).muted = bool(muted)

    def names(self) -> list[str]:
        return [s.voice.name if s.voice is not None else "" for s in self.slots]

    def figures(self) -> dict[str, Any]:
        return {
            "layers": ",".join(self.names()),
            "layers_vibe": self.vibe,
            "layers_changes": self.changes,
        }

    # ------------------------------------------------------------------ render
    def _drift(self, s: _Slot, n: int) -> tuple[float, float]:
        """(gain dB, cut-off octaves) drift at the block's end: a cosine glide between
        seeded random targets drawn every ``drift_seconds``."""
        s.drift_t += n
        if s.drift_t >= self.drift_frames:
            s.drift_t -= self.drift_frames
            s.drift_from = s.drift_to
            s.drift_to = s.rng.uniform(-1.0, 1.0, 2)
        u = 0.5 - 0.5 * np.cos(np.pi * s.drift_t / self.drift_frames)
        d = s.drift_from + (s.drift_to - s.drift_from) * u
        return float(d[0] * self.drift_db), float(d[1] * self.drift_octaves)

    def _mono(self, s: _Slot, n: int) -> np.ndarray | None:
        """The slot's source for the block (the crossfade of old and new voices)."""
        new = old = None
        if s.voice is not None:
            new, s.pos = _read(s.voice.loop, s.pos, n)
        if s.old is not None:
            old, s.old_pos = _read(s.old.loop, s.old_pos, n)
            x = (np.arange(s.fade_pos, s.fade_pos + n) + 0.5) / s.fade_len
            x = np.clip(x, 0.0, 1.0) * (np.pi / 2)
            out = old * np.cos(x)
            if new is not None:
                out = out + new * np.sin(x)
            s.fade_pos += n
            if s.fade_pos >= s.fade_len:
                s.old = None
            return out
        return new

    def _render_slot(self, s: _Slot, n: int) -> np.ndarray | None:
        gain_drift, oct_drift = self._drift(s, n)
        mono = self._mono(s, n)
        target = 0.0 if s.muted or s.voice is None and s.old is None else 10.0 ** (
            (s.gain_db + gain_drift) / 20.0
        )
        if mono is None and s.gain == 0.0:
            return None
        if mono is None:
            mono = np.zeros(n)
        # the gain moves at most one full scale per crossfade time: a fade, not a step
        step = n / self.crossfade_frames
        g1 = s.gain + float(np.clip(target - s.gain, -step, step))
        ramp = s.gain + (g1 - s.gain) * (np.arange(1, n + 1) / n)
        s.gain = g1
        y = mono * ramp
        cutoff = float(np.clip(s.cutoff * 2.0**oct_drift, 20.0, _MAX_CUTOFF))
        if s.filt is None:
            s.filt = StreamingFilter("lowpass", min(cutoff, 0.45 * self.sample_rate),
                                     self.sample_rate, channels=1, order=2)  # fmt: skip
            s.cutoff_heard = cutoff
        elif s.blocks % _CUTOFF_STEP == 0 and abs(np.log2(cutoff / s.cutoff_heard)) > 0.01:
            s.filt.set_cutoff(min(cutoff, 0.45 * self.sample_rate))
            s.cutoff_heard = cutoff
        s.blocks += 1
        if s.cutoff_heard < 0.45 * self.sample_rate:
            y = s.filt.process(y.reshape(-1, 1))[:, 0]
        p0 = s.pan
        p1 = p0 + float(np.clip(s.pan_target - p0, -step, step))
        s.pan = p1
        theta = (p0 + (p1 - p0) * (np.arange(1, n + 1) / n) + 1.0) * (np.pi / 4)
        out = np.empty((n, 2))
        out[:, 0] = y * np.cos(theta)
        out[:, 1] = y * np.sin(theta)
        return out

    def render(self, frame0: int, frames: int) -> np.ndarray:
        """The four slots' mix for ``[frame0, frame0 + frames)``, (frames, 2) float32."""
        mix = np.zeros((frames, 2))
        for s in self.slots:
            out = self._render_slot(s, frames)
            if out is not None:
                mix += out
        return mix.astype(np.float32)

    def close(self) -> None:
        for s in self.slots:
            s.voice = s.old = None
