"""OSC throughput and control latency of the live daemon on the JACK dummy device.

Throughput: a flood client in another process sends valid ``/fx/drive`` messages
on loopback, as fast as it can (``--rate 0``) or paced; the table reports
messages handled per second by the daemon, datagrams lost (sent − received, all
kernel receive-buffer overflows) and underruns during the flood.

Latency: ``/master/gain`` messages 60 ms apart; for each, the daemon notes the
datagram's arrival and the C callback notes when it hands the first frame that
reflects the change to the device (``control_latency_ms`` in /status). The
device's own output latency (one JACK period here) comes after that and is
reported separately.

    python benchmarks/bench_osc.py                      # defaults
    python benchmarks/bench_osc.py --set audio.target_fill_frames=512
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
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


def _flood(port: int, seconds: float, rate: int, sent: mp.Value) -> None:  # type: ignore[type-arg]
    from bassd.control.osc_codec import encode_message

    msgs = [encode_message("/fx/drive", 1.0 + (i % 50) / 100) for i in range(50)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    dest = ("127.0.0.1", port)
    n = 0
    start = time.perf_counter()
    stop = start + seconds
    if rate <= 0:
        while time.perf_counter() < stop:
            for m in msgs:
                s.sendto(m, dest)
            n += len(msgs)
    else:
        batch = max(1, rate // 1000)
        while True:
            now = time.perf_counter()
            if now >= stop:
                break
            due = int((now - start) * rate)
            while n < due:
                for _ in range(batch):
                    s.sendto(msgs[n % 50], dest)
                    n += 1
            time.sleep(0.0005)
    sent.value = n


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0, help="per flood run")
    ap.add_argument("--latency-samples", type=int, default=200)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--name", default="osc")
    args = ap.parse_args()

    jack = JackServer(f"osc-{uuid.uuid4().hex[:6]}")
    jack.start()
    osc_port, reply_port = free_udp_port(), free_udp_port()
    work = Path(tempfile.mkdtemp(prefix="bassd-osc-"))
    daemon = DaemonProcess(
        work,
        jack,
        osc_port,
        reply_port,
        [x for o in args.overrides for x in ("--set", o)],
    )
    daemon.wait_for_log("osc_listening")
    rows = []
    latencies: list[float] = []  # /fx/drive: through the engine and the ring
    fader: list[float] = []  # /master/gain: the output fader in the audio callback
    try:
        time.sleep(2.5)
        base = status_json(osc_port, reply_port)
        # --- control latency
        from bassd.control.osc_codec import encode_message

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(args.latency_samples):
                s.sendto(encode_message("/master/gain", -1.0 - (i % 2)), ("127.0.0.1", osc_port))
                time.sleep(0.03)
                lat = status_json(osc_port, reply_port).get("fader_latency_ms")
                if lat is not None:
                    fader.append(lat)
                s.sendto(encode_message("/fx/drive", 1.5 + (i % 2) / 10), ("127.0.0.1", osc_port))
                time.sleep(0.06)
                lat = status_json(osc_port, reply_port).get("control_latency_ms")
                if lat is not None:
                    latencies.append(lat)
        # --- throughput: unpaced, then paced at 20k/s
        for rate in (0, 20_000, 40_000):
            before = status_json(osc_port, reply_port)
            sent = mp.Value("q", 0)
            p = mp.Process(target=_flood, args=(osc_port, args.seconds, rate, sent))
            t0 = time.perf_counter()
            p.start()
            p.join()
            time.sleep(0.5)
            wall = time.perf_counter() - t0 - 0.5
            after = status_json(osc_port, reply_port)
            handled = after["osc_handled"] - before["osc_handled"]
            received = after["osc_received"] - before["osc_received"] - 1  # minus one /status
            rows.append(
                {
                    "offered_rate": rate or "max",
                    "sent": sent.value,
                    "handled": handled,
                    "handled_per_s": round(handled / wall),
                    "lost": sent.value - received,
                    "dry_callbacks": after["dry_callbacks"] - before["dry_callbacks"],
                    "server_xruns": after["server_xruns"] - before["server_xruns"],
                }
            )
        final = status_json(osc_port, reply_port)
    finally:
        daemon.stop()
        jack.stop()
    fad = {
        "samples": len(fader),
        "p50_ms": round(_pct(fader, 0.5), 2) if fader else None,
        "p90_ms": round(_pct(fader, 0.9), 2) if fader else None,
        "p99_ms": round(_pct(fader, 0.99), 2) if fader else None,
        "max_ms": round(max(fader), 2) if fader else None,
    }
    lat = {
        "samples": len(latencies),
        "p50_ms": round(_pct(latencies, 0.5), 2) if latencies else None,
        "p90_ms": round(_pct(latencies, 0.9), 2) if latencies else None,
        "p99_ms": round(_pct(latencies, 0.99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "device_output_latency_ms": round(256 / 48, 2),
        "target_fill_frames": base.get("ring_fill"),
    }
    out = {
        "overrides": args.overrides,
        "latency_fx": lat,
        "latency_fader": fad,
        "throughput": rows,
        "dry_callbacks_total": final["dry_callbacks"],
        "server_xruns_total": final["server_xruns"],
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=2))
    print(
        "control latency, datagram -> first output frame handed to the device"
        f" (+ {lat['device_output_latency_ms']} ms device period after that)"
    )
    for name, d in (
        ("/master/gain (fader in the callback)", fad),
        ("/fx/drive (engine, ring)", lat),
    ):
        print(
            f"  {name:<38} n={d['samples']:<4} p50 {d['p50_ms']} ms  p90 {d['p90_ms']} ms"
            f"  p99 {d['p99_ms']} ms  max {d['max_ms']} ms"
        )
    print(
        f"{'offered/s':>10}{'sent':>10}{'handled':>10}{'handled/s':>11}{'lost':>8}{'dry':>8}{'xruns':>8}"
    )
    for r in rows:
        print(
            f"{r['offered_rate']!s:>10}{r['sent']:>10}{r['handled']:>10}{r['handled_per_s']:>11}{r['lost']:>8}{r['dry_callbacks']:>8}{r['server_xruns']:>8}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
