"""The C callback's state (``bassd_player``) in shared memory.

The device process's callback writes its counters there; the daemon reads them
(status, watchdog) and can set ``fail_once`` for fault injection. Only the
device process sets the ``ring`` pointer, which is an address in its own space.
"""

from __future__ import annotations

import contextlib
import time
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np

from bassd.dsp.postfx import fill_settings
from bassd.engine._rtcore import ffi, lib
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
        self._fx_pending: list[tuple[dict[str, float], int, int]] = []  # (settings, frame, seq)
        self.fx_seq = 0  # the last update pushed
        self.fx_pushed_ns = 0  # when it was pushed (latency probe)
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

    # ------------------------------------------------------ post-FX in the callback
    def init_fx(self, sample_rate: int, settings: dict[str, float]) -> None:
        """Set up the callback's post-FX chain (before the stream starts) and turn it on."""
        init = ffi.new("bassd_fx_settings *")
        fill_settings(init, settings)
        lib.bassd_fx_init(ffi.addressof(self.p, "fx"), float(sample_rate), 2, init)
        self.p.fxq.head = self.p.fxq.tail = 0
        self.p.fx_on = 1

    def push_fx(self, settings: dict[str, float], frame: int = 0) -> None:
        """Hand the callback a post-FX change (frame 0: at its next control step). When its
        queue is full (more than 32 changes within a period), consecutive immediate changes
        are coalesced here to the latest and handed over by :meth:`flush_fx`."""
        self.fx_seq += 1
        self.fx_pushed_ns = time.monotonic_ns()
        last = self._fx_pending[-1] if self._fx_pending else None
        if frame == 0 and last is not None and last[1] == 0:
            self._fx_pending[-1] = (dict(settings), 0, self.fx_seq)
        else:
            self._fx_pending.append((dict(settings), frame, self.fx_seq))
        self.flush_fx()

    def flush_fx(self) -> None:
        upd = ffi.new("bassd_fx_settings *")
        while self._fx_pending:
            settings, frame, seq = self._fx_pending[0]
            fill_settings(upd, settings, frame=frame, seq=seq)
            if not lib.bassd_fx_push(ffi.addressof(self.p, "fxq"), upd):
                return
            self._fx_pending.pop(0)

    def fx_latency_ms(self) -> float | None:
        """The last post-FX change: from its push to the callback that applied it."""
        p = self.p
        if not self.fx_seq or int(p.fx.applied_seq) != self.fx_seq:
            return None
        done = int(p.fx_mark_ns)
        return (done - self.fx_pushed_ns) / 1e6 if done >= self.fx_pushed_ns else None

    def close(self) -> None:
        self.p = None
        with contextlib.suppress(BufferError):
            self._shm.close()
        if self._owner:
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._owner = False
