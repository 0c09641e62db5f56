"""Real-time factor of the Kuramoto oscillator bank on one core, against two references.

For N = 64, 256, 1024, 4096 partials at 48 kHz, coupling on (K = 0.6·K_c):

* ours: ``KuramotoBank(BankParams(density=N, coupling=0.6))`` rendering in
  256-frame blocks, as the live engine asks for them;
* numpy reference: a plain float32 additive bank computed per sample (phase
  matrix, ``np.sin``, weighted sum to stereo), the obvious way to do it;
* scsynth: SuperCollider's server rendering N summed ``SinOsc`` (mono, fixed
  frequencies: less work than ours) in non-real-time mode, when installed.

RTF = render seconds / audio seconds (lower is better); best of several runs
after a warm-up. Target: 4096 partials at RTF ≤ 0.15.

    python benchmarks/bench_oscillators.py [--quick] [--no-scsynth]
"""

from __future__ import annotations

import argparse
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # one core: before numpy is imported
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np
from _common import best_of, pin_to_core, table, write_results
from _scsynth import scsynth_rtf

from bassd.dsp.oscillators import BankParams, KuramotoBank

SR = 48_000
BLOCK = 256
SIZES = (64, 256, 1024, 4096)
TARGET_N, TARGET_RTF = 4096, 0.15


class NumpySineBank:
    """Reference: every partial's phase for every sample, float32 np.sin, summed."""

    def __init__(self, freqs: np.ndarray, gains: np.ndarray, block: int = 1024) -> None:
        self.omega = 2.0 * np.pi * np.asarray(freqs, dtype=np.float64) / SR  # rad/sample
        self.phase = np.zeros_like(self.omega)
        self.gains = np.asarray(gains, dtype=np.float32)  # (2, N)
        self.ramp = np.arange(block, dtype=np.float32)
        self.omega32 = self.omega.astype(np.float32)
        self.buf = np.empty((len(freqs), block), dtype=np.float32)
        self.block = block

    def render_block(self) -> np.ndarray:
        buf = self.buf
        np.multiply(self.omega32[:, None], self.ramp[None, :], out=buf)
        buf += self.phase.astype(np.float32)[:, None]
        np.sin(buf, out=buf)
        out = self.gains @ buf  # (2, block)
        self.phase = np.mod(self.phase + self.omega * self.block, 2.0 * np.pi)
        return out.T

    def render(self, frames: int) -> None:
        for _ in range(-(-frames // self.block)):
            self.render_block()


def bank_rtf(n: int, seconds: float, repeats: int) -> tuple[float, KuramotoBank]:
    bank = KuramotoBank(BankParams(density=n, coupling=0.6), SR, seed=0)
    blocks = round(seconds * SR / BLOCK)

    def run() -> None:
        for _ in range(blocks):
            bank.render(BLOCK)

    bank.render(SR)  # warm-up: one second
    return best_of(run, repeats) / (blocks * BLOCK / SR), bank


def reference_rtf(bank: KuramotoBank, seconds: float, repeats: int) -> float:
    n = len(bank.partial_hz)
    gains = np.full((2, n), 0.5 / np.sqrt(n))
    ref = NumpySineBank(bank.partial_hz, gains)
    frames = round(seconds * SR)
    ref.render(SR // 4)  # warm-up
    return best_of(lambda: ref.render(frames), repeats) / (frames / SR)


def scsynth_seconds(n: int, seconds: float) -> float:
    """Audio length for scsynth: longer for small N so its work dwarfs boot jitter."""
    return float(min(16 * seconds, max(seconds, seconds * 1024 / n)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 s of audio, best of 2")
    ap.add_argument("--no-scsynth", action="store_true", help="skip the scsynth reference")
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = ap.parse_args(argv)
    seconds, repeats = (2.0, 2) if args.quick else (10.0, 3)
    pinned = pin_to_core(0)

    rows, results = [], []
    for n in args.sizes:
        ours, bank = bank_rtf(n, seconds, repeats)
        ref = reference_rtf(bank, seconds, repeats)
        if args.no_scsynth:
            sc: dict[str, float | str | None] = {"rtf": None, "skipped": "--no-scsynth"}
        else:
            sc = scsynth_rtf(list(bank.partial_hz), scsynth_seconds(n, seconds), SR, repeats)
        sc_rtf = sc.get("rtf")
        sc_ratio = ours / sc_rtf if isinstance(sc_rtf, float) and sc_rtf > 0 else None
        results.append(
            {
                "partials": n,
                "ours_rtf": ours,
                "numpy_sin_rtf": ref,
                "ours_over_numpy": ours / ref,
                "scsynth": sc,
                "ours_over_scsynth": sc_ratio,
            }
        )
        rows.append([n, ours, ref, ours / ref, sc_rtf, sc_ratio])
        print(f"  N={n}: ours {ours:.4f}, numpy {ref:.4f}, scsynth {sc_rtf}", flush=True)

    print()
    print(
        table(
            ["partials", "ours RTF", "np.sin RTF", "ours/np.sin", "scsynth RTF", "ours/scsynth"],
            rows,
        )
    )
    skipped = {r["scsynth"].get("skipped") for r in results} - {None}
    if skipped:
        print(f"scsynth skipped: {'; '.join(sorted(skipped))}")
    at_target = [r["ours_rtf"] for r in results if r["partials"] == TARGET_N]
    verdict = None
    if at_target:
        verdict = at_target[0] <= TARGET_RTF
        state = "PASS" if verdict else "FAIL"
        print(f"target: {TARGET_N} partials at RTF <= {TARGET_RTF}: {state} ({at_target[0]:.4f})")
    path = write_results(
        "oscillators",
        {
            "sample_rate": SR,
            "block_frames": BLOCK,
            "audio_seconds": seconds,
            "repeats": repeats,
            "pinned_to_one_core": pinned,
            "blas_threads": 1,
            "coupling": 0.6,
            "target": {"partials": TARGET_N, "rtf_max": TARGET_RTF, "met": verdict},
            "notes": (
                "RTF = render s / audio s, best of `repeats` after a warm-up. scsynth renders "
                "a mono sum of N fixed SinOsc (no coupling, envelopes or panning) in NRT mode; "
                "its RTF is (wall(long) - wall(short)) / (audio(long) - audio(short)), which "
                "cancels boot, and includes writing a 16-bit WAV."
            ),
            "results": results,
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
