"""``bassd analyse``: its speed, the K-SOM seed's analysis beside it, and what its sound costs to play.

The material is generated here (numpy) and written to a temporary folder: a
rich texture of four harmonic tones with vibrato and slow level swells (1/k
harmonics, all below 9.9 kHz so the 22.05 kHz copy holds the same partials),
an inharmonic bell (Risset's ratios) struck every 5 s, and white noise at
-45 dBFS RMS; 44.1 kHz stereo, 24-bit WAV, 60 s and (unless ``--quick``) 10
minutes.

1. Analysis time per minute of audio, through the user's path: the real CLI
   process ``python -m bassd analyse FILE --out DIR`` (default settings, PNGs
   on; wall time of the fresh process and its peak RSS from ``wait4``), and
   in-process ``analyse_files(..., pngs=False)`` with its stage breakdown.
   The CLI runs with the user's environment (no thread limits, no pinning).
2. The K-SOM seed's analysis (``_ksom_seed.py``: STFT, peaks as dicts, <= 5
   band oscillators, a 32x16 symbol grid) against ours on the same file, a
   22.05 kHz mono copy of the 60 s material (the seed analyses nothing else).
   The seed's evolve / synthesise stages run for 1 s and are reported apart;
   analysis is compared with analysis.
3. Render cost of the analysed sound: real-time factor of ``KuramotoBank``
   playing it (one partial per set partial) beside the default 96-partial bank,
   a scale bank of the same size (``BankParams(density=P)``), and the sound
   bank moving on its map (``set_som_xy`` every block along a sweep); 48 kHz,
   256-frame blocks, one pinned core, one BLAS thread, best of 3 after a 1 s
   warm-up.

    python benchmarks/bench_analyse.py [--quick]

``--quick``: only the 60 s file, best of 1 in-process, 5 s renders.
"""

from __future__ import annotations

import argparse
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # part 3 on one core: before numpy is imported
os.environ["OMP_NUM_THREADS"] = "1"

import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _ksom_seed as seed
import numpy as np
from _common import pin_to_core, table, write_results

from bassd.app.analyse import AnalyseResult, analyse_files
from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.engine.sound_library import read_sound
from bassd.engine.wavfile import WavWriter

SR_IN = 44_100
SR_OUT = 48_000
BLOCK = 256
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")  # set above; not for the CLI
F_MAX = 0.45 * seed.SEED_SR  # no partial above this: the 22.05 kHz copy holds them all
ANALYSIS_STAGES = ("load+stft", "peaks", "oscillators", "som_grid")
SYNTH_STAGES = ("evolve", "synthesise", "write_wav")

# (f0 Hz, harmonics, level, vibrato Hz, vibrato depth (fraction), swell Hz, pan 0..1)
TONES = ((110.0, 24, 1.0, 5.1, 0.003, 0.031, 0.35), (164.81, 18, 0.8, 5.7, 0.004, 0.047, 0.65),
         (277.18, 14, 0.6, 4.6, 0.003, 0.023, 0.45), (440.0, 10, 0.5, 6.2, 0.005, 0.071, 0.55))  # fmt: skip
BELL_F0 = 523.25
BELL_RATIOS = (0.56, 0.92, 1.19, 1.71, 2.0, 2.74, 3.0, 3.76, 4.07)  # Risset
BELL_DECAY_S = (6.0, 4.5, 3.5, 2.5, 2.2, 1.6, 1.4, 1.1, 0.9)
BELL_PERIOD_S = 5.0
NOISE_DBFS = -45.0


def texture(t: np.ndarray) -> np.ndarray:
    """The material at times ``t`` (s), (len(t), 2) float64: a pure function of time, so
    it is generated block by block and at any rate."""
    out = np.zeros((len(t), 2))
    for f0, harmonics, level, fv, depth, swell, pan in TONES:
        # FM vibrato in closed form: phase of k*f0*(1 + depth*sin(2 pi fv t))
        wobble = t - depth / (2 * np.pi * fv) * np.cos(2 * np.pi * fv * t)
        env = level * (0.55 + 0.45 * np.sin(2 * np.pi * swell * t))
        # harmonic k is Im(w**k), w = exp(i(theta + 1)): sin(k theta + k), one exp per tone
        w = np.exp(1j * (np.mod(2 * np.pi * f0 * wobble, 2 * np.pi) + 1.0))
        wk = np.ones_like(w)
        mono = np.zeros_like(t)
        for k in range(1, harmonics + 1):
            wk *= w
            if k * f0 * (1 + depth) < F_MAX:
                mono += wk.imag / k
        mono *= env
        out[:, 0] += (1 - pan) * mono
        out[:, 1] += pan * mono
    since = np.mod(t, BELL_PERIOD_S)  # seconds since the last strike
    bell = np.zeros_like(t)
    for r, tau in zip(BELL_RATIOS, BELL_DECAY_S, strict=True):
        bell += np.exp(-since / tau) * np.sin(np.mod(2 * np.pi * r * BELL_F0 * since, 2 * np.pi))
    bell *= 0.35 * np.minimum(since / 0.002, 1.0)  # 2 ms attack
    out += bell[:, None] * np.array([0.6, 0.4])
    return out


def _bound() -> float:
    """An upper bound of |texture| before scaling."""
    tones = sum(level * sum(1 / k for k in range(1, h + 1)) for _, h, level, *_ in TONES)
    return tones + 0.35 * len(BELL_RATIOS)


def write_material(path: Path, seconds: float, rate: int, mono: bool, block_s: float = 5.0) -> None:
    """``seconds`` of the texture at ``rate``, scaled by a fixed gain (peaks near -8 dBFS),
    plus the noise, as a 24-bit WAV; stereo, or the channels' mean when ``mono``."""
    rng = np.random.default_rng(2026)
    gain = 2.4 / _bound()
    noise_rms = 10 ** (NOISE_DBFS / 20)
    total = round(seconds * rate)
    step = round(block_s * rate)
    with WavWriter(path, rate, 1 if mono else 2) as w:
        for start in range(0, total, step):
            n = min(step, total - start)
            x = gain * texture((start + np.arange(n)) / rate)
            x += noise_rms * rng.standard_normal(x.shape)
            w.write(x.mean(axis=1, keepdims=True) if mono else x)


# ---------------------------------------------------------------------- part 1
def cli_run(wav: Path, out: Path) -> dict[str, Any]:
    """``python -m bassd analyse WAV --out OUT`` as a fresh process: wall s, peak RSS."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "bassd", "analyse", str(wav), "--out", str(out)]
    log = out.parent / f"{out.name}.log"
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}  # default threading
    with log.open("wb") as f:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env,
                             cwd=out.parent)  # fmt: skip
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{text}")
    printed = next((ln for ln in text.splitlines() if "x real time" in ln), "")
    m = re.search(r" in ([0-9.]+) s \(", printed)  # "60.0 s of audio in 1.93 s (31x ..."
    return {
        "wall_seconds": wall,
        "printed_seconds": float(m.group(1)) if m else None,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "printed": printed,
        "printed_stages": [
            ln.strip() for ln in text.splitlines() if ln.endswith(" s") and ln.startswith("  ")
        ],
    }


def inproc_run(wav: Path, out: Path, repeats: int) -> tuple[float, AnalyseResult]:
    """Best wall time of ``analyse_files([wav], out, pngs=False)`` and that run's result."""
    best: tuple[float, AnalyseResult] | None = None
    for _ in range(repeats):
        if out.exists():
            shutil.rmtree(out)
        t0 = time.perf_counter()
        result = analyse_files([wav], out, name="bench", pngs=False)
        wall = time.perf_counter() - t0
        if best is None or wall < best[0]:
            best = (wall, result)
    assert best is not None
    return best


def produced(result: AnalyseResult) -> dict[str, Any]:
    oscset, som = result.sound.oscset, result.sound.som
    return {
        "partials": len(oscset),
        "stable_partials": sum(p.stable for p in oscset.partials),
        "bands": len(oscset.bands),
        "map": None if som is None else f"{som.rows}x{som.cols}",
        "regions": sum(f.regions for f in result.files),
        "lowest_hz": oscset.partials[0].freq_hz,
        "highest_hz": oscset.partials[-1].freq_hz,
    }


# ---------------------------------------------------------------------- part 2
def seed_analysis(wav22: Path, tmp: Path, repeats: int) -> tuple[dict[str, float], seed.SeedRun]:
    """The seed's pipeline (1 s of evolution); the run with the shortest analysis."""
    best: tuple[float, seed.SeedRun] | None = None
    for _ in range(repeats):
        run = seed.run_seed(wav22, tmp / "seed_out.wav", 1.0, time.perf_counter)
        a = sum(run.stage_seconds[k] for k in ANALYSIS_STAGES)
        if best is None or a < best[0]:
            best = (a, run)
    assert best is not None
    return best[1].stage_seconds, best[1]


# ---------------------------------------------------------------------- part 3
def bank_rtf(bank: KuramotoBank, seconds: float, repeats: int, sweep: bool) -> float:
    blocks = round(seconds * SR_OUT / BLOCK)
    xs = np.linspace(0.0, 1.0, blocks)
    ys = 0.5 + 0.45 * np.sin(2 * np.pi * 3 * xs)  # three waves up and down across the map

    def run() -> None:
        if sweep:
            for i in range(blocks):
                bank.set_som_xy(xs[i], ys[i])
                bank.render(BLOCK)
        else:
            for _ in range(blocks):
                bank.render(BLOCK)

    bank.render(SR_OUT)  # warm-up: one second
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best / (blocks * BLOCK / SR_OUT)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="60 s file only, 5 s renders")
    args = ap.parse_args(argv)
    lengths = (60.0,) if args.quick else (60.0, 600.0)
    repeats = 1 if args.quick else 2
    render_s = 5.0 if args.quick else 20.0
    t_bench = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="bench_analyse_") as tmp_s:
        tmp = Path(tmp_s)
        # ---------------------------------------------------------- material
        files: dict[float, Path] = {}
        for secs in lengths:
            t0 = time.perf_counter()
            files[secs] = tmp / f"texture_{secs:.0f}s.wav"
            write_material(files[secs], secs, SR_IN, mono=False)
            print(f"wrote {files[secs].name} ({secs:.0f} s, 44.1 kHz stereo) in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
        wav22 = tmp / "texture_60s_22050_mono.wav"
        write_material(wav22, 60.0, seed.SEED_SR, mono=True)

        # ---------------------------------------------------------- part 1
        part1: list[dict[str, Any]] = []
        rows1: list[list[object]] = []
        stage_rows: list[list[object]] = []
        sound_dir = tmp / "sound_60s"
        for secs, wav in files.items():
            cli = cli_run(wav, tmp / ("sound_60s" if secs == 60.0 else f"sound_{secs:.0f}s"))
            print(f"CLI {wav.name}: {cli['wall_seconds']:.2f} s, {cli['printed'].strip()}",
                  flush=True)  # fmt: skip
            for ln in cli["printed_stages"]:
                print(f"    {ln}", flush=True)
            wall, res = inproc_run(wav, tmp / f"inproc_{secs:.0f}s", 1 if secs > 60 else repeats)
            minutes = secs / 60.0
            label = f"{secs / 60:.0f} min" if secs >= 60 else f"{secs:.0f} s"
            rows1.append([f"CLI `bassd analyse`, {label}, PNGs", cli["wall_seconds"],
                          cli["printed_seconds"], cli["wall_seconds"] / minutes,
                          secs / cli["wall_seconds"], cli["peak_rss_mb"]])  # fmt: skip
            rows1.append([f"in-process `analyse_files`, {label}, no PNGs", wall, None,
                          wall / minutes, secs / wall, None])  # fmt: skip
            for stage, s in res.stage_seconds.items():
                stage_rows.append([f"{label}: {stage}", s, s / minutes])
            part1.append({
                "audio_seconds": secs,
                "file": "44.1 kHz stereo 24-bit WAV",
                "cli": {**cli, "seconds_per_minute": cli["wall_seconds"] / minutes,
                        "x_real_time": secs / cli["wall_seconds"]},
                "in_process_no_pngs": {"wall_seconds": wall, "seconds_per_minute": wall / minutes,
                                       "x_real_time": secs / wall,
                                       "stage_seconds": res.stage_seconds,
                                       "produced": produced(res)},
            })  # fmt: skip

        # ---------------------------------------------------------- part 2
        stages, run = seed_analysis(wav22, tmp, repeats)
        seed_a = sum(stages[k] for k in ANALYSIS_STAGES)
        ours22_wall, ours22 = inproc_run(wav22, tmp / "inproc_22050", repeats)
        ours44_wall = part1[0]["in_process_no_pngs"]["wall_seconds"]
        ours44 = part1[0]["in_process_no_pngs"]["produced"]
        p22 = produced(ours22)
        seed_out = f"{run.peaks} peaks (dicts), {run.oscillators} band oscillators, 32x16 symbols"

        def ours_out(p: dict[str, Any]) -> str:
            return (f"{p['partials']} partials ({p['stable_partials']} stable), "
                    f"{p['map']} map on {p['regions']} regions")  # fmt: skip

        rows2: list[list[object]] = [
            ["seed (K-SOM), 22.05 kHz mono", seed_a, None, seed_out],
            ["ours, same 22.05 kHz mono file", ours22_wall, seed_a / ours22_wall, ours_out(p22)],
            ["ours, the 44.1 kHz stereo original", ours44_wall, seed_a / ours44_wall,
             ours_out(ours44)],
        ]  # fmt: skip
        seed_rows = [[k, v] for k, v in stages.items()]

        # ---------------------------------------------------------- part 3
        pinned = pin_to_core(0)
        sound = read_sound(sound_dir)  # the CLI's own output for the 60 s file
        n = len(sound.oscset)
        r3 = 1 if args.quick else 3
        banks = [
            ("default bank", 96, KuramotoBank(BankParams(), SR_OUT, seed=0), False),
            (f"scale bank, density={n}", n, KuramotoBank(BankParams(density=n), SR_OUT, seed=0),
             False),
            ("analysed sound", n, KuramotoBank(BankParams(), SR_OUT, seed=0, sound=sound), False),
            ("analysed sound, set_som_xy every block", n,
             KuramotoBank(BankParams(), SR_OUT, seed=0, sound=sound), True),
        ]  # fmt: skip
        rows3: list[list[object]] = []
        for name, _size, bank, sweep in banks:
            rtf = bank_rtf(bank, render_s, r3, sweep)
            rows3.append([name, len(bank.partial_hz), rtf, 1.0 / rtf])

    bench_s = time.perf_counter() - t_bench
    print()
    print("1. analysis time (60 s / 10 min of 44.1 kHz stereo texture)")
    print(
        table(
            ["run", "wall s", "printed s", "s per min of audio", "x real time", "peak RSS MB"],
            rows1,
        )
    )
    print()
    print(table(["in-process stage", "seconds", "s per min"], stage_rows))
    print()
    print("2. the K-SOM seed's analysis against ours, 60 s")
    print(table(["pipeline", "analysis s", "seed/ours", "produces"], rows2))
    print()
    print(table(["seed stage (1 s evolved)", "seconds"], seed_rows))
    print()
    print(f"3. render cost, {render_s:g} s at 48 kHz in {BLOCK}-frame blocks, one core "
          f"(pinned: {pinned}), best of {r3}")  # fmt: skip
    print(table(["bank", "partials", "RTF", "x real time"], rows3))
    print(f"\nbenchmark wall time {bench_s:.0f} s")

    path = write_results(
        "bench_analyse",
        {
            "command": "python benchmarks/bench_analyse.py" + (" --quick" if args.quick else ""),
            "material": {
                "tones": [
                    dict(
                        zip(
                            (
                                "f0_hz",
                                "harmonics",
                                "level",
                                "vibrato_hz",
                                "vibrato_depth",
                                "swell_hz",
                                "pan",
                            ),
                            t,
                            strict=True,
                        )
                    )
                    for t in TONES
                ],
                "bell": {
                    "f0_hz": BELL_F0,
                    "ratios": BELL_RATIOS,
                    "decay_s": BELL_DECAY_S,
                    "period_s": BELL_PERIOD_S,
                },
                "noise_dbfs_rms": NOISE_DBFS,
                "max_partial_hz": F_MAX,
            },
            "analysis_speed": part1,
            "seed_vs_ours": {
                "file": "60 s, 22050 Hz mono 24-bit WAV (the same material)",
                "seed": {
                    "analysis_seconds": seed_a,
                    "stage_seconds": stages,
                    "evolved_seconds": run.evolved_seconds,
                    "peaks": run.peaks,
                    "oscillators": run.oscillators,
                    "som_grid": "32x16",
                },
                "ours_same_file": {
                    "wall_seconds": ours22_wall,
                    "stage_seconds": ours22.stage_seconds,
                    "produced": p22,
                },
                "ours_44k_stereo": {"wall_seconds": ours44_wall, "produced": ours44},
                "ratio_seed_over_ours_same_file": seed_a / ours22_wall,
                "ratio_seed_over_ours_44k_stereo": seed_a / ours44_wall,
            },
            "render": {
                "seconds": render_s,
                "sample_rate": SR_OUT,
                "block": BLOCK,
                "pinned_to_one_core": pinned,
                "best_of": r3,
                "rows": [
                    dict(zip(("bank", "partials", "rtf", "x_real_time"), r, strict=True))
                    for r in rows3
                ],
            },
            "benchmark_wall_seconds": bench_s,
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
