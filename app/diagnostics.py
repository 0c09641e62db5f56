"""The daemon's own footprint, for /status and long soaks: RSS, open files, its shared
memory blocks, asyncio tasks; and, with ``debug.tracemalloc``, the Python allocations that
grew (logged every ``debug.tracemalloc_seconds``).

Everything here reads /proc and the interpreter; nothing touches the audio path.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
import time
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("bassd.diagnostics")

SHM = Path("/dev/shm")


def _status_mib(pid: int | str, key: str) -> float | None:
    """One ``key: N kB`` line of /proc/PID/status in MiB, None where unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_mb(pid: int | str = "self") -> float | None:
    """Resident set size of a process (MiB) from /proc, None where unreadable."""
    return _status_mib(pid, "VmRSS:")


def private_mb(pid: int | str = "self") -> float | None:
    """The process's own heap and stacks (MiB): RssAnon from /proc, which leaves out the
    shared-memory blocks and mapped files that VmRSS counts (a clip block mapped by both
    the daemon and the neural worker shows in both VmRSS figures). None where unreadable."""
    return _status_mib(pid, "RssAnon:")


def open_fds(pid: int | str = "self") -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def shm_blocks(pid: int | None = None) -> int:
    """This daemon's shared-memory blocks (named ``bassd_<pid>_...``)."""
    prefix = f"bassd_{pid or os.getpid()}_"
    try:
        return sum(1 for p in SHM.iterdir() if p.name.startswith(prefix))
    except OSError:
        return 0


class _MallInfo2(ctypes.Structure):
    _fields_ = [  # glibc's struct mallinfo2 (2.33+): every field a size_t
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                     "uordblks", "fordblks", "keepcost")
    ]  # fmt: skip


def _libc(name: str, restype: Any, argtypes: list[Any]) -> Any:
    """A function of the C library by name, typed (None where it has no such function:
    ``mallinfo2`` and ``malloc_trim`` are glibc's; musl, macOS, a glibc before 2.33)."""
    try:
        fn = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    fn.restype, fn.argtypes = restype, argtypes
    return fn


_MALLINFO2 = _libc("mallinfo2", _MallInfo2, [])
MIB = 1 << 20


def heap_mb() -> tuple[float, float] | None:
    """The C heap by glibc's own count, all arenas (MiB): (in use, free but held). In use
    is what malloc handed out and not yet freed (``uordblks`` + mmapped ``hblkhd``); free is
    what the arenas hold for reuse (``fordblks``). A leak grows the first; fragmentation
    grows the second and RssAnon with it. None where the C library has no mallinfo2."""
    if _MALLINFO2 is None:
        return None
    m = _MALLINFO2()
    return (m.uordblks + m.hblkhd) / MIB, m.fordblks / MIB


_MALLOC_TRIM = _libc("malloc_trim", ctypes.c_int, [ctypes.c_size_t])


class HeapTrim:
    """glibc's ``malloc_trim(0)`` now and then: the free pages of every arena go back to the
    system (madvise), so RSS follows what is in use rather than its high-water mark. An
    hour's soak saw RssAnon rise in steps of 1-3 MiB with the heap in use flat: freed
    temporaries held as free memory (1.8 -> 5.4 MiB). Counted for /status."""

    def __init__(self) -> None:
        self.trims = 0
        self.max_ms = 0.0
        self.released_mb = 0.0  # RssAnon given back, summed over the trims

    @property
    def available(self) -> bool:
        return _MALLOC_TRIM is not None

    def __call__(self) -> float | None:
        """Trim once; the milliseconds it took (None without glibc)."""
        if _MALLOC_TRIM is None:
            return None
        before = private_mb()
        t0 = time.perf_counter()
        _MALLOC_TRIM(0)
        took_ms = (time.perf_counter() - t0) * 1e3
        after = private_mb()
        self.trims += 1
        self.max_ms = max(self.max_ms, took_ms)
        if before is not None and after is not None:
            self.released_mb += max(0.0, before - after)
        return took_ms

    def figures(self) -> dict[str, Any]:
        return {"heap_trims": self.trims, "heap_trim_max_ms": round(self.max_ms, 3),
                "heap_trimmed_mb": round(self.released_mb, 2)}  # fmt: skip


def figures() -> dict[str, Any]:
    """rss_mb, heap_in_use_mb, heap_free_mb, py_blocks, open_fds, shm_blocks, asyncio_tasks."""
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:  # no running loop
        tasks = 0
    rss = rss_mb()
    heap = heap_mb()
    return {
        "rss_mb": round(rss, 2) if rss is not None else None,
        "heap_in_use_mb": round(heap[0], 2) if heap is not None else None,
        "heap_free_mb": round(heap[1], 2) if heap is not None else None,
        # Python's own objects live in pymalloc arenas it maps itself, outside malloc's count
        "py_blocks": sys.getallocatedblocks(),
        "open_fds": open_fds(),
        "shm_blocks": shm_blocks(),
        "asyncio_tasks": tasks,
    }


def disk_figures(worker: dict[str, Any]) -> dict[str, Any]:
    """This process's disk figures (events.csv ...) with the metrics worker's (metrics.csv,
    clips): errors, kinds failing now, rows waiting in memory, rows dropped."""
    from bassd.engine.durable_lines import DISK

    mine = DISK.figures()
    out = {k: int(mine[k]) + int(worker.get(k, 0))
           for k in ("disk_errors", "disk_waiting_rows", "disk_dropped_rows")}  # fmt: skip
    kinds = {k for f in (mine, worker) for k in str(f.get("disk_failing", "")).split(",") if k}
    return {**out, "disk_failing": ",".join(sorted(kinds))}


async def trace_allocations(every_s: float, top: int = 10) -> None:
    """Log the ``top`` allocation sites that grew most since the first snapshot, every
    ``every_s`` seconds (``tracemalloc_top``), until cancelled."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        tracemalloc.start(8)
    first = tracemalloc.take_snapshot()
    try:
        while True:
            await asyncio.sleep(every_s)
            now = tracemalloc.take_snapshot()
            diffs = now.compare_to(first, "traceback")[:top]
            traced = tracemalloc.get_traced_memory()[0] / 2**20
            growth = [{"kib": round(d.size_diff / 1024, 1), "count": d.count_diff,
                       "where": str(d.traceback[0])} for d in diffs]  # fmt: skip
            log.info("tracemalloc_top", traced_mb=round(traced, 2), growth=growth)
    finally:
        tracemalloc.stop()
