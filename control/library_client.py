"""The daemon's side of the sound library (:mod:`bassd.app.library`): one connection,
opened on first use inside the controller's offload thread, and the ``/status`` figures.

Every method but :meth:`LibraryClient.figures` does SQLite (and numpy) work: the controller
calls them through its ``offload`` only, so the loop never waits for the file (another
process's ``bassd library add`` may hold the write lock; readers never wait in WAL mode).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import numpy as np


class LibraryClient:
    def __init__(self, config: Any) -> None:
        self.config = config  # the library: section (app/library_config.py)
        self.state = "idle" if config.enabled else "off"  # idle -> ready | failed; off
        self.reason = "" if config.enabled else "library.enabled is false"
        self.entries: int | None = None  # as of the last query
        self.queries = 0
        self._db: Any = None
        self._lock = threading.Lock()
        self._times: deque[float] = deque(maxlen=1000)

    def _library(self) -> Any:
        with self._lock:
            if self._db is None:
                from bassd.app.library import Library

                try:
                    self._db = Library(self.config.resolved_path(),
                                       timeout=self.config.busy_timeout_seconds)  # fmt: skip
                except Exception as exc:
                    self.state, self.reason = "failed", str(exc)
                    raise
                self.state, self.reason = "ready", ""
            return self._db

    def connection(self) -> Any:
        """The open :class:`~bassd.app.library.Library` (opened now if need be): for work
        done in the offload thread only (the soundscape layers' mixes and loads)."""
        return self._library()

    def refresh(self) -> int | None:
        """Count the entries (the daemon at start, for /status); no file yet: 0, and none
        is created."""
        if self.state == "off":
            return None
        if self._db is None and not self.config.resolved_path().exists():
            self.entries = 0
            return 0
        self.entries = self._library().count()
        return self.entries

    def _timed(self, t0: float, hits: list[Any], lib: Any) -> list[Any]:
        self.entries = lib.count()
        self.queries += 1
        self._times.append(time.perf_counter() - t0)
        return hits

    def search(self, text: str, vector: Any, top: int) -> list[Any]:
        """Hits for a text (``vector``: its embedding, or None for words only)."""
        t0 = time.perf_counter()
        lib = self._library()
        vec = np.asarray(vector, dtype=np.float32) if vector is not None else None
        return self._timed(t0, lib.search(text, vec, top), lib)

    def similar(self, ref: str, top: int) -> list[Any]:
        """Hits sounding like an entry (id or path) or an audio file."""
        t0 = time.perf_counter()
        lib = self._library()
        return self._timed(t0, lib.similar(ref, top), lib)

    def figures(self) -> dict[str, Any]:
        ms = np.asarray(self._times, dtype=np.float64) * 1000.0
        return {
            "library_state": self.state,
            "library_reason": self.reason,
            "library_entries": self.entries,
            "library_queries": self.queries,
            "library_p50_ms": round(float(np.percentile(ms, 50)), 2) if ms.size else None,
        }

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
