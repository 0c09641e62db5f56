"""The pump: renders the engine into the device ring, ahead of the audio callback.

It runs as one asyncio task on the daemon's loop. Every half block period it
applies the timetagged actions due in the next block (OSC bundles), renders
blocks until the ring holds ``target_fill_frames``, then uses the rest of its
turn for idle work (building the next segment's oscillator bank).

Health: a wake-up that finds less than one block in the ring is a *late
pump* (the callback was about to run dry); a callback that finds the ring
empty is counted by the C core as a *dry callback*. Both are the engine's
own failures, unlike the sound server's xruns.
"""

from __future__ import annotations

import asyncio
import faulthandler
import resource
import time
from collections.abc import Callable

import structlog

from bassd.engine.core import Engine
from bassd.engine.ring import SharedRing
from bassd.engine.scheduler import FrameScheduler

log = structlog.get_logger("bassd.pump")


def _voluntary_switches() -> int:
    """This thread's voluntary context switches (it slept: a lock, the GIL, I/O, a fault)."""
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw


class Pump:
    def __init__(
        self,
        engine: Engine,
        ring: SharedRing,
        scheduler: FrameScheduler,
        *,
        sample_rate: int,
        block_size: int,
        target_fill_frames: int,
        stall_dump_s: float = 0.0,
    ) -> None:
        self.engine = engine
        self.ring = ring
        self.scheduler = scheduler
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.target_fill_frames = target_fill_frames
        self.late_pumps = 0  # wake-ups with less than one block left in the ring
        self.slow_blocks = 0  # blocks whose render took longer than half the ring's lead
        # slow blocks during which the loop thread was off the CPU without giving it up:
        # it ran under half the wall time and made no voluntary context switch (no GIL
        # wait, no blocking I/O, no page fault that slept), so the hypervisor took the
        # vCPU or a higher real-time thread ran: the machine's stall, not bassd's
        self.offcpu_blocks = 0
        self.wakeups = 0
        self.running = False  # the device is playing: a low ring is a near-miss
        self.stall_dump_s = stall_dump_s  # > 0: every thread's stack when the pump stalls

    def top_up(self, frames: int | None = None) -> None:
        """Render into the ring until it holds ``frames`` (``target_fill_frames``)."""
        block = self.block_size
        target = self.target_fill_frames if frames is None else frames
        # a block that takes longer than this to render has spent half of what the ring
        # held ahead: the callback may run dry although the pump woke on time
        slow_s = 0.5 * self.target_fill_frames / self.sample_rate
        while (fill := self.ring.fill()) < target:
            t0, c0 = time.perf_counter(), time.thread_time()
            v0 = _voluntary_switches()
            for action in self.scheduler.pop_due(self.engine.frame + block):
                with self.engine.scheduled():
                    action()  # bundles due in this block: applied at its boundary
            audio = self.engine.render(block)
            took = time.perf_counter() - t0
            if self.ring.write(audio) != len(audio):  # cannot happen: target + block ≤ capacity
                raise RuntimeError("ring overflow")
            if took > slow_s and self.running:
                self._slow_block(took, time.thread_time() - c0, _voluntary_switches() - v0, fill)

    def _slow_block(self, took: float, ran: float, voluntary: int, fill: int) -> None:
        self.slow_blocks += 1
        offcpu = ran < 0.5 * took and voluntary == 0
        self.offcpu_blocks += offcpu
        if self.slow_blocks <= 10:  # what a slow block looked like (the first ten)
            log.warning("slow_block", took_ms=round(took * 1e3, 2), ran_ms=round(ran * 1e3, 2),
                        voluntary_switches=voluntary, offcpu=offcpu, fill_before=fill,
                        frame=self.engine.frame, segment=self.engine.segment_index)  # fmt: skip

    def schedule(self, when: float, action: Callable[[], None]) -> bool:
        """Put an action at wall-clock time ``when`` (``time.time()``) on the sample clock.

        False if that moment's block is already rendered or the queue is full.
        """
        playing = self.ring.read_pos  # the engine frame the device is playing about now
        frame = playing + round((when - time.time()) * self.sample_rate)
        if frame < self.engine.frame:
            return False
        return self.scheduler.at(frame, action)

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            if self.stall_dump_s > 0:
                faulthandler.cancel_dump_traceback_later()

    async def _run(self) -> None:
        period = self.block_size / self.sample_rate
        last = time.perf_counter()
        while True:
            if self.stall_dump_s > 0:  # re-armed each turn: it fires only if the next is late
                faulthandler.dump_traceback_later(self.stall_dump_s, exit=False)
            self.wakeups += 1
            now = time.perf_counter()
            if self.running and self.ring.fill() < self.block_size:
                self.late_pumps += 1
                if self.late_pumps <= 10:  # what a near-miss looked like (the first ten)
                    log.warning("late_pump", fill=self.ring.fill(),
                                woke_after_ms=round((now - last) * 1e3, 2))  # fmt: skip
            last = now
            self.top_up()
            self.engine.prepare_next()  # the ring is full: time for work ahead
            await asyncio.sleep(period / 2)
