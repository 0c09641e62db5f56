"""Arousal state: the threshold rules against the HMM (``hr.model: thresholds | bayes``).

For both models, on each shipped scenario (configs/scenarios, the onsets and calm
stretches below from configs/scenarios/README.md and the traces themselves) and on real
recordings (the MIT-BIH NSRDB NN series in pyhrv's package data, see
tests/dsp/hrv_reference.py, turned into HR at 1 Hz: at each whole second the rate of the
last beat, 60000 / RR):

* flips: automatic state changes after calibration;
* delay: seconds from the onset of the scenario's sustained change (where the rise or
  drop starts) to the first ``stress`` (``underaroused`` for the drop);
* false alarms: entries into stress or under-aroused during a stretch labelled calm;
* closest call: how near each model came to an alarm while neutral in the calm stretches
  (the whole recording when unlabelled), as a share of what it takes to enter (1 = an
  alarm): thresholds, the longest run beyond a threshold / its sustain time; bayes, the
  highest stress or under-aroused posterior / ``p_enter``.

The real recordings carry no labels: their rows count flips and entries into a
non-neutral state (``entries``) and leave false alarms blank. ``nsr short + rise`` is
the short recording with +25 bpm added from 200 s (a 40 s ramp, then held): a real
sustained rise on real beat-to-beat noise, for a delay on real data.
Each run calibrates from t = 0 for ``baseline_seconds`` (180 s), like ``bassd render``.

Result (benchmarks/results/arousal.json): the same flips and no false alarms for both;
bayes reaches the state 2-20 s sooner, but its closest call on the 60 min real
recording is 0.79 of an alarm against the thresholds' 0.5, and no recording here has a
real, labelled episode. Faster with a thinner margin is not better on these figures, so
the thresholds stay the default (``hr.model: thresholds``).

    .venv/bin/python benchmarks/bench_arousal.py

Writes ``benchmarks/results/arousal.json``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import single_thread_blas, table, write_results

single_thread_blas()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repo root: tests/

import numpy as np  # noqa: E402

from bassd.control.hr import HeartRateMonitor, HrConfig, HrEvent, read_hr_trace  # noqa: E402
from tests.dsp.hrv_reference import load_series, series_folder  # noqa: E402

SCENARIOS = ROOT / "configs" / "scenarios"
MODELS = ("thresholds", "bayes")
INF = math.inf


@dataclass(frozen=True)
class Case:
    name: str
    trace: list[tuple[float, float]]
    onset: float | None  # where the sustained change starts
    target: str | None  # the state it should reach
    calm: tuple[tuple[float, float], ...] | None  # None: unlabelled


def scenario(file: str) -> list[tuple[float, float]]:
    return [(t, bpm) for t, bpm, _ in read_hr_trace(SCENARIOS / file)]


def hr_1hz(name: str) -> list[tuple[float, float]]:
    """HR at every whole second of a pyhrv NN series: the rate of the last beat so far."""
    t, rr = load_series(name)
    secs = np.arange(math.ceil(t[0]), math.floor(t[-1]) + 1)
    idx = np.searchsorted(t, secs, side="right") - 1
    return [(float(s - secs[0]), 60000.0 / float(rr[i])) for s, i in zip(secs, idx, strict=True)]


def with_rise(trace: list[tuple[float, float]], start: float, amount: float, ramp: float):
    def add(t: float) -> float:
        return 0.0 if t < start else amount * min(1.0, (t - start) / ramp)

    return [(t, bpm + add(t)) for t, bpm in trace]


def cases() -> list[Case]:
    out = [
        Case(
            "stress_recovery",
            scenario("stress_recovery.csv"),
            240.0,
            "stress",
            ((180.0, 240.0), (480.0, INF)),
        ),
        Case(
            "underaroused_recovery",
            scenario("underaroused_recovery.csv"),
            240.0,
            "underaroused",
            ((180.0, 240.0), (440.0, INF)),
        ),
        Case("artifacts", scenario("artifacts.csv"), None, None, ((180.0, INF),)),
    ]
    if series_folder() is not None:
        short, long = hr_1hz("short"), hr_1hz("long")
        out += [
            Case("nsr short (real, 5 min)", short, None, None, None),
            Case("nsr long (real, 60 min)", long, None, None, None),
            Case("nsr short + rise", with_rise(short, 200.0, 25.0, 40.0), 200.0, "stress",
                 ((180.0, 200.0),)),
        ]  # fmt: skip
    return out


def run(case: Case, model: str) -> dict[str, Any]:
    events: list[HrEvent] = []
    mon = HeartRateMonitor(HrConfig(model=model), events.append)
    mon.start_baseline(0.0)
    cfg, closest = mon.cfg, 0.0
    high = low = None  # the start of the current run beyond the stress / under threshold
    for t, bpm in case.trace:
        ev = mon.sample(t, bpm)
        mon.tick(t + 0.5)
        b = mon.baseline
        if ev.kind != "hr" or b is None:
            continue
        high = (high if high is not None else t) if bpm > b + cfg.stress_delta_bpm else None
        low = (low if low is not None else t) if bpm < b - cfg.under_delta_bpm else None
        calm = case.calm is None or any(a <= t < e for a, e in case.calm)
        if not calm or mon.state != "neutral":
            continue
        if model == "bayes":
            post = mon._hmm.posterior  # the filter's view (read-only, for this benchmark)
            closest = max(closest, float(max(post[0], post[2])) / mon._hmm.params.p_enter)
        else:
            for since, sustain in ((high, cfg.stress_sustain_s), (low, cfg.under_sustain_s)):
                if since is not None:
                    closest = max(closest, (t - since) / sustain)
    states = [(e.t, e.value) for e in events if e.kind == "state"]
    delay = None
    if case.onset is not None:
        hits = [t for t, v in states if v == case.target and t >= case.onset]
        delay = hits[0] - case.onset if hits else None
    entries = [(t, v) for t, v in states if v != "neutral"]
    false_alarms = None
    if case.calm is not None:
        false_alarms = sum(any(a <= t < b for a, b in case.calm) for t, _ in entries)
    span = case.trace[-1][0] - case.trace[0][0]
    return {
        "case": case.name,
        "model": model,
        "duration_s": span,
        "flips": len(states),
        "delay_s": delay,
        "false_alarms": false_alarms,
        "entries": len(entries),
        "closest_call": round(closest, 3),
        "states": states,
    }


def main() -> None:
    rows = [run(c, m) for c in cases() for m in MODELS]
    headers = ("case", "model", "flips", "delay s", "false alarms", "entries", "closest call")
    print(table(headers, [[r["case"], r["model"], r["flips"], r["delay_s"], r["false_alarms"],
                           r["entries"], r["closest_call"]] for r in rows]))  # fmt: skip
    totals = {
        m: {
            "flips": sum(r["flips"] for r in rows if r["model"] == m),
            "false_alarms": sum(r["false_alarms"] or 0 for r in rows if r["model"] == m),
            "delays_s": {r["case"]: r["delay_s"] for r in rows if r["model"] == m and r["delay_s"]},
            "closest_call": max(r["closest_call"] for r in rows if r["model"] == m),
        }
        for m in MODELS
    }
    print(totals)
    path = write_results("arousal", {"rows": rows, "totals": totals})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
