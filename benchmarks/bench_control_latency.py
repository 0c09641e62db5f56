"""Control latency per control class, before and after the post-FX moved into the callback,
and a soak of the chosen path with both cores busy.

One run, one JACK dummy server (48 kHz, 256-frame periods), the daemon as ``bassd run``
starts it with its defaults, twice:

* ``audio.fx_in_callback=false`` (before: the engine runs the post-FX, so an ``/fx/*``
  change waits behind the ring's fill) and ``true`` (the default now: the C callback runs it);
* per class, ``--samples`` changes sent over UDP 60 ms apart; for each, the daemon notes when
  its handler ran and the C callback when it handed out the first frame the change shaped:
  ``fader_latency_ms`` (``/master/gain``), ``fx_latency_ms`` (``/fx/*`` in the callback),
  ``control_latency_ms`` (everything that goes through the engine and the ring). The
  device's own period (5.33 ms) comes after that.

Then the soak (``--soak-seconds``, 600 by default) on the default daemon: ``--load`` busy
processes (2: both cores) at normal priority, and a performer's hand sweeping ``/fx/lpf``,
``/fx/hpf`` and ``/fx/drive`` 50 times a second; every second ``/status`` is asked (its
round trip is timed) and the last change's latency read. Reported: dry callbacks, late
pumps, the driver's own overruns, the latency percentiles under load.

    python benchmarks/bench_control_latency.py                  # the full run (~13 min)
    python benchmarks/bench_control_latency.py --soak-seconds 60
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bassd.control.osc_codec import encode_message
from tests.daemon import DaemonProcess
from tests.jack import JackServer
from tests.osc_client import free_udp_port, status_json

RESULTS = Path(__file__).resolve().parent / "results"
CLASSES = (  # (class, address, values to alternate, the /status figure that measures it)
    ("output fader", "/master/gain", (-1.0, -2.0), "fader_latency_ms"),
    ("filter cut-off", "/fx/lpf", (6000.0, 8000.0), "fx"),
    ("limiter drive", "/fx/drive", (1.5, 1.7), "fx"),
    ("renderer live param", "/renderer/brightness", (0.45, 0.55), "control_latency_ms"),
)


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(q * len(s)))], 2)


def _summary(xs: list[float]) -> dict[str, Any]:
    return {"n": len(xs), "p50_ms": _pct(xs, 0.5), "p99_ms": _pct(xs, 0.99),
            "max_ms": round(max(xs), 2) if xs else None}  # fmt: skip


def _burn(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        for i in range(10_000):
            x ^= i * i


def _figure(st: dict[str, Any], figure: str) -> float | None:
    if figure == "fx":
        return st.get("fx_latency_ms") if st.get("fx_in_callback") else st.get("control_latency_ms")
    return st.get(figure)


def _daemon(jack: JackServer, overrides: list[str]) -> tuple[DaemonProcess, int, int]:
    osc_port, reply_port = free_udp_port(), free_udp_port()
    work = Path(tempfile.mkdtemp(prefix="bassd-lat-"))
    sets = ["osc.oscquery_mdns=false", *overrides]
    d = DaemonProcess(work, jack, osc_port, reply_port, [x for o in sets for x in ("--set", o)])
    d.wait_for_log("osc_listening")
    time.sleep(2.5)
    return d, osc_port, reply_port


def latencies(jack: JackServer, in_callback: bool, samples: int) -> dict[str, Any]:
    d, osc_port, reply_port = _daemon(jack, [f"audio.fx_in_callback={str(in_callback).lower()}"])
    out: dict[str, Any] = {}
    try:
        base = status_json(osc_port, reply_port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for name, address, values, figure in CLASSES:
                xs: list[float] = []
                for i in range(samples):
                    s.sendto(encode_message(address, values[i % 2]), ("127.0.0.1", osc_port))
                    time.sleep(0.06)
                    lat = _figure(status_json(osc_port, reply_port), figure)
                    if lat is not None:
                        xs.append(lat)
                out[name] = {"address": address, **_summary(xs)}
        end = status_json(osc_port, reply_port)
        out["dry_callbacks"] = end["dry_callbacks"] - base["dry_callbacks"]
        out["late_pumps"] = end["late_pumps"] - base["late_pumps"]
    finally:
        d.stop()
    return out


def soak(jack: JackServer, seconds: float, load: int) -> dict[str, Any]:
    d, osc_port, reply_port = _daemon(jack, [])
    mark = jack.mark()
    burners = [mp.Process(target=_burn, args=(time.time() + seconds,)) for _ in range(load)]
    fx_lat: list[float] = []
    status_rtt: list[float] = []
    sent = 0
    try:
        base = status_json(osc_port, reply_port)
        for b in burners:
            b.start()
        t0 = time.monotonic()
        next_status = t0 + 1.0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while (now := time.monotonic()) - t0 < seconds:
                ph = 2 * math.pi * (now - t0) / 4.0  # a 4 s sweep, back and forth
                lpf = 1000.0 * 12.0 ** (0.5 + 0.5 * math.sin(ph))
                hpf = 40.0 * 10.0 ** (0.5 + 0.5 * math.sin(ph / 3))
                drive = 1.6 + 1.2 * math.sin(ph / 5)
                for address, v in (("/fx/lpf", lpf), ("/fx/hpf", hpf), ("/fx/drive", drive)):
                    s.sendto(encode_message(address, v), ("127.0.0.1", osc_port))
                    sent += 1
                if now >= next_status:
                    next_status += 1.0
                    time.sleep(0.012)  # the last change has reached a callback (2 periods)
                    q0 = time.perf_counter()
                    st = status_json(osc_port, reply_port)
                    status_rtt.append((time.perf_counter() - q0) * 1e3)
                    if st.get("fx_latency_ms") is not None:
                        fx_lat.append(st["fx_latency_ms"])
                time.sleep(0.02)
        end = status_json(osc_port, reply_port)
    finally:
        for b in burners:
            b.terminate()
            b.join()
        d.stop()
    return {
        "seconds": seconds,
        "load_processes": load,
        "cores": os.cpu_count(),
        "fx_messages": sent,
        "dry_callbacks": end["dry_callbacks"] - base["dry_callbacks"],
        "late_pumps": end["late_pumps"] - base["late_pumps"],
        "driver_overruns": jack.driver_stalls(mark),
        "server_xruns": end["server_xruns"] - base["server_xruns"],
        "callback_max_us": end["callback_max_us"],
        "fx_latency": _summary(fx_lat),
        "status_rtt": _summary(status_rtt),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=100, help="changes per control class")
    ap.add_argument("--soak-seconds", type=float, default=600.0)
    ap.add_argument("--load", type=int, default=2, help="busy processes during the soak")
    ap.add_argument("--name", default="control_latency")
    args = ap.parse_args()

    jack = JackServer(f"lat-{uuid.uuid4().hex[:6]}")
    jack.start()
    try:
        before = latencies(jack, False, args.samples)
        after = latencies(jack, True, args.samples)
        soaked = soak(jack, args.soak_seconds, args.load) if args.soak_seconds > 0 else None
    finally:
        jack.stop()
    out = {"before_fx_in_engine": before, "after_fx_in_callback": after, "soak": soaked,
           "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=2))

    print("control latency: handler -> first output frame the change shaped, handed to the")
    print("device (its 5.33 ms period comes after); audio.fx_in_callback false | true")
    print(f"| {'class':<20} | {'address':<21} | {'before p50':>10} | {'before p99':>10} "
          f"| {'after p50':>9} | {'after p99':>9} |")  # fmt: skip
    print(f"|{'-' * 22}|{'-' * 23}|{'-' * 12}:|{'-' * 12}:|{'-' * 11}:|{'-' * 11}:|")
    for name, address, _, _ in CLASSES:
        b, a = before[name], after[name]
        print(f"| {name:<20} | {('`' + address + '`').ljust(21)} | {b['p50_ms']!s:>10} "
              f"| {b['p99_ms']!s:>10} | {a['p50_ms']!s:>9} | {a['p99_ms']!s:>9} |")  # fmt: skip
    print(f"dry callbacks / late pumps: before {before['dry_callbacks']} / {before['late_pumps']},"
          f" after {after['dry_callbacks']} / {after['late_pumps']}")  # fmt: skip
    if soaked:
        print(f"\nsoak: {soaked['seconds']:.0f} s, {soaked['load_processes']} busy processes on "
              f"{soaked['cores']} cores, {soaked['fx_messages']} /fx/* changes (50/s each of 3)")  # fmt: skip
        for key in ("dry_callbacks", "late_pumps", "driver_overruns", "server_xruns",
                    "callback_max_us"):  # fmt: skip
            print(f"  {key:<18} {soaked[key]}")
        for key in ("fx_latency", "status_rtt"):
            s = soaked[key]
            print(f"  {key:<18} n={s['n']} p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms"
                  f"  max {s['max_ms']} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
