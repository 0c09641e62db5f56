"""FluidSynth render cost per engine block, by number of sounding notes.

``FluidVoice(48000)`` (the GM SoundFont :func:`find_soundfont` picks, polyphony 256 so no
voice is stolen, reverb and chorus off as the accompanist uses it) renders 256-frame blocks
with 0, 4, 16 and 32 notes held on a sustaining program (string ensemble, GM 48: its voices
do not decay while held). Each block's ``render(256)`` is timed on its own
(``perf_counter_ns``) after a warm-up; reported: µs per block p50 / p99 / max, and p50 and
p99 as a fraction of the block period (256 / 48 kHz = 5.33 ms) -- the share of the audio
callback's budget that the accompaniment would take. One core (``sched_setaffinity``, ``--core``).

    .venv/bin/python benchmarks/bench_fluidsynth.py [--quick] [--blocks N] [--core C]

Writes ``benchmarks/results/fluidsynth.json``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # one core: before numpy is imported
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np
from _common import pin_to_core, table, write_results

from bassd.engine.fluid_synth import FluidVoice

SR = 48_000
BLOCK = 256
NOTE_COUNTS = (0, 4, 16, 32)
PROGRAM = 48  # GM String Ensemble 1: sustains while held
WARMUP_BLOCKS = 200


def notes_for(count: int) -> list[tuple[int, int]]:
    """``count`` (channel, note) pairs: chords spread over 4 channels, notes 36..99."""
    return [(i % 4, 36 + (i * 7) % 64) for i in range(count)]


def measure(count: int, blocks: int) -> dict[str, float | int]:
    voice = FluidVoice(SR, polyphony=256)
    try:
        for ch in range(4):
            voice.program(ch, PROGRAM)
        for ch, note in notes_for(count):
            voice.note_on(ch, note, 90)
        for _ in range(WARMUP_BLOCKS):  # attacks done, caches warm
            voice.render(BLOCK)
        times = np.empty(blocks, dtype=np.int64)
        peak = 0.0
        for i in range(blocks):
            t0 = time.perf_counter_ns()
            out = voice.render(BLOCK)
            times[i] = time.perf_counter_ns() - t0
            peak = max(peak, float(np.abs(out).max()))
        voices = voice.sounding()
    finally:
        voice.close()
    us = times / 1e3
    period_us = BLOCK / SR * 1e6
    p50, p99 = float(np.percentile(us, 50)), float(np.percentile(us, 99))
    return {
        "notes": count,
        "active_voices": voices,
        "blocks": blocks,
        "us_p50": p50,
        "us_p99": p99,
        "us_max": float(us.max()),
        "us_mean": float(us.mean()),
        "frac_p50": p50 / period_us,
        "frac_p99": p99 / period_us,
        "peak_abs": peak,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=4000, help="timed blocks per note count")
    ap.add_argument("--quick", action="store_true", help="500 blocks per note count")
    ap.add_argument("--core", type=int, default=0, help="the core to pin to (default 0)")
    args = ap.parse_args(argv)
    blocks = 500 if args.quick else args.blocks
    pinned = pin_to_core(args.core)
    voice = FluidVoice(SR)
    soundfont = str(voice.soundfont)
    voice.close()

    rows, results = [], []
    for count in NOTE_COUNTS:
        r = measure(count, blocks)
        results.append(r)
        rows.append(
            [
                str(count),
                r["active_voices"],
                r["us_p50"],
                r["us_p99"],
                r["us_max"],
                100.0 * r["frac_p50"],
                100.0 * r["frac_p99"],
            ]
        )
    print(
        f"\nFluidSynth render, {BLOCK} frames at {SR} Hz ({BLOCK / SR * 1e3:.2f} ms period), "
        f"{blocks} blocks each, SoundFont {Path(soundfont).name}, "
        f"pinned to core {args.core}: {pinned}"
    )
    print(table(["notes", "voices", "µs p50", "µs p99", "µs max", "% p50", "% p99"], rows))
    path = write_results(
        "fluidsynth",
        {
            "sample_rate": SR,
            "block": BLOCK,
            "block_period_us": BLOCK / SR * 1e6,
            "program": PROGRAM,
            "soundfont": soundfont,
            "pyfluidsynth": importlib.metadata.version("pyfluidsynth"),
            "core": args.core,
            "pinned": pinned,
            "quick": args.quick,
            "loadavg_1_5_15": list(os.getloadavg()),
            "results": results,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
