"""The garbage collector, timed: a collection while the music plays runs on whichever
thread allocated, the loop included, so a long one is a stall of bassd's own.

``gc.callbacks`` times each collection (a float subtraction, no allocation beyond the
callback's own frame); the heartbeat logs the slow ones. Start-up's heap is collected
once and frozen before the device opens (``app/daemon.py``), so what is left to walk is
what the session made since.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import structlog

log = structlog.get_logger("bassd.gc")

SLOW_S = 0.002  # a collection longer than this is logged (a tenth of the ring's lead)


class GcWatch:
    def __init__(self) -> None:
        self.collections = 0
        self.slow = 0  # collections over SLOW_S
        self.max_s = 0.0
        self._t0 = 0.0
        self._pending: list[tuple[int, float, int]] = []  # (generation, seconds, collected)

    def arm(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def disarm(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            return
        took = time.perf_counter() - self._t0
        self.collections += 1
        self.max_s = max(self.max_s, took)
        if took > SLOW_S:
            self.slow += 1
            if len(self._pending) < 10:
                self._pending.append((info["generation"], took, info["collected"]))

    def check(self) -> None:
        """Log the slow collections since the last check (the heartbeat calls this)."""
        pending, self._pending = self._pending, []
        for generation, took, collected in pending:
            log.warning("slow_gc", generation=generation, took_ms=round(took * 1e3, 2),
                        collected=collected, slow_gcs=self.slow)  # fmt: skip
