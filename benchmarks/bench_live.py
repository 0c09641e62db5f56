"""Live soak: the daemon on the JACK dummy device at 48 kHz / 256 frames while
other processes keep every core busy (and, optionally, an OSC flood).

Reports the engine's own failures (dry callbacks, late pumps), the sound
server's xruns (PortAudio's underflow flags, and what jackd logged: its
driver's own overruns, bassd's callback overrunning its cycle, bassd's thread
not scheduled in time) and the C callback's duration p50/p99/p99.9/max as a
fraction of the block period (5.33 ms), from the callback's own histogram.

    python benchmarks/bench_live.py --seconds 600          # the 10-minute soak
    python benchmarks/bench_live.py --seconds 30 --flood   # plus an OSC flood
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.daemon import DaemonProcess
from tests.jack import JackServer
from tests.osc_client import free_udp_port, status_json

RESULTS = Path(__file__).resolve().parent / "results"


def _busy(stop_at: float) -> None:
    x = 0
    while time.monotonic() < stop_at:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


def _flood(port: int, stop_at: float) -> None:
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder("/bench/flood")
    b.add_arg(1.0)
    dgram = b.build().dgram
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while time.monotonic() < stop_at:
        for _ in range(100):
            s.sendto(dgram, ("127.0.0.1", port))
        time.sleep(0.005)  # ~20k datagrams/s


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy processes")
    ap.add_argument("--flood", action="store_true", help="also flood the OSC port")
    ap.add_argument("--name", default=None, help="result name (default live or live_flood)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="daemon setting")
    args = ap.parse_args()
    name = args.name or ("live_flood" if args.flood else "live")

    jack = JackServer(f"bench-{uuid.uuid4().hex[:6]}")
    jack.start()
    osc_port, reply_port = free_udp_port(), free_udp_port()
    work = Path(tempfile.mkdtemp(prefix="bassd-live-"))
    daemon = DaemonProcess(
        work, jack, osc_port, reply_port, [x for o in args.overrides for x in ("--set", o)]
    )
    daemon.wait_for_log("osc_listening")
    procs: list[mp.Process] = []
    try:
        time.sleep(2.0)
        mark = jack.mark()
        before = status_json(osc_port, reply_port)
        stop_at = time.monotonic() + args.seconds
        procs = [mp.Process(target=_busy, args=(stop_at,)) for _ in range(args.busy)]
        if args.flood:
            procs.append(mp.Process(target=_flood, args=(osc_port, stop_at)))
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        after = status_json(osc_port, reply_port)
        jack_xruns = jack.xruns(mark)
        late_running = sum(c.startswith("PortAudio") for c in jack.late_clients(mark))
        late_triggered = sum(
            c.startswith("PortAudio") for c in jack.late_clients(mark, state="Triggered")
        )
    finally:
        daemon.stop()
        jack.stop()

    period_us = 256 / 48000 * 1e6
    row = {
        "seconds": args.seconds,
        "overrides": args.overrides,
        "busy_processes": args.busy,
        "osc_flood": args.flood,
        "dry_callbacks": after["dry_callbacks"] - before["dry_callbacks"],
        "late_pumps": after["late_pumps"] - before["late_pumps"],
        "server_xruns": after["server_xruns"] - before["server_xruns"],
        "jackd_xruns_logged": jack_xruns,
        "bassd_callback_overran": late_running,
        "bassd_thread_not_scheduled": late_triggered,
        "callbacks": after["callbacks"] - before["callbacks"],
        "expected_callbacks": round(args.seconds * 48000 / 256),
        "osc_received": after["osc_received"] - before["osc_received"],
        "stream_restarts": after["stream_restarts"],
        "callback_p50_frac": after.get("callback_p50_us", 0) / period_us,
        "callback_p99_frac": after.get("callback_p99_us", 0) / period_us,
        "callback_p999_frac": after.get("callback_p999_us", 0) / period_us,
        "callback_max_frac": after.get("callback_max_us", 0) / period_us,
        "callback_max_us": after.get("callback_max_us", 0),
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(row, indent=2))
    print(f"{'metric':<26}{'value':>14}")
    for k, v in row.items():
        print(f"{k:<26}{v:>14.4f}" if isinstance(v, float) else f"{k:<26}{v!s:>14}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
