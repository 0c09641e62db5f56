"""HRV time-domain figures (bassd.dsp.hrv) against hrv-analysis, artifact robustness, speed.

Data: the NN series in pyhrv's wheel (MIT-BIH NSRDB extracts: ``short`` 337 beats ~5 min,
``long`` 4684 beats ~60 min; see tests/dsp/hrv_reference.py). Reference: hrv-analysis'
``get_time_domain_features``.

* Agreement: on each series whole and on its 60 s windows (step 10 s, no rejection: the
  reference takes the NN intervals as given), the max abs / rel difference of RMSSD, SDNN,
  pNN50 (%) and mean HR. Our mean HR is 60000 / mean NN, compared with the reference's
  60000 / ``mean_nni``; the row ``mean_hr (ref mean of 60000/NN)`` shows how far that is
  from the reference's own ``mean_hr`` (the mean of the instantaneous rates).
* Robustness: 1 / 2 / 5 % of beats corrupted (ectopic and missed beats alternating, evenly
  spaced, seeds 0-7), the share of 60 s windows (step 10 s, both series pooled) whose
  RMSSD is within 10 % of the clean series' (with our rejection), with and without it.
* Speed: µs per ``HrvWindow.add`` + ``figures`` (one beat, one 60 s window update) on the
  long series, best of 5.

    .venv/bin/python benchmarks/bench_hrv.py

Writes ``benchmarks/results/hrv.json``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import single_thread_blas, table, write_results

single_thread_blas()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests/

import numpy as np  # noqa: E402

from bassd.dsp.hrv import HrvWindow, hrv_windows, time_domain  # noqa: E402
from tests.dsp.hrv_reference import inject_artifacts, load_series, reference  # noqa: E402

FIGURES = ("rmssd_ms", "sdnn_ms", "pnn50", "mean_hr")
RATES = (0.01, 0.02, 0.05)
SEEDS = range(8)


def agreement(ref: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in ("short", "long"):
        t, rr = load_series(name)
        whole = time_domain(rr)
        assert whole is not None
        cases = [(whole, rr)] + [
            (w, rr[(t > w.t_end - 60) & (t <= w.t_end)])
            for w in hrv_windows(t, rr, 60.0, 10.0, reject=False)
        ]
        diffs: dict[str, list[tuple[float, float]]] = {
            k: [] for k in (*FIGURES, "mean_hr (ref mean of 60000/NN)")
        }
        for ours, nn in cases:
            r = ref(list(nn))
            want = {
                "rmssd_ms": r["rmssd"],
                "sdnn_ms": r["sdnn"],
                "pnn50": r["pnni_50"],
                "mean_hr": 60000 / r["mean_nni"],
            }
            for k in FIGURES:
                got = getattr(ours, k)
                diffs[k].append((abs(got - want[k]), abs(got - want[k]) / abs(want[k])))
            d = abs(ours.mean_hr - r["mean_hr"])
            diffs["mean_hr (ref mean of 60000/NN)"].append((d, d / r["mean_hr"]))
        for k, v in diffs.items():
            a = np.array(v)
            out.append(
                {
                    "series": name,
                    "figure": k,
                    "windows": len(cases) - 1,
                    "max_abs": float(a[:, 0].max()),
                    "max_rel": float(a[:, 1].max()),
                }
            )
    return out


def robustness() -> list[dict[str, Any]]:
    clean = {}
    series = {}
    for name in ("short", "long"):
        t, rr = load_series(name)
        series[name] = (t, rr)
        clean[name] = {w.t_end: w.rmssd_ms for w in hrv_windows(t, rr, 60.0, 10.0)}
    out: list[dict[str, Any]] = []
    for rate in RATES:
        counts = {True: 0, False: 0}
        total = 0
        for name, (t, rr) in series.items():
            for seed in SEEDS:
                bt, brr, _ = inject_artifacts(t, rr, rate, seed)
                for reject in (True, False):
                    ws = hrv_windows(bt, brr, 60.0, 10.0, reject=reject)
                    counts[reject] += sum(
                        abs(w.rmssd_ms / clean[name][w.t_end] - 1) <= 0.10 for w in ws
                    )
                    total += len(ws) if reject else 0
        out.append(
            {
                "artifact_rate_pct": 100 * rate,
                "windows": total,
                "within_10pct_with_rejection_pct": 100 * counts[True] / total,
                "within_10pct_without_rejection_pct": 100 * counts[False] / total,
            }
        )
    return out


def speed() -> dict[str, Any]:
    t, rr = load_series("long")
    best = float("inf")
    for _ in range(5):
        win = HrvWindow(60.0)
        t0 = time.perf_counter()
        for a, b in zip(t.tolist(), rr.tolist(), strict=True):
            win.add(a, b)
            win.figures(a)
        best = min(best, time.perf_counter() - t0)
    return {"beats": int(t.size), "us_per_update": 1e6 * best / t.size}


def main() -> int:
    ref = reference()
    if ref is None:
        print("hrv-analysis is not installed", file=sys.stderr)
        return 1
    agree = agreement(ref)
    print("Agreement with hrv-analysis (whole series + 60 s windows, step 10 s, no rejection)")
    print(
        table(
            ["series", "figure", "windows", "max abs", "max rel"],
            [[r["series"], r["figure"], r["windows"], r["max_abs"], r["max_rel"]] for r in agree],
        )
    )
    robust = robustness()
    print("\nRMSSD within 10 % of the clean series' (60 s windows, both series, 8 seeds)")
    print(
        table(
            ["artifacts %", "windows", "with rejection %", "without %"],
            [
                [
                    r["artifact_rate_pct"],
                    r["windows"],
                    r["within_10pct_with_rejection_pct"],
                    r["within_10pct_without_rejection_pct"],
                ]
                for r in robust
            ],
        )
    )
    sp = speed()
    print(f"\nHrvWindow add + figures (60 s window): {sp['us_per_update']:.1f} µs per beat")
    path = write_results("hrv", {"agreement": agree, "robustness": robust, "speed": sp})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
