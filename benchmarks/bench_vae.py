"""The mel VAE on a user's own files: training cost, render cost, and how good it sounds.

The material is generated here (numpy, soundfile) into a temporary folder: 12 files of
10 s at 44.1 kHz mono (2 minutes; ``--quick``: 6 files of 5 s): harmonic tones of
different pitch and tilt (saw-like, odd-harmonic, with vibrato), an FM tone, a plucked
string struck every 1.25 s (exponentially decaying harmonics), a chord, and noise
textures (white, pink, band-passed, amplitude-modulated rain).

1. Training time per epoch per minute of audio on this CPU, default ``VaeConfig``
   (latent 16, channels 32/64/128, 32-frame patches), batch 32: in-process
   ``train_vae`` with torch on 1 thread and on every core, and the user's path, the CLI
   process ``python -m bassd vae train --audio-dir DIR --name NAME --epochs N
   --library LIB`` (its per-epoch lines timestamped as they arrive; it also decodes the
   folder, fits the sliders and registers the model). Loss per epoch.
2. Render real-time factor of the CLI's model: ``TextureSynth.render`` of 20 s at
   48 kHz on one pinned core, torch on one thread (its chunk cost by stage: decode,
   mel -> magnitude, vocoder, resample, stereo), and the offline renderer path
   ``render_offline`` with ``renderer.name=vae`` (``bassd render``: the worker process,
   its torch import and model load, the engine and post-FX), with its start-up: the time
   from the call to the first block written.
3. Reconstruction quality on the files ``train_vae`` held out (never trained on): the
   original at 24 kHz against (a) Griffin-Lim 32 iterations from the true mel
   (``mel_to_magnitude``), (b) Fast Griffin-Lim (momentum 0.99) 32, (c) Fast GL 100,
   (d) the renderer's own vocoder on the true mel (``ChunkVocoder``, Fast GL, 16
   iterations per 8-frame chunk, mel -> magnitude with 16 updates as ``TextureSynth``),
   (e) the VAE's reconstruction (each patch's mu decoded, overlap-added with a Hann window
   in the linear mel domain, Fast GL 32), plus an oracle: the true STFT magnitude with
   Fast GL 32 (what phase recovery alone costs). Spectral convergence and MR-STFT
   distance (``dsp/spectral_distance.py``), mean over the files. The model for part 3 is
   trained longer (``--quality-epochs``, 30 by default) in-process on the thread count
   that trained faster in part 1.

    python benchmarks/bench_vae.py [--quick] [--quality-epochs N]

``--quick``: 6 files of 5 s, 2 epochs, 5 s renders, 8 quality epochs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from _common import pin_to_core, table, write_results

SR_IN = 44_100
SR_OUT = 48_000


# ---------------------------------------------------------------------- material
def _harmonic(t: np.ndarray, f0: float, n: int, tilt: float, odd: bool = False,
              vib: float = 0.0) -> np.ndarray:  # fmt: skip
    phase = 2 * np.pi * f0 * (t - vib / (2 * np.pi * 5.5) * np.cos(2 * np.pi * 5.5 * t))
    out = np.zeros_like(t)
    for k in range(1, n + 1):
        if (odd and k % 2 == 0) or k * f0 * (1 + vib) > 0.45 * SR_IN:
            continue
        out += np.sin(k * phase + k) / k**tilt
    return out


def _pluck(t: np.ndarray, f0: float, period: float) -> np.ndarray:
    since = np.mod(t, period)
    out = np.zeros_like(t)
    for k in range(1, 30):
        if k * f0 < 0.45 * SR_IN:
            out += np.exp(-since * (1.5 + 0.6 * k)) * np.sin(2 * np.pi * k * f0 * since) / k
    return out * np.minimum(since / 0.001, 1.0)


def _noise(rng: np.random.Generator, n: int, colour: str) -> np.ndarray:
    x = rng.standard_normal(n)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(n, 1 / SR_IN)
    if colour == "pink":
        spec /= np.sqrt(np.maximum(f, 20.0))
    elif colour == "band":
        spec *= np.exp(-0.5 * (np.log2(np.maximum(f, 1.0) / 1500.0) / 0.4) ** 2)
    return np.fft.irfft(spec, n)


def material(seconds: float, count: int) -> list[tuple[str, np.ndarray]]:
    """``count`` mono signals of ``seconds`` at 44.1 kHz, each peak-normalised to -6 dBFS."""
    rng = np.random.default_rng(2026)
    t = np.arange(round(seconds * SR_IN)) / SR_IN
    n = len(t)
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * 0.2 * t)
    makers = [
        ("saw_a2", lambda: _harmonic(t, 110.0, 60, 1.0) * swell),
        ("odd_e3", lambda: _harmonic(t, 164.81, 40, 1.0, odd=True)),
        ("vib_c4", lambda: _harmonic(t, 261.63, 20, 1.5, vib=0.006) * swell),
        ("pluck_g3", lambda: _pluck(t, 196.0, 1.25)),
        ("noise_pink", lambda: _noise(rng, n, "pink")),
        ("fm_a3", lambda: np.sin(2 * np.pi * 220 * t + 3.0 * np.sin(2 * np.pi * 440 * t))),
        ("chord", lambda: sum(_harmonic(t, f, 12, 1.2) for f in (130.81, 164.81, 196.0))),
        ("noise_band", lambda: _noise(rng, n, "band")),
        ("saw_a3_bright", lambda: _harmonic(t, 220.0, 60, 0.7)),
        ("rain", lambda: _noise(rng, n, "white") * (0.3 + np.abs(np.sin(2 * np.pi * 3 * t)))),
        ("pluck_d4", lambda: _pluck(t, 293.66, 0.8)),
        ("drone_d2", lambda: _harmonic(t, 73.42, 80, 1.3) + 0.1 * _noise(rng, n, "pink")),
    ]
    out = []
    for name, make in makers[:count]:
        x = np.asarray(make(), dtype=np.float64)
        out.append((name, 0.5 * x / np.max(np.abs(x))))
    return out


def write_folder(folder: Path, seconds: float, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, x in material(seconds, count):
        sf.write(folder / f"{name}.wav", x, SR_IN, subtype="PCM_24")


# ---------------------------------------------------------------------- part 1
def train_inproc(logmels: list, names: list, out: Path, spec: Any, epochs: int,
                 threads: int) -> dict[str, Any]:  # fmt: skip
    import torch

    from bassd.models.vae import VaeConfig
    from bassd.models.vae_train import EpochStats, train_vae

    torch.set_num_threads(threads)
    stamps: list[float] = []
    losses: list[dict[str, float]] = []

    def progress(es: EpochStats) -> None:
        stamps.append(time.perf_counter())
        losses.append({"epoch": es.epoch, "loss": es.loss, "recon": es.recon, "kl": es.kl,
                       "held_out": es.held_out})  # fmt: skip

    t0 = time.perf_counter()
    res = train_vae(logmels, names, out, spec_dict=spec.to_dict(), config=VaeConfig(),
                    epochs=epochs, batch=32, device="cpu", seed=0, patience=1000,
                    progress=progress)  # fmt: skip
    wall = time.perf_counter() - t0
    epoch_s = np.diff([t0, *stamps]).tolist()
    return {"threads": threads, "wall_s": wall, "epoch_s": epoch_s, "history": losses,
            "held_out_files": res.held_out_files, "train_files": res.train_files,
            "seconds_of_audio": res.seconds, "result": res}  # fmt: skip


def train_cli(audio: Path, lib: Path, name: str, epochs: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bassd", "vae", "train", "--audio-dir", str(audio),
           "--name", name, "--epochs", str(epochs), "--library", str(lib)]  # fmt: skip
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout is not None
    lines: list[tuple[float, str]] = []
    for line in p.stdout:
        lines.append((time.perf_counter() - t0, line.rstrip()))
    rc = p.wait()
    wall = time.perf_counter() - t0
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {rc}:\n" + "\n".join(s for _, s in lines))
    ep = [ts for ts, s in lines if s.startswith("epoch ")]
    files_line = next((ts for ts, s in lines if " files, " in s), None)
    return {"command": " ".join(cmd[1:]), "wall_s": wall, "epoch_lines_at_s": ep,
            "epoch_s": np.diff(ep).tolist(), "first_epoch_at_s": ep[0] if ep else None,
            "decoded_at_s": files_line, "after_last_epoch_s": wall - ep[-1] if ep else None,
            "output": [s for _, s in lines]}  # fmt: skip


# ---------------------------------------------------------------------- part 2
class _Timed:
    """Wraps a callable (or an object's method) and sums its wall time."""

    def __init__(self, fn: Any) -> None:
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.fn(*a, **k)
        finally:
            self.seconds += time.perf_counter() - t0


class _Proxy:
    def __init__(self, obj: Any, method: str) -> None:
        self._obj = obj
        self.timed = _Timed(getattr(obj, method))
        setattr(self, method, self.timed)


def synth_rtf(folder: Path, seconds: float) -> dict[str, Any]:
    import torch

    import bassd.models.vae_synth as vs

    torch.set_num_threads(1)
    before = os.sched_getaffinity(0)
    pin_to_core(0)
    try:
        voice = vs.load_voice(folder)
        vs.TextureSynth(voice, seed=0).render(SR_OUT)  # warm-up (imports, first chunks)
        synth = vs.TextureSynth(voice, seed=0)
        t0 = time.perf_counter()
        synth.render(round(seconds * SR_OUT))
        plain = time.perf_counter() - t0
        # the same render with every stage wrapped
        dec, m2m = _Timed(vs._decode), _Timed(vs.mel_to_magnitude)
        orig = vs._decode, vs.mel_to_magnitude
        vs._decode, vs.mel_to_magnitude = dec, m2m
        try:
            s2 = vs.TextureSynth(voice, seed=0)
            voc, res, st = (_Proxy(s2._vocoder, "synthesise"),
                            _Proxy(s2._resample, "resample_chunk"),
                            _Proxy(s2._stereo, "process"))  # fmt: skip
            s2._vocoder, s2._resample, s2._stereo = voc, res, st  # type: ignore[assignment]
            t0 = time.perf_counter()
            s2.render(round(seconds * SR_OUT))
            wrapped = time.perf_counter() - t0
        finally:
            vs._decode, vs.mel_to_magnitude = orig
    finally:
        os.sched_setaffinity(0, before)
    stages = {"decode (torch)": dec.seconds, "mel -> magnitude": m2m.seconds,
              "vocoder (ChunkVocoder)": voc.timed.seconds, "resample (soxr)": res.timed.seconds,
              "stereo": st.timed.seconds}  # fmt: skip
    stages["rest"] = wrapped - sum(stages.values())
    return {"seconds": seconds, "wall_s": plain, "rtf": plain / seconds,
            "wrapped_wall_s": wrapped, "stages_s": stages}  # fmt: skip


def offline_rtf(lib: Path, name: str, seconds: float, tmp: Path) -> dict[str, Any]:
    import bassd.app.offline as off
    from bassd.app.config import load_config

    first: list[float] = []
    base = off.WavWriter

    class FirstWrite(base):  # type: ignore[misc, valid-type]
        def write(self, x: Any) -> Any:
            if not first:
                first.append(time.perf_counter())
            return super().write(x)

    out = tmp / "offline"
    cfg = load_config(None, ["renderer.name=vae", f"vae.model={name}",
                             f"vae.library_dir={lib}", f"outputs.dir={out}",
                             f"outputs.metrics_csv={out}/m.csv",
                             f"outputs.sessions_dir={out}/s", "outputs.keep_audio=false"])  # fmt: skip
    off.WavWriter = FirstWrite
    try:
        t0 = time.perf_counter()
        res = off.render_offline(cfg, seconds, tmp / "vae.wav", record_events=False)
        wall = time.perf_counter() - t0
    finally:
        off.WavWriter = base
    start = first[0] - t0
    return {"seconds": res.seconds, "call_wall_s": wall, "loop_wall_s": res.wall_seconds,
            "first_block_s": start, "rtf_call": wall / res.seconds,
            "rtf_after_first_block": (wall - start) / res.seconds,
            "segments": res.segments, "fallbacks": res.fallbacks}  # fmt: skip


# ---------------------------------------------------------------------- part 3
def mono24(path: Path, spec: Any) -> np.ndarray:
    from bassd.app.audio_stream import iter_mono

    return np.concatenate(list(iter_mono(path, spec.sample_rate)))


def vae_logmel(model: Any, logmel: np.ndarray) -> tuple[np.ndarray, int]:
    """The VAE's reconstruction of a log-mel: patches (hop a quarter patch) -> mu ->
    decode, overlap-added with a periodic Hann in the linear mel domain. Returns it and
    the frames it covers (the tail past the last whole patch is not reconstructed)."""
    import torch

    from bassd.models.vae_data import build_patches
    from bassd.models.vae_train import encode_patches

    frames = model.config.frames
    hop = frames // 4
    patches = build_patches([logmel], frames, hop)
    mu = encode_patches(model, patches)
    with torch.no_grad():
        dec = model.denormalise(model.decode(torch.from_numpy(mu))).numpy()[:, 0]  # (N, m, f)
    n = (len(dec) - 1) * hop + frames
    w = 0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(frames) + 0.5) / frames)
    num = np.zeros((logmel.shape[0], n))
    den = np.zeros(n)
    for i, p in enumerate(dec):
        num[:, i * hop : i * hop + frames] += np.exp(p.astype(np.float64)) * w
        den[i * hop : i * hop + frames] += w
    return np.log(np.maximum(num / np.maximum(den, 1e-9), 1e-5)), n


def chunk_vocoded(logmel: np.ndarray, spec: Any) -> np.ndarray:
    """The renderer's vocoder path on a given log-mel: 8-frame chunks, 16 mel->magnitude
    updates, ChunkVocoder (Fast GL, 16 iterations), as TextureSynth."""
    from bassd.dsp.mel import mel_to_magnitude
    from bassd.dsp.phase_recovery import ChunkVocoder

    voc = ChunkVocoder(spec, n_iter=16, seed=0)
    parts = [voc.synthesise(mel_to_magnitude(logmel[:, i : i + 8], spec, iters=16))
             for i in range(0, logmel.shape[1], 8)]  # fmt: skip
    parts.append(voc.flush())
    return np.concatenate(parts)


def quality(folder: Path, audio: Path, files: list[str], spec: Any) -> dict[str, Any]:
    from bassd.dsp.mel import log_mel, mel_to_magnitude, stft
    from bassd.dsp.phase_recovery import griffin_lim
    from bassd.dsp.spectral_distance import mrstft_distance, spectral_convergence
    from bassd.models.vae_train import load_model

    model, _ = load_model(folder)
    rows: dict[str, dict[str, list[float]]] = {}
    per_file: dict[str, dict[str, Any]] = {}
    for name in files:
        x = mono24(audio / name, spec)
        lm = log_mel(x, spec)
        mag = mel_to_magnitude(lm, spec)
        rec, covered = vae_logmel(model, lm)
        jobs: dict[str, tuple[Any, tuple[Any, ...], dict[str, Any]]] = {
            "oracle: true |STFT|, Fast GL 32": (griffin_lim, (np.abs(stft(x, spec)), spec),
                                                {"n_iter": 32, "momentum": 0.99}),
            "(a) true mel, GL 32": (griffin_lim, (mag, spec), {"n_iter": 32, "momentum": 0.0}),
            "(b) true mel, Fast GL 32": (griffin_lim, (mag, spec),
                                         {"n_iter": 32, "momentum": 0.99}),
            "(c) true mel, Fast GL 100": (griffin_lim, (mag, spec),
                                          {"n_iter": 100, "momentum": 0.99}),
            "(d) true mel, renderer's ChunkVocoder (FGL 16/chunk)": (chunk_vocoded, (lm, spec),
                                                                     {}),
            "(e) VAE reconstruction, Fast GL 32": (griffin_lim,
                                                   (mel_to_magnitude(rec, spec), spec),
                                                   {"n_iter": 32, "momentum": 0.99}),
        }  # fmt: skip
        cands: dict[str, tuple[np.ndarray, float]] = {}
        for label, (fn, a, kw) in jobs.items():
            t0 = time.perf_counter()
            y = fn(*a, **kw)
            cands[label] = (y, time.perf_counter() - t0)
        per_file[name] = {}
        for label, (y, secs) in cands.items():
            ref = x[: (covered - 1) * spec.hop] if label.startswith("(e)") else x
            sc = spectral_convergence(ref, y, spec)
            mr = mrstft_distance(ref, y, spec.sample_rate)
            r = rows.setdefault(label, {"sc": [], "mrstft": [], "seconds": []})
            r["sc"].append(sc)
            r["mrstft"].append(mr)
            r["seconds"].append(secs / (len(x) / spec.sample_rate))
            per_file[name][label] = {"sc": sc, "mrstft": mr}
    mean = {k: {m: float(np.mean(v)) for m, v in r.items()} for k, r in rows.items()}
    return {"files": files, "mean": mean, "per_file": per_file}


# ---------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--quality-epochs", type=int, default=None)
    args = ap.parse_args()
    count, secs = (6, 5.0) if args.quick else (12, 10.0)
    epochs = 2 if args.quick else 3
    render_s = 5.0 if args.quick else 20.0
    q_epochs = args.quality_epochs or (8 if args.quick else 30)
    cores = len(os.sched_getaffinity(0))
    t_start = time.perf_counter()

    from bassd.app.vae_data_io import load_audio_dir
    from bassd.dsp.mel import MelSpec

    payload: dict[str, Any] = {"quick": args.quick, "files": count, "file_seconds": secs}
    with tempfile.TemporaryDirectory(prefix="bench_vae_") as tmp_s:
        tmp = Path(tmp_s)
        audio, lib = tmp / "audio", tmp / "lib"
        write_folder(audio, secs, count)
        spec = MelSpec()
        t0 = time.perf_counter()
        logmels, names, _, seconds = load_audio_dir(audio, spec)
        decode_s = time.perf_counter() - t0
        minutes = seconds / 60
        print(f"{len(names)} files, {seconds:.0f} s of audio ({minutes:.2f} min); "
              f"load_audio_dir {decode_s:.2f} s")  # fmt: skip

        # 1. training
        runs = [train_inproc(logmels, names, tmp / f"t{n}", spec, epochs, n)
                for n in sorted({1, cores})]  # fmt: skip
        cli = train_cli(audio, lib, "bench", epochs)
        rows = []
        for r in runs:
            ep = r["epoch_s"]
            rows.append([f"in-process train_vae, torch {r['threads']} thread(s)",
                         float(np.mean(ep)), float(np.mean(ep)) / minutes, float(min(ep)),
                         r["wall_s"]])  # fmt: skip
        cep = cli["epoch_s"]
        rows.append(["CLI `bassd vae train` (default threading)",
                     float(np.mean(cep)) if cep else None,
                     float(np.mean(cep)) / minutes if cep else None,
                     float(min(cep)) if cep else None, cli["wall_s"]])  # fmt: skip
        print("\n1. training, default VaeConfig, batch 32,", epochs, "epochs")
        print(table(["run", "s/epoch", "s/epoch per min audio", "best epoch s", "total s"], rows))
        print(f"CLI: first epoch line at {cli['first_epoch_at_s']:.2f} s (decode printed at "
              f"{cli['decoded_at_s']:.2f} s); after the last epoch (sliders, register) "
              f"{cli['after_last_epoch_s']:.2f} s")  # fmt: skip
        hist = runs[-1]["history"]
        print(table(["epoch", "loss", "recon", "kl", "held-out"],
                    [[h["epoch"], h["loss"], h["recon"], h["kl"], h["held_out"]]
                     for h in hist]))  # fmt: skip
        for r in runs:
            r.pop("result")
        payload["training"] = {"seconds_of_audio": seconds, "load_audio_dir_s": decode_s,
                               "epochs": epochs, "in_process": runs, "cli": cli}  # fmt: skip

        # 2. render cost
        folder = lib / "bench"
        syn = synth_rtf(folder, render_s)
        offl = offline_rtf(lib, "bench", render_s, tmp)
        print(f"\n2. render, {render_s:g} s at 48 kHz")
        print(table(["path", "wall s", "RTF", "x real time"], [
            ["TextureSynth.render, 1 core, torch 1 thread", syn["wall_s"], syn["rtf"],
             1 / syn["rtf"]],
            ["render_offline renderer=vae, whole call", offl["call_wall_s"], offl["rtf_call"],
             1 / offl["rtf_call"]],
            ["  of which to the first block (start-up)", offl["first_block_s"], None, None],
            ["  after the first block", offl["call_wall_s"] - offl["first_block_s"],
             offl["rtf_after_first_block"], 1 / offl["rtf_after_first_block"]],
        ]))  # fmt: skip
        tot = syn["wrapped_wall_s"]
        print(
            table(
                ["TextureSynth stage", "s", "share", "RTF"],
                [[k, v, v / tot, v / render_s] for k, v in syn["stages_s"].items()],
            )
        )
        payload["render"] = {"texture_synth": syn, "render_offline": offl}

        # 3. quality
        fast = min(runs, key=lambda r: float(np.mean(r["epoch_s"])))["threads"]
        q = train_inproc(logmels, names, tmp / "quality", spec, q_epochs, fast)
        q.pop("result")
        held = q["held_out_files"]
        print(
            f"\n3. reconstruction of the held-out files {held} (model: {q_epochs} epochs on "
            f"{fast} thread(s), "
            f"held-out loss {q['history'][-1]['held_out']:.4f}, {q['wall_s']:.0f} s)"
        )
        qual = quality(tmp / "quality", audio, held, spec)
        print(
            table(
                [
                    "candidate vs the original at 24 kHz",
                    "spectral conv.",
                    "MR-STFT",
                    "s per s audio",
                ],
                [[k, v["sc"], v["mrstft"], v["seconds"]] for k, v in qual["mean"].items()],
            )
        )
        payload["quality"] = {"epochs": q_epochs, "threads": fast, "training": q, **qual}
    total = time.perf_counter() - t_start
    payload["total_seconds"] = total
    path = write_results("bench_vae", payload)
    print(f"\n{total:.0f} s in all; wrote {path}")


if __name__ == "__main__":
    main()
