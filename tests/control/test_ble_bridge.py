"""The BLE heart-rate bridge against a fake bleak client and scanner, on a fake clock."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from bleak.exc import BleakError
from structlog.testing import capture_logs

from bassd.control.ble_bridge import (
    BATTERY_LEVEL,
    HR_MEASUREMENT,
    BackoffConfig,
    BleConfig,
    Found,
    HeartRateBridge,
    classify,
    replay,
)
from bassd.control.hr_measurement import HrMeasurement

OK = bytes([0x16, 72, 0x00, 0x04])  # contact detected, 72 bpm, one RR of 1000 ms
NO_CONTACT = bytes([0x04, 75])  # contact supported, not detected
BAD = bytes([0x10, 72, 0x01])  # odd RR byte


def sync(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test body on a fresh event loop (the project has no asyncio plugin)."""

    @functools.wraps(fn)
    def wrapper() -> None:
        asyncio.run(fn())

    return wrapper


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s
        await asyncio.sleep(0)


class FakeSensor:
    """A strap: ``sessions`` is the list of notification scripts, one per connection.

    A script item is a payload, or "drop" (the link goes, the disconnected callback
    fires) — items after a "drop" still arrive, as a late notification would. The
    sensor is away (not advertising, not connectable) while ``now < back_at``.
    """

    def __init__(self, t: FakeTime, sessions: list[list[bytes | str]]) -> None:
        self.t = t
        self.sessions = sessions
        self.back_at = 0.0
        self.away_after_session: dict[int, float] = {}  # session index -> seconds away
        self.connects: list[tuple[float, bool]] = []  # (time, succeeded)
        self.subscribes = 0
        self.scan_errors: list[BaseException] = []
        self.notify_errors: list[BaseException] = []
        self.battery: bytes | None = bytes([87])
        self.done = asyncio.Event()

    @property
    def present(self) -> bool:
        return self.t.now >= self.back_at


class FakeScanner:
    def __init__(self, sensor: FakeSensor) -> None:
        self.sensor = sensor
        self.finds = 0

    async def find(self, device: str, timeout: float) -> Found | None:
        self.finds += 1
        await asyncio.sleep(0)
        if self.sensor.scan_errors:
            raise self.sensor.scan_errors.pop(0)
        if not self.sensor.present:
            self.sensor.t.now += timeout  # the scan ran its whole time
            return None
        self.sensor.t.now += 0.5
        return Found("Polar H10 ABCD", "AA:BB:CC:DD:EE:FF", -60, "dev")

    async def scan(self, timeout: float) -> list[Found]:
        found = await self.find("first", timeout)
        return [] if found is None else [found]


class FakeClient:
    def __init__(self, sensor: FakeSensor, device: Any, disconnected_callback: Callable[[Any], None],
                 timeout: float) -> None:  # fmt: skip
        self.sensor = sensor
        self.device = device
        self.cb = disconnected_callback
        self.task: asyncio.Task[None] | None = None
        self.index = -1

    async def connect(self) -> None:
        await asyncio.sleep(0)
        s = self.sensor
        ok = s.present and len([c for c in s.connects if c[1]]) < len(s.sessions)
        s.connects.append((s.t.now, ok))
        if not ok:
            s.t.now += 2.0
            raise BleakError("Device with address AA:BB:CC:DD:EE:FF was not found.")
        self.index = len([c for c in s.connects if c[1]]) - 1

    async def read_gatt_char(self, char: str) -> bytearray:
        assert char == BATTERY_LEVEL
        if self.sensor.battery is None:
            raise BleakError(f"Characteristic {char} was not found!")
        return bytearray(self.sensor.battery)

    async def start_notify(self, char: str, callback: Callable[[Any, bytearray], None]) -> None:
        assert char == HR_MEASUREMENT
        if self.sensor.notify_errors:
            raise self.sensor.notify_errors.pop(0)
        self.sensor.subscribes += 1
        self.task = asyncio.get_running_loop().create_task(self._notify(callback))

    async def stop_notify(self, char: str) -> None:
        assert char == HR_MEASUREMENT

    async def _notify(self, callback: Callable[[Any, bytearray], None]) -> None:
        s = self.sensor
        for item in s.sessions[self.index]:
            await asyncio.sleep(0)
            if item == "drop":
                s.back_at = s.t.now + s.away_after_session.get(self.index, 0.0)
                self.cb(self)
                continue
            assert isinstance(item, bytes)
            s.t.now += 1.0
            callback("char", bytearray(item))
        if self.index == len(s.sessions) - 1:
            s.done.set()

    async def disconnect(self) -> None:
        await asyncio.sleep(0)


def _bridge(t: FakeTime, sensor: FakeSensor, **cfg: Any) -> tuple[HeartRateBridge, list[Any]]:
    got: list[tuple[float, HrMeasurement]] = []
    config = BleConfig(**cfg)
    bridge = HeartRateBridge(
        config,
        lambda ts, m: got.append((ts, m)),
        client_factory=lambda device, **kw: FakeClient(sensor, device, **kw),
        scanner=FakeScanner(sensor),
        clock=t.clock,
        sleep=t.sleep,
        rng=random.Random(1),
    )
    return bridge, got


async def _run_until_done(bridge: HeartRateBridge, sensor: FakeSensor) -> None:
    task = asyncio.create_task(bridge.run())
    await asyncio.wait_for(sensor.done.wait(), 10.0)  # a hang guard only
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _squash(states: list[str]) -> list[str]:
    out: list[str] = []
    for s in states:
        if s != "connecting" and (not out or out[-1] != s):
            out.append(s)
    return out


@sync
async def test_drops_and_returns_reconnect_and_resubscribe() -> None:
    """Through InProgress, 'already started', drops (one mid-burst) and an absence, the
    bridge reconnects, subscribes after every connection and counts malformed payloads."""
    t = FakeTime()
    sensor = FakeSensor(
        t,
        [
            [OK, BAD, OK, "drop"],
            [OK, OK, "drop", OK],  # a late notification after the drop
            [OK, NO_CONTACT, OK],
        ],
    )
    sensor.away_after_session = {0: 20.0}
    sensor.scan_errors = [BleakError("[org.bluez.Error.InProgress] Operation already in progress")]
    sensor.notify_errors = [BleakError("Notifications already started")]
    bridge, got = _bridge(t, sensor)

    await _run_until_done(bridge, sensor)

    assert sensor.subscribes == 3  # one per connection (the first after a stop/start)
    assert [c[1] for c in sensor.connects].count(True) == 3
    f = bridge.figures()
    assert f["ble_samples"] == 8 and f["ble_malformed"] == 1
    assert f["ble_reconnects"] == 2
    assert f["ble_battery"] == 87 and f["ble_device"] == "Polar H10 ABCD (AA:BB:CC:DD:EE:FF)"
    assert [m.bpm for _, m in got] == [72, 72, 72, 72, 72, 72, 75, 72]
    assert _squash(bridge.transitions) == [
        "off", "scanning", "connected", "lost", "connected", "lost", "connected", "no_contact",
        "connected", "off",
    ]  # fmt: skip
    assert bridge.state == "off"


@sync
async def test_backoff_grows_with_jitter_while_away_and_recovers_fast() -> None:
    """Failed reconnects back off 1, 2, 4 … s (±20 %, capped); the first attempt after the
    sensor is back connects, and its first sample follows within that attempt."""
    t = FakeTime()
    sensor = FakeSensor(t, [[OK, "drop"], [OK, OK]])
    sensor.away_after_session = {0: 60.0}
    bridge, got = _bridge(t, sensor, backoff=BackoffConfig(initial_s=1.0, max_s=8.0, jitter=0.2))

    await _run_until_done(bridge, sensor)

    backoffs = bridge.delays
    assert len(backoffs) >= 4
    for k, d in enumerate(backoffs):
        base = min(8.0, 2.0**k)
        assert base * 0.8 <= d <= base * 1.2
    after = [c for c in sensor.connects if c[0] >= sensor.back_at]
    assert after[0][1] is True  # no failed attempt once it is back
    first_back = next(ts for ts, _ in got if ts >= sensor.back_at)
    # from its return to the first sample: at most one backoff wait, a scan and one sample
    assert first_back - sensor.back_at <= 8.0 * 1.2 + 0.5 + 1.0 + 10.0


@sync
async def test_no_contact_state_and_figure() -> None:
    """A notification saying contact is supported but not detected shows as no_contact."""
    t = FakeTime()
    sensor = FakeSensor(t, [[OK, NO_CONTACT]])
    sensor.battery = None  # a strap without a battery service still connects
    bridge, _ = _bridge(t, sensor)
    task = asyncio.create_task(bridge.run())
    await asyncio.wait_for(sensor.done.wait(), 10.0)
    assert bridge.state == "no_contact"
    f = bridge.figures()
    assert f["ble_contact"] is False and f["ble_battery"] is None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@sync
async def test_no_adapter_logged_once_and_retried_slowly() -> None:
    """No D-Bus/adapter: one warning for the cause, retries every unavailable_retry_s."""
    t = FakeTime()
    sensor = FakeSensor(t, [[OK]])
    sensor.scan_errors = [FileNotFoundError(2, "No such file or directory")] * 4
    bridge, got = _bridge(t, sensor, unavailable_retry_s=7.0)
    with capture_logs() as logs:
        await _run_until_done(bridge, sensor)
    assert [e["event"] for e in logs].count("ble_unavailable") == 1
    assert bridge.delays == [7.0] * 4
    assert len(got) == 1


@sync
async def test_flapping_sensor_backs_off() -> None:
    """A link that drops before any sample counts as a failure: the retries back off."""
    t = FakeTime()
    sensor = FakeSensor(t, [["drop"], ["drop"], ["drop"], [OK]])
    bridge, got = _bridge(t, sensor)
    await _run_until_done(bridge, sensor)
    assert len(bridge.delays) == 3
    assert bridge.delays[2] > bridge.delays[0]
    assert len(got) == 1


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (BleakError("[org.bluez.Error.InProgress] Operation already in progress"), "in_progress"),
        (BleakError("No Bluetooth adapters found."), "unavailable"),
        (BleakError("Bluetooth adapter is not powered"), "unavailable"),
        (FileNotFoundError(2, "No such file or directory"), "unavailable"),
        (BleakError("Notifications already started"), "already"),
        (BleakError("Device with address X was not found."), "other"),
    ],
)
def test_classify(exc: BaseException, kind: str) -> None:
    """bleak/BlueZ errors map to the bridge's retry policies by type and message."""
    assert classify(exc) == kind


@sync
async def test_replay_goes_through_the_parser_at_trace_times() -> None:
    """A replay parses each row like a notification, waits out the gaps at ``speed``."""
    t = FakeTime()
    got: list[tuple[float, int]] = []
    trace = [(10.0, OK), (11.0, BAD), (13.0, NO_CONTACT)]
    bridge = await replay(trace, lambda ts, m: got.append((ts, m.bpm)), speed=2.0,
                          clock=t.clock, sleep=t.sleep)  # fmt: skip
    assert got == [(10.0, 72), (13.0, 75)]
    assert sum(t.sleeps) == pytest.approx(1.5)
    assert bridge.figures()["ble_malformed"] == 1
