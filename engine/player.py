"""The C callback's state (``bassd_player``) in shared memory.

The device process's callback writes its counters there; the daemon reads them
(status, watchdog) and can set ``fail_once`` for fault injection. Only the
device process sets the ``ring`` pointer, which is an address in its own space.
"""

from __future__ import annotations

import contextlib
from multiprocessing import resource_tracker, shared_memory
from typing import Any

from bassd.engine._rtcore import ffi

SIZE = ffi.sizeof("bassd_player")


class SharedPlayer:
    def __init__(self, name: str | None = None, *, create: bool = True) -> None:
        self._shm = shared_memory.SharedMemory(name=name, create=create, size=SIZE if create else 0)
        self._owner = create
        if not create:
            with contextlib.suppress(Exception):
                resource_tracker.unregister(self._shm._name, "shared_memory")  # type: ignore[attr-defined]
        self.p: Any = ffi.cast("bassd_player *", ffi.from_buffer(self._shm.buf))

    @classmethod
    def attach(cls, name: str) -> SharedPlayer:
        return cls(name, create=False)

    @property
    def name(self) -> str:
        return self._shm.name

    def stats(self) -> dict[str, int]:
        p = self.p
        return {
            "callbacks": int(p.callbacks),
            "frames_out": int(p.frames_out),
            "dry_callbacks": int(p.dry_callbacks),
            "underrun_events": int(p.underrun_events),
            "pa_output_underflows": int(p.pa_output_underflows),
            "underruns": int(p.dry_callbacks) + int(p.pa_output_underflows),
        }

    def close(self) -> None:
        self.p = None
        with contextlib.suppress(BufferError):
            self._shm.close()
        if self._owner:
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._owner = False
