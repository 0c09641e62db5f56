"""Renderers with known output, for scheduler tests (picklable: module level)."""

from __future__ import annotations

import time

import numpy as np

from bassd.engine.renderer import RenderRequest


class ConstantJob:
    """Streaming job that outputs the constant ``level`` (identifies the segment)."""

    def __init__(self, request: RenderRequest, level: float) -> None:
        self.request = request
        self.renderer = "constant"
        self.level = level
        self._frames = 0

    def ready(self) -> bool:
        return True

    def read(self, frames: int) -> np.ndarray:
        self._frames += frames
        return np.full((frames, 2), self.level, dtype=np.float32)

    @property
    def render_seconds(self) -> float:
        return 0.0

    @property
    def frames_rendered(self) -> int:
        return self._frames

    def close(self) -> None:
        pass


class ConstantRenderer:
    """Segment k plays the constant (k + 1) / 100."""

    name = "constant"

    def submit(self, request: RenderRequest) -> ConstantJob:
        return ConstantJob(request, (request.index + 1) / 100)

    def close(self) -> None:
        pass


def slow_tone_clip(request: RenderRequest) -> np.ndarray:
    """A clip function that takes 20 s of wall time: always late for a fast offline engine."""
    time.sleep(20)
    return tone_clip(request)


def tone_clip(request: RenderRequest) -> np.ndarray:
    """A 330 Hz tone clip (stereo) of the requested length."""
    t = np.arange(request.frames) / request.sample_rate
    x = 0.2 * np.sin(2 * np.pi * 330 * t)
    return np.stack([x, x], axis=1).astype(np.float32)


def sleepy_tone_clip(request: RenderRequest) -> np.ndarray:
    """A tone clip that takes 1.5 s of wall time (long enough to be killed mid-render)."""
    time.sleep(1.5)
    return tone_clip(request)
