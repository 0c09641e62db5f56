"""Lock-free single-producer/single-consumer ring of audio frames in shared memory.

The layout is defined in ``rtcore.h``; positions are published with the C
core's release stores and read with its acquire loads, so the ring is safe
between two threads and between two processes (the neural renderers run in
another process). Exactly one producer and one consumer may use a ring.
"""

from __future__ import annotations

import contextlib
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np

from bassd.engine._rtcore import ffi, lib
from bassd.engine.shm_names import new_name

HEADER_BYTES = 256
MAGIC = 0x62617373


def _is_pow2(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


class SharedRing:
    """A float32 frame ring: ``capacity`` frames (a power of two) of ``channels``."""

    def __init__(self, capacity: int, channels: int = 2, *, name: str | None = None) -> None:
        if not _is_pow2(capacity):
            raise ValueError(f"ring capacity must be a power of two, got {capacity}")
        if not 1 <= channels <= 8:
            raise ValueError(f"ring channels must be 1..8, got {channels}")
        size = HEADER_BYTES + capacity * channels * 4
        self._shm = shared_memory.SharedMemory(
            name=name or new_name("ring"), create=True, size=size
        )
        self._owner = True
        self._setup()
        header = np.ndarray((3,), dtype=np.uint32, buffer=self._shm.buf, offset=128)
        header[:] = (MAGIC, capacity, channels)
        self._init_views()

    @classmethod
    def attach(cls, name: str, *, own_tracker: bool = True) -> SharedRing:
        """Open a ring created by another process (that process keeps ownership).

        ``own_tracker=False`` for a ``multiprocessing`` child that shares its parent's
        resource tracker: the owner's registration must then stay as it is."""
        self = cls.__new__(cls)
        self._shm = shared_memory.SharedMemory(name=name, create=False)
        # Python < 3.13 registers attached blocks with the resource tracker and
        # unlinks them when this process exits, destroying the owner's ring.
        if own_tracker:
            with contextlib.suppress(Exception):
                resource_tracker.unregister(self._shm._name, "shared_memory")  # type: ignore[attr-defined]
        self._owner = False
        self._setup()
        magic, _, _ = np.ndarray((3,), dtype=np.uint32, buffer=self._shm.buf, offset=128)
        if int(magic) != MAGIC:
            self.close()
            raise ValueError(f"shared memory block {name!r} is not a bassd ring")
        self._init_views()
        return self

    def _setup(self) -> None:
        self._base: Any = ffi.cast("uint8_t *", ffi.from_buffer(self._shm.buf))

    def _init_views(self) -> None:
        _, capacity, channels = np.ndarray((3,), dtype=np.uint32, buffer=self._shm.buf, offset=128)
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._mask = self.capacity - 1
        self._data = np.ndarray(
            (self.capacity, self.channels),
            dtype=np.float32,
            buffer=self._shm.buf,
            offset=HEADER_BYTES,
        )

    @property
    def name(self) -> str:
        return self._shm.name

    @property
    def base(self) -> Any:
        """The cffi ``uint8_t *`` the C consumer is wired to."""
        return self._base

    @property
    def write_pos(self) -> int:
        return int(lib.bassd_ring_load_write(self._base))

    @property
    def read_pos(self) -> int:
        return int(lib.bassd_ring_load_read(self._base))

    def fill(self) -> int:
        """Frames written and not yet read."""
        return self.write_pos - self.read_pos

    def free(self) -> int:
        return self.capacity - self.fill()

    def write(self, frames: np.ndarray) -> int:
        """Producer side: append as many frames as fit; returns how many were written."""
        w = self.write_pos
        n = min(len(frames), self.capacity - (w - self.read_pos))
        if n <= 0:
            return 0
        start = w & self._mask
        first = min(n, self.capacity - start)
        self._data[start : start + first] = frames[:first]
        if n > first:
            self._data[: n - first] = frames[first:n]
        lib.bassd_ring_store_write(self._base, w + n)
        return n

    def read_into(self, out: np.ndarray) -> int:
        """Consumer side (Python): copy up to ``len(out)`` frames into ``out``."""
        r = self.read_pos
        n = min(len(out), self.write_pos - r)
        if n <= 0:
            return 0
        start = r & self._mask
        first = min(n, self.capacity - start)
        out[:first] = self._data[start : start + first]
        if n > first:
            out[first:n] = self._data[: n - first]
        lib.bassd_ring_store_read(self._base, r + n)
        return n

    def peek(self, n: int) -> np.ndarray:
        """Consumer side: a copy of up to ``n`` unread frames, leaving them unread."""
        r = self.read_pos
        n = min(n, self.write_pos - r)
        idx = (r + np.arange(max(n, 0))) & self._mask
        return np.array(self._data[idx])

    def read(self, n: int) -> np.ndarray:
        out = np.empty((n, self.channels), dtype=np.float32)
        got = self.read_into(out)
        return out[:got]

    def close(self) -> None:
        """Release this process's mapping (the owner also unlinks the block)."""
        self._data = None  # type: ignore[assignment]
        self._base = None
        # BufferError: a view is still alive somewhere; the OS unmaps at exit
        with contextlib.suppress(BufferError):
            self._shm.close()
        if self._owner:
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._owner = False

    def __enter__(self) -> SharedRing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
