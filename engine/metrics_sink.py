"""The metrics sink: finished segments are measured and recorded in a worker process.

Measuring a segment (BS.1770 loudness, FFT) holds the GIL for tens of
milliseconds, which would stall the real-time pump, so a one-process pool
does it. The worker ignores SIGINT and SIGTERM (Ctrl-C and ``systemctl stop``
signal the whole process group; the daemon decides when it ends) and logs
through the initializer the daemon gives it. A pool that breaks (its worker
killed) is replaced and the segment is tried once more, so one lost worker
never loses a row or stops the pump.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

import structlog

from bassd.engine.core import SegmentRecord

log = structlog.get_logger("bassd.metrics")


class SegmentWriter(Protocol):
    """Writes one finished segment's records (picklable: it runs in the worker)."""

    def write(self, rec: SegmentRecord) -> object: ...  # SegmentLog: the row (and "_disk")


class MetricsSink:
    def __init__(
        self,
        writer: SegmentWriter,
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.writer = writer
        self._initializer = initializer
        self._initargs = initargs
        self._pool: ProcessPoolExecutor | None = None
        self._pending: set[asyncio.Task[None]] = set()  # strong references
        self.written = 0
        self.errors = 0
        self.pool_restarts = 0
        self.worker_disk: dict[str, Any] = {}  # the worker's disk figures, from its last row

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=self._initializer,
                initargs=self._initargs,
            )
        return self._pool

    def start(self) -> None:
        """Start the worker process now (before the music), not on the first segment's end."""
        self._executor().submit(os.getpid)

    def _replace_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self.pool_restarts += 1

    def submit(self, rec: SegmentRecord) -> None:
        """Measure and record ``rec`` in the worker; returns at once."""
        task = asyncio.get_running_loop().create_task(self._write(rec))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, rec: SegmentRecord) -> None:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            try:
                result = await loop.run_in_executor(self._executor(), self.writer.write, rec)
            except BrokenProcessPool as exc:
                log.warning("metrics_worker_lost", segment=rec.index, attempt=attempt,
                            error=str(exc))  # fmt: skip
                self._replace_pool()
                continue
            except asyncio.CancelledError:
                rec.release()
                raise
            except Exception as exc:
                self.errors += 1
                rec.release()  # the worker may have failed before freeing it
                log.error("segment_log_failed", segment=rec.index, error=str(exc))
                return
            self.written += 1
            if isinstance(result, dict) and "_disk" in result:
                self.worker_disk = json.loads(result["_disk"])
            return
        self.errors += 1
        rec.release()
        log.error("segment_log_failed", segment=rec.index, error="metrics worker lost twice")

    async def drain(self) -> None:
        """Wait until every submitted segment is recorded (at shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def close(self, wait: bool = True) -> None:
        """Shut the worker down (``wait=False``: now, dropping what is queued)."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)
            self._pool = None
