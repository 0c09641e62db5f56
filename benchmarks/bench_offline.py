"""Offline render speed of ``bassd render`` and start-up time of ``bassd run``.

1. What the user runs: the real ``bassd render --seconds 120 --out ...``
   command (a fresh ``python -m bassd`` in a temporary folder, shipped
   defaults: the prompt bank steers the parameters, the segment log writes a
   metrics row and a clip WAV per segment). Its own "x real time" figure and
   the whole process's wall time (imports included). Target ≥ 20×.
   Side by side, in one run, its anchor: ``render_offline(load_config(), ...)``
   in-process, with the segment log and without it (the breakdown).
2. Start-up: the import cost of what ``bassd run`` loads, the heaviest
   imports, and spawn → ``daemon_started`` of a real ``bassd run`` on a JACK
   server (``$JACK_DEFAULT_SERVER``, else ``bt1``, else a dummy ``jackd``
   started here); then SIGINT and a check that it exits 0. Target < 0.5 s.

    python benchmarks/bench_offline.py [--quick] [--no-daemon] [--seconds S]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the bassd CLI sets it
os.environ.setdefault("OMP_NUM_THREADS", "1")

import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import _startup as st
from _common import table, write_results

try:  # the composition root moved to bassd.app
    from bassd.app.config import load_config
    from bassd.app.logging_setup import configure_logging
    from bassd.app.offline import render_offline
except ImportError:  # pragma: no cover - before the move
    from bassd.engine.config import load_config  # type: ignore[no-redef]
    from bassd.engine.logging_setup import configure_logging  # type: ignore[no-redef]
    from bassd.engine.offline import render_offline  # type: ignore[no-redef]
from bassd.engine.segment_log import SegmentLog

RENDER_TARGET_X = 20.0
STARTUP_TARGET_S = 0.5


def render_once(seconds: float, with_log: bool) -> dict[str, Any]:
    cfg = load_config()
    with tempfile.TemporaryDirectory(prefix="bench_offline_") as tmp:
        out = Path(tmp) / "render.wav"
        seg_log = None
        if with_log:
            o = cfg.outputs
            audio_dir = Path(tmp) / "audio" if o.keep_audio else None
            seg_log = SegmentLog(Path(tmp) / "metrics.csv", audio_dir, cfg.audio.sample_rate)
        t0 = time.perf_counter()
        res = render_offline(cfg, seconds, out, segment_log=seg_log)
        wall = time.perf_counter() - t0
        rows = seg_log.rows if seg_log is not None else 0
    return {
        "speed_x": res.speed,  # render loop only, as `bassd render` reports it
        "speed_x_incl_setup": res.seconds / wall,  # with Engine construction
        "wall_s": wall,
        "segments": res.segments,
        "segment_rows": rows,
        "fallbacks": res.fallbacks,
    }


def _stage_hooks() -> list[tuple[str, Any, str]]:
    """(label, owner, attribute) of the stages timed by ``render_breakdown``."""
    from bassd.dsp.oscillators import KuramotoBank
    from bassd.dsp.postfx import PostFX
    from bassd.engine import segment_log
    from bassd.engine.capture import CaptureBuffer
    from bassd.engine.wavfile import WavWriter

    return [
        ("oscillator banks (KuramotoBank.render)", KuramotoBank, "render"),
        ("post-FX (PostFX.process)", PostFX, "process"),
        ("capture to shared memory (CaptureBuffer.append)", CaptureBuffer, "append"),
        ("24-bit WAV writing, render + clips (WavWriter.write)", WavWriter, "write"),
        ("segment metrics (dsp.metrics.measure)", segment_log, "measure"),
    ]


def render_breakdown(seconds: float) -> dict[str, float]:
    """Seconds spent per stage in one in-process render with the segment log.

    Each stage's function is wrapped with a timer for this run only; "rest" is
    the render loop's wall time minus the stages (timeline mixing, controller,
    engine bookkeeping, the loop itself).
    """
    spent: dict[str, float] = {}
    originals = []
    for label, owner, attr in _stage_hooks():
        fn = getattr(owner, attr)
        originals.append((owner, attr, fn))
        spent[label] = 0.0

        def timed(*a: Any, _fn: Any = fn, _label: str = label, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                spent[_label] += time.perf_counter() - t0

        setattr(owner, attr, timed)
    try:
        res = render_once(seconds, with_log=True)
    finally:
        for owner, attr, fn in originals:
            setattr(owner, attr, fn)
    loop = seconds / res["speed_x"]
    spent["rest (timeline mix, controller, engine, loop)"] = loop - sum(spent.values())
    spent["render loop, wall"] = loop
    return spent


_PRINTED = re.compile(r"in ([0-9.]+) s \(([0-9.]+)x real time, (\d+) segments, (\d+) fallbacks")


def cli_once(seconds: float) -> dict[str, Any]:
    """One real ``bassd render`` in a fresh folder (its outputs/ land there)."""
    with tempfile.TemporaryDirectory(prefix="bench_cli_render_") as tmp:
        cmd = [sys.executable, "-m", "bassd", "render", "--seconds", f"{seconds:g}"]
        cmd += ["--out", str(Path(tmp) / "render.wav")]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        m = _PRINTED.search(proc.stdout)
        if proc.returncode != 0 or m is None:
            raise RuntimeError(f"bassd render failed (rc {proc.returncode}): {proc.stderr[-800:]}")
        clips = len(list((Path(tmp) / "outputs" / "audio").glob("*.wav")))
    return {
        "speed_x": float(m.group(2)),  # as `bassd render` prints it (render loop + segment log)
        "speed_x_incl_startup": seconds / wall,  # the whole process: imports, set-up, exit
        "wall_s": float(m.group(1)),
        "process_wall_s": wall,
        "segments": int(m.group(3)),
        "segment_clips": clips,
        "fallbacks": int(m.group(4)),
        "command": " ".join(["python", *cmd[1:]]),
    }


def bench_render(seconds: float, repeats: int) -> dict[str, dict[str, Any]]:
    runs = [cli_once(seconds) for _ in range(repeats)]
    out = {"bassd_render_cli": max(runs, key=lambda r: r["speed_x"])}
    for with_log in (True, False):
        runs = [render_once(seconds, with_log) for _ in range(repeats)]
        out["with_segment_log" if with_log else "without_segment_log"] = max(
            runs, key=lambda r: r["speed_x"]
        )
    return out


def bench_startup(runs: int, repeats: int) -> dict[str, Any]:
    imports_s = st.time_import(st.RUN_IMPORTS, repeats)
    lazy = ("scipy.signal", "pyloudnorm")
    imports_lazy_s = st.time_import(st.RUN_IMPORTS, repeats, stub=lazy)
    packages = st.package_costs(repeats)
    tree = st.bassd_import_tree()
    result: dict[str, Any] = {
        "import_run_modules_s": imports_s,
        "import_run_modules_without_scipy_signal_and_pyloudnorm_s": imports_lazy_s,
        "package_import_s_after_numpy": packages,
        "bassd_import_tree": tree[:8],
    }
    preferred = [os.environ.get("JACK_DEFAULT_SERVER", ""), "bt1"]
    jack = st.JackServer.find_or_start(preferred)
    if jack is None:
        result["daemon"] = {"skipped": "no JACK server running and none could be started"}
        return result
    try:
        starts = [st.start_daemon_once(jack.name) for _ in range(runs)]
    finally:
        jack.stop()
    result["daemon"] = {
        "jack_server": jack.name,
        "started_here": jack.proc is not None,
        **st.summarise(starts),
        "each": [asdict(s) for s in starts],
    }
    return result


def print_startup(s: dict[str, Any]) -> None:
    d = s.get("daemon", {})
    rows: list[list[object]] = [
        ["import of the run modules (fresh python)", s["import_run_modules_s"]],
        [
            "  same, scipy.signal + pyloudnorm stubbed (what-if)",
            s["import_run_modules_without_scipy_signal_and_pyloudnorm_s"],
        ],
    ]
    if "skipped" in d:
        rows.append(["bassd run: spawn -> daemon_started", f"skipped: {d['skipped']}"])
    else:
        rows += [
            ["bassd run: spawn -> first log line (median)", d["event_loop_median_s"]],
            ["bassd run: spawn -> daemon_started (median)", d["started_median_s"]],
            ["bassd run: spawn -> daemon_started (best)", d["started_min_s"]],
            ["exit code 0 after SIGINT, every run", d["all_exit_0"]],
            ["device played (frames_out > 0), every run", d["all_played"]],
        ]
    print(table(["start-up", "value"], rows))
    print()
    pk = sorted(s["package_import_s_after_numpy"].items(), key=lambda kv: -(kv[1] or 0))
    print(table(["package (import after numpy)", "seconds"], [[k, v] for k, v in pk]))
    print()
    tree = [
        [r["module"], r["cumulative_s"], r["heaviest_external"], r["heaviest_external_s"]]
        for r in s["bassd_import_tree"][:6]
    ]
    print(table(["bassd module (-X importtime)", "cumul. s", "heaviest import", "s"], tree))
    best = d.get("started_median_s")
    if best is not None:
        verdict = "PASS" if best < STARTUP_TARGET_S else "FAIL"
        print(f"target: start-up < {STARTUP_TARGET_S} s: {verdict} ({best:.3f} s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 s render, one run each")
    ap.add_argument("--seconds", type=float, help="render length (default 120, quick 30)")
    ap.add_argument("--no-daemon", action="store_true", help="skip the start-up part")
    args = ap.parse_args(argv)
    seconds = args.seconds or (30.0 if args.quick else 120.0)
    repeats = 1 if args.quick else 2

    configure_logging("warning", "console")  # the per-segment info lines would bury the table
    render = bench_render(seconds, repeats)
    labels = {
        "bassd_render_cli": "bassd render (CLI process)",
        "with_segment_log": "  anchor: render_offline + log",
        "without_segment_log": "  anchor: render_offline, no log",
    }
    rows = [
        [
            labels[name],
            r["speed_x"],
            r.get("speed_x_incl_startup", r.get("speed_x_incl_setup")),
            r["wall_s"],
            r["segments"],
        ]
        for name, r in render.items()
    ]
    head = [f"offline render, {seconds:g} s", "x real time", "incl. start-up", "wall s", "segs"]
    print(table(head, rows))
    met = render["bassd_render_cli"]["speed_x"] >= RENDER_TARGET_X
    breakdown = render_breakdown(seconds)
    print()
    print(
        table(
            [f"where the time goes ({seconds:g} s, in-process)", "seconds", "x real time"],
            [[k, v, seconds / v if v > 0 else None] for k, v in breakdown.items()],
        )
    )
    print(f"target: >= {RENDER_TARGET_X:g}x real time: {'PASS' if met else 'FAIL'}")
    print()

    startup = None
    if not args.no_daemon:
        startup = bench_startup(runs=2 if args.quick else 3, repeats=2 if args.quick else 3)
        print_startup(startup)

    path = write_results(
        "offline",
        {
            "render_seconds": seconds,
            "repeats": repeats,
            "render": render,
            "render_breakdown_s": breakdown,
            "render_target_x": RENDER_TARGET_X,
            "render_target_met": met,
            "startup": startup,
            "startup_target_s": STARTUP_TARGET_S,
            "notes": (
                "bassd_render_cli runs the real `python -m bassd render` in a temp folder; "
                "its speed_x is what it prints (render loop with the segment log), "
                "speed_x_incl_startup divides by the whole process's wall time. The anchors "
                "run render_offline in-process: speed_x is the render loop only, "
                "speed_x_incl_setup adds Engine construction. The target applies to the CLI. "
                "Machine shared with other engineers: best of `repeats`. Start-up: daemon_started is "
                "logged after the ring is pre-filled and the device process reports the "
                "stream open, an upper-ish bound of time to the first audible block."
            ),
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
