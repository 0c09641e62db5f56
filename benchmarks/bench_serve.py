"""The render service on Ray Serve against the in-process worker: latency and throughput.

What a daemon's neural worker does with each backend, side by side in one run: the local
worker loads MusicGen in its own process (one per daemon); with ``musicgen.backend: ray``
it streams the clip from a Ray Serve deployment (``bassd serve start``, here on a local
Ray head on this machine). Each client is a process of its own, as each daemon's worker
is, and renders ``--clips`` clips of ``--seconds`` one after the other through the same
objects the worker uses (``MusicGen.stream`` / ``RemoteMusicGen.stream``):

* first audio: request to first chunk (what decides when a clip can start playing);
* whole clip: request to last chunk;
* throughput: clips per minute of all clients together.

Rows: local × 1 and 2 clients (each client its own model, as two daemons have), Ray × 1
and 2 clients (one replica shared, one clip at a time: ``--max-batch 1``), and Ray × 2
clients with batching (``--max-batch 2``: concurrent requests decoded as one batch).
Random weights of the named architecture (weights cannot be downloaded here; the
compute is the same).

    python benchmarks/bench_serve.py                      # tiny, quick
    python benchmarks/bench_serve.py --arch small --clips 2 --seconds 4
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import table, write_results

CLIENT = textwrap.dedent("""
    import json, sys, time
    backend, target, clips, seconds, threads, start_at = sys.argv[1:7]
    if backend == "ray":
        from bassd.models.ray_client import RemoteMusicGen
        mg = RemoteMusicGen(target)
    else:
        from bassd.models.musicgen import MusicGen
        mg = MusicGen.load(target, "cpu", threads=int(threads))
    while time.time() < float(start_at):
        time.sleep(0.01)
    out = []
    for i in range(int(clips)):
        t0 = time.perf_counter(); first = None; frames = 0
        for chunk in mg.stream("calm ambient pads", float(seconds), seed=i):
            if first is None:
                first = time.perf_counter() - t0
            frames += len(chunk)
        out.append({"first_audio_s": first, "clip_s": time.perf_counter() - t0,
                    "audio_s": frames / mg.sample_rate})
    print("RESULT " + json.dumps(out), flush=True)
""")


def run_clients(backend: str, target: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    start_at = time.time() + (40.0 if backend == "local" else 15.0)  # all load, then go together
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, backend, target, str(args.clips),
                               str(args.seconds), str(args.threads), str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(n)]  # fmt: skip
    results: list[dict[str, Any]] = []
    wall = 0.0  # the clients start together; each renders its clips back to back
    for p in procs:
        out, _ = p.communicate(timeout=3600)
        line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            raise RuntimeError(f"a {backend} client failed:\n{out[-3000:]}")
        mine = json.loads(line[7:])
        wall = max(wall, sum(r["clip_s"] for r in mine))
        results += mine
    firsts = sorted(r["first_audio_s"] for r in results)
    clips = sorted(r["clip_s"] for r in results)
    return {
        "backend": backend, "clients": n, "clips": len(results),
        "first_audio_p50_s": firsts[len(firsts) // 2], "first_audio_max_s": firsts[-1],
        "clip_p50_s": clips[len(clips) // 2], "clip_max_s": clips[-1],
        "audio_s": results[0]["audio_s"],
        "clips_per_min": round(60.0 * len(results) / wall, 2),
    }  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="tiny", help="tiny (the tests') or small (musicgen-small)")
    ap.add_argument("--clips", type=int, default=4, help="clips per client")
    ap.add_argument("--seconds", type=float, default=4.0, help="audio seconds per clip")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per model")
    ap.add_argument("--name", default="serve")
    args = ap.parse_args()

    from bassd.models.random_init import write_random_musicgen
    from tests.osc_client import free_udp_port
    from tests.ray_cluster import RayHead

    work = Path(tempfile.mkdtemp(prefix="bassd-serve-bench-"))
    model = str(write_random_musicgen(work / args.arch, args.arch, seed=0))
    rows = [run_clients("local", model, n, args) for n in (1, 2)]
    head = RayHead(free_udp_port())
    head.start()
    try:
        r = head.bassd("serve", "start", "--model", model, "--replicas", "1",
                       "--threads", str(args.threads))  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(r.stdout + r.stderr)
        rows += [run_clients("ray", head.address, n, args) for n in (1, 2)]
        r = head.bassd("serve", "start", "--model", model, "--replicas", "1",
                       "--threads", str(args.threads), "--max-batch", "2")  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(r.stdout + r.stderr)
        row = run_clients("ray", head.address, 2, args)
        rows.append({**row, "backend": "ray, batch 2"})
    finally:
        head.cleanup()

    print(f"MusicGen {args.arch} (random weights), {args.clips} clips of {args.seconds:g} s "
          f"per client, {args.threads} torch thread(s) per model; ray: one replica")  # fmt: skip
    keys = ["backend", "clients", "first_audio_p50_s", "first_audio_max_s", "clip_p50_s",
            "clip_max_s", "clips_per_min"]  # fmt: skip
    print(table(keys, [[row[k] for k in keys] for row in rows]))
    path = write_results(args.name, {"arch": args.arch, "clips_per_client": args.clips,
                                     "seconds": args.seconds, "threads": args.threads,
                                     "rows": rows})  # fmt: skip
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
