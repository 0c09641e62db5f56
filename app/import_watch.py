"""Imports while the music plays: done before it starts, and counted if one still happens.

An import on the loop thread reads files (tens of ms on a cold page cache or a slow
disk) and runs module code holding the GIL: the pump misses its turn and the ring
drains. Some imports happen on first use, inside libraries: numpy loads ``numpy.ma``
on the first ``nanmedian`` (the HRV window's artefact filter) and ``numpy.fft`` on the
first FFT; ``ProcessPoolExecutor`` imports ``multiprocessing.synchronize`` when it is
built (the segment log's worker, at the first segment's end). :func:`warm` imports
them before the first callback, and builds the tables first use would build (the
limiter's). :class:`ImportWatch` notices any module that still
arrives later (``len(sys.modules)`` each heartbeat: no audit hook on the hot path),
logs which and counts them (``/status`` ``late_imports``).
"""

from __future__ import annotations

import importlib
import sys

import structlog

log = structlog.get_logger("bassd.imports")

# imported on first use by code that runs on the loop while the device plays
FIRST_USE = (
    "numpy.ma",  # numpy's nanmedian (dsp/hrv.py), np.unique with some arguments
    "numpy.fft",  # numpy loads its FFT module lazily
    "numpy.random",  # and its random generators (the planner's and the jam's choices)
    "bassd.dsp.som",  # a sound's map (/renderer/partials: loaded in a thread, with the GIL)
    "multiprocessing.synchronize",  # ProcessPoolExecutor's construction (engine/metrics_sink.py)
    "multiprocessing.popen_spawn_posix",  # its first worker's start
    "encodings.idna",  # the first host name resolved (OSCQuery's HTTP server)
    "bassd.app.library",  # the sound library (/library/*: sqlite3, its features; a thread)
)


def warm(modules: tuple[str, ...] = FIRST_USE) -> None:
    """Import ``modules`` now (before the music starts), and build the tables the loop would
    build on first use (the limiter's, for the first bank's loudness: 15-25 ms, which a
    stall dump caught on the loop in a live test)."""
    for name in modules:
        importlib.import_module(name)
    from bassd.dsp import loudness

    loudness.precompute()


class ImportWatch:
    """Counts the modules imported after :meth:`arm` (any thread of this process)."""

    def __init__(self) -> None:
        self.late_imports = 0
        self._known: set[str] | None = None
        self._size = 0

    def arm(self) -> None:
        self._known = set(sys.modules)
        self._size = len(sys.modules)

    def check(self) -> list[str]:
        """The modules that arrived since the last check (logged and counted)."""
        if self._known is None or len(sys.modules) == self._size:
            return []
        new = sorted(set(sys.modules) - self._known)
        self._known.update(new)
        self._size = len(sys.modules)
        if new:
            self.late_imports += len(new)
            log.warning("late_import", modules=new[:20], count=len(new), total=self.late_imports)
        return new
