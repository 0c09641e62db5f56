"""``answers.csv`` of a listening test: one whole row per accepted answer, durable.

Each row goes to the OS in one ``write(2)`` on an ``O_APPEND`` descriptor and is fsynced
before the server replies, so an answer the page was told is saved survives a crash. A
short write is cut back, so a reader never sees half a row; a torn last line left by a
power cut is cut off when the file is opened again (and logged). The header is written
once, when the file is new.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("bassd.listen")

COLUMNS = (
    "listener",
    "listener_index",
    "trial",
    "position",
    "kind",
    "stimuli",  # the blinded stimuli in the order shown (A B, or the MUSHRA page's order)
    "reference",  # MUSHRA: the open reference's token
    "choice",  # A/B: A or B
    "chosen",  # A/B: the chosen stimulus's token
    "ratings",  # MUSHRA: JSON {token: {scale: 0..100}}
    "played",  # JSON {token: true}: every stimulus played to its end
    "started_utc",
    "answered_utc",
)


def _line(values: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8")


class AnswersBusy(RuntimeError):
    """Another process holds the answers file (a second server on the same test)."""


class AnswerFile:
    """``answers.csv``, held with an exclusive lock while open (one server per test)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AnswersBusy(f"{self.path}: another `bassd listen serve` is using it") from None
        self._fd = fd
        self._repair()
        if os.fstat(fd).st_size == 0:
            self._append(_line(list(COLUMNS)))

    def _repair(self) -> None:
        """Cut a torn last line (no newline at the end) left by a crash mid-write."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as f:
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())
            log.warning("listen_answers_repaired", path=str(self.path), cut_bytes=len(data) - keep)

    def _append(self, line: bytes) -> None:
        size = os.fstat(self._fd).st_size
        try:
            n = os.write(self._fd, line)
            if n != len(line):
                raise OSError(f"short write ({n} of {len(line)} bytes)")
            os.fsync(self._fd)
        except OSError:
            os.ftruncate(self._fd, size)
            raise

    def append(self, row: dict[str, Any]) -> None:
        """One answer; raises OSError (the row is then not in the file)."""
        values = []
        for c in COLUMNS:
            v = row.get(c, "")
            values.append(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else str(v))
        self._append(_line(values))

    def close(self) -> None:
        os.close(self._fd)


def read_answers(path: Path) -> list[dict[str, str]]:
    """The rows of ``answers.csv`` (none when it does not exist)."""
    p = Path(path)
    if not p.exists():
        return []
    with open(p, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
