"""The device supervisor: keeps the device process playing, and stops it in order.

States::

    starting ──open──▶ playing ──(process exited / no callback)──▶ reopening
                          ▲                                           │
                          └────────────── opened again ◀──────────────┘
    any ──stop()──▶ stopping ──▶ stopped

While ``reopening`` it kills the device process (a stalled PortAudio cannot be
trusted to close) and starts a new one with backoff, asking for the device it
opened first (``DeviceProcess`` remembers it), until the sound server is back.
Once ``stopping`` it never respawns anything: shutdown wins over recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Literal

import structlog

from bassd.engine.config import WatchdogConfig
from bassd.engine.device import DeviceError
from bassd.engine.device_process import DeviceProcess

log = structlog.get_logger("bassd.device")

State = Literal["starting", "playing", "reopening", "stopping", "stopped"]


class DeviceSupervisor:
    def __init__(
        self,
        device: DeviceProcess,
        config: WatchdogConfig,
        *,
        frame: Callable[[], int] = lambda: 0,
        on_state: Callable[[State], None] | None = None,
    ) -> None:
        self.device = device
        self.config = config
        self._frame = frame  # the engine's clock, for the log
        self._on_state = on_state
        self.state: State = "starting"
        self.restarts = 0
        self.failures = 0
        self._stopping = asyncio.Event()

    def _set(self, state: State) -> None:
        self.state = state
        if self._on_state is not None:
            self._on_state(state)

    @property
    def info(self) -> dict[str, Any]:
        return self.device.info

    async def open(self) -> dict[str, Any]:
        """Start playing (the ring must already hold audio); DeviceError if it cannot."""
        opened = await self.device.open()
        self._set("playing")
        return opened

    def check(self) -> str | None:
        """Why the stream is lost, or None while it is healthy."""
        dev = self.device
        if not dev.alive:
            return "device process exited"
        since = dev.seconds_since_callback()
        if since > self.config.stall_seconds:
            return f"no callback for {since:.2f} s"
        return None

    async def run(self) -> None:
        """The watchdog: every ``interval_seconds``, check; reopen when lost."""
        while self.state not in ("stopping", "stopped"):
            await asyncio.sleep(self.config.interval_seconds)
            if self.state != "playing":
                continue
            reason = self.check()
            if reason is None:
                continue
            self.failures += 1
            log.error("stream_lost", reason=reason, frame=self._frame())
            await self._reopen()

    async def _reopen(self) -> None:
        self._set("reopening")
        self.device.kill()
        await self.device.stop(timeout=1.0)
        backoff = self.config.backoff_seconds
        attempt = 0
        while not self._stopping.is_set():
            delay = backoff[min(attempt, len(backoff) - 1)]
            attempt += 1
            try:
                opened = await self.device.start(timeout=10.0)
            except DeviceError as exc:  # keep trying: the music must come back
                log.warning(
                    "stream_reopen_failed", attempt=attempt, retry_in_s=delay, error=str(exc)
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            if self._stopping.is_set():  # shutdown began while it opened
                return
            self.restarts += 1
            self._set("playing")
            log.info("stream_reopened", attempt=attempt, device=opened.get("device"),
                     hostapi=opened.get("hostapi"), frame=self._frame())  # fmt: skip
            return

    def begin_stop(self) -> None:
        """From now on nothing is respawned (the watchdog and any reopen give up)."""
        if self.state != "stopped":
            self._set("stopping")
        self._stopping.set()

    async def stop(self) -> None:
        """Close the stream after what was written has played (the device drains it)."""
        self.begin_stop()
        code = await self.device.stop()
        self._set("stopped")
        log.info("device_stopped", exit_code=code, frame=self._frame())

    def kill(self) -> None:
        """Last resort (a second Ctrl-C, an error): end the device process now."""
        self.begin_stop()
        self.device.kill()
