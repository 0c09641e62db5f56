"""The next-chord predictors, the Ear and their fusion: the held-out table and latency.

The table is ``bassd jam eval``'s (:func:`bassd.models.chord_eval.run_eval`: the shipped
checkpoint's split, the Ear on SIMULATED notes -- see that module's docstring), at the
configured fusion weight (:data:`bassd.dsp.chord_fusion.DEFAULT_WEIGHT`), with the weight
sweep. Latency: µs per call (p50/p99 over single calls, one core, one BLAS thread) of the
numpy LSTM's ``predict`` (an 8-chord history), the bigram's ``predict``, the Ear's
``distribution`` (4 notes) and ``fuse``.

    .venv/bin/python benchmarks/bench_predictor.py [--calls N]

Writes ``benchmarks/results/predictor.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, pin_to_core, single_thread_blas, table, write_results

single_thread_blas()

import numpy as np  # noqa: E402

from bassd.dsp.chord_ear import Ear  # noqa: E402
from bassd.dsp.chord_fusion import DEFAULT_WEIGHT, fuse  # noqa: E402
from bassd.models.chord_bigram import BigramModel  # noqa: E402
from bassd.models.chord_corpus import SHIPPED_CORPUS, read_corpus, split_by_piece  # noqa: E402
from bassd.models.chord_eval import CAPTION, METHODS, format_table, run_eval  # noqa: E402
from bassd.models.chord_predictor import ChordPredictor  # noqa: E402


class _Key:
    tonic = 0
    mode = "major"


def latency(fn: Callable[[], object], calls: int) -> dict[str, float]:
    for _ in range(min(100, calls)):
        fn()
    times = np.empty(calls)
    for k in range(calls):
        t0 = time.perf_counter()
        fn()
        times[k] = time.perf_counter() - t0
    return {
        "p50_us": float(np.percentile(times, 50) * 1e6),
        "p99_us": float(np.percentile(times, 99) * 1e6),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=5000, help="timed calls per function (5000)")
    args = ap.parse_args(argv)
    pinned = pin_to_core(0)

    res = run_eval(weight=DEFAULT_WEIGHT)
    print(format_table(res))

    lstm = ChordPredictor.load()
    train, _ = split_by_piece(read_corpus(SHIPPED_CORPUS), 0.2, 0)
    bigram = BigramModel().fit(train)
    ear = Ear()
    history = ["I", "vi", "ii7", "V7", "I", "IV", "V", "vi"]
    notes = [(0.0, 0.25, 67, 90), (0.25, 0.5, 71, 80), (0.5, 0.75, 74, 85), (0.75, 1.0, 65, 70)]
    m = lstm.predict(history, "major")
    e = ear.distribution(notes, _Key(), window=(0.0, 1.0))
    timing = {
        "lstm_numpy_predict": latency(lambda: lstm.predict(history, "major"), args.calls),
        "bigram_predict": latency(lambda: bigram.predict(history, "major"), args.calls),
        "ear_distribution": latency(
            lambda: ear.distribution(notes, _Key(), window=(0.0, 1.0)), args.calls
        ),
        "fuse": latency(lambda: fuse(m, e, DEFAULT_WEIGHT), args.calls),
    }
    print(f"\nlatency, µs per call ({args.calls} calls each, pinned to one core: {pinned}):")
    print(table(["function", "p50 µs", "p99 µs"],
                [[k, v["p50_us"], v["p99_us"]] for k, v in timing.items()]))  # fmt: skip
    path = write_results(
        "predictor",
        {
            "table": {k: res["rows"][k] for k in METHODS},
            "caption": CAPTION,
            "eval": res,
            "latency_us": timing,
            "context": lstm.context,
            "checkpoint_meta": {k: lstm.meta[k] for k in ("config", "context", "training")},
            "pinned": pinned,
            "machine_detail": machine(),
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
