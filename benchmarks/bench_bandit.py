"""Regret of prompt policies on simulated listeners (bassd.control.listener_sim).

Each simulated listener (resting HR, a true effect in bpm/min per prompt of the shipped
bank, 1 Hz HR with AR(1) wander and sensor noise; the model is in listener_sim's
docstring) hears ``--sessions`` sessions of ``--segments`` segments of ``--seconds`` s.
Every policy meets the same sessions (states, start offsets, noise). Policies:

* ``bandit``: the Thompson-sampling PromptBandit, learning across the listener's sessions
  from responses computed by ResponseTracker on the simulated samples;
* ``bandit, avoid repeat``: the same, never the prompt just played in that state;
* ``no_repeat``: bassd's current PromptBank policy (random, not the last one);
* ``oracle``: the best fixed prompt per state (the regret's reference, 0 by definition).

Regret = sum over segments of (expected reward of the oracle's prompt - expected reward
of the chosen one), per listener over all sessions; reported as mean +- sd over
listeners, with the per-session curve (mean regret in session k) and the share of
segments whose choice was the oracle's.

    .venv/bin/python benchmarks/bench_bandit.py [--listeners 20 --sessions 10 --segments 12]

Writes ``benchmarks/results/bench_bandit.json``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table, write_results

from bassd.control.listener_sim import (
    BanditPolicy,
    NoRepeatPolicy,
    OraclePolicy,
    SimListener,
    SimPolicy,
    simulate_session,
)
from bassd.control.prompt_loading import load_shipped_prompt_bank
from bassd.control.prompt_selection import PromptBank

POLICIES = ("bandit", "bandit, avoid repeat", "no_repeat", "oracle")


def make(name: str, listener: SimListener, bank: PromptBank, seconds: int) -> SimPolicy:
    if name == "bandit":
        return BanditPolicy()
    if name == "bandit, avoid repeat":
        return BanditPolicy(avoid_repeat=True)
    if name == "no_repeat":
        return NoRepeatPolicy(bank)
    return OraclePolicy(listener, bank, seconds)


def run(args: argparse.Namespace) -> dict[str, Any]:
    bank = load_shipped_prompt_bank()
    totals: dict[str, list[float]] = {p: [] for p in POLICIES}
    curve: dict[str, list[float]] = {p: [0.0] * args.sessions for p in POLICIES}
    hits: dict[str, list[int]] = {p: [0, 0] for p in POLICIES}
    for seed in range(args.listeners):
        listener = SimListener.draw(bank, seed)
        oracle = OraclePolicy(listener, bank, args.seconds).best
        for name in POLICIES:
            policy = make(name, listener, bank, args.seconds)
            rng = random.Random(f"policy:{seed}")
            total = 0.0
            for session in range(args.sessions):
                r = simulate_session(
                    policy, listener, bank, args.segments, args.seconds, rng, session
                )
                total += r.regret
                curve[name][session] += r.regret / args.listeners
                hits[name][0] += sum(
                    c == oracle[s] for s, c in zip(r.states, r.choices, strict=True)
                )
                hits[name][1] += len(r.choices)
            totals[name].append(total)
    out: dict[str, Any] = {}
    for name in POLICIES:
        xs = totals[name]
        out[name] = {
            "regret_mean": statistics.mean(xs),
            "regret_sd": statistics.stdev(xs) if len(xs) > 1 else 0.0,
            "per_session": curve[name],
            "oracle_share": hits[name][0] / hits[name][1],
            "per_listener": xs,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listeners", type=int, default=20)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--segments", type=int, default=12)
    ap.add_argument("--seconds", type=int, default=24, help="segment length (bassd's default)")
    ap.add_argument("--quick", action="store_true", help="5 listeners x 5 sessions")
    args = ap.parse_args()
    if args.quick:
        args.listeners, args.sessions = 5, 5
    t0 = time.perf_counter()
    res = run(args)
    wall = time.perf_counter() - t0
    ref = res["no_repeat"]["regret_mean"]
    rows = [
        [
            name,
            f"{r['regret_mean']:.1f} ± {r['regret_sd']:.1f}",
            r["regret_mean"] / ref if ref else None,
            r["per_session"][0],
            r["per_session"][-1],
            f"{100 * r['oracle_share']:.0f} %",
        ]
        for name, r in res.items()
    ]
    segs = args.sessions * args.segments
    print(
        f"{args.listeners} simulated listeners x {args.sessions} sessions x {args.segments} "
        f"segments of {args.seconds} s; regret vs the best fixed prompt per state, per "
        f"listener over {segs} segments ({wall:.1f} s)\n"
    )
    print(
        table(
            ["policy", "regret mean ± sd", "/ no_repeat", "session 1", "last session",
             "oracle's prompt"],
            rows,
        )
    )  # fmt: skip
    path = write_results(
        "bench_bandit",
        {
            "listeners": args.listeners,
            "sessions": args.sessions,
            "segments": args.segments,
            "seconds_per_segment": args.seconds,
            "wall_s": wall,
            "policies": res,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
