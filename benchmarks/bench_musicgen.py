"""MusicGen on this machine: stock transformers beside our decode loop, streaming, the daemon.

The musicgen-small architecture (decoder 1024 x 24 layers, 16 heads, FFN 4096,
4 x 2048 codes; T5-base; 32 kHz EnCodec) with random weights: the compute is
that of the real checkpoint. Everything in one run, side by side:

1. speed: stock ``model.generate`` (greedy, CFG) vs ``MusicGen.generate(greedy=True)``
   for the same length and guidance — seconds per second of audio, codes compared —
   and the ablations (what each change bought);
2. stream: time to first audio out of ``stream()``, and the decode cost per second of
   audio along a long stream (ours: a fixed window; transformers' streamer re-decodes
   everything so far, measured at a few lengths);
3. daemon: ``bassd run`` with ``renderer.name=musicgen`` on the JACK dummy device —
   dry callbacks while generating, the neural RTF, the share of neural segments.

    python benchmarks/bench_musicgen.py                     # all parts (~15 min on 2 cores)
    python benchmarks/bench_musicgen.py --part speed --seconds 5

Prints tables and writes benchmarks/results/musicgen.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results"
PROMPT = "calm ambient piano with warm pads, 60 bpm"


def model_dir(arch: str, cache: Path) -> Path:
    from bassd.models.random_init import write_random_musicgen

    out = cache / f"musicgen-{arch}-random"
    if not (out / "config.json").is_file():
        print(f"writing a random {arch} MusicGen to {out} …", flush=True)
        write_random_musicgen(out, arch, seed=0)
    return out


def part_speed(folder: Path, seconds: float, guidance: float) -> dict[str, Any]:
    from bassd.models.musicgen import MusicGen
    from bassd.models.stock import stock_greedy

    mg = MusicGen.load(folder, "cpu", threads=os.cpu_count())
    frames = round(seconds * mg.frame_rate)
    mg.generate(PROMPT, 0.2, greedy=True)  # warm-up (allocations, first kernels)
    stock_codes, _, stock_s = stock_greedy(mg, PROMPT, frames, guidance)
    rows: list[dict[str, Any]] = [
        {"path": "stock transformers generate (DynamicCache, F.linear, CFG rows both "
                 "through cross-attention)", "s": stock_s, "codes_equal": True,
         "code_agreement": 1.0},
    ]  # fmt: skip

    def ours(label: str, m: MusicGen) -> None:
        t0 = time.perf_counter()
        res = m.generate(PROMPT, seconds, greedy=True, guidance=guidance)
        dt = time.perf_counter() - t0
        agree = float(np.mean(res.codes == stock_codes))
        rows.append({"path": label, "s": dt, "codes_equal": bool(np.array_equal(res.codes,
                     stock_codes)), "code_agreement": agree, "timings": res.timings})  # fmt: skip

    mg.fast_matmul = False
    mg._steps = None
    mg._decoder(mg.max_frames)  # rebuilt outside the timing, as load() does
    ours("ours: static KV cache, cross-attention K/V once and on the conditional row only, "
         "one step function (F.linear as transformers)", mg)  # fmt: skip
    mg.fast_matmul = True
    mg._steps = None
    mg._decoder(mg.max_frames)
    ours("ours: + matrix products as W @ x.T (the default)", mg)
    del mg
    bf = MusicGen.load(folder, "cpu", dtype="bfloat16", threads=os.cpu_count())
    bf.generate(PROMPT, 0.2, greedy=True)
    ours("ours: + bfloat16 decoder (opt-in: changes results)", bf)
    for r in rows:
        r["s_per_s"] = r["s"] / seconds
        r["speedup_vs_stock"] = stock_s / r["s"]
    print(f"\nspeed: {seconds:g} s of audio, greedy, guidance {guidance:g}, "
          f"{os.cpu_count()} CPU threads")  # fmt: skip
    print(f"{'path':<110}{'s/s audio':>10}{'× stock':>9}{'codes':>8}")
    for r in rows:
        same = "same" if r["codes_equal"] else f"{100 * r['code_agreement']:.0f}%"
        print(f"{r['path']:<110}{r['s_per_s']:>10.2f}{r['speedup_vs_stock']:>9.2f}{same:>8}")
    return {"seconds": seconds, "guidance": guidance, "rows": rows}


def part_stream(folder: Path, seconds: float) -> dict[str, Any]:
    from bassd.models.musicgen import MusicGen

    mg = MusicGen.load(folder, "cpu", threads=os.cpu_count())
    mg.generate(PROMPT, 0.2, greedy=True)
    stats: dict[str, Any] = {}
    t0 = time.perf_counter()
    chunks = list(mg.stream(PROMPT, seconds, seed=0, stats=stats))
    total = time.perf_counter() - t0
    audio_s = sum(len(c) for c in chunks) / mg.sample_rate
    sizes, costs = stats["chunk_frames"], stats["chunk_seconds"]
    per_chunk = [
        (end, s / (n / mg.frame_rate))
        for end, s, n in zip(np.cumsum(sizes), costs, sizes, strict=True)
    ]
    thirds = np.array_split(np.array([c for _, c in per_chunk[3:]]), 3)
    ours_cost = [float(np.mean(t)) for t in thirds if len(t)]
    # what transformers' streamer does per chunk: decode everything generated so far
    codes = stats["codes"]
    full_cost = []
    for at in sorted({min(5.0, seconds), min(15.0, seconds), seconds}):
        n = round(at * mg.frame_rate)
        t1 = time.perf_counter()
        mg.decode(codes[:, :n])
        full_cost.append((at, time.perf_counter() - t1))
    print(f"\nstream: {seconds:g} s, sampling (BASS settings)")
    print(f"  time to first audio           {stats['first_audio_s']:.3f} s")
    print(f"  whole stream                  {total:.1f} s for {audio_s:.1f} s of audio "
          f"(RTF {total / audio_s:.2f})")  # fmt: skip
    print(
        "  our decode cost per second of audio, first/middle/last third of the stream: "
        + " / ".join(f"{c * 1000:.0f} ms" for c in ours_cost)
    )
    print(
        "  re-decoding everything so far (transformers' streamer), one chunk at "
        + ", ".join(f"{a:g} s: {s * 1000:.0f} ms" for a, s in full_cost)
    )
    return {
        "seconds": seconds,
        "first_audio_s": stats["first_audio_s"],
        "wall_s": total,
        "rtf": total / audio_s,
        "decode_s_per_audio_s_by_third": ours_cost,
        "window_frames": stats["window_frames"],
        "redecode_all_s_at": full_cost,
    }


def part_daemon(folder: Path, seconds: float) -> dict[str, Any]:
    from tests.daemon import DaemonProcess
    from tests.jack import JackServer
    from tests.osc_client import free_udp_port, status_json

    jack = JackServer(f"bench-{uuid.uuid4().hex[:6]}")
    jack.start()
    osc_port, reply_port = free_udp_port(), free_udp_port()
    work = Path(tempfile.mkdtemp(prefix="bassd-neural-"))
    sets = ["renderer.name=musicgen", f"musicgen.model={folder}"]
    daemon = DaemonProcess(work, jack, osc_port, reply_port,
                           [x for s in sets for x in ("--set", s)])  # fmt: skip
    try:
        daemon.wait_for_log("osc_listening")
        mark = jack.mark()
        before = status_json(osc_port, reply_port)
        time.sleep(seconds)
        after = status_json(osc_port, reply_port)
        jack_xruns = jack.xruns(mark)
    finally:
        daemon.stop()
        jack.stop()
    metrics = work / "outputs" / "metrics.csv"
    rows = list(csv.DictReader(metrics.open())) if metrics.exists() else []
    neural = [r for r in rows if r["renderer"] == "musicgen" and r["fallback"] == "0"]
    out = {
        "seconds": seconds,
        "dry_callbacks": after["dry_callbacks"] - before["dry_callbacks"],
        "late_pumps": after["late_pumps"] - before["late_pumps"],
        "server_xruns": after["server_xruns"] - before["server_xruns"],
        "jackd_xruns_logged": jack_xruns,
        "neural_state": after["neural_state"],
        "neural_rtf": after["neural_rtf"],
        "neural_first_audio_s": after["neural_first_audio_s"],
        "neural_clips": after["neural_clips"],
        "neural_underruns": after["neural_underruns"],
        "neural_clip_seconds": after["neural_clip_seconds"],
        "segments": len(rows),
        "neural_segments": len(neural),
        "neural_share": len(neural) / len(rows) if rows else 0.0,
    }
    print(f"\ndaemon: {seconds:g} s on the JACK dummy device, renderer musicgen (small, random)")
    for k, v in out.items():
        print(f"  {k:<24}{v}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("speed", "stream", "daemon", "all"), default="all")
    ap.add_argument("--arch", default="small", choices=("small", "tiny"))
    ap.add_argument("--seconds", type=float, default=10.0, help="speed: clip length")
    ap.add_argument("--guidance", type=float, default=1.6)
    ap.add_argument("--stream-seconds", type=float, default=30.0)
    ap.add_argument("--daemon-seconds", type=float, default=180.0)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bassd-bench")
    ap.add_argument("--name", default="musicgen")
    args = ap.parse_args()
    folder = model_dir(args.arch, args.cache)
    result: dict[str, Any] = {"arch": args.arch, "cpus": os.cpu_count(),
                              "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    import torch
    import transformers

    result["torch"], result["transformers"] = torch.__version__, transformers.__version__
    if args.part in ("speed", "all"):
        result["speed"] = part_speed(folder, args.seconds, args.guidance)
    if args.part in ("stream", "all"):
        result["stream"] = part_stream(folder, args.stream_seconds)
    if args.part in ("daemon", "all"):
        result["daemon"] = part_daemon(folder, args.daemon_seconds)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{args.name}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
