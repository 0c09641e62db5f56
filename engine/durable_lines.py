"""Whole lines appended to a session's files, surviving a full disk without a torn line.

Each line goes to the OS in one ``write(2)`` on an ``O_APPEND`` descriptor. When the write
fails or is short (the disk filled up under it), the file is cut back to where it was, so
a reader never sees half a row; the line waits in memory (bounded) and every later append
first retries what waits, in order, so writing resumes on its own when space returns.

Failures are counted per kind of file (``events``, ``metrics``, ``clips`` ...) in this
process's :data:`DISK`; the first failure of a kind is logged once (``disk_write_failed``,
with the path and the error) and so is its recovery (``disk_write_resumed``, with the rows
that waited). The music never depends on any of this.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("bassd.disk")


@dataclass
class DiskHealth:
    """Per kind of file: write failures, lines waiting, whether it is failing now."""

    errors: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)  # kind -> the error
    waiting: dict[str, int] = field(default_factory=dict)

    def failed(self, kind: str, path: Path, exc: OSError) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if kind not in self.failing:  # once per kind until it recovers
            text = os.strerror(exc.errno) if exc.errno else str(exc)
            self.failing[kind] = text
            log.error("disk_write_failed", kind=kind, path=str(path), error=text,
                      note="the music goes on; rows wait in memory and are written when "
                           "the disk takes them again")  # fmt: skip

    def recovered(self, kind: str, path: Path, rows: int) -> None:
        if self.failing.pop(kind, None) is not None:
            log.info("disk_write_resumed", kind=kind, path=str(path), rows_written=rows)

    def figures(self) -> dict[str, Any]:
        return {
            "disk_errors": sum(self.errors.values()),
            "disk_failing": ",".join(sorted(self.failing)),
            "disk_waiting_rows": sum(self.waiting.values()),
            "disk_dropped_rows": sum(self.dropped.values()),
        }


DISK = DiskHealth()  # this process's


class LineAppender:
    """Appends whole lines to ``path``; ``header`` (a whole line, its terminator included)
    starts the file when it is new or empty."""

    def __init__(
        self,
        path: Path,
        kind: str,
        *,
        header: str | None = None,
        max_waiting: int = 100_000,
        fsync: bool = False,
        health: DiskHealth = DISK,
    ) -> None:
        self.path = Path(path)
        self.kind = kind
        self.header = header
        self.fsync = fsync
        self.health = health
        self.max_waiting = max_waiting
        self._waiting: deque[str] = deque()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.written = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._open()
        if header is not None:  # a new file shows its columns at once (or with its first row)
            self.retry_header()

    def retry_header(self) -> None:
        assert self._fd is not None and self.header is not None
        if os.fstat(self._fd).st_size == 0:
            try:
                self._write_whole("")
            except OSError as exc:
                self.health.failed(self.kind, self.path, exc)

    def _open(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def append(self, line: str) -> bool:
        """Queue ``line`` (one row, ending in a newline) and write what can be written;
        True when it is on disk now."""
        with self._lock:
            if len(self._waiting) >= self.max_waiting:
                self._waiting.popleft()  # bounded: the oldest waiting row goes
                self.health.dropped[self.kind] = self.health.dropped.get(self.kind, 0) + 1
            self._waiting.append(line)
            return self._drain()

    def retry(self) -> bool:
        """Write what waits (a periodic call lets writing resume with no new row)."""
        with self._lock:
            return self._drain() if self._waiting else True

    def _drain(self) -> bool:
        was_failing = self.kind in self.health.failing
        done = 0
        try:
            self._open()
            while self._waiting:
                self._write_whole(self._waiting[0])
                self._waiting.popleft()
                done += 1
        except OSError as exc:
            self.health.failed(self.kind, self.path, exc)
            self.health.waiting[self.kind] = len(self._waiting)
            return False
        self.health.waiting[self.kind] = 0
        if was_failing:
            self.health.recovered(self.kind, self.path, done)
        return True

    def _write_whole(self, line: str) -> None:
        assert self._fd is not None
        fd = self._fd
        size = os.fstat(fd).st_size
        data = line.encode("utf-8")
        if size == 0 and self.header is not None:
            data = self.header.encode("utf-8") + data
        try:
            n = os.write(fd, data)
            if n != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            if self.fsync:
                os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # no torn line: back to the last whole row
            raise
        if line:
            self.written += 1

    def close(self) -> None:
        with self._lock:
            if self._waiting:
                self._drain()
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
