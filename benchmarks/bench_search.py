"""Semantic prompt search (all-MiniLM-L6-v2): cold start, query latency, paraphrase rates.

* cold start: ``SearchService.start()`` (spawned worker) -> ``ready``, with an empty cache
  folder (the bank is embedded) and with the cache the first run wrote; the worker's own
  figure (spawn wall time -> ready) beside the parent's (start() -> the poll that saw it);
* query latency over the paraphrases (tests/models/prompt_paraphrases.csv): through the
  service (the daemon's path: query() -> worker -> the poll() that delivers the reply,
  polling every 0.5 ms) beside the in-process embedder (embed + cosine search);
* top-1 / top-5 rate of the paraphrases, and the best scores of off-topic texts.

One torch thread everywhere (the daemon's worker setting).

    .venv/bin/python benchmarks/bench_search.py [--quick]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import single_thread_blas, table, write_results

single_thread_blas()

import numpy as np  # noqa: E402

PARAPHRASES = Path(__file__).resolve().parents[1] / "tests" / "models" / "prompt_paraphrases.csv"
OFF_TOPIC = (
    "turn the lights off",
    "a podcast about tax law",
    "recipe for banana bread",
    "how do I reset my password",
    "heavy metal with screaming vocals",
)


def _pct(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs) * 1000.0
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def cold_starts(prompts: list, repeats: int) -> list[dict]:
    from bassd.models.prompt_search import SearchService

    rows = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            for cached in (False, True):
                svc = SearchService(prompts, cache_dir=cache, threads=1)
                t0 = time.perf_counter()
                svc.start()
                ok = svc.wait_ready(180, interval=0.002)
                parent = time.perf_counter() - t0
                info = dict(svc.worker_info)
                svc.close()
                if not ok:
                    raise SystemExit(f"worker failed: {svc.reason}")
                assert info["cached"] is cached
                rows.append({"repeat": r, "cached": cached, "parent_s": parent,
                             "worker_s": info["cold_start_s"]})  # fmt: skip
    return rows


def service_latency(prompts: list, queries: list[str], rounds: int) -> dict:
    from bassd.models.prompt_search import SearchService

    with tempfile.TemporaryDirectory() as cache:
        svc = SearchService(prompts, cache_dir=cache, threads=1)
        svc.start()
        if not svc.wait_ready(180, interval=0.002):
            raise SystemExit(f"worker failed: {svc.reason}")
        rts: list[float] = []
        worker: list[float] = []
        try:
            for q in queries[:3]:  # warm-up
                svc.query(q, 5, None)
                while svc.waiting:
                    svc.poll()
                    time.sleep(0.0005)
            for _ in range(rounds):
                for q in queries:
                    got: list = []
                    svc.query(q, 5, got.append)
                    while not got:
                        svc.poll()
                        time.sleep(0.0005)
                    rts.append(got[0].round_trip_s)
                    worker.append(got[0].worker_s)
            figures = svc.figures()
        finally:
            svc.close()
    return {"round_trip": rts, "worker": worker, "figures": figures}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one cold-start repeat, one round")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from bassd.control.prompt_loading import load_prompt_bank
    from bassd.models.prompt_search import SEARCH_THRESHOLD, PromptIndex
    from bassd.models.text_embed import TextEmbedder

    bank = load_prompt_bank()
    prompts = list(bank.prompts)
    with PARAPHRASES.open(encoding="utf-8") as f:
        pairs = [(r["paraphrase"], r["prompt_id"]) for r in csv.DictReader(f)]
    queries = [p for p, _ in pairs]
    repeats, rounds = (1, 1) if args.quick else (3, 3)

    t0 = time.perf_counter()
    emb = TextEmbedder(threads=1)
    load_s = time.perf_counter() - t0
    index = PromptIndex.build(prompts, emb, use_cache=False)
    inproc: list[float] = []
    top1 = top5 = 0
    correct_scores: list[float] = []
    misses = []
    for _ in range(rounds):
        for para, pid in pairs:
            t = time.perf_counter()
            res = index.search(para, top=5)
            inproc.append(time.perf_counter() - t)
            if _ == 0:
                ids = [i for i, _s in res]
                top1 += ids[0] == pid
                top5 += pid in ids
                if ids[0] == pid:
                    correct_scores.append(res[0][1])
                else:
                    misses.append({"paraphrase": para, "expected": pid, "got": ids[0],
                                   "score": res[0][1]})  # fmt: skip
    off = {t: index.search(t, top=1)[0] for t in OFF_TOPIC}
    n = len(pairs)

    cold = cold_starts(prompts, repeats)
    svc = service_latency(prompts, queries, rounds)

    print(f"in-process model load: {load_s:.2f} s; {len(prompts)} prompts, {n} paraphrases\n")
    crow = []
    for cached in (False, True):
        sel = [r for r in cold if r["cached"] is cached]
        crow.append(("cached" if cached else "no cache (bank embedded)",
                     float(np.median([r["worker_s"] for r in sel])),
                     float(np.median([r["parent_s"] for r in sel])), len(sel)))  # fmt: skip
    print("cold start, worker spawn -> ready (median)")
    print(table(("cache", "worker-reported s", "parent start->ready s", "runs"), crow))
    s50, s99 = _pct(svc["round_trip"])
    w50, w99 = _pct(svc["worker"])
    i50, i99 = _pct(inproc)
    print("\nquery latency over the paraphrases, top 5")
    print(table(("path", "p50 ms", "p99 ms", "queries"), [
        ("service round trip (daemon path)", s50, s99, len(svc["round_trip"])),
        ("  of which in the worker", w50, w99, len(svc["worker"])),
        ("in-process embed + search", i50, i99, len(inproc)),
    ]))  # fmt: skip
    print("\nparaphrase rates")
    print(table(("top-1", "top-5", "correct top-1 score min", "median", "threshold"), [
        (f"{top1}/{n} = {top1 / n:.3f}", f"{top5}/{n} = {top5 / n:.3f}",
         min(correct_scores), float(np.median(correct_scores)), SEARCH_THRESHOLD),
    ]))  # fmt: skip
    for m in misses:
        print(f"  miss: {m['paraphrase']!r} -> {m['got']} {m['score']:.3f} (want {m['expected']})")
    print("\noff-topic texts, best score")
    print(table(("text", "best id", "score"), [(t, i, s) for t, (i, s) in off.items()]))
    path = write_results("bench_search", {
        "model": emb.name, "torch_threads": 1, "prompts": len(prompts), "paraphrases": n,
        "inprocess_load_s": load_s,
        "cold_start": cold,
        "cold_start_median_s": {"no_cache": crow[0][1], "cached": crow[1][1]},
        "cold_start_parent_median_s": {"no_cache": crow[0][2], "cached": crow[1][2]},
        "service_round_trip_ms": {"p50": s50, "p99": s99},
        "service_worker_ms": {"p50": w50, "p99": w99},
        "inprocess_ms": {"p50": i50, "p99": i99},
        "service_figures": svc["figures"],
        "top1": top1 / n, "top5": top5 / n,
        "correct_top1_score": {"min": min(correct_scores),
                               "median": float(np.median(correct_scores))},
        "misses": misses, "off_topic": {t: {"id": i, "score": s} for t, (i, s) in off.items()},
        "threshold": SEARCH_THRESHOLD,
    })  # fmt: skip
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
