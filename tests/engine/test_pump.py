"""The pump keeps the ring at its target, counts a late wake-up and a slow block (its own or
the machine's), and places timed actions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bassd.app.config import load_config
from bassd.engine._rtcore import ffi, lib
from bassd.engine.core import Engine
from bassd.engine.pump import Pump
from bassd.engine.ring import SharedRing
from bassd.engine.scheduler import FrameScheduler

_SKIP = 77  # the exit code of a child that cannot make its conditions


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


def _slow_render(engine: Engine, how: Callable[[], None]) -> Callable[[int], np.ndarray]:
    """The engine's render, made slow once by ``how`` (then as fast as ever)."""
    real, done = engine.render, []

    def render(frames: int) -> np.ndarray:
        if not done:
            done.append(how())
        return real(frames)

    return render


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _work(cpu_seconds: float) -> None:
    """Busy for ``cpu_seconds`` of this thread's own CPU time."""
    end = time.thread_time() + cpu_seconds
    while time.thread_time() < end:
        pass


@contextlib.contextmanager
def _own_cpu() -> Iterator[None]:
    """This thread at SCHED_FIFO where allowed (as the daemon's loop is), so a loaded
    machine does not take the CPU from a block that is slow by its own work."""
    before = os.sched_getscheduler(0)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except PermissionError:
        sys.exit(_SKIP)  # the child's way to say the test cannot be sure of its CPU
    try:
        yield
    finally:
        os.sched_setscheduler(0, before, os.sched_param(0))


@contextlib.contextmanager
def _crowded_cpu() -> Iterator[None]:
    """This thread at SCHED_IDLE on one CPU beside a process that spins on it: the
    scheduler takes the CPU from the thread without it ever yielding."""
    cpu = min(os.sched_getaffinity(0))
    before_cpus, before_policy = os.sched_getaffinity(0), os.sched_getscheduler(0)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(hog.pid, {cpu})
        os.sched_setaffinity(0, {cpu})
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        yield
    finally:
        os.sched_setscheduler(0, before_policy, os.sched_param(0))
        os.sched_setaffinity(0, before_cpus)
        hog.kill()
        hog.wait()


def _count_slow_blocks(case: str) -> tuple[int, int]:
    """(slow, off-CPU) blocks of a pump whose one block to render is slow by ``case``."""
    cfg = load_config()
    ring = SharedRing(8192, 2)
    engine = Engine(cfg)
    pump = Pump(engine, ring, FrameScheduler(), sample_rate=48000, block_size=256,
                target_fill_frames=1024)  # fmt: skip
    how = {"busy": lambda: _work(0.03), "sleeps": lambda: time.sleep(0.03),
           "taken off the cpu": lambda: _spin(0.06)}[case]  # fmt: skip
    where = {"busy": _own_cpu, "sleeps": contextlib.nullcontext,
             "taken off the cpu": _crowded_cpu}[case]  # fmt: skip
    try:
        pump.top_up()  # warm: the first blocks build the bank
        # one block to render, the slow one: on the crowded CPU every block is starved (a
        # fresh clone counted the three fast ones after it as slow and off-CPU too)
        _drain(ring, 256)
        pump.running = True
        engine.render = _slow_render(engine, how)  # type: ignore[method-assign]
        with where():
            pump.top_up()
        return pump.slow_blocks, pump.offcpu_blocks
    finally:
        engine.close()
        ring.close()


@pytest.mark.parametrize(
    ("case", "offcpu"),
    [("busy", False), ("sleeps", False), ("taken off the cpu", True)],
)
def test_a_slow_block_is_the_machines_only_when_the_thread_was_taken_off_the_cpu(
    case: str, offcpu: bool
) -> None:
    """A block slow by its own work or by sleeping (the GIL, I/O) is bassd's; one whose
    thread was descheduled without yielding is counted as off-CPU (the machine's)."""
    # in a process of its own: in a test worker, xdist's I/O thread wanting the GIL makes
    # the starved thread wait for it (a voluntary switch, rightly bassd's), which a fresh
    # clone saw once as (1, 0)
    code = f"from tests.engine.test_pump import _count_slow_blocks as f; print(*f({case!r}))"
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    if run.returncode == _SKIP:
        pytest.skip("needs SCHED_FIFO (root or an rtprio limit) to be sure of its CPU")
    assert run.returncode == 0, run.stderr
    slow, off = map(int, run.stdout.split()[-2:])
    assert (slow, off) == (1, int(offcpu))
