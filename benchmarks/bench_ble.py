"""The BLE heart-rate bridge: parser throughput and the reconnect time on a fake sensor.

* Parser: ``parse_heart_rate_measurement`` on three payloads (a bare uint8 HR; a
  Polar-like one with contact and two RR intervals; uint16 HR + energy + four RR), and
  the whole notification path ``HeartRateBridge.feed`` (parse, counters, ``on_sample``)
  on the Polar-like one: notifications per second and µs each (best of 5).
* Reconnect: the bridge on the real event loop and clock against a fake bleak client
  (no radio: this measures the bridge's own loop, not BlueZ). The fake sensor sends a
  notification every 20 ms, drops, stays away 0.5 s, and comes back; backoff 0.05 s
  doubling to 0.2 s, jitter 0.2. Per drop: the time from the sensor's return to the
  first sample, and from the successful connect to the first sample (battery read and
  subscription: the bridge's own overhead).

    .venv/bin/python benchmarks/bench_ble.py [--drops N]

Writes ``benchmarks/results/ble.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from _common import best_of, table, write_results

from bassd.control.ble_bridge import BackoffConfig, BleConfig, Found, HeartRateBridge
from bassd.control.hr_measurement import parse_heart_rate_measurement

PAYLOADS = {
    "uint8 HR": bytes([0x00, 72]),
    "polar (contact, 2 RR)": bytes([0x16, 72, 0x1C, 0x03, 0x2A, 0x03]),
    "uint16 + energy + 4 RR": bytes([0x19, 0x2C, 0x01, 0xD2, 0x04]) + bytes(range(1, 9)),
}
N = 100_000
PERIOD = 0.02
AWAY = 0.5


def bench_parser() -> list[dict[str, Any]]:
    rows = []
    for name, p in PAYLOADS.items():

        def run(p: bytes = p) -> None:
            for _ in range(N):
                parse_heart_rate_measurement(p)

        s = best_of(run, 5)
        rows.append({"path": f"parse: {name}", "per_s": N / s, "us": s / N * 1e6})
    bridge = HeartRateBridge(BleConfig(), lambda t, m: None)
    p = PAYLOADS["polar (contact, 2 RR)"]

    def feed() -> None:
        for _ in range(N):
            bridge.feed(0.0, p)

    s = best_of(feed, 5)
    rows.append({"path": "feed (notification path)", "per_s": N / s, "us": s / N * 1e6})
    return rows


class Sensor:
    def __init__(self) -> None:
        self.back_at = 0.0
        self.connected_at: float | None = None

    def present(self) -> bool:
        return time.perf_counter() >= self.back_at


class Scanner:
    def __init__(self, sensor: Sensor) -> None:
        self.sensor = sensor

    async def find(self, device: str, timeout: float) -> Found | None:
        await asyncio.sleep(0.01)
        return Found("fake", "AA:BB:CC:DD:EE:FF", -50, "dev") if self.sensor.present() else None

    async def scan(self, timeout: float) -> list[Found]:
        return []


class Client:
    def __init__(self, sensor: Sensor, device: Any, disconnected_callback: Callable[[Any], None],
                 timeout: float) -> None:  # fmt: skip
        self.sensor, self.cb = sensor, disconnected_callback
        self.task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await asyncio.sleep(0.001)
        if not self.sensor.present():
            raise OSError("device not found")
        self.sensor.connected_at = time.perf_counter()

    async def read_gatt_char(self, char: str) -> bytearray:
        return bytearray([90])

    async def start_notify(self, char: str, callback: Callable[[Any, bytearray], None]) -> None:
        self.task = asyncio.get_running_loop().create_task(self._notify(callback))

    async def _notify(self, callback: Callable[[Any, bytearray], None]) -> None:
        for _ in range(5):
            callback("c", bytearray(PAYLOADS["polar (contact, 2 RR)"]))
            await asyncio.sleep(PERIOD)
        self.sensor.back_at = time.perf_counter() + AWAY
        self.cb(self)

    async def stop_notify(self, char: str) -> None:
        pass

    async def disconnect(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def bench_reconnect(drops: int) -> dict[str, Any]:
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    sensor = Sensor()
    firsts: list[float] = []
    seen_since = [-1.0]

    def on_sample(t: float, m: object) -> None:
        if sensor.back_at > 0 and t >= sensor.back_at and seen_since[0] < sensor.back_at:
            firsts.append(t)
            seen_since[0] = t

    cfg = BleConfig(backoff=BackoffConfig(initial_s=0.05, max_s=0.2, jitter=0.2))
    bridge = HeartRateBridge(cfg, on_sample, scanner=Scanner(sensor),
                             client_factory=lambda d, **kw: Client(sensor, d, **kw),
                             clock=time.perf_counter)  # fmt: skip
    back_to_sample: list[float] = []
    connect_to_sample: list[float] = []
    task = asyncio.create_task(bridge.run())
    while len(firsts) < drops:
        await asyncio.sleep(0.01)
        if firsts and len(back_to_sample) < len(firsts):
            back_to_sample.append(firsts[-1] - sensor.back_at)
            assert sensor.connected_at is not None
            connect_to_sample.append(firsts[-1] - sensor.connected_at)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    ms = [x * 1e3 for x in back_to_sample]
    cs = [x * 1e3 for x in connect_to_sample]
    return {"drops": len(ms), "back_to_sample_ms_median": statistics.median(ms),
            "back_to_sample_ms_max": max(ms), "connect_to_sample_ms_median": statistics.median(cs),
            "connect_to_sample_ms_max": max(cs), "backoff_max_s": 0.2, "away_s": AWAY,
            "reconnects": bridge.figures()["ble_reconnects"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--drops", type=int, default=10)
    args = ap.parse_args()
    parser = bench_parser()
    print(table(["path", "notifications/s", "µs each"],
                [[r["path"], r["per_s"], r["us"]] for r in parser]))  # fmt: skip
    rec = asyncio.run(bench_reconnect(args.drops))
    print()
    print(table(["reconnect (fake sensor)", "median ms", "max ms"], [
        ["sensor back -> first sample", rec["back_to_sample_ms_median"],
         rec["back_to_sample_ms_max"]],
        ["connect -> first sample", rec["connect_to_sample_ms_median"],
         rec["connect_to_sample_ms_max"]],
    ]))  # fmt: skip
    print(f"({rec['drops']} drops, away {AWAY} s each, backoff 0.05..0.2 s ±20 %)")
    path = write_results("ble", {"parser": parser, "reconnect": rec, "n": N})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
