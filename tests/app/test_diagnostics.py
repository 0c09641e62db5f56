"""The daemon's footprint figures and the allocation tracer a soak uses."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from structlog.testing import capture_logs

from bassd.app import diagnostics


def test_figures_count_this_process_blocks_files_and_tasks() -> None:
    """A block named for this pid is counted (another pid's is not), RSS and open files are
    read from /proc, and the loop's tasks are counted on the loop."""
    mine = Path(f"/dev/shm/bassd_{os.getpid()}_test_{os.urandom(4).hex()}")
    other = Path(f"/dev/shm/bassd_1_test_{os.urandom(4).hex()}")
    before = diagnostics.shm_blocks()
    mine.write_bytes(b"\0" * 16)
    other.write_bytes(b"\0" * 16)
    try:
        assert diagnostics.shm_blocks() == before + 1
    finally:
        mine.unlink()
        other.unlink()

    async def main() -> dict:
        extra = asyncio.create_task(asyncio.sleep(1))
        try:
            return diagnostics.figures()
        finally:
            extra.cancel()

    figs = asyncio.run(main())
    assert figs["asyncio_tasks"] == 2 and figs["rss_mb"] > 1 and figs["open_fds"] > 2
    assert diagnostics.figures()["asyncio_tasks"] == 0  # no loop running


def test_tracer_logs_the_allocation_that_grew() -> None:
    """With a list growing between snapshots, the tracer's log names this file's line."""
    hoard: list[bytes] = []

    async def main() -> None:
        task = asyncio.create_task(diagnostics.trace_allocations(0.05))
        for _ in range(20):
            hoard.append(b"x" * 50_000)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        task.cancel()

    with capture_logs() as logs:
        asyncio.run(main())
    tops = [e for e in logs if e["event"] == "tracemalloc_top"]
    assert tops and any("test_diagnostics.py" in g["where"] for g in tops[-1]["growth"])
    assert tops[-1]["growth"][0]["kib"] > 500


def test_heap_figures_follow_what_the_c_allocator_hands_out_and_takes_back() -> None:
    """64 MiB from malloc shows in heap_in_use_mb (glibc's own count), and free() takes it
    out again: the figure a soak reads beside RssAnon to tell a leak from fragmentation."""
    import ctypes

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = diagnostics.heap_mb()
    assert before is not None  # glibc 2.33+ on every machine this project runs on
    block = libc.malloc(64 << 20)
    try:
        held = diagnostics.heap_mb()
        assert held is not None and 63 < held[0] - before[0] < 66
    finally:
        libc.free(block)
    after = diagnostics.heap_mb()
    assert after is not None and abs(after[0] - before[0]) < 2
    figs = diagnostics.figures()
    assert figs["heap_in_use_mb"] > 0 and figs["heap_free_mb"] >= 0


def test_a_heap_trim_gives_freed_temporaries_back_to_the_system() -> None:
    """Blocks freed between blocks still in use stay resident as the allocator's free
    memory; one trim gives their pages back (RssAnon falls) and is counted."""
    import ctypes

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    size = 96 << 10  # under glibc's mmap threshold: from the heap, not a mapping of its own
    blocks = [libc.malloc(size) for _ in range(600)]  # ~56 MiB, touched so it is resident
    for b in blocks:
        libc.memset(b, 1, size)
    kept = blocks[9::10]  # one in ten stays: the freed ones cannot go back as the heap's top
    for b in blocks:
        if b not in kept:
            libc.free(b)
    trim = diagnostics.HeapTrim()
    try:
        held = diagnostics.private_mb()
        took = trim()
        after = diagnostics.private_mb()
    finally:
        for b in kept:
            libc.free(b)
    assert took is not None and held is not None and after is not None
    assert held - after > 30, (held, after)  # ~50 MiB of freed blocks left RssAnon
    figs = trim.figures()
    assert figs["heap_trims"] == 1 and figs["heap_trimmed_mb"] > 30
    assert figs["heap_trim_max_ms"] == round(took, 3)
