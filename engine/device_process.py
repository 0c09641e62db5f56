"""Daemon-side handle of the device process (engine/device_host.py).

``DeviceHost.spawn()`` is synchronous, so ``bassd run`` starts the process
first thing, before it reads its config: PortAudio's start-up in the child
overlaps all of the parent's; the stream's parameters follow with ``start``.
The few handshake lines are read in a worker thread; nothing here
runs while audio plays except ``alive`` and the counters in shared memory (and
a daemon thread that logs whatever the process writes to stderr as
``device_stderr``).

The process is started with ``-P``, so the current directory can never shadow
the installed package. After the first successful open the handle remembers
the device and its host API (``remembered``); every later spawn asks for
exactly that device, so a respawn after a sound-server restart fails (and the
supervisor retries) until that server is back, instead of opening another
host API's default.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from typing import IO, Any

import structlog

from bassd.engine.device import DeviceError
from bassd.engine.player import SharedPlayer
from bassd.engine.ring import SharedRing

log = structlog.get_logger("bassd.device")


def forward_stderr(pipe: IO[bytes], pid: int) -> None:
    """Log each line of ``pipe`` as ``device_stderr`` until it closes (run in a thread).

    ALSA's probing messages on a machine without a sound card (about 60 lines per
    PortAudio start, the same every time) go to the debug level after the first.
    """
    alsa = 0
    with pipe:
        for raw in pipe:
            line = raw.decode("utf-8", "replace").rstrip()
            if not line:
                continue
            if line.startswith("ALSA lib "):
                alsa += 1
                if alsa > 1:
                    log.debug("device_stderr", pid=pid, line=line)
                    continue
                log.info("device_stderr", pid=pid, line=line, more="further ALSA lines: debug")
                continue
            log.info("device_stderr", pid=pid, line=line)


class DeviceHost:
    """A device process that has not been told which stream to open yet."""

    def __init__(self, proc: subprocess.Popen[bytes], stderr_thread: threading.Thread) -> None:
        self.proc = proc
        self.stderr_thread = stderr_thread

    @classmethod
    def spawn(cls) -> DeviceHost:
        args = [sys.executable, "-P", "-m", "bassd.engine.device_host"]
        # never let libjack start a sound server of its own behind the user's back
        env = dict(os.environ, JACK_NO_START_SERVER="1")
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        assert proc.stderr is not None
        # started by adopt(): until then its stderr waits in the pipe, so nothing is
        # logged before the daemon has configured its logging
        thread = threading.Thread(
            target=forward_stderr,
            args=(proc.stderr, proc.pid),
            name=f"device-stderr-{proc.pid}",
            daemon=True,
        )
        return cls(proc, thread)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()


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
        #: (device name, host API) of the first successful open, asked for exactly after it
        self.remembered: tuple[str, str] | None = None
        self.stderr_thread: threading.Thread | None = None

    def spawn(self) -> None:
        """Start a device process (it initialises PortAudio, then waits for ``start``)."""
        self.adopt(DeviceHost.spawn())

    def adopt(self, host: DeviceHost) -> None:
        """Use a device process started earlier (``bassd run`` starts one before it has
        read its config, so PortAudio's start overlaps all of the daemon's)."""
        self.proc, self.stderr_thread = host.proc, host.stderr_thread
        if not host.stderr_thread.is_alive() and host.stderr_thread.ident is None:
            host.stderr_thread.start()

    def _start_line(self) -> bytes:
        """The ``start`` command with this stream's parameters (one JSON line)."""
        device, hostapi = self.remembered if self.remembered is not None else (None, None)
        params = {
            "cmd": "start",
            "ring": self.ring.name,
            "player": self.player.name,
            "sample_rate": self.sample_rate,
            "block_size": self.block_size,
            "fade_frames": self.fade_frames,
            "device": device or self.device_name,
            "hostapi": hostapi,
        }
        return json.dumps(params).encode() + b"\n"

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
                proc.stdin.write(self._start_line())
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
            if self.remembered is None:
                self.remembered = (str(msg["device"]), str(msg["hostapi"]))
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

    async def stop(self, timeout: float = 3.0) -> int | None:
        """Ask the process to stop the stream once what is buffered has played (the
        fade-out) and exit; kill it if it does not in time. Returns its exit code."""
        proc = self.proc
        if proc is None:
            return None
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
        for pipe in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        self.proc = None
        return proc.returncode


def start_device_early(
    *,
    ring_frames: int,
    sample_rate: int,
    block_size: int,
    fade_frames: int,
    device: str | None,
    host: DeviceHost | None = None,
) -> tuple[SharedRing, SharedPlayer, DeviceProcess]:
    """Create the ring and the player state, and the device process (``host``, started
    earlier, or spawned now)."""
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
    if host is not None:
        proc.adopt(host)
    else:
        proc.spawn()
    return ring, player, proc
