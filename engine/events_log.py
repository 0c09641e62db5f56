"""Per-session ``events.csv``: one row per event, columns ``t,kind,value,detail``.

``t`` is seconds on the engine clock since the session started (3 decimals).
Each row is handed to the OS in one write as soon as it is written, so a crash of
the process loses nothing; ``fsync=True`` also survives a power cut, at the cost
of a disk sync per row. An existing file is appended to, never truncated. On a
full disk no row is torn: it waits in memory and is written when space returns
(``engine/durable_lines.py``).
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from bassd.engine.durable_lines import LineAppender

COLUMNS = ("t", "kind", "value", "detail")


class SessionEvents:
    def __init__(self, sessions_dir: Path, session: str, *, fsync: bool = False) -> None:
        if not session or session in (".", "..") or "/" in session or "\\" in session:
            raise ValueError(f"session name must be one path component, got {session!r}")
        folder = Path(sessions_dir) / session
        folder.mkdir(parents=True, exist_ok=True)
        self._path = folder / "events.csv"
        self._lock = threading.Lock()
        self.rows = 0
        if self._path.exists():
            with self._path.open(encoding="utf-8", newline="") as f:
                first = f.readline().rstrip("\r\n")
            if first and first != ",".join(COLUMNS):
                raise ValueError(f"{self._path}: existing header {first!r} is not {COLUMNS}")
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf)
        header = ",".join(COLUMNS) + "\r\n"  # as csv writes its rows
        self._out = LineAppender(self._path, "events", header=header, fsync=fsync)
        self._closed = False

    @property
    def path(self) -> Path:
        return self._path

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        """Rows not on disk yet (the disk refused them; they are retried)."""
        return self._out.waiting

    def write(self, t: float, kind: str, value: object, detail: str = "") -> bool:
        """Append one row and hand it to the OS before returning; False when the disk
        refused it (it waits, and goes out with the next row or :meth:`retry`)."""
        row = (f"{t:.3f}", kind, "" if value is None else str(value), detail)
        with self._lock:
            if self._closed:
                raise ValueError(f"{self._path}: write after close")
            self._buf.seek(0)
            self._buf.truncate()
            self._writer.writerow(row)
            self.rows += 1
            return self._out.append(self._buf.getvalue())

    def retry(self) -> bool:
        return self._out.retry()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._out.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
