"""Daemon-side handle of the device process (engine/device_host.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
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
        self.proc: asyncio.subprocess.Process | None = None
        self.info: dict[str, Any] = {}
        self.opened_at = 0.0

    async def spawn(self) -> None:
        """Start the process (it imports PortAudio and waits for ``open``)."""
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
        self.proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )

    async def _next_event(self, timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not line:
                code = await self.proc.wait()
                raise DeviceError(f"the device process exited ({code}) before opening the device")
            with contextlib.suppress(json.JSONDecodeError):
                msg: dict[str, Any] = json.loads(line)
                return msg

    async def open(self, timeout: float = 15.0) -> dict[str, Any]:
        """Tell the spawned process to open the stream; DeviceError if it cannot."""
        if self.proc is None:
            await self.spawn()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            msg = await self._next_event(timeout)
            if msg.get("event") == "ready":
                self.proc.stdin.write(b"start\n")
                await self.proc.stdin.drain()
                msg = await self._next_event(timeout)
        except TimeoutError:
            self.kill()
            raise DeviceError(
                f"the device process did not open the device within {timeout:g} s"
            ) from None
        if msg.get("event") == "opened":
            self.info = msg
            self.opened_at = time.monotonic()
            return msg
        await self.proc.wait()
        self.proc = None
        raise DeviceError(
            str(msg.get("message", f"unexpected reply from the device process: {msg}"))
        )

    async def start(self, timeout: float = 15.0) -> dict[str, Any]:
        """Spawn and open in one go."""
        await self.spawn()
        return await self.open(timeout)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

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
        if proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.write(b"stop\n")
                await proc.stdin.drain()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            self.kill()
            await proc.wait()
        self.proc = None
