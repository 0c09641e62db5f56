"""Soundscape layers: render cost per layer, against the segment bed alone.

One run, on the engine's 256-frame block: the whole session's ``Engine.render`` (segment
bed, layers, post-FX) with the kuramoto bed alone (the anchor), then with 0..4 looping
layers under it, then 4 layers alone (``renderer.name: layers``, bed off); and the
``SoundscapeLayers.render`` call alone for 0..4 layers (what a layer itself costs: read,
crossfade, drift, low-pass, gain and pan). µs per block (median and p99 of the per-block
times) and × real time. Then what is done off the loop per file: decoding is the library's,
so here only the loop search and seam (``find_loop`` + ``make_loop``) of a 60 s file.

    .venv/bin/python benchmarks/bench_layers.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.library_sounds
from _common import single_thread_blas, table, write_results

single_thread_blas()

import numpy as np  # noqa: E402

SR, BLOCK = 48000, 256


def voices(seconds: float = 12.0) -> list:
    from bassd.dsp.loop_points import find_loop, make_loop
    from bassd.engine.layers import LayerVoice
    from tests.library_sounds import clicks, noise, tone

    out = []
    for i, x in enumerate((tone(110.3, seconds, SR, 0.2, 2), noise("pink", seconds, SR, seed=1),
                           tone(330.7, seconds, SR, 0.1), clicks(1.5, seconds, SR, seed=2))):  # fmt: skip
        loop = make_loop(x, find_loop(x, SR))
        out.append(LayerVoice((0.1 * loop / np.sqrt(np.mean(loop**2))).astype(np.float32), f"v{i}"))
    return out


def per_block(render: object, blocks: int) -> np.ndarray:
    times = np.empty(blocks)
    for k in range(blocks):
        t0 = time.perf_counter()
        render(k)  # type: ignore[operator]
        times[k] = time.perf_counter() - t0
    return times * 1e6


def session_run(layers: int, bed: bool, seconds: float, vs: list) -> np.ndarray:
    from bassd.app.config import load_config
    from bassd.app.session import build_session

    overrides = ["layers.enabled=true"] if bed else ["renderer.name=layers"]
    s = build_session(load_config(overrides=overrides), record_events=False)
    try:
        lay = s.controller.layers
        assert lay is not None
        for i in range(layers):
            lay.set_voice(i + 1, vs[i])
            lay.set_cutoff(i + 1, 6000.0)
        blocks = round(seconds * SR / BLOCK)
        for _ in range(200):  # warm: the first bank, the fade-ins
            s.engine.render(BLOCK)
        return per_block(lambda k: s.engine.render(BLOCK), blocks)
    finally:
        s.close()


def anchor_run(seconds: float) -> np.ndarray:
    from bassd.app.config import load_config
    from bassd.app.session import build_session

    s = build_session(load_config(), record_events=False)
    try:
        for _ in range(200):
            s.engine.render(BLOCK)
        return per_block(lambda k: s.engine.render(BLOCK), round(seconds * SR / BLOCK))
    finally:
        s.close()


def layer_alone(layers: int, seconds: float, vs: list) -> np.ndarray:
    from bassd.engine.layers import SoundscapeLayers

    lay = SoundscapeLayers(SR)
    for i in range(layers):
        lay.set_voice(i + 1, vs[i])
        lay.set_cutoff(i + 1, 6000.0)
    for k in range(200):
        lay.render(k * BLOCK, BLOCK)
    return per_block(lambda k: lay.render(k * BLOCK, BLOCK), round(seconds * SR / BLOCK))


def row(name: str, us: np.ndarray, anchor: float | None) -> list:
    med, p99 = float(np.median(us)), float(np.percentile(us, 99))
    rt = (BLOCK / SR * 1e6) / float(np.mean(us))
    extra = None if anchor is None else med - anchor
    return [name, round(med, 1), round(p99, 1), None if extra is None else round(extra, 1),
            round(rt, 1)]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="audio per configuration")
    args = ap.parse_args()
    vs = voices()
    results: dict = {"seconds": args.seconds, "block": BLOCK, "sample_rate": SR}
    base = anchor_run(args.seconds)
    anchor = float(np.median(base))
    rows = [row("bed alone (anchor)", base, None)]
    for n in range(5):
        rows.append(row(f"bed + {n} layers", session_run(n, True, args.seconds, vs), anchor))
    rows.append(row("4 layers alone (bed off)", session_run(4, False, args.seconds, vs), anchor))
    heads = ["session", "us/block p50", "p99", "+ over bed", "x real time"]
    print("Engine.render per 256-frame block (48 kHz; post-FX included)")
    print(table(heads, rows))
    results["session"] = [dict(zip(heads, r, strict=True)) for r in rows]
    rows2 = [row(f"{n} layers", layer_alone(n, args.seconds, vs), None)[:3] for n in range(5)]
    for r in rows2:
        n = int(r[0].split()[0])
        r.append(round((r[1] - rows2[0][1]) / n, 1) if n else None)
    heads2 = ["SoundscapeLayers.render", "us/block p50", "p99", "us per layer"]
    print("\nthe layer alone")
    print(table(heads2, rows2))
    results["layer"] = [dict(zip(heads2, r, strict=True)) for r in rows2]
    from bassd.dsp.loop_points import find_loop, make_loop
    from tests.library_sounds import noise

    x = noise("pink", 60.0, SR, seed=5)
    t0 = time.perf_counter()
    make_loop(x, find_loop(x, SR))
    ms = (time.perf_counter() - t0) * 1000.0
    print(f"\noff the loop: loop points and seam of a 60 s file at 48 kHz: {ms:.0f} ms")
    results["loop_points_60s_ms"] = round(ms, 1)
    # what a load in the offload thread does to the loop's blocks: 4 layers rendered back
    # to back while loop searches of 60 s files run in a thread, at the loop's priority
    # (CPU contention on this 2-core VM) and at nice 19 (as in the daemon, whose offload
    # threads run SCHED_OTHER below its real-time loop: what is left is the GIL)
    import os
    import threading

    from bassd.engine.layers import SoundscapeLayers

    lay = SoundscapeLayers(SR)
    for i in range(4):
        lay.set_voice(i + 1, vs[i])

    def during(nice: int | None) -> np.ndarray:
        stop = threading.Event()

        def loads() -> None:
            if nice is not None:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
            while not stop.is_set():
                make_loop(x, find_loop(x, SR))

        t = threading.Thread(target=loads)
        t.start()
        time.sleep(0.1)
        try:
            return per_block(lambda k: lay.render(k * BLOCK, BLOCK), 4000)
        finally:
            stop.set()
            t.join()

    runs = (("no load", per_block(lambda k: lay.render(k * BLOCK, BLOCK), 4000)),
            ("loads, same priority", during(None)), ("loads at nice 19", during(19)))  # fmt: skip
    rows3 = [[name, round(float(np.median(u)), 1), round(float(np.percentile(u, 99)), 1),
              round(float(u.max()), 1), int((u > 2000).sum())] for name, u in runs]  # fmt: skip
    heads3 = ["4 layers, 4000 blocks", "us p50", "p99", "max", "> 2 ms"]
    print("\nthe loop's blocks while loops are searched in another thread")
    print(table(heads3, rows3))
    results["during_loads"] = [dict(zip(heads3, r, strict=True)) for r in rows3]
    print(f"wrote {write_results('layers', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
