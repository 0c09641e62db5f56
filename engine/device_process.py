"""Daemon-side handle of the device process (engine/device_host.py).

``spawn()`` is synchronous, so ``bassd run`` can start the process before it
imports the rest of the daemon: PortAudio's start-up in the child overlaps the
parent's. The few handshake lines are read in a worker thread; nothing here
runs while audio plays except ``alive`` and the counters in shared memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from typing import Any

from bassd.engine.device import DeviceError
from bassd.engine.player import SharedPlayer
from bassd.engine.ring import SharedRing


class DeviceProcess:
    def __init__(
        self,
        ring: SharedRing,
        player: SharedPlayer,
        *,
        sample_rate: int,
        block_size: int,
        fade_frames: int,
        device: str | None,
    ) -> None:
        self.ring = ring
        self.player = player
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.fade_frames = fade_frames
        self.device_name = device
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.opened_at = 0.0

    def spawn(self) -> None:
        """Start the process (it imports PortAudio, then waits for ``start``)."""
        args = [
            sys.executable, "-m", "bassd.engine.device_host",
            "--ring", self.ring.name, "--player", self.player.name,
            "--sample-rate", str(self.sample_rate), "--block-size", str(self.block_size),
            "--fade-frames", str(self.fade_frames),
        ]  # fmt: skip
        if self.device_name:
            args += ["--device", self.device_name]
        # never let libjack start a sound server of its own behind the user's back
        env = dict(os.environ, JACK_NO_START_SERVER="1")
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )

    def _read_event(self) -> dict[str, Any]:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            if not line:
                code = proc.wait()
                return {"event": "exit", "code": code}
            with contextlib.suppress(json.JSONDecodeError):
                msg: dict[str, Any] = json.loads(line)
                return msg

    async def _next_event(self, timeout: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(None, self._read_event), timeout)

    async def open(self, timeout: float = 15.0) -> dict[str, Any]:
        """Tell the spawned process to open the stream; DeviceError if it cannot."""
        if self.proc is None:
            self.spawn()
        proc = self.proc
        assert proc is not None and proc.stdin is not None
        try:
            msg = await self._next_event(timeout)
            if msg.get("event") == "ready":
                proc.stdin.write(b"start\n")
                proc.stdin.flush()
                msg = await self._next_event(timeout)
        except (TimeoutError, BrokenPipeError):
            self.kill()
            self.proc = None
            raise DeviceError(
                f"the device process did not open the device within {timeout:g} s"
            ) from None
        if msg.get("event") == "opened":
            self.info = msg
            self.opened_at = time.monotonic()
            return msg
        self.kill()
        self.proc = None
        if msg.get("event") == "exit":
            raise DeviceError(f"the device process exited ({msg.get('code')}) before opening")
        raise DeviceError(
            str(msg.get("message", f"unexpected reply from the device process: {msg}"))
        )

    async def start(self, timeout: float = 15.0) -> dict[str, Any]:
        """Spawn and open in one go."""
        self.spawn()
        return await self.open(timeout)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def seconds_since_callback(self) -> float:
        last_ns = int(self.player.p.last_callback_ns)
        now = time.monotonic()
        since_open = now - self.opened_at
        return since_open if last_ns == 0 else min(now - last_ns / 1e9, since_open)

    def inject_failure(self) -> None:
        self.player.p.fail_once = 1

    def kill(self) -> None:
        if self.alive and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()

    async def stop(self, timeout: float = 3.0) -> None:
        """Ask the process to close the stream; kill it if it does not in time."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.write(b"stop\n")
                proc.stdin.flush()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, proc.wait), timeout)
        except TimeoutError:
            self.kill()
            await loop.run_in_executor(None, proc.wait)
        self.proc = None


def start_device_early(
    *, ring_frames: int, sample_rate: int, block_size: int, fade_frames: int, device: str | None
) -> tuple[SharedRing, SharedPlayer, DeviceProcess]:
    """Create the ring and the player state and spawn the device process now."""
    ring = SharedRing(ring_frames, 2)
    player = SharedPlayer()
    proc = DeviceProcess(
        ring,
        player,
        sample_rate=sample_rate,
        block_size=block_size,
        fade_frames=fade_frames,
        device=device,
    )
    proc.spawn()
    return ring, player, proc
