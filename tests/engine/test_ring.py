"""The shared-memory SPSC ring: order, wrap-around, capacity, and two processes."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bassd.engine.ring import SharedRing


def _frames(start: int, n: int, channels: int = 2) -> np.ndarray:
    """Frames whose samples encode their global index (exact in float32 below 2**24)."""
    idx = np.arange(start, start + n, dtype=np.float32)
    return np.stack([idx + 0.25 * c for c in range(channels)], axis=1)


@settings(max_examples=150, deadline=None)
@given(
    capacity_log2=st.integers(2, 10),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 1500)), min_size=1, max_size=60),
)
def test_no_sample_lost_duplicated_or_reordered(
    capacity_log2: int, ops: list[tuple[bool, int]]
) -> None:
    """Any interleaving of writes and reads of any sizes delivers every frame exactly once, in order."""
    capacity = 1 << capacity_log2
    with SharedRing(capacity, 2) as ring:
        written = read = 0
        for is_write, n in ops:
            if is_write:
                got = ring.write(_frames(written, n))
                assert got == min(n, capacity - (written - read))
                written += got
            else:
                out = ring.read(n)
                assert len(out) == min(n, written - read)
                np.testing.assert_array_equal(out, _frames(read, len(out)))
                read += len(out)
            assert ring.fill() == written - read
            assert 0 <= ring.fill() <= capacity
        rest = ring.read(capacity)
        np.testing.assert_array_equal(rest, _frames(read, written - read))


def test_capacity_must_be_power_of_two() -> None:
    """A ring whose size is not a power of two is refused with a clear message."""
    with pytest.raises(ValueError, match="power of two"):
        SharedRing(1000, 2)


def test_attach_rejects_foreign_block() -> None:
    """Attaching to a shared memory block that is not a ring fails clearly."""
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=4096)
    try:
        with pytest.raises(ValueError, match="not a bassd ring"):
            SharedRing.attach(shm.name)
    finally:
        shm.close()
        shm.unlink()


def _producer(name: str, total: int, seed: int) -> None:
    ring = SharedRing.attach(name)
    rng = np.random.default_rng(seed)
    sent = 0
    while sent < total:
        n = int(rng.integers(1, 700))
        sent += ring.write(_frames(sent, min(n, total - sent)))
    ring.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_two_processes(seed: int) -> None:
    """A producer in another process streams 300k frames; the consumer gets each once, in order."""
    total = 300_000
    with SharedRing(1024, 2) as ring:
        ctx = mp.get_context("spawn")
        proc = ctx.Process(target=_producer, args=(ring.name, total, seed))
        proc.start()
        rng = np.random.default_rng(seed + 100)
        got = 0
        while got < total:
            out = ring.read(int(rng.integers(1, 900)))
            if len(out):
                np.testing.assert_array_equal(out, _frames(got, len(out)))
                got += len(out)
            elif not proc.is_alive() and ring.fill() == 0:
                break
        proc.join(30)
        assert proc.exitcode == 0
        assert got == total
