"""``bassd generate`` (one clip, to audition prompts and blends) and ``bassd models``.

``generate`` renders a clip as the daemon would play it: MusicGen (with the
adapter blend asked for), resampled to the engine's rate with soxr, a mono
model spread by the width stage, one loudness-normalising gain and the
master post-FX of the config, written as a 24-bit WAV.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def add_commands(sub: Any, add_config_args: Any) -> None:
    g = sub.add_parser(
        "generate", help="generate one MusicGen clip through the engine's post-FX (needs [neural])"
    )
    add_config_args(g)
    g.add_argument("--model", help="folder or hub id in the local cache (default: musicgen.model)")
    g.add_argument("--prompt", required=True, help="text prompt")
    g.add_argument("--seconds", type=float, default=10.0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--greedy", action="store_true", help="argmax decoding (with CFG)")
    g.add_argument("--guidance", type=float, help="classifier-free guidance (default 1.6)")
    g.add_argument("--temperature", type=float)
    g.add_argument("--top-k", type=int)
    g.add_argument("--top-p", type=float)
    g.add_argument("--adapter", action="append", default=[], metavar="NAME_OR_DIR=WEIGHT",
                   help="blend a LoRA adapter (repeatable; weight 0 or < 0 allowed)")  # fmt: skip
    g.add_argument("--adapters-dir", type=Path, help="folder of adapters (default: config's)")
    g.add_argument("--device", help="auto, cpu, cuda, mps (default: musicgen.device)")
    g.add_argument("--dtype", help="float32, bfloat16, float16 (default: musicgen.dtype)")
    g.add_argument("--no-fx", action="store_true", help="the model's audio, without post-FX")
    g.add_argument("--out", type=Path, required=True, help="output WAV (24-bit)")
    g.add_argument("--codes-out", type=Path, help="also save the EnCodec codes (.npy)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    m = sub.add_parser("models", help="MusicGen checkpoints: download, list")
    msub = m.add_subparsers(dest="models_command", required=True)
    d = msub.add_parser("download", help="fetch a checkpoint into the Hugging Face cache")
    d.add_argument("model", nargs="?", default="facebook/musicgen-small")
    msub.add_parser("list", help="MusicGen checkpoints in the local Hugging Face cache")


def _config(args: argparse.Namespace) -> Any:
    from bassd.app.config import load_config

    return load_config(args.config, args.overrides)


def cmd_generate(args: argparse.Namespace) -> int:
    from bassd.app.config import ConfigError

    try:
        cfg = _config(args)
    except ConfigError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    try:
        return _generate(args, cfg)
    except ImportError as exc:
        print(f"bassd: generate needs the neural extra (pip install 'bassd[neural]'): {exc}",
              file=sys.stderr)  # fmt: skip
        return 2


def _generate(args: argparse.Namespace, cfg: Any) -> int:
    import numpy as np

    from bassd.adapters.lora_files import AdapterError, parse_blend
    from bassd.models.musicgen import MissingWeights, MusicGen

    mc = cfg.musicgen
    try:
        blend = parse_blend(args.adapter)
    except AdapterError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    dirs = [p for p in (args.adapters_dir or mc.adapters_dir,) if p is not None]
    try:
        mg = MusicGen.load(args.model or mc.model, args.device or mc.device,
                           dtype=args.dtype or mc.dtype, threads=os.cpu_count(),
                           adapter_dirs=dirs)  # fmt: skip
    except MissingWeights as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    bar: Any = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=1, unit="step", desc="generating", file=sys.stderr)

    def on_step(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    asked = {"guidance": args.guidance, "temperature": args.temperature,
             "top_k": args.top_k, "top_p": args.top_p}  # fmt: skip
    pick = {k: v for k, v in asked.items() if v is not None}
    sampling = {"temperature": mc.temperature, "top_k": mc.top_k, "top_p": mc.top_p,
                "guidance": mc.guidance, **pick}  # fmt: skip
    try:
        res = mg.generate(args.prompt, args.seconds, seed=args.seed, greedy=args.greedy,
                          adapters=blend, on_step=on_step, **sampling)  # fmt: skip
    except (ValueError, AdapterError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
    audio = engine_audio(res.audio, mg.sample_rate, cfg, fx=not args.no_fx)
    from bassd.engine.wavfile import write_wav

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_wav(args.out, audio, cfg.audio.sample_rate)
    if args.codes_out is not None:
        np.save(args.codes_out, res.codes)
    print(f"wrote {args.out} ({len(audio) / cfg.audio.sample_rate:.2f} s, "
          f"{res.seconds:.1f} s to generate, RTF {res.rtf:.2f})")  # fmt: skip
    return 0


def engine_audio(audio: Any, model_rate: int, cfg: Any, *, fx: bool = True) -> Any:
    """A clip as the engine plays it: resampled (soxr VHQ), a mono clip spread by the width
    stage, one normalising gain for its category-less target, the master post-FX."""
    import numpy as np
    import soxr

    from bassd.dsp.loudness import MasterChain
    from bassd.dsp.postfx import PostFX
    from bassd.dsp.widen import MonoWidener
    from bassd.engine.renderer import Normaliser, RenderRequest

    sr = cfg.audio.sample_rate
    x = soxr.resample(np.ascontiguousarray(audio, dtype=np.float32), model_rate, sr, quality="VHQ")
    if x.ndim == 1 or x.shape[1] == 1:
        x = MonoWidener(cfg.renderer.params.width, sr).process(x)
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not fx:
        return x
    f = cfg.fx
    chain = MasterChain(sr, f.hpf_hz, f.lpf_hz, f.drive, f.peak, gain_db=0.0)
    norm = Normaliser(f.loudness_target_lufs, f.loudness_offsets_lu.model_dump(), lambda: chain)
    gain = 10 ** (norm.gain_db_audio(x, RenderRequest(0, 0, len(x), sr)) / 20)
    post = PostFX(sr, 2, hpf_hz=f.hpf_hz, lpf_hz=f.lpf_hz, drive=f.drive, peak=f.peak,
                  gain_db=f.gain_db)  # fmt: skip
    return post.process((x * gain).astype(np.float32))


def cmd_models(args: argparse.Namespace) -> int:
    if args.models_command == "download":
        try:
            from huggingface_hub import snapshot_download
        except ImportError:
            print("bassd: models download needs the neural extra (pip install 'bassd[neural]')",
                  file=sys.stderr)  # fmt: skip
            return 2
        try:
            path = snapshot_download(args.model)
        except Exception as exc:  # network, auth, unknown id: one line, not a traceback
            print(f"bassd: could not download {args.model}: {type(exc).__name__}: {exc}",
                  file=sys.stderr)  # fmt: skip
            return 1
        print(path)
        return 0
    try:
        from huggingface_hub import scan_cache_dir
    except ImportError:
        print("bassd: models list needs the neural extra", file=sys.stderr)
        return 2
    try:
        repos = [r for r in scan_cache_dir().repos if "musicgen" in r.repo_id.lower()]
    except Exception:  # no cache folder yet
        repos = []
    for r in sorted(repos, key=lambda r: r.repo_id):
        print(f"{r.repo_id}\t{r.size_on_disk_str}\t{r.repo_path}")
    if not repos:
        print("no MusicGen checkpoints in the local cache (bassd models download ID)")
    return 0
