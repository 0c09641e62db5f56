"""Slow work off the event loop: a thread at normal priority, its result back on the loop.

The daemon's loop thread runs at SCHED_FIFO, and threads inherit that; the
work (reading and validating a prompt bank file, ...) drops to SCHED_OTHER
first, so it never competes with the pump at real-time priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from typing import Any


class ThreadOffload:
    def __init__(self, spawn: Callable[[Coroutine[Any, Any, None], str], None]) -> None:
        self._spawn = spawn  # keeps a strong reference to the task (and notices failures)

    def __call__(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[Exception], None],
    ) -> None:
        def job() -> Any:
            with contextlib.suppress(OSError, AttributeError):
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))  # this thread only
            return work()

        async def run() -> None:
            try:
                result = await asyncio.get_running_loop().run_in_executor(None, job)
            except Exception as exc:
                failed(exc)
                return
            done(result)

        self._spawn(run(), "offload")
