"""The long soak: the daemon as `bassd run` starts it, at full feature load, both cores busy.

One JACK dummy server (48 kHz, 256 frames) and the daemon with its defaults plus the jam
(JACK MIDI port, FluidSynth, the accompanist), 12 s segments and (``--neural tiny``, the
default) the neural renderer: MusicGen's architecture at its test size with random
weights, in its worker process, the Kuramoto bank as its fallback. In the same run:

* a heart-rate stream at 1 Hz (`/hr/bpm` and `/hr/rr`: calm, rising into stress,
  recovering, in a 6-minute cycle) from one client;
* a performer's controls from another: `/fx/lpf`, `/fx/hpf`, `/fx/drive` swept 20 times a
  second, a renderer parameter every 5 s, a scene every 90 s;
* a subscriber (`/subscribe` at the default rate) whose pushes are counted;
* a keyboard: a JACK MIDI client playing a tune into bassd's port;
* ``--load`` busy processes (2: both cores) at normal priority.

Every ``--every`` seconds it samples /status: dry callbacks, late pumps, the daemon's RSS,
open files, shared-memory blocks, asyncio tasks, and the RSS of each of its children
(device process, metrics worker, MIDI process, neural worker) from /proc. Reported: a table, the RSS slope over
the second half (target < 1 MB/h), a PNG of the series, JSON. With ``--tracemalloc`` the
daemon runs ``debug.tracemalloc`` and its biggest allocation growths are printed; it slows
the loop (every allocation traced, numpy's included), so its dry figures are not the engine's.

    python benchmarks/bench_soak.py --minutes 60
    python benchmarks/bench_soak.py --minutes 2 --every 5       # a smoke run
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
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bassd.app.diagnostics import open_fds, private_mb, rss_mb
from bassd.control.osc_codec import encode_message
from tests.daemon import DaemonProcess
from tests.jack import JackServer
from tests.osc_client import free_udp_port, status_json

RESULTS = Path(__file__).resolve().parent / "results"
TUNE = [60, 64, 67, 72, 67, 64, 62, 65, 69, 65, 62, 59]


def _burn(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


def _hr(t: float) -> float:
    """A 6-minute cycle: calm at 68, rising to 105 (stress), recovering."""
    phase = (t % 360) / 360
    return 68 + 37 * max(0.0, math.sin(math.pi * phase)) ** 2


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _child_name(pid: int, status: dict[str, Any]) -> str:
    """A child's role: the neural worker (by the pid /status names), a multiprocessing pool
    worker or resource tracker, or the bassd module it runs (``device_host`` ...)."""
    if pid == status.get("neural_worker_pid"):
        return "neural_worker"
    try:
        cmd = (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
        )
    except OSError:
        return "gone"
    for role in ("resource_tracker", "spawn_main", "device_host", "midi_host"):
        if role in cmd:
            return "pool_worker" if role == "spawn_main" else role
    return Path(cmd.split(" ", 1)[0]).name or "?"


def _children_rss(pid: int, status: dict[str, Any], read: Any = rss_mb) -> dict[str, float]:
    """Each child's memory by role (``read``: VmRSS, or private_mb for RssAnon)."""
    out: dict[str, float] = {}
    for k in _children(pid):
        name = _child_name(k, status)
        out[name] = round(out.get(name, 0.0) + (read(k) or 0.0), 2)
    return out


def _status(osc_port: int, reply_port: int, missed: list[float], t: float) -> dict[str, Any]:
    """/status, asked again after a lost or late reply (UDP; a 60-minute run lost one at
    6 min and the whole run with it): each miss is counted and its time kept."""
    for attempt in range(5):
        try:
            return status_json(osc_port, reply_port, timeout=5.0)
        except TimeoutError:
            missed.append(round(t, 1))
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _slope_mb_per_h(samples: list[dict[str, Any]], key: str, after_s: float) -> float | None:
    """Least-squares slope of ``key`` (MiB) over the samples after ``after_s``."""
    half = [s for s in samples if s["t_s"] >= after_s]
    if len(half) < 2:
        return None
    import numpy as np

    x = np.array([s["t_s"] for s in half]) / 3600
    return round(float(np.polyfit(x, np.array([s[key] for s in half]), 1)[0]), 3)


class _Drivers:
    """The HR client, the performer, the subscriber and the keyboard, on threads."""

    def __init__(self, osc_port: int, jack: str, midi_port: str, stop: threading.Event) -> None:
        self.osc_port, self.jack, self.midi_port, self.stop = osc_port, jack, midi_port, stop
        self.pushes = 0
        self.notes = 0
        self.keyboard_connected_s: float | None = None  # when the keyboard reached the daemon
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._heart, self._hands, self._subscriber, self._keys)]  # fmt: skip

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _send(self, s: socket.socket, address: str, *args: Any) -> None:
        s.sendto(encode_message(address, *args), ("127.0.0.1", self.osc_port))

    def _heart(self) -> None:
        t0 = time.monotonic()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            self._send(s, "/baseline/set", 70.0)
            while not self.stop.wait(1.0):
                bpm = _hr(time.monotonic() - t0)
                self._send(s, "/hr/bpm", bpm)
                self._send(s, "/hr/rr", 60_000.0 / bpm)

    def _hands(self) -> None:
        t0 = time.monotonic()
        scenes = ["zen", "focus", "energise", "off"]
        n = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while not self.stop.wait(0.05):
                ph = 2 * math.pi * (time.monotonic() - t0) / 8.0
                self._send(s, "/fx/lpf", 1000.0 * 12.0 ** (0.5 + 0.5 * math.sin(ph)))
                self._send(s, "/fx/hpf", 40.0 * 5.0 ** (0.5 + 0.5 * math.sin(ph / 3)))
                self._send(s, "/fx/drive", 1.6 + math.sin(ph / 5))
                n += 1
                if n % 100 == 0:
                    self._send(s, "/renderer/brightness", 0.3 + 0.4 * ((n // 100) % 2))
                if n % 1800 == 0:
                    self._send(s, "/scene", scenes[(n // 1800) % len(scenes)])

    def _subscriber(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.5)
            port = s.getsockname()[1]
            last = 0.0
            while not self.stop.is_set():
                if time.monotonic() - last > 20:  # renew before the subscription lapses
                    s.sendto(encode_message("/subscribe", port), ("127.0.0.1", self.osc_port))
                    last = time.monotonic()
                try:
                    s.recv(65536)
                    self.pushes += 1
                except TimeoutError:
                    pass

    def _keys(self) -> None:
        import jack  # the JACK-Client package (the test extra)
        import rtmidi

        os.environ["JACK_DEFAULT_SERVER"] = self.jack
        out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"soakkbd-{uuid.uuid4().hex[:4]}")
        out.open_virtual_port("keys")
        client = jack.Client(f"soakc-{uuid.uuid4().hex[:4]}", servername=self.jack,
                             no_start_server=True)  # fmt: skip
        try:
            src = next(
                p for p in client.get_ports(is_output=True, is_midi=True) if "soakkbd" in p.name
            )
            # the daemon's MIDI process opens its port after the device: on a loaded machine
            # that took over the 20 s this waited once, and the 2-hour soak ran without the
            # jam's load; now it keeps looking, and the table says when it connected
            t0 = time.monotonic()
            while not self.stop.is_set() and self.keyboard_connected_s is None:
                dst = [p for p in client.get_ports(is_input=True, is_midi=True)
                       if self.midi_port in p.name]  # fmt: skip
                if dst:
                    client.connect(src, dst[0])
                    self.keyboard_connected_s = round(time.monotonic() - t0, 1)
                    break
                time.sleep(0.5)
            i = 0
            while not self.stop.wait(0.25):
                note = TUNE[i % len(TUNE)]
                out.send_message([0x90, note, 90])
                if self.stop.wait(0.2):
                    break
                out.send_message([0x80, note, 0])
                self.notes += 1
                i += 1
        finally:
            client.close()
            out.close_port()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    ap.add_argument("--load", type=int, default=2, help="busy processes (2: both cores)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="name what grows (diagnosis only: tracing every allocation slows the "
                         "loop, and the dry figure with it: the neural soak's first 5 min "
                         "counted 623 dry callbacks with it, 0 without)")  # fmt: skip
    ap.add_argument("--neural", choices=["tiny", "off"], default="tiny",
                    help="tiny: the MusicGen renderer at test size, random weights")  # fmt: skip
    ap.add_argument("--name", default="soak")
    args = ap.parse_args()
    seconds = args.minutes * 60

    jack = JackServer(f"soak-{uuid.uuid4().hex[:6]}")
    jack.start()
    midi_port = f"bassd-soak-{uuid.uuid4().hex[:4]}"
    sets = ["osc.oscquery_mdns=false", "timeline.segment_seconds=12",
            "jam.enabled=true", "midi.enabled=true", "midi.api=jack",
            f"midi.virtual_name={midi_port}", "jam.tempo_bpm=96"]  # fmt: skip
    if args.tracemalloc:
        sets += ["debug.tracemalloc=true", f"debug.tracemalloc_seconds={max(60, seconds / 6)}"]
    osc_port, reply_port = free_udp_port(), free_udp_port()
    work = Path(tempfile.mkdtemp(prefix="bassd-soak-"))
    if args.neural == "tiny":
        from bassd.models.random_init import write_random_musicgen

        model = write_random_musicgen(work / "musicgen-tiny", "tiny", seed=0)
        sets += ["renderer.name=musicgen", f"musicgen.model={model}"]
    d = DaemonProcess(work, jack, osc_port, reply_port, [x for o in sets for x in ("--set", o)])
    d.wait_for_log("osc_listening")
    time.sleep(3)
    stop = threading.Event()
    drivers = _Drivers(osc_port, jack.name, midi_port, stop)
    burners = [
        mp.Process(target=_burn, args=(time.time() + seconds + 5,)) for _ in range(args.load)
    ]
    mark = jack.mark()
    samples: list[dict[str, Any]] = []
    missed: list[float] = []  # sample times whose /status reply did not come
    try:
        base = status_json(osc_port, reply_port)
        drivers.start()
        for b in burners:
            b.start()
        t0 = time.monotonic()
        while True:
            t = time.monotonic() - t0
            st = _status(osc_port, reply_port, missed, t)
            kids = _children_rss(d.proc.pid, st)
            samples.append({
                "t_s": round(t, 1),
                "dry_callbacks": st["dry_callbacks"] - base["dry_callbacks"],
                "late_pumps": st["late_pumps"] - base["late_pumps"],
                "rss_mb": st["rss_mb"], "private_mb": round(private_mb(d.proc.pid) or 0.0, 2),
                "heap_in_use_mb": st.get("heap_in_use_mb"), "heap_free_mb": st.get("heap_free_mb"),
                "py_blocks": st.get("py_blocks"),
                "children_rss_mb": round(sum(kids.values()), 2), "children": kids,
                "children_private": _children_rss(d.proc.pid, st, private_mb),
                "open_fds": st["open_fds"], "fds_by_proc": open_fds(d.proc.pid),
                "shm_blocks": st["shm_blocks"], "asyncio_tasks": st["asyncio_tasks"],
                "segments": st["segment_index"], "state": st["state"],
                "midi_events": st["midi_events"], "jam_chords": st["jam_chords"],
                "neural_clips": st["neural_clips"], "neural_state": st["neural_state"],
            })  # fmt: skip
            if t >= seconds:
                break
            time.sleep(min(args.every, seconds - t + 0.01))
        end = st
    finally:
        stop.set()
        for b in burners:
            b.terminate()
            b.join()
        code = d.stop(timeout=20)
        jack.stop()
    leftover = sorted(
        p.name for p in Path("/dev/shm").iterdir() if p.name.startswith(f"bassd_{d.proc.pid}_")
    )
    slope = _slope_mb_per_h(samples, "rss_mb", seconds / 2)
    kids_slope = _slope_mb_per_h(samples, "children_rss_mb", seconds / 2)
    private_slope = _slope_mb_per_h(samples, "private_mb", seconds / 2)
    heap = [s for s in samples if s["heap_in_use_mb"] is not None]
    heap_slope = _slope_mb_per_h(heap, "heap_in_use_mb", seconds / 2) if heap else None
    free_slope = _slope_mb_per_h(heap, "heap_free_mb", seconds / 2) if heap else None
    per_child: dict[str, Any] = {}
    for name in sorted({n for s in samples for n in s["children"]}):
        have = [s for s in samples if name in s["children"]]
        per_child[name] = {
            "start_mb": have[0]["children"][name], "end_mb": have[-1]["children"][name],
            "slope_mb_per_h_second_half": _slope_mb_per_h(
                [{"t_s": s["t_s"], "mb": s["children"][name]} for s in have], "mb", seconds / 2),
            "private_start_mb": have[0]["children_private"].get(name),
            "private_end_mb": have[-1]["children_private"].get(name),
            "private_slope_mb_per_h_second_half": _slope_mb_per_h(
                [{"t_s": s["t_s"], "mb": s["children_private"].get(name, 0.0)} for s in have],
                "mb", seconds / 2),
        }  # fmt: skip
    tops = [e for e in d.events() if e.get("event") == "tracemalloc_top"]
    out = {
        "minutes": args.minutes, "load_processes": args.load, "cores": os.cpu_count(),
        "dry_callbacks": end["dry_callbacks"] - base["dry_callbacks"],
        "late_pumps": end["late_pumps"] - base["late_pumps"],
        "driver_overruns": jack.driver_stalls(mark),
        "server_xruns": end["server_xruns"] - base["server_xruns"],
        "callback_max_us": end["callback_max_us"],
        "segments": end["segment_index"], "fallbacks": end["fallbacks"],
        "osc_received": end["osc_received"] - base["osc_received"],
        "osc_dropped": end["osc_dropped"] - base["osc_dropped"],
        "hr_accepted": end["hr_accepted"], "midi_events": end["midi_events"],
        "jam_chords": end["jam_chords"], "pushes_received": drivers.pushes,
        "keyboard_connected_s": drivers.keyboard_connected_s,
        "rss_start_mb": samples[0]["rss_mb"], "rss_end_mb": samples[-1]["rss_mb"],
        "rss_slope_mb_per_h_second_half": slope,
        "private_start_mb": samples[0]["private_mb"], "private_end_mb": samples[-1]["private_mb"],
        "private_slope_mb_per_h_second_half": private_slope,
        "heap_in_use_start_end_mb": [heap[0]["heap_in_use_mb"], heap[-1]["heap_in_use_mb"]]
        if heap else None,
        "heap_in_use_slope_mb_per_h_second_half": heap_slope,
        "heap_free_start_end_mb": [heap[0]["heap_free_mb"], heap[-1]["heap_free_mb"]]
        if heap else None,
        "heap_free_slope_mb_per_h_second_half": free_slope,
        "py_blocks_start_end": [samples[0]["py_blocks"], samples[-1]["py_blocks"]],
        "heap_trims": end.get("heap_trims"), "heap_trim_max_ms": end.get("heap_trim_max_ms"),
        "heap_trimmed_mb": end.get("heap_trimmed_mb"),
        "children_rss_slope_mb_per_h_second_half": kids_slope,
        "neural": args.neural, "neural_clips": end["neural_clips"],
        "neural_failures": end["neural_failures"], "neural_restarts": end["neural_restarts"],
        "children_rss_start_mb": samples[0]["children_rss_mb"],
        "children_rss_end_mb": samples[-1]["children_rss_mb"], "children": per_child,
        "open_fds_start_end": [samples[0]["open_fds"], samples[-1]["open_fds"]],
        "shm_blocks_start_end": [samples[0]["shm_blocks"], samples[-1]["shm_blocks"]],
        "asyncio_tasks_start_end": [samples[0]["asyncio_tasks"], samples[-1]["asyncio_tasks"]],
        "exit_code": code, "shm_left_after_exit": leftover, "status_missed_at_s": missed,
        "tracemalloc_last": tops[-1]["growth"] if tops else None,
        "samples": samples, "date": time.strftime("%Y-%m-%d"),
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=2))
    png = RESULTS / f"{args.name}.png"
    _plot(samples, png, args)

    print(f"soak: {args.minutes:g} min, {args.load} busy processes on {os.cpu_count()} cores, "
          f"jam + HR + controls + subscriber, 12 s segments, neural: {args.neural}")  # fmt: skip
    print("| figure | value |\n|---|---:|")
    for key in ("dry_callbacks", "late_pumps", "driver_overruns", "server_xruns",
                "callback_max_us", "segments", "fallbacks", "osc_received", "osc_dropped",
                "hr_accepted", "midi_events", "jam_chords", "keyboard_connected_s",
                "pushes_received", "neural_clips",
                "neural_failures", "neural_restarts", "rss_start_mb", "rss_end_mb",
                "rss_slope_mb_per_h_second_half", "private_start_mb", "private_end_mb",
                "private_slope_mb_per_h_second_half", "heap_in_use_start_end_mb",
                "heap_in_use_slope_mb_per_h_second_half", "heap_free_start_end_mb",
                "heap_free_slope_mb_per_h_second_half", "py_blocks_start_end", "children_rss_start_mb", "children_rss_end_mb",
                "children_rss_slope_mb_per_h_second_half", "open_fds_start_end", "shm_blocks_start_end",
                "asyncio_tasks_start_end", "exit_code", "shm_left_after_exit",
                "status_missed_at_s"):  # fmt: skip
        print(f"| {key} | {out[key]} |")
    print(
        "| child | RSS start (MiB) | end | slope, 2nd half (MiB/h) "
        "| private start | end | slope |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for name, c in per_child.items():
        print(
            f"| {name} | {c['start_mb']} | {c['end_mb']} | {c['slope_mb_per_h_second_half']} "
            f"| {c['private_start_mb']} | {c['private_end_mb']} "
            f"| {c['private_slope_mb_per_h_second_half']} |"
        )
    if tops:
        print("tracemalloc, biggest growths since start:")
        for g in tops[-1]["growth"]:
            print(f"  {g['kib']:>9} KiB {g['count']:>7}  {g['where']}")
    print(f"plot: {png}")
    return 0


def _plot(samples: list[dict[str, Any]], png: Path, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t_s"] / 60 for s in samples]
    fig, axes = plt.subplots(4, 1, figsize=(10, 9), sharex=True)
    axes[0].plot(t, [s["rss_mb"] for s in samples], label="daemon")
    axes[0].plot(t, [s["private_mb"] for s in samples], label="daemon, private (RssAnon)")
    axes[0].plot(t, [s["children_rss_mb"] for s in samples], label="its children")
    if all(s.get("heap_in_use_mb") is not None for s in samples):
        axes[0].plot(t, [s["heap_in_use_mb"] for s in samples], label="daemon, C heap in use")
        axes[0].plot(t, [s["heap_free_mb"] for s in samples], label="daemon, C heap free, held")
    axes[0].set_ylabel("RSS (MiB)")
    axes[0].legend(loc="upper left")
    axes[1].plot(t, [s["open_fds"] for s in samples], label="open files")
    axes[1].plot(t, [s["asyncio_tasks"] for s in samples], label="asyncio tasks")
    axes[1].plot(t, [s["shm_blocks"] for s in samples], label="shm blocks")
    axes[1].set_ylabel("count")
    axes[1].legend(loc="upper left")
    axes[2].step(t, [s["dry_callbacks"] for s in samples], where="post", label="dry callbacks")
    axes[2].step(t, [s["late_pumps"] for s in samples], where="post", label="late pumps")
    axes[2].set_ylabel("since start")
    axes[2].legend(loc="upper left")
    axes[3].plot(t, [s["segments"] for s in samples], label="segment")
    axes[3].plot(t, [s["jam_chords"] for s in samples], label="jam chords")
    axes[3].set_ylabel("count")
    axes[3].set_xlabel("minutes")
    axes[3].legend(loc="upper left")
    fig.suptitle(f"bassd soak: {args.minutes:g} min, {args.load} busy processes, full load")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
