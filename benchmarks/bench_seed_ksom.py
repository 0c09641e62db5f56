"""The K-SOM seed's algorithm against ours, on the same job, on one core.

The job: analyse a 10 s input (harmonic tones plus a little noise, generated
here at 22050 Hz and written to a WAV), then produce 30 s of output.

* seed: its pipeline as written (see ``_ksom_seed.py``): STFT, per-frame peak
  picking into dicts, ≤ 5 band oscillators, SOM grid, a pure-Python O(N²)
  Kuramoto loop at dt = 1 ms writing one sample per step, WAV out. Its "30 s"
  are 30,000 samples, i.e. 1.36 s of 22.05 kHz audio: a bug we do not copy.
* ours: the same STFT and peak picking, vectorised (the product has no
  analysis stage; this is the equivalent work), then 30 s of 48 kHz stereo
  from ``KuramotoBank``, once with as many partials as the seed has
  oscillators and once with our default density (96).

    python benchmarks/bench_seed_ksom.py [--quick]

``--quick`` evolves the seed for 10 s and scales its duration-linear stages
(evolve, synthesise, write) by 3; the output says so.
"""

from __future__ import annotations

import argparse
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # one core: before numpy is imported
os.environ["OMP_NUM_THREADS"] = "1"

import tempfile
import time
from pathlib import Path

import _ksom_seed as seed
import numpy as np
from _common import best_of, pin_to_core, table, write_results
from scipy.signal import find_peaks

from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.engine.wavfile import write_wav

INPUT_SECONDS = 10.0
OUTPUT_SECONDS = 30.0
OUR_SR = 48_000
LINEAR_STAGES = ("evolve", "synthesise", "write_wav")


def input_signal(seconds: float = INPUT_SECONDS, sr: int = seed.SEED_SR) -> np.ndarray:
    """A few harmonic tones (A2, E3, C#4, A5) with 1/k partials, plus noise at about -50 dB."""
    rng = np.random.default_rng(1234)
    t = np.arange(round(seconds * sr)) / sr
    x = np.zeros_like(t)
    for f0, harmonics, level in ((110.0, 20, 1.0), (164.81, 14, 0.8), (277.18, 12, 0.6),
                                 (880.0, 8, 0.4)):  # fmt: skip
        for k in range(1, harmonics + 1):
            if k * f0 < 0.45 * sr:
                x += level / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
    x *= 0.5 / np.abs(x).max()
    x += 0.003 * rng.standard_normal(len(x))
    return x


def our_analysis(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same spectral peaks as the seed, as arrays (frame index, frequency Hz)."""
    spec_db = seed.amplitude_to_db(seed.magnitude_spectrogram(audio))
    freqs = np.fft.rfftfreq(seed.N_FFT, 1.0 / seed.SEED_SR)
    frames, bins = [], []
    for t in range(spec_db.shape[1]):
        idx, _ = find_peaks(spec_db[:, t], prominence=10, distance=5)
        frames.append(np.full(len(idx), t))
        bins.append(idx)
    return np.concatenate(frames), freqs[np.concatenate(bins)]


def our_render(density: int, seconds: float, block: int = 256) -> None:
    bank = KuramotoBank(BankParams(density=density), OUR_SR, seed=0)
    for _ in range(-(-round(seconds * OUR_SR) // block)):
        bank.render(block)


def seed_loop_at(oscillators: int, seconds: float) -> dict[str, float]:
    """The seed's evolve → synthesise → write stages with more oscillators, extrapolated.

    The loop is O(N²) per 1 ms step and linear in duration, so a short run
    scaled to 30 s is exact up to timing noise.
    """
    freqs = KuramotoBank(BankParams(density=oscillators), OUR_SR, seed=0).partial_hz
    oscs = [seed.SeedOscillator(float(f), coupling=0.05) for f in freqs]
    with tempfile.TemporaryDirectory(prefix="bench_ksom_") as tmp:
        t0 = time.perf_counter()
        out = seed.synthesise(seed.evolve(oscs, seconds))
        write_wav(Path(tmp) / "big.wav", out[:, None], seed.SEED_SR)
        wall = time.perf_counter() - t0
    return {
        "oscillators": oscillators,
        "evolved_seconds": seconds,
        "wall_seconds": wall,
        "seconds_at_30s": wall * OUTPUT_SECONDS / seconds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="evolve the seed 10 s, extrapolate")
    args = ap.parse_args(argv)
    seed_seconds = 10.0 if args.quick else OUTPUT_SECONDS
    repeats = 2 if args.quick else 3
    pinned = pin_to_core(0)

    with tempfile.TemporaryDirectory(prefix="bench_ksom_") as tmp:
        wav_in = Path(tmp) / "input.wav"
        write_wav(wav_in, input_signal()[:, None], seed.SEED_SR)

        run = seed.run_seed(wav_in, Path(tmp) / "seed_out.wav", seed_seconds, time.perf_counter)
        scale = OUTPUT_SECONDS / seed_seconds
        stages = {
            k: v * (scale if k in LINEAR_STAGES else 1.0) for k, v in run.stage_seconds.items()
        }
        seed_total = sum(stages.values())
        seed_samples = round(run.output_samples * scale)
        print(f"seed: {run.peaks} peaks, {run.oscillators} oscillators", flush=True)

        audio = seed.load_mono(wav_in)
        peaks_seen = len(our_analysis(audio)[0])
        t_analysis = best_of(lambda: our_analysis(seed.load_mono(wav_in)), repeats)
    matched = max(1, run.oscillators)
    t_matched = best_of(lambda: our_render(matched, OUTPUT_SECONDS), repeats)
    t_default = best_of(lambda: our_render(96, OUTPUT_SECONDS), repeats)
    big = seed_loop_at(96, 0.1 if args.quick else 0.3)

    ours = {
        f"ours, {matched} partials": (t_analysis, t_matched),
        "ours, 96 partials (default)": (t_analysis, t_default),
    }
    seed_audio_s = seed_samples / seed.SEED_SR
    rows: list[list[object]] = [
        ["seed (K-SOM)", stages["load+stft"] + stages["peaks"], seed_total - stages["load+stft"]
         - stages["peaks"], seed_total, f"{seed_samples} @ 22050 Hz = {seed_audio_s:.2f} s",
         None],
    ]  # fmt: skip
    seed_analysis = stages["load+stft"] + stages["peaks"] + stages["oscillators"]
    big_total = seed_analysis + big["seconds_at_30s"]
    rows.append(
        [f"seed loop, {big['oscillators']} oscillators*", seed_analysis, big["seconds_at_30s"],
         big_total, f"{seed_samples} @ 22050 Hz = {seed_audio_s:.2f} s", None]
    )  # fmt: skip
    for name, (ta, tr) in ours.items():
        frames = round(OUTPUT_SECONDS * OUR_SR)
        out = f"{frames} x 2 @ 48000 Hz = {OUTPUT_SECONDS:.0f} s"
        rows.append([name, ta, tr, ta + tr, out, seed_total / (ta + tr)])
    rows[1][-1] = big_total / (t_analysis + t_default)  # against ours at the same 96

    print()
    print(table(["pipeline", "analysis s", "synthesis s", "total s", "output", "seed/ours"], rows))
    print()
    print(table(["seed stage", "seconds"], [[k, v] for k, v in stages.items()]))
    note = (
        f"seed evolved {seed_seconds:g} s; its duration-linear stages ({', '.join(LINEAR_STAGES)}) "
        f"were scaled x{scale:g} to {OUTPUT_SECONDS:g} s"
        if scale != 1.0
        else f"seed evolved the full {OUTPUT_SECONDS:g} s (no extrapolation)"
    )
    bug = (
        f"the seed writes one sample per 1 ms step: {seed_samples} samples = "
        f"{seed_audio_s:.2f} s at 22050 Hz for a requested {OUTPUT_SECONDS:g} s (bug not copied)"
    )
    per_audio = seed_total / seed_audio_s / ((t_analysis + t_default) / OUTPUT_SECONDS)
    print(f"note: {note}")
    print(
        f"note: * the seed's evolve + synthesise + write with {big['oscillators']} oscillators "
        f"(our default density; pitches of our bank), timed over {big['evolved_seconds']:g} s "
        f"of evolution and scaled linearly to {OUTPUT_SECONDS:g} s; vs ours at 96 partials"
    )
    print(f"note: {bug}")
    print(f"per second of audio actually produced, seed/ours (96 partials): {per_audio:.0f}x")

    path = write_results(
        "seed_ksom",
        {
            "seed": "001_146c8c82ab63ba7a (K-SOM)",
            "pinned_to_one_core": pinned,
            "input": {"seconds": INPUT_SECONDS, "sample_rate": seed.SEED_SR},
            "requested_output_seconds": OUTPUT_SECONDS,
            "seed_run": {
                "peaks": run.peaks,
                "oscillators": run.oscillators,
                "evolved_seconds": seed_seconds,
                "extrapolated": scale != 1.0,
                "stage_seconds_at_30s": stages,
                "total_seconds": seed_total,
                "output_samples": seed_samples,
                "output_audio_seconds": seed_audio_s,
            },
            "ours": {
                "analysis_seconds": t_analysis,
                "analysis_peaks": peaks_seen,
                "render_seconds": {str(matched): t_matched, "96": t_default},
                "output_audio_seconds": OUTPUT_SECONDS,
                "sample_rate": OUR_SR,
            },
            "ratio_seed_over_ours": {
                str(matched): seed_total / (t_analysis + t_matched),
                "96": seed_total / (t_analysis + t_default),
            },
            "ratio_per_audio_second_96": per_audio,
            "seed_loop_at_96_oscillators": {
                **big,
                "total_seconds_at_30s_with_analysis": big_total,
                "ratio_over_ours_96": big_total / (t_analysis + t_default),
            },
            "notes": [note, bug],
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
