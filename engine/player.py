"""The C callback's state (``bassd_player``) in shared memory.

The device process's callback writes its counters there; the daemon reads them
(status, watchdog) and can set ``fail_once`` for fault injection. Only the
device process sets the ``ring`` pointer, which is an address in its own space.
"""

from __future__ import annotations

import contextlib
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np

from bassd.engine._rtcore import ffi
from bassd.engine.shm_names import new_name

SIZE = ffi.sizeof("bassd_player")


class SharedPlayer:
    def __init__(self, name: str | None = None, *, create: bool = True) -> None:
        self._shm = shared_memory.SharedMemory(
            name=name or (new_name("player") if create else None),
            create=create,
            size=SIZE if create else 0,
        )
        self._owner = create
        if not create:
            with contextlib.suppress(Exception):
                resource_tracker.unregister(self._shm._name, "shared_memory")  # type: ignore[attr-defined]
        self.p: Any = ffi.cast("bassd_player *", ffi.from_buffer(self._shm.buf))
        if create:  # unity output fader
            self.p.fader = self.p.fader_target = self.p.fader_applied = 1.0
            self.p.fader_on = 1

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
        }

    def callback_durations(self) -> dict[str, float]:
        """Callback duration percentiles (µs, 1 µs bins) from the callback's histogram."""
        hist = np.frombuffer(ffi.buffer(self.p.dur_hist), dtype=np.uint32).astype(np.int64)
        total = int(hist.sum())
        out = {"callback_count": float(total), "callback_max_us": int(self.p.dur_max_ns) / 1000}
        if total == 0:
            return out
        cum = np.cumsum(hist)
        for name, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
            out[f"callback_{name}_us"] = float(
                np.searchsorted(cum, q * total) + 1
            )  # bin upper edge
        return out

    def close(self) -> None:
        self.p = None
        with contextlib.suppress(BufferError):
            self._shm.close()
        if self._owner:
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._owner = False
