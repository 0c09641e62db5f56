"""Actions scheduled on the engine's sample clock (OSC bundles with future timetags).

The pump runs due actions just before it renders the block that contains
their frame, so a bundle lands at the first block boundary at or after its
time, never by sleeping in the event loop.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class FrameScheduler:
    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, frame: int, action: Callable[[], None]) -> bool:
        """Queue ``action`` for ``frame``; False when the queue is full."""
        if len(self._heap) >= self.limit:
            return False
        heapq.heappush(self._heap, (frame, next(self._seq), action))
        return True

    def pop_due(self, before: int) -> list[Callable[[], None]]:
        """Actions whose frame is < ``before``, in time order (ties: arrival order)."""
        out = []
        while self._heap and self._heap[0][0] < before:
            out.append(heapq.heappop(self._heap)[2])
        return out

    def next_frame(self) -> int | None:
        return self._heap[0][0] if self._heap else None
