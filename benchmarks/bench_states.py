"""How the music differs per heart-rate state, over the shipped scenarios.

Renders every shipped scenario (``configs/scenarios/*.csv``) with the shipped
defaults through ``render_offline`` (the path of ``bassd render --scenario
NAME``) and measures every finished segment as heard (the master output the
metrics log sees). Per state it prints and writes to ``results/states.json``:

* loudness: median integrated LUFS and the spread of all segments around it;
* colour: median spectral centroid, and its ratio to neutral's;
* pulse: the tempo the segment was rendered at and the amplitude-envelope
  modulation frequency measured in 0.3..5 Hz (the audible swell);
* harmonic rhythm: seconds per chord (chord_beats · 60 / tempo) and the
  measured chroma flux (mean cosine distance of 1 s chroma frames 1 s apart);
* still music: the share of chroma energy on the segment's scale, the largest
  sample-to-sample jump, and clicks: second-difference samples above 12× the
  second difference's RMS around them (±10 ms). Measured against the RMS of the
  whole segment instead, the bright outgoing segment of a crossfade into a dark
  one counted as "clicks" (13 of them, all in the first 35 ms of one segment,
  on a smooth waveform);
* normalisation: each segment's target (``fx.loudness_target_lufs`` plus its
  category's offset), its distance from it, and the time ``prepare()`` spends
  deciding the gain (``Normaliser.gain_db``: loudness predicted from the bank).

Goals (issue 6): calm ≥ 25 % darker than neutral, slower, softer; activating
≥ 25 % brighter and faster; every segment within ±1 LU of its state's target.

    python benchmarks/bench_states.py [--scenario NAME ...]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the bassd CLI sets it
os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics
import tempfile
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from _common import table, write_results

from bassd.app.config import Config, load_config
from bassd.app.offline import render_offline
from bassd.control.hr import read_hr_trace
from bassd.dsp.loudness import MasterChain
from bassd.dsp.metrics import measure
from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.dsp.scales import scale_pitch_classes
from bassd.engine.core import SegmentRecord
from bassd.engine.renderer import Normaliser, RenderRequest
from bassd.engine.segment_log import SegmentLog

STATES = ("neutral", "stress", "underaroused")
CLICK_FACTOR = 12.0
CLICK_WINDOW = 961  # frames around a sample (±10 ms at 48 kHz) whose RMS it is judged against


def envelope_pulse_hz(x: np.ndarray, sr: int) -> tuple[float, float]:
    """Frequency (Hz) and relative depth of the strongest envelope modulation in 0.3..5 Hz."""
    mono = x.mean(axis=1)
    hop = sr // 100
    n = len(mono) // hop
    env = np.sqrt(np.mean(mono[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1))
    if n < 200 or env.mean() <= 0:
        return float("nan"), float("nan")
    dev = (env - env.mean()) * np.hanning(n)
    spec = np.abs(np.fft.rfft(dev))
    freqs = np.fft.rfftfreq(n, 0.01)
    band = (freqs >= 0.3) & (freqs <= 5.0)
    i = int(np.argmax(np.where(band, spec, 0.0)))
    depth = 2.0 * spec[i] / (np.sum(np.hanning(n)) * env.mean())
    return float(freqs[i]), float(depth)


def chroma_frames(x: np.ndarray, sr: int, seconds: float = 1.0) -> np.ndarray:
    """(frames, 12) chroma energy of consecutive windows of ``seconds`` (60 Hz..4 kHz)."""
    mono = x.mean(axis=1).astype(np.float64)
    size = int(seconds * sr)
    n = len(mono) // size
    if n == 0:
        return np.zeros((0, 12))
    freqs = np.fft.rfftfreq(size, 1.0 / sr)
    band = (freqs >= 60.0) & (freqs <= 4000.0)
    pcs = np.round(69 + 12 * np.log2(freqs[band] / 440.0)).astype(int) % 12
    win = np.hanning(size)
    out = np.zeros((n, 12))
    for k in range(n):
        power = np.abs(np.fft.rfft(mono[k * size : (k + 1) * size] * win))[band] ** 2
        out[k] = np.bincount(pcs, weights=power, minlength=12)
    return out


def chroma_flux(chroma: np.ndarray) -> float:
    """Mean cosine distance between consecutive chroma frames."""
    if len(chroma) < 2:
        return float("nan")
    norm = chroma / (np.linalg.norm(chroma, axis=1, keepdims=True) + 1e-20)
    return float(np.mean(1.0 - np.sum(norm[1:] * norm[:-1], axis=1)))


def on_scale(chroma: np.ndarray, key: str, mode: str) -> float:
    """Share of the chroma energy on the scale's pitch classes."""
    total = chroma.sum()
    if total <= 0:
        return float("nan")
    return float(chroma[:, sorted(scale_pitch_classes(key, mode))].sum() / total)


def clicks(x: np.ndarray) -> tuple[float, int]:
    """Largest sample-to-sample jump and the count of second-difference spikes (above
    CLICK_FACTOR × the local RMS of the second difference)."""
    x64 = x.astype(np.float64)
    jump = float(np.max(np.abs(np.diff(x64, axis=0)))) if len(x64) > 1 else 0.0
    d2 = np.diff(x64, n=2, axis=0)
    if len(d2) < CLICK_WINDOW:
        return jump, 0
    spikes = 0
    kernel = np.ones(CLICK_WINDOW) / CLICK_WINDOW
    for ch in range(d2.shape[1]):
        local = np.sqrt(np.convolve(d2[:, ch] ** 2, kernel, mode="same"))
        spikes += int(np.sum(np.abs(d2[:, ch]) > CLICK_FACTOR * np.maximum(local, 1e-12)))
    return jump, spikes


class StateLog(SegmentLog):
    """The metrics log of ``bassd render``, plus this benchmark's measures per segment."""

    def __init__(self, scenario: str, cfg: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scenario = scenario
        self.segments: list[dict[str, Any]] = []
        fx = cfg.fx
        chain = MasterChain(cfg.audio.sample_rate, fx.hpf_hz, fx.lpf_hz, fx.drive, fx.peak)
        self.normaliser = Normaliser(
            fx.loudness_target_lufs, fx.loudness_offsets_lu.model_dump(), lambda: chain
        )
        self.seed = cfg.timeline.seed

    def write(self, rec: SegmentRecord) -> dict[str, str]:
        try:
            row = self._write(rec)
            self.segments.append(self._extra(rec, row))
            return row
        finally:
            rec.release()

    def _extra(self, rec: SegmentRecord, row: dict[str, str]) -> dict[str, Any]:
        sr, x, p = self.sample_rate, rec.audio, rec.params
        # the first and last crossfade are shared with the neighbours: measure the middle
        edge = min(int(2.0 * sr), len(x) // 4)
        core = x[edge : len(x) - edge] if len(x) > 4 * sr else x
        m = measure(core, sr)
        pulse_hz, pulse_depth = envelope_pulse_hz(core, sr)
        chroma = chroma_frames(core, sr)
        jump, spikes = clicks(x)
        tempo = float(p.get("tempo_bpm", float("nan")))
        chord_beats = float(p.get("chord_beats", 8))
        target = self.normaliser.target(rec.meta)
        lufs = float(row["lufs"]) if row["lufs"] else float("nan")
        # prepare()'s gain decision for this segment's bank, timed on its own
        bank = KuramotoBank(BankParams(**p), sr, seed=self.seed + rec.index)
        request = RenderRequest(rec.index, self.seed + rec.index, len(x), sr, p, rec.meta)
        t0 = time.perf_counter()
        self.normaliser.gain_db(bank, request)
        gain_ms = 1e3 * (time.perf_counter() - t0)
        return {
            "scenario": self.scenario,
            "index": rec.index,
            "state": str(rec.meta.get("state", "")),
            "prompt": str(rec.meta.get("prompt", "")),
            "fallback": rec.fallback,
            "seconds": len(x) / sr,
            # as metrics.csv logs them: the whole segment as heard
            "lufs": lufs,
            "target_lufs": float("nan") if target is None else target,
            "off_target_lu": float("nan") if target is None else lufs - target,
            "gain_ms": gain_ms,
            "centroid_hz": float(row["centroid_hz"]),
            "lufs_core": m.lufs,
            "tempo_bpm": tempo,
            "chord_seconds": chord_beats * 60.0 / tempo,
            "pulse_hz": pulse_hz,
            "pulse_depth": pulse_depth,
            "chroma_flux": chroma_flux(chroma),
            "on_scale": on_scale(chroma, str(p.get("key", "C")), str(p.get("mode", "ionian"))),
            "max_jump": jump,
            "clicks": spikes,
            "peak_dbfs": m.peak_dbfs,
        }


def render_scenario(name: str, tmp: Path) -> tuple[list[dict[str, Any]], float, float]:
    cfg = load_config()
    trace = read_hr_trace(Path(str(files("bassd.configs.scenarios").joinpath(f"{name}.csv"))))
    seconds = trace[-1][0] + 5.0  # as `bassd render --scenario` chooses
    slog = StateLog(name, cfg, tmp / f"{name}.csv", None, cfg.audio.sample_rate, name)
    t0 = time.perf_counter()
    render_offline(
        cfg, seconds, tmp / f"{name}.wav", segment_log=slog, hr_trace=trace, record_events=False
    )
    return slog.segments, seconds, time.perf_counter() - t0


def _median(rows: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rows if np.isfinite(r[key])]
    return statistics.median(vals) if vals else float("nan")


def summarise(segments: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for state in STATES:
        rows = [s for s in segments if s["state"] == state and not s["fallback"]]
        if not rows:
            continue
        lufs = [r["lufs"] for r in rows if np.isfinite(r["lufs"])]
        out[state] = {
            "segments": len(rows),
            **{
                k: _median(rows, k)
                for k in (
                    "centroid_hz",
                    "lufs",
                    "tempo_bpm",
                    "pulse_hz",
                    "pulse_depth",
                    "chord_seconds",
                    "chroma_flux",
                    "on_scale",
                )
            },
            "lufs_min": min(lufs),
            "lufs_max": max(lufs),
            "target_lufs": _median(rows, "target_lufs"),
            "off_target_max_lu": max((abs(r["off_target_lu"]) for r in rows), default=0.0),
            "off_target_over_1lu": sum(abs(r["off_target_lu"]) > 1.0 for r in rows),
            "gain_ms_median": _median(rows, "gain_ms"),
            "gain_ms_max": max(r["gain_ms"] for r in rows),
            "max_jump": max(r["max_jump"] for r in rows),
            "clicks": sum(r["clicks"] for r in rows),
        }
    neutral = out.get("neutral")
    for stats in out.values():
        if neutral:
            stats["centroid_vs_neutral"] = stats["centroid_hz"] / neutral["centroid_hz"]
            stats["tempo_vs_neutral"] = stats["tempo_bpm"] / neutral["tempo_bpm"]
            stats["lu_vs_neutral"] = stats["lufs"] - neutral["lufs"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", help="one scenario (repeatable); default all")
    args = ap.parse_args()
    folder = files("bassd.configs.scenarios")
    names = args.scenario or sorted(
        p.name.removesuffix(".csv") for p in folder.iterdir() if p.name.endswith(".csv")
    )
    segments: list[dict[str, Any]] = []
    renders = []
    with tempfile.TemporaryDirectory(prefix="bench_states_") as tmp:
        for name in names:
            segs, seconds, wall = render_scenario(name, Path(tmp))
            segments += segs
            renders.append({"scenario": name, "seconds": seconds, "wall_s": wall})
            print(f"{name}: {seconds:.0f} s in {wall:.1f} s, {len(segs)} segments", flush=True)
    summary = summarise(segments)
    headers = (
        "state",
        "segs",
        "centroid Hz",
        "vs neutral",
        "LUFS",
        "LUFS min..max",
        "target",
        "max |off| LU",
        "gain ms (max)",
        "tempo",
        "pulse Hz",
        "s/chord",
        "chroma flux",
        "on scale",
        "max jump",
        "clicks",
    )
    rows = [
        (
            state,
            s["segments"],
            s["centroid_hz"],
            s.get("centroid_vs_neutral"),
            s["lufs"],
            f"{s['lufs_min']:.1f}..{s['lufs_max']:.1f}",
            s["target_lufs"],
            s["off_target_max_lu"],
            f"{s['gain_ms_median']:.2f} ({s['gain_ms_max']:.2f})",
            s["tempo_bpm"],
            s["pulse_hz"],
            s["chord_seconds"],
            s["chroma_flux"],
            s["on_scale"],
            s["max_jump"],
            s["clicks"],
        )
        for state, s in summary.items()
    ]
    print()
    print(table(headers, rows))
    lufs = [s["lufs"] for s in segments if np.isfinite(s["lufs"])]
    print(f"\nall segments: LUFS {min(lufs):.2f} .. {max(lufs):.2f} ({len(lufs)} segments)")
    off = [abs(s["off_target_lu"]) for s in segments if np.isfinite(s["off_target_lu"])]
    if off:
        over = sum(o > 1.0 for o in off)
        print(f"off target: max {max(off):.2f} LU, {over} of {len(off)} segments beyond ±1 LU")
    path = write_results(
        "states",
        {"renders": renders, "states": summary, "segments": segments},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
