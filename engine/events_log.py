"""Per-session ``events.csv``: one row per event, columns ``t,kind,value,detail``.

``t`` is seconds on the engine clock since the session started (3 decimals).
Each row is handed to the OS as soon as it is written (flush per row), so a crash
of the process loses nothing; ``fsync=True`` also survives a power cut, at the
cost of a disk sync per row. An existing file is appended to, never truncated.
"""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

COLUMNS = ("t", "kind", "value", "detail")


class SessionEvents:
    def __init__(self, sessions_dir: Path, session: str, *, fsync: bool = False) -> None:
        if not session or session in (".", "..") or "/" in session or "\\" in session:
            raise ValueError(f"session name must be one path component, got {session!r}")
        folder = Path(sessions_dir) / session
        folder.mkdir(parents=True, exist_ok=True)
        self._path = folder / "events.csv"
        self._fsync = fsync
        self._lock = threading.Lock()
        self.rows = 0
        self._file = open(self._path, "a+", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            self._file.seek(0)
            first = self._file.readline().rstrip("\r\n")
            if first and first != ",".join(COLUMNS):
                raise ValueError(f"{self._path}: existing header {first!r} is not {COLUMNS}")
            self._writer = csv.writer(self._file)
            if not first:
                self._writer.writerow(COLUMNS)
                self._flush()
        except BaseException:
            self._file.close()
            raise

    @property
    def path(self) -> Path:
        return self._path

    @property
    def closed(self) -> bool:
        return self._file.closed

    def write(self, t: float, kind: str, value: object, detail: str = "") -> None:
        """Append one row and hand it to the OS before returning."""
        row = (f"{t:.3f}", kind, "" if value is None else str(value), detail)
        with self._lock:
            if self._file.closed:
                raise ValueError(f"{self._path}: write after close")
            self._writer.writerow(row)
            self._flush()
            self.rows += 1

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def _flush(self) -> None:
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
