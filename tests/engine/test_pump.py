"""The pump keeps the ring at its target, counts a late wake-up, and places timed actions."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from bassd.app.config import load_config
from bassd.engine._rtcore import ffi, lib
from bassd.engine.core import Engine
from bassd.engine.pump import Pump
from bassd.engine.ring import SharedRing
from bassd.engine.scheduler import FrameScheduler


def _drain(ring: SharedRing, frames: int) -> None:
    """The C consumer reads ``frames`` frames, as the audio callback does."""
    p: Any = ffi.new("bassd_player *")
    p.ring, p.channels, p.fade_frames = ring.base, 2, 64
    out = np.zeros((frames, 2), dtype=np.float32)
    lib.bassd_consume(p, ffi.cast("float *", ffi.from_buffer(out)), frames)


def test_pump_refills_to_target_and_counts_a_late_wakeup() -> None:
    """A ring drained below one block while playing is a late pump; it is topped up again."""
    cfg = load_config()
    ring = SharedRing(8192, 2)
    engine = Engine(cfg)
    pump = Pump(engine, ring, FrameScheduler(), sample_rate=48000, block_size=256,
                target_fill_frames=1024)  # fmt: skip
    try:
        pump.top_up()
        assert 1024 <= ring.fill() < 1024 + 256
        pump.running = True

        async def go() -> None:
            task = asyncio.create_task(pump.run())
            await asyncio.sleep(0.01)
            assert pump.late_pumps == 0
            _drain(ring, ring.fill() - 100)  # the callback nearly ran dry
            await asyncio.sleep(0.01)
            task.cancel()

        asyncio.run(go())
        assert pump.late_pumps == 1 and ring.fill() >= 1024
    finally:
        engine.close()
        ring.close()


def test_a_timed_action_lands_on_the_sample_clock() -> None:
    """An action 0.5 s ahead runs just before the block holding that frame is rendered."""
    cfg = load_config()
    ring = SharedRing(8192, 2)
    engine = Engine(cfg)
    sched = FrameScheduler()
    pump = Pump(engine, ring, sched, sample_rate=48000, block_size=256, target_fill_frames=1024)
    ran_at: list[int] = []
    try:
        assert pump.schedule(time.time() + 0.5, lambda: ran_at.append(engine.frame))
        assert not pump.schedule(time.time() - 1.0, lambda: None)  # already rendered
        while not ran_at:
            pump.top_up()
            _drain(ring, 512)
        assert abs(ran_at[0] - 24000) <= 256 + 480  # one block, plus the call's own time
    finally:
        engine.close()
        ring.close()
