"""A Bluetooth LE heart-rate strap (GATT Heart Rate Service 0x180D) as a sample source.

``HeartRateBridge.run()`` loops forever: find the device, connect, read the battery
(0x2A19) when the sensor has one, subscribe to Heart Rate Measurement (0x2A37), hand
every parsed notification to ``on_sample(t, measurement)``, and after a drop connect
again (to the known device first, scanning again if it is gone) with exponential
backoff and jitter, subscribing anew after every connection.

Pitfalls it handles:

* BlueZ answers ``org.bluez.Error.InProgress`` ("Operation already in progress") while
  an earlier scan or connect is still running: wait ``in_progress_retry_s`` and retry.
* No adapter, no system D-Bus, adapter powered off: logged once per distinct cause,
  retried every ``unavailable_retry_s``.
* A strap that stops advertising (taken off, out of range): the scan times out and
  the bridge backs off. One that stays connected but goes silent: after
  ``stale_seconds`` without a notification it is disconnected and found again.
* "Notifications already started" on subscribing: stop them, then start again.

bleak's notification callback runs on the event loop with its asyncio backends, so
the callback (:meth:`HeartRateBridge.feed`) only parses the payload, updates counters
and calls ``on_sample``, which must itself be cheap (e.g. a ``put_nowait``). A
malformed payload is counted and logged with its reason, never raised.

bleak is imported only when the default scanner or client is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import structlog
from pydantic import Field

from bassd.control.hr_measurement import (
    HrMeasurement,
    MalformedMeasurement,
    parse_battery_level,
    parse_heart_rate_measurement,
)
from bassd.engine.config import Strict

log = structlog.get_logger("bassd.ble")

HR_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"
HR_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"

State = Literal["off", "scanning", "connecting", "connected", "no_contact", "lost"]

_ADDRESS = re.compile(
    r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"  # BlueZ / Windows MAC
    r"|^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$"  # CoreBluetooth UUID
)


class BackoffConfig(Strict):
    initial_s: float = Field(1.0, gt=0.0, le=60.0)
    max_s: float = Field(30.0, gt=0.0, le=600.0)
    jitter: float = Field(0.2, ge=0.0, lt=1.0)  # each delay is scaled by 1 ± jitter


class BleConfig(Strict):
    enabled: bool = False
    device: str = Field("first", min_length=1)  # address, name substring, or "first"
    scan_seconds: float = Field(10.0, gt=0.0, le=120.0)
    connect_timeout_s: float = Field(15.0, gt=0.0, le=120.0)
    backoff: BackoffConfig = Field(default_factory=BackoffConfig)
    in_progress_retry_s: float = Field(2.0, gt=0.0, le=60.0)
    unavailable_retry_s: float = Field(10.0, gt=0.0, le=600.0)
    stale_seconds: float = Field(10.0, ge=0.0, le=600.0)  # 0 = never drop a silent sensor


@dataclass(frozen=True, slots=True)
class Found:
    """A device a scan saw: ``device`` is what the client factory connects to."""

    name: str
    address: str
    rssi: int | None
    device: Any = None


class Scanner(Protocol):
    async def find(self, device: str, timeout: float) -> Found | None: ...

    async def scan(self, timeout: float) -> list[Found]: ...


class Client(Protocol):
    async def connect(self) -> Any: ...

    async def disconnect(self) -> Any: ...

    async def start_notify(
        self, char: str, callback: Callable[[Any, bytearray], None], /
    ) -> Any: ...

    async def stop_notify(self, char: str, /) -> Any: ...

    async def read_gatt_char(self, char: str, /) -> bytearray: ...


ClientFactory = Callable[..., Client]


def is_address(device: str) -> bool:
    return bool(_ADDRESS.match(device))


class BleakHrScanner:
    """The default scanner, on bleak's ``BleakScanner``."""

    async def scan(self, timeout: float) -> list[Found]:
        """Heart-rate sensors (advertising 0x180D) seen within ``timeout``, strongest first."""
        from bleak import BleakScanner

        seen = await BleakScanner.discover(
            timeout=timeout, service_uuids=[HR_SERVICE], return_adv=True
        )
        out = [
            Found(d.name or adv.local_name or "", d.address, adv.rssi, d)
            for d, adv in seen.values()
        ]
        return sorted(out, key=lambda f: -(f.rssi if f.rssi is not None else -999))

    async def find(self, device: str, timeout: float) -> Found | None:
        from bleak import BleakScanner

        if device == "first":
            hits = await self.scan(timeout)
            return hits[0] if hits else None
        if is_address(device):
            d = await BleakScanner.find_device_by_address(device, timeout=timeout)
            return None if d is None else Found(d.name or "", d.address, None, d)
        want = device.casefold()
        d = await BleakScanner.find_device_by_filter(
            lambda d, adv: want in (d.name or adv.local_name or "").casefold(), timeout=timeout
        )
        return None if d is None else Found(d.name or "", d.address, None, d)


def bleak_client(device: Any, *, disconnected_callback: Callable[[Any], None],
                 timeout: float) -> Client:  # fmt: skip
    """The default client factory: a ``BleakClient``."""
    from bleak import BleakClient

    client: Client = BleakClient(device, disconnected_callback=disconnected_callback,
                                 timeout=timeout)  # fmt: skip
    return client


class _NotFound(Exception):
    pass


class _Stale(Exception):
    pass


def _text(exc: BaseException) -> str:
    return " ".join(str(a) for a in exc.args) if exc.args else str(exc)


def classify(exc: BaseException) -> Literal["in_progress", "unavailable", "already", "other"]:
    """What kind of trouble a bleak (or D-Bus) error is, from its type and message."""
    text = f"{type(exc).__name__} {_text(exc)}".casefold()
    if "inprogress" in text or "in progress" in text:
        return "in_progress"
    if isinstance(exc, FileNotFoundError) or any(
        s in text
        for s in (
            "bluetoothnotavailable",
            "no bluetooth adapter",
            "not powered",
            "powered off",
            "powered_off",
            "no_bluetooth",
            "notready",
            "not ready",
            "adapter",
        )
    ):
        return "unavailable"
    if "already" in text and ("notif" in text or "notify" in text or "started" in text):
        return "already"
    return "other"


class HeartRateBridge:
    def __init__(
        self,
        config: BleConfig,
        on_sample: Callable[[float, HrMeasurement], None],
        *,
        client_factory: ClientFactory = bleak_client,
        scanner: Scanner | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_raw: Callable[[float, bytes], None] | None = None,
    ) -> None:
        self.config = config
        self.on_sample = on_sample
        self.on_raw = on_raw
        self._client_factory = client_factory
        self._scanner: Scanner = scanner if scanner is not None else BleakHrScanner()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._state: State = "off"
        self._found: Found | None = None
        self._battery: int | None = None
        self._contact: bool | None = None
        self._samples = 0
        self._malformed = 0
        self._connections = 0
        self._failures = 0  # consecutive failed attempts (the backoff exponent)
        self._last_sample_t = -math.inf
        self._unavailable: str | None = None  # the cause last logged
        self.transitions: list[State] = ["off"]
        self.delays: list[float] = []  # every wait the loop took, seconds (for tests/bench)

    # -- figures ---------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    def figures(self) -> dict[str, Any]:
        f = self._found
        return {
            "ble_state": self._state,
            "ble_device": "" if f is None else (f"{f.name} ({f.address})" if f.name else f.address),
            "ble_battery": self._battery,
            "ble_samples": self._samples,
            "ble_malformed": self._malformed,
            "ble_reconnects": max(0, self._connections - 1),
            "ble_contact": self._contact,
        }

    def _set_state(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self.transitions.append(state)
            log.info("ble_state", state=state, device=self.figures()["ble_device"])

    # -- the parse path (notifications and replays) ------------------------------------
    def feed(self, t: float, data: bytes | bytearray) -> HrMeasurement | None:
        """Parse one 0x2A37 payload received at ``t`` and pass it on; never raises."""
        payload = bytes(data)
        self._last_sample_t = self._clock()
        if self.on_raw is not None:
            try:
                self.on_raw(t, payload)
            except Exception:
                log.exception("ble_on_raw_failed")
        try:
            m = parse_heart_rate_measurement(payload)
        except MalformedMeasurement as exc:
            self._malformed += 1
            log.warning("ble_malformed", reason=exc.reason, detail=str(exc), hex=payload.hex())
            return None
        self._samples += 1
        self._contact = m.contact
        if self._state in ("connected", "no_contact"):
            self._set_state("no_contact" if m.contact is False else "connected")
        try:
            self.on_sample(t, m)
        except Exception:
            log.exception("ble_on_sample_failed")
        return m

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        self.feed(self._clock(), data)

    # -- the connection loop -------------------------------------------------------------
    def _backoff(self) -> float:
        b = self.config.backoff
        base = min(b.max_s, b.initial_s * 2.0 ** max(0, self._failures - 1))
        return base * (1.0 + self._rng.uniform(-b.jitter, b.jitter))

    async def _wait(self, seconds: float) -> None:
        self.delays.append(seconds)
        await self._sleep(seconds)

    async def run(self) -> None:
        """Find, connect, subscribe, serve; again after every drop or failure. Forever."""
        try:
            while True:
                before = self._samples
                try:
                    await self._session()
                    self._unavailable = None
                    if self._samples > before:  # served, then dropped: again at once
                        self._failures = 0
                        continue
                    self._failures += 1  # connected but no sample came: not a tight loop
                    delay = self._backoff()
                except asyncio.CancelledError:
                    raise
                except _NotFound:
                    self._failures += 1
                    log.info("ble_not_found", device=self.config.device,
                             scan_seconds=self.config.scan_seconds)  # fmt: skip
                    delay = self._backoff()
                except Exception as exc:
                    kind = classify(exc)
                    if kind == "in_progress":
                        log.info("ble_in_progress", error=_text(exc))
                        delay = self.config.in_progress_retry_s
                    elif kind == "unavailable":
                        cause = f"{type(exc).__name__}: {_text(exc)}"
                        if cause != self._unavailable:
                            log.warning("ble_unavailable", error=cause,
                                        retry_s=self.config.unavailable_retry_s)  # fmt: skip
                            self._unavailable = cause
                        delay = self.config.unavailable_retry_s
                    else:
                        self._failures += 1
                        log.warning("ble_error", error=f"{type(exc).__name__}: {_text(exc)}")
                        delay = self._backoff()
                    if kind != "unavailable":
                        self._unavailable = None
                self._set_state("lost" if self._connections else "scanning")
                await self._wait(delay)
        finally:
            self._set_state("off")

    async def _session(self) -> None:
        found = self._found
        if found is None:  # first time, or the known device could not be reached
            if not self._connections:
                self._set_state("scanning")
            found = await self._scanner.find(self.config.device, self.config.scan_seconds)
            if found is None:
                raise _NotFound
            self._found = found
        dropped = asyncio.Event()
        client = self._client_factory(
            found.device if found.device is not None else found.address,
            disconnected_callback=lambda _c: dropped.set(),
            timeout=self.config.connect_timeout_s,
        )
        self._set_state("connecting")
        try:
            await client.connect()
        except Exception as exc:
            if classify(exc) == "other":
                self._found = None  # gone from the cache, perhaps: scan again next time
            raise
        try:
            self._battery = await self._read_battery(client)
            await self._subscribe(client)
            self._connections += 1
            self._last_sample_t = self._clock()
            self._set_state("connected")
            log.info("ble_connected", device=self.figures()["ble_device"],
                     battery=self._battery, connections=self._connections)  # fmt: skip
            await self._serve(dropped)
        finally:
            self._contact = None
            with contextlib.suppress(Exception):
                await client.disconnect()
        self._set_state("lost")
        log.warning("ble_lost", device=self.figures()["ble_device"], samples=self._samples)

    async def _read_battery(self, client: Client) -> int | None:
        try:
            return parse_battery_level(await client.read_gatt_char(BATTERY_LEVEL))
        except MalformedMeasurement as exc:
            log.warning("ble_battery_malformed", reason=exc.reason)
        except Exception as exc:  # no battery service on this sensor, or the read failed
            if classify(exc) in ("in_progress", "unavailable"):
                raise
            log.info("ble_no_battery", error=f"{type(exc).__name__}: {_text(exc)}")
        return None

    async def _subscribe(self, client: Client) -> None:
        try:
            await client.start_notify(HR_MEASUREMENT, self._on_notify)
        except Exception as exc:
            if classify(exc) != "already":
                raise
            log.info("ble_notify_restart", error=_text(exc))
            await client.stop_notify(HR_MEASUREMENT)
            await client.start_notify(HR_MEASUREMENT, self._on_notify)

    async def _serve(self, dropped: asyncio.Event) -> None:
        """Return when the connection drops or the sensor has gone silent."""
        stale = self.config.stale_seconds
        while not dropped.is_set():
            if stale <= 0:
                await dropped.wait()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(dropped.wait(), timeout=min(stale, 1.0))
            if not dropped.is_set() and self._clock() - self._last_sample_t > stale:
                log.warning("ble_stale", seconds=stale)
                return


async def replay(
    trace: Sequence[tuple[float, bytes]],
    on_sample: Callable[[float, HrMeasurement], None],
    speed: float = 1.0,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> HeartRateBridge:
    """Feed a recorded ``t,hex`` trace through :meth:`HeartRateBridge.feed` at its times
    (``speed`` times faster; ``math.inf``: at once). ``on_sample`` gets the trace's ``t``.
    Returns the bridge, whose figures count the samples and the malformed rows."""
    if not speed > 0:
        raise ValueError(f"speed must be positive, got {speed}")
    bridge = HeartRateBridge(BleConfig(), on_sample, clock=clock, sleep=sleep)
    if not trace:
        return bridge
    t0 = trace[0][0]
    start = clock()
    for t, payload in trace:
        if math.isfinite(speed):
            delay = start + (t - t0) / speed - clock()
            if delay > 0:
                await sleep(delay)
        bridge.feed(t, payload)
    return bridge
