"""The device process's lifetime (engine/device_host.py): the daemon's, not the signals'."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bassd.engine.device_process import DeviceProcess
from bassd.engine.player import SharedPlayer
from bassd.engine.ring import SharedRing

pytestmark = pytest.mark.live

#: a stand-in daemon: opens the device process on JACK, prints its pid, then waits
_PARENT = r"""
import asyncio, sys, time
import structlog
from bassd.engine.device_process import start_device_early

structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))

ring, player, dev = start_device_early(
    ring_frames=8192, sample_rate=48000, block_size=256, fade_frames=64, device=None
)
asyncio.run(dev.open())
print(dev.proc.pid, flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # exited, not yet reaped by whoever adopted it


def test_ignores_sigint_and_sigterm_and_stop_ends_it_with_exit_0(
    jack_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT and SIGTERM sent to the device process leave it playing; `stop` ends it, exit 0."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server.name)
    ring, player = SharedRing(8192, 2), SharedPlayer()
    dev = DeviceProcess(
        ring, player, sample_rate=48000, block_size=256, fade_frames=64, device=None
    )

    async def run() -> tuple[bool, int, int, int | None]:
        await dev.start()
        assert dev.proc is not None
        dev.proc.send_signal(signal.SIGINT)
        dev.proc.send_signal(signal.SIGTERM)
        before = player.stats()["callbacks"]
        await asyncio.sleep(0.5)
        alive = dev.alive
        after = player.stats()["callbacks"]
        return alive, before, after, await dev.stop()

    try:
        alive, before, after, code = asyncio.run(run())
    finally:
        dev.kill()
        ring.close()
        player.close()
    assert alive
    assert after > before + 20  # still calling back (~94 periods in 0.5 s)
    assert code == 0


def test_exits_when_its_parent_is_killed(jack_server, tmp_path: Path) -> None:
    """SIGKILL of the daemon closes the device process's stdin, and the device process exits."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=jack_server.name)
    parent = subprocess.Popen(
        [sys.executable, "-P", "-c", _PARENT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not _gone(child)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child)
    finally:
        parent.kill()
        parent.wait(10)
