"""OSC throughput and control latency of the live daemon on the JACK dummy device,
beside python-osc's ``AsyncIOOSCUDPServer`` flooded the same way in the same run.

Throughput: a flood client in another process sends valid ``/fx/drive`` messages
on loopback, as fast as it can (``max``) or paced (20k/s, 40k/s). First python-osc's
server (its own process, a handler that only counts, the same 4 MiB receive buffer;
on plain asyncio, as its documentation runs it, and on uvloop, the daemon's loop,
where installed), then the playing daemon. The table reports messages handled per second (the daemon: accepted after
every check, including those coalesced into a later value of the same batch;
``applied/s``: what reached the controller), datagrams lost (sent − received, all
kernel receive-buffer overflows), dry callbacks and server xruns during the flood,
and ``/status`` round trips (sent every 50 ms from another thread during each daemon
flood, the time until ``/status/json`` comes back: p50/p99/max, and any not answered
within 1 s). The daemon runs with its defaults, as ``bassd run`` does: the default
``osc.rate_limit`` of 100k/s per source host caps the one unpaced flood client (and
a /status from that host would share its bucket: the probe sends from 127.0.0.2, another
client with its own). ``--lift-rate-limit``
raises it to 10M/s to measure ingest itself (python-osc has no rate limit).

Latency: ``/master/gain`` messages 60 ms apart; for each, the daemon notes the
datagram's arrival and the C callback notes when it hands the first frame that
reflects the change to the device (``fader_latency_ms``; ``fx_latency_ms`` for
``/fx/drive``, whose post-FX chain runs in the callback too: see
``bench_control_latency.py`` for every class, before and after). The
device's own output latency (one JACK period here) comes after that and is
reported separately.

    python benchmarks/bench_osc.py                      # defaults
    python benchmarks/bench_osc.py --set audio.target_fill_frames=512
    python benchmarks/bench_osc.py --no-latency          # throughput only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import socket
import sys
import tempfile
import threading
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


RATES = (0, 20_000, 40_000)  # offered per second; 0: as fast as the client can


def _pythonosc_server(
    port: int,
    loop_kind: str,
    counted: mp.Value,  # type: ignore[type-arg]
    stop: mp.Event,  # type: ignore[valid-type]
    ready: mp.Event,  # type: ignore[valid-type]
) -> None:
    """python-osc's asyncio UDP server with a trivial handler, until ``stop``; ``loop_kind``:
    ``asyncio`` (its documented use) or ``uvloop`` (the daemon's loop)."""
    import asyncio

    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import AsyncIOOSCUDPServer

    n = 0

    def handler(address: str, *args: object) -> None:
        nonlocal n
        n += 1

    dispatcher = Dispatcher()
    dispatcher.map("/fx/drive", handler)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = AsyncIOOSCUDPServer(("127.0.0.1", port), dispatcher, loop)
        transport, _ = await server.create_serve_endpoint()
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # as the daemon's
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.02)
            counted.value = n
        counted.value = n
        transport.close()

    if loop_kind == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


def _flood_run(port: int, seconds: float, rate: int) -> tuple[int, float]:
    """One flood from another process: (datagrams sent, wall seconds incl. 0.5 s drain)."""
    sent = mp.Value("q", 0)
    p = mp.Process(target=_flood, args=(port, seconds, rate, sent))
    t0 = time.perf_counter()
    p.start()
    p.join()
    time.sleep(0.5)
    return sent.value, time.perf_counter() - t0 - 0.5


def _loops() -> tuple[str, ...]:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return ("asyncio",)
    return ("asyncio", "uvloop")


def pythonosc_rows(seconds: float) -> list[dict[str, object]]:
    """python-osc's server flooded as the daemon is: on asyncio (max, 20k/s, 40k/s), and on
    uvloop (max) where installed, the loop the daemon runs on."""
    rows = []
    runs = [("asyncio", rate) for rate in RATES] + [(k, 0) for k in _loops()[1:]]
    for loop_kind, rate in runs:
        port = free_udp_port()
        counted, stop, ready = mp.Value("q", 0), mp.Event(), mp.Event()
        srv = mp.Process(target=_pythonosc_server, args=(port, loop_kind, counted, stop, ready))
        srv.start()
        if not ready.wait(10):
            raise RuntimeError("python-osc's server did not start")
        sent, wall = _flood_run(port, seconds, rate)
        stop.set()
        srv.join(5)
        handled = counted.value
        rows.append(
            {
                "server": f"python-osc/{loop_kind}",
                "offered_rate": rate or "max",
                "sent": sent,
                "handled": handled,
                "handled_per_s": round(handled / wall),
                "applied_per_s": round(handled / wall),
                "lost": sent - handled,
            }
        )
    return rows


class StatusProbe(threading.Thread):
    """/status every ``period`` s from the reply port; the time until /status/json returns."""

    def __init__(self, osc_port: int, reply_port: int, period: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.osc_port, self.reply_port, self.period = osc_port, reply_port, period
        self.rtts: list[float] = []
        self.sent = 0
        self.unanswered = 0
        self.stop = threading.Event()

    def run(self) -> None:
        from bassd.control.osc_codec import encode_message

        query = encode_message("/status")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            # another client (its own source address, so its own rate-limit bucket): the
            # flooding host's own queries are limited with its flood, by design
            s.bind(("127.0.0.2", self.reply_port))
            while not self.stop.is_set():
                t0 = time.perf_counter()
                s.sendto(query, ("127.0.0.1", self.osc_port))
                self.sent += 1
                deadline = t0 + 1.0
                answered = False
                while (left := deadline - time.perf_counter()) > 0:
                    s.settimeout(left)
                    try:
                        data = s.recv(65536)
                    except TimeoutError:
                        break
                    if data.startswith(b"/status/json\0"):
                        self.rtts.append((time.perf_counter() - t0) * 1000)
                        answered = True
                        break
                if not answered:
                    self.unanswered += 1
                self.stop.wait(max(0.0, t0 + self.period - time.perf_counter()))
            s.settimeout(0.2)  # the rest of the last reply's field messages
            with contextlib.suppress(TimeoutError):
                while True:
                    s.recv(65536)

    def figures(self) -> dict[str, object]:
        r = self.rtts
        return {
            "status_sent": self.sent,
            "status_unanswered": self.unanswered,
            "status_p50_ms": round(_pct(r, 0.5), 2) if r else None,
            "status_p99_ms": round(_pct(r, 0.99), 2) if r else None,
            "status_max_ms": round(max(r), 2) if r else None,
        }


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0, help="per flood run")
    ap.add_argument("--latency-samples", type=int, default=200)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--name", default="osc")
    ap.add_argument("--no-latency", action="store_true", help="throughput only")
    ap.add_argument(
        "--lift-rate-limit",
        action="store_true",
        help="raise osc.rate_limit to 10M/s (default 100k/s per source host, which caps one "
        "flood client; the /status probe on the same host shares its bucket)",
    )
    args = ap.parse_args()
    if args.no_latency:
        args.latency_samples = 0
    if args.lift_rate_limit:  # python-osc has none: ingest itself, not the policy
        args.overrides = ["osc.rate_limit=10000000", *args.overrides]

    rows: list[dict[str, object]] = pythonosc_rows(args.seconds)

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
                st = status_json(osc_port, reply_port)  # the post-FX runs in the callback
                lat = st.get("fx_latency_ms" if st.get("fx_in_callback") else "control_latency_ms")
                if lat is not None:
                    latencies.append(lat)
        # --- throughput: unpaced, then paced at 20k/s and 40k/s; /status probed throughout
        for rate in RATES:
            before = status_json(osc_port, reply_port)
            probe = StatusProbe(osc_port, reply_port)
            probe.start()
            sent, wall = _flood_run(osc_port, args.seconds, rate)
            probe.stop.set()
            probe.join()
            after = status_json(osc_port, reply_port)
            handled = after["osc_handled"] - before["osc_handled"] - probe.sent - 1
            coalesced = after["osc_coalesced"] - before["osc_coalesced"]
            # minus the probes' /status and the /status that read `after`
            received = after["osc_received"] - before["osc_received"] - probe.sent - 1
            rows.append(
                {
                    "server": "bassd",
                    "offered_rate": rate or "max",
                    "sent": sent,
                    "handled": handled,
                    "handled_per_s": round(handled / wall),
                    "coalesced": coalesced,
                    "applied_per_s": round((handled - coalesced) / wall),
                    "lost": sent - received,
                    "dry_callbacks": after["dry_callbacks"] - before["dry_callbacks"],
                    "late_pumps": after["late_pumps"] - before["late_pumps"],
                    "server_xruns": after["server_xruns"] - before["server_xruns"],
                    "batch_max": after["osc_batch_max"],
                    **probe.figures(),
                }
            )
        receiver = after["osc_receiver"]
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

    def rate_of(server: str) -> int:
        return next(
            int(r["handled_per_s"])  # type: ignore[call-overload]
            for r in rows
            if r["server"] == server and r["offered_rate"] == "max"
        )

    ratios = {
        f"python-osc/{k}": round(rate_of("bassd") / max(1, rate_of(f"python-osc/{k}")), 2)
        for k in _loops()
    }
    out = {
        "overrides": args.overrides,
        "receiver": receiver,
        "ratio_vs_pythonosc": ratios,
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
        ("/fx/drive (post-FX in the callback)", lat),
    ):
        print(
            f"  {name:<38} n={d['samples']:<4} p50 {d['p50_ms']} ms  p90 {d['p90_ms']} ms"
            f"  p99 {d['p99_ms']} ms  max {d['max_ms']} ms"
        )
    print(
        f"throughput, one flood client, {args.seconds:g} s per run; bassd reads with {receiver};"
        " /status probed every 50 ms during bassd's floods"
    )
    head = (
        f"{'server':<19}{'offered/s':>10}{'sent':>10}{'handled':>10}{'handled/s':>11}"
        f"{'applied/s':>11}{'lost':>9}{'dry':>5}{'late':>5}{'xruns':>6}"
        f"{'status p50/p99/max ms':>24}{'unans.':>7}"
    )
    print(head)
    for r in rows:
        st = (
            f"{r['status_p50_ms']}/{r['status_p99_ms']}/{r['status_max_ms']}"
            if r.get("status_p50_ms") is not None
            else "-"
        )
        print(
            f"{r['server']:<19}{r['offered_rate']!s:>10}{r['sent']:>10}{r['handled']:>10}"
            f"{r['handled_per_s']:>11}{r['applied_per_s']:>11}{r['lost']:>9}"
            f"{r.get('dry_callbacks', '-')!s:>5}{r.get('late_pumps', '-')!s:>5}"
            f"{r.get('server_xruns', '-')!s:>6}{st:>24}{r.get('status_unanswered', '-')!s:>7}"
        )
    for k, v in ratios.items():
        print(f"bassd / {k}, handled/s as fast as the client can: {v}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
