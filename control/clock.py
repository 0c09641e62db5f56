"""The session clock: what ``t`` means in events.csv and for the heart-rate rules.

Live, it is wall-clock seconds since the session started (monotonic): it keeps
running while the audio device is down, so heart-rate samples keep their
timestamps, staleness and calibration keep their pace during a reopen.
Offline, it is the simulated clock of the render (the engine's seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class SessionClock(Protocol):
    def now(self) -> float:
        """Seconds since the session started."""
        ...

    def segment_time(self, engine_seconds: float) -> float:
        """The session time of a segment that starts at ``engine_seconds`` of audio."""
        ...


class WallClock:
    """Live: monotonic seconds since construction."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> float:
        return self._monotonic() - self._t0

    def segment_time(self, engine_seconds: float) -> float:
        return self.now()  # rendered ~20 ms before it is heard


class RenderClock:
    """Offline: the engine's simulated clock."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self._seconds = seconds

    def now(self) -> float:
        return self._seconds()

    def segment_time(self, engine_seconds: float) -> float:
        return engine_seconds
