"""Key finding against music21's ``analyze('key')`` on music21's own corpus, per profile.

For each piece, music21 parses the score and gives its key (``analyze('key')``: the
Krumhansl-Schmuckler algorithm with the Aarden-Essen profile); OUR code gets the notes of
the same parsed score as ``(offset, offset + quarterLength, midi)`` tuples (every pitch of
a chord, grace notes included, as music21's own histogram; quarter lengths, not seconds:
only proportions matter to a histogram) and each of our profiles gives a key. Sets:

* ``folk40``: the first 40 tunes (X:1..X:40) of ``essenFolksong/altdeu10.abc``, the Essen
  folksong collection's "altdeu10" file in music21's corpus -- the issue's 40 folk melodies;
* ``folk_altdeu10``: all 313 tunes of that file;
* ``chorales``: the first N Bach chorales of ``corpus.chorales.Iterator()`` (Riemenschneider
  order, default N = 100; four voices, chords in effect).

Per set and profile: agreement with music21 (same tonic pitch class and mode), and how
the disagreements split: relative (C major / A minor), parallel (C major / C minor),
fifth (same mode, tonic a fifth up or down), other. Also, as an implementation check,
agreement of each of our profiles with music21 run with the *same* profile
(``analyze('key.krumhansl')`` ...), which should be 100 %; and the time per ``find_key``
call (µs, best of several).

    .venv/bin/python benchmarks/bench_key.py [--chorales N] [--quick]

Writes ``benchmarks/results/key.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
from _common import machine, table, write_results

from bassd.dsp.key_finding import DEFAULT_PROFILE, find_key, pitch_class_histogram
from bassd.dsp.key_profiles import PROFILES

# music21's analysis method for the same profile as ours (the implementation check)
M21_METHOD = {
    "krumhansl_kessler": "key.krumhansl",
    "aarden_essen": "key.aarden",
    "temperley_kostka_payne": "key.temperley",
    "bellman_budge": "key.bellman",
    "simple": "key.simple",
}


def notes_of(score: object) -> list[tuple[float, float, int]]:
    return [
        (float(n.offset), float(n.offset + n.quarterLength), p.midi)
        for n in score.flatten().notes  # type: ignore[attr-defined]
        for p in n.pitches
    ]


def relation(ours: tuple[int, str], ref: tuple[int, str]) -> str:
    (t, m), (rt, rm) = ours, ref
    if (t, m) == (rt, rm):
        return "same"
    if m == rm:
        return "fifth" if (t - rt) % 12 in (5, 7) else "other"
    if t == rt:
        return "parallel"
    # relative: the minor's tonic is 3 semitones below the major's
    major_t, minor_t = (t, rt) if m == "major" else (rt, t)
    return "relative" if (major_t - minor_t) % 12 == 3 else "other"


def pieces(set_name: str, n_chorales: int, quick: bool):  # type: ignore[no-untyped-def]
    from music21 import converter, corpus

    if set_name.startswith("folk"):
        path = corpus.getWork("essenFolksong/altdeu10")
        count = 40 if set_name == "folk40" else (80 if quick else 313)
        for number in range(1, count + 1):
            yield f"altdeu10 X:{number}", converter.parse(path, number=number, forceSource=True)
    else:
        it = corpus.chorales.Iterator(returnType="filename")
        for i, name in enumerate(it):
            if i >= n_chorales:
                break
            yield str(name), corpus.parse(str(name), forceSource=True)


def run_set(set_name: str, n_chorales: int, quick: bool) -> dict[str, object]:
    tally = {p: {"same": 0, "relative": 0, "parallel": 0, "fifth": 0, "other": 0} for p in PROFILES}
    same_method = dict.fromkeys(PROFILES, 0)
    same_method_misses: list[dict[str, object]] = []
    n = 0
    t0 = time.perf_counter()
    disagreements: list[dict[str, str]] = []
    for label, score in pieces(set_name, n_chorales, quick):
        notes = notes_of(score)
        if not notes:
            continue
        ref_key = score.analyze("key")
        ref = (ref_key.tonic.pitchClass, ref_key.mode)
        hist = pitch_class_histogram(notes)
        n += 1
        for profile in PROFILES:
            est = find_key(hist, profile)
            ours = (est.tonic, est.mode)
            rel = relation(ours, ref)
            tally[profile][rel] += 1
            m21_same = score.analyze(M21_METHOD[profile])
            theirs = (m21_same.tonic.pitchClass, m21_same.mode)
            same_method[profile] += ours == theirs
            if ours != theirs:  # a tie? our r of music21's choice vs our best r
                gap = est.r - est.r_of(*theirs)
                same_method_misses.append({"piece": label, "profile": profile, "r_gap": gap})
            if profile == DEFAULT_PROFILE and rel != "same":
                disagreements.append({"piece": label, "ours": est.name, "music21": str(ref_key)})
    return {
        "pieces": n,
        "seconds": time.perf_counter() - t0,
        "by_profile": tally,
        "same_method_agreement": same_method,
        "same_method_misses": same_method_misses,
        "default_disagreements": disagreements,
    }


def time_find_key() -> dict[str, float]:
    rng = np.random.default_rng(0)
    hists = rng.uniform(0, 10, (200, 12))
    out = {}
    for profile in PROFILES:
        find_key(hists[0], profile)  # warm the profile matrix cache
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for h in hists:
                find_key(h, profile)
            best = min(best, (time.perf_counter() - t0) / len(hists))
        out[profile] = best * 1e6
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chorales", type=int, default=100, help="Bach chorales to use (default 100)")
    ap.add_argument("--quick", action="store_true", help="80 altdeu10 tunes and 20 chorales")
    args = ap.parse_args(argv)
    n_chorales = 20 if args.quick else args.chorales
    import music21

    results: dict[str, object] = {}
    for set_name in ("folk40", "folk_altdeu10", "chorales"):
        res = run_set(set_name, n_chorales, args.quick)
        results[set_name] = res
        n = res["pieces"]
        rows = []
        for profile, t in res["by_profile"].items():  # type: ignore[union-attr]
            rows.append(
                [
                    profile + (" (default)" if profile == DEFAULT_PROFILE else ""),
                    f"{t['same']}/{n}",
                    100.0 * t["same"] / n,
                    t["relative"],
                    t["parallel"],
                    t["fifth"],
                    t["other"],
                    f"{res['same_method_agreement'][profile]}/{n}",
                ]
            )  # type: ignore[index]
        print(
            f"\n{set_name}: {n} pieces ({res['seconds']:.1f} s), agreement with music21 analyze('key')"
        )
        print(table(["profile", "agree", "%", "relative", "parallel", "fifth", "other",
                     "vs m21 same profile"], rows))  # fmt: skip
        for miss in res["same_method_misses"]:  # type: ignore[attr-defined]
            print(f"  vs m21 same profile, miss: {miss['piece']} {miss['profile']}: "
                  f"r gap {miss['r_gap']:.2e}")  # fmt: skip
    timing = time_find_key()
    print("\nfind_key, µs per call (best of 5 x 200 histograms):")
    print(table(["profile", "µs"], [[p, us] for p, us in timing.items()]))
    path = write_results(
        "key",
        {
            "music21": music21.__version__,
            "default_profile": DEFAULT_PROFILE,
            "quick": args.quick,
            "sets": results,
            "find_key_us": timing,
            "machine_detail": machine(),
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
