"""The device supervisor's states: reopen with backoff, never once stopping."""

from __future__ import annotations

import asyncio
from typing import Any

from bassd.engine.config import WatchdogConfig
from bassd.engine.device import DeviceError
from bassd.engine.device_supervisor import DeviceSupervisor


class FakeDevice:
    """A device process that can die and fail to start a given number of times."""

    def __init__(self, failures: int = 0) -> None:
        self.alive = True
        self.failures = failures
        self.starts = 0
        self.info: dict[str, Any] = {"device": "fake"}
        self.stopped = False

    async def open(self) -> dict[str, Any]:
        return self.info

    async def start(self, timeout: float = 15.0) -> dict[str, Any]:
        self.starts += 1
        if self.failures > 0:
            self.failures -= 1
            raise DeviceError("server not back yet")
        self.alive = True
        return self.info

    def seconds_since_callback(self) -> float:
        return 0.0

    def kill(self) -> None:
        self.alive = False

    async def stop(self, timeout: float = 3.0) -> int | None:
        self.stopped = True
        self.alive = False
        return 0


FAST = WatchdogConfig(interval_seconds=0.01, stall_seconds=0.5, backoff_seconds=[0.01])


def test_a_lost_device_is_reopened_after_failed_attempts() -> None:
    """The process dies: playing -> reopening -> (two failed starts) -> playing again."""
    dev = FakeDevice(failures=2)
    states: list[str] = []

    async def go() -> DeviceSupervisor:
        sup = DeviceSupervisor(dev, FAST, on_state=states.append)  # type: ignore[arg-type]
        await sup.open()
        task = asyncio.create_task(sup.run())
        dev.alive = False
        for _ in range(200):
            await asyncio.sleep(0.01)
            if sup.restarts:
                break
        await sup.stop()
        await task
        return sup

    sup = asyncio.run(go())
    assert sup.failures == 1 and sup.restarts == 1 and dev.starts == 3
    assert states == ["playing", "reopening", "playing", "stopping", "stopped"]


def test_nothing_is_respawned_once_stopping() -> None:
    """A stop during a reopen ends the retries: the device is never started again."""
    dev = FakeDevice(failures=10**6)

    async def go() -> DeviceSupervisor:
        sup = DeviceSupervisor(dev, FAST)  # type: ignore[arg-type]
        await sup.open()
        task = asyncio.create_task(sup.run())
        dev.alive = False
        while sup.state != "reopening":
            await asyncio.sleep(0.005)
        sup.begin_stop()
        starts = dev.starts
        await asyncio.wait_for(task, 2)
        await asyncio.sleep(0.05)
        assert dev.starts <= starts + 1  # at most the attempt already under way
        return sup

    sup = asyncio.run(go())
    assert sup.state == "stopping" and sup.restarts == 0
