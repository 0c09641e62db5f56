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

import math
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
    drift_from: tuple[float, float] = (0.0, 0.0)
    drift_to: tuple[float, float] = (0.0, 0.0)
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
        for s in self.slots:  # the first drift target: the drift moves from the start
            d0, d1 = s.rng.uniform(-1.0, 1.0, 2)
            s.drift_to = (float(d0), float(d1))
        self.vibe = ""
        self.changes = 0
        self._ramps: dict[int, np.ndarray] = {}

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
            d0, d1 = s.rng.uniform(-1.0, 1.0, 2)
            s.drift_to = (float(d0), float(d1))
        u = 0.5 - 0.5 * math.cos(math.pi * s.drift_t / self.drift_frames)
        (f0, f1), (t0, t1) = s.drift_from, s.drift_to
        return (f0 + (t0 - f0) * u) * self.drift_db, (f1 + (t1 - f1) * u) * self.drift_octaves

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
        silent = s.muted or (s.voice is None and s.old is None)
        target = 0.0 if silent else 10.0 ** ((s.gain_db + gain_drift) / 20.0)
        if mono is None and s.gain == 0.0:
            return None
        if mono is None:
            mono = np.zeros(n)
        cutoff = min(max(s.cutoff * 2.0**oct_drift, 20.0), _MAX_CUTOFF)
        top = 0.45 * self.sample_rate
        if s.filt is None:
            s.filt = StreamingFilter("lowpass", min(cutoff, top), self.sample_rate,
                                     channels=1, order=2)  # fmt: skip
            s.cutoff_heard = cutoff
        elif s.blocks % _CUTOFF_STEP == 0 and abs(math.log2(cutoff / s.cutoff_heard)) > 0.01:
            s.filt.set_cutoff(min(cutoff, top))
            s.cutoff_heard = cutoff
        s.blocks += 1
        y = mono.reshape(-1, 1)
        if s.cutoff_heard < top:
            y = s.filt.process(y)
        # gain and pan move at most one full scale per crossfade time (a fade, never a
        # step), as one linear ramp per channel from the block's first gains to its last
        step = n / self.crossfade_frames
        g0, p0 = s.gain, s.pan
        s.gain = g0 + min(max(target - g0, -step), step)
        s.pan = p0 + min(max(s.pan_target - p0, -step), step)
        t0, t1 = (p0 + 1.0) * (math.pi / 4), (s.pan + 1.0) * (math.pi / 4)
        a = (g0 * math.cos(t0), g0 * math.sin(t0))
        b = (s.gain * math.cos(t1), s.gain * math.sin(t1))
        if a == b:
            return y * np.array(a)
        return y * (np.array(a) + np.array((b[0] - a[0], b[1] - a[1])) * self._ramp(n))

    def _ramp(self, n: int) -> np.ndarray:
        """(n, 1): 1/n .. 1, cached per block size."""
        r = self._ramps.get(n)
        if r is None:
            r = self._ramps[n] = (np.arange(1, n + 1) / n).reshape(-1, 1)
        return r

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
