"""``bassd vae ...``: train a mel VAE on your own audio, look at its sliders, keep a library
of models and presets, and render with one.

- ``train --audio-dir DIR --name NAME``: decode the folder (unreadable files are named and
  skipped), train into ``<library>/<NAME>/`` (``--resume`` continues its checkpoint), fit
  the sliders, register the model, print a summary and the slider table;
- ``sliders NAME [--fit]``: the slider table; ``--fit`` refits them on the training audio
  (the folder recorded at train time as ``audio_dir``);
- ``list``, ``search TEXT``, ``rename OLD NEW``, ``delete NAME --yes``, ``export NAME FILE``,
  ``import FILE [--name NEW]``: the library (:class:`~bassd.models.vae_library.VaeLibrary`);
- ``preset save|list|show|delete``: named slider settings of a model;
- ``render --model NAME --seconds S --out F``: the engine's offline path with
  ``renderer.name=vae`` (post-FX included) to a 48 kHz / 24-bit WAV, converted to FLAC,
  Ogg Vorbis or MP3 by the suffix, with title / comment / software tags.

Every command takes ``--library DIR`` (default ``$XDG_DATA_HOME/bassd/vae``). An error is
one line ``bassd vae: <message>`` on stderr and exit status 2. torch is imported only by the
commands that need it (train, sliders --fit, render).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "cmd_vae", "format_slider_table"]

PROG = "bassd vae"
OUT_FORMATS = {  # suffix -> (soundfile format, subtype)
    ".wav": ("WAV", "PCM_24"),
    ".flac": ("FLAC", "PCM_24"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
DESCRIPTOR_ABBREV = {
    "brightness": "bright",
    "warmth": "warm",
    "roughness": "rough",
    "loudness": "loud",
    "density": "dense",
    "pitch_height": "pitch",
}


class CliError(Exception):
    """A user-facing error: printed as ``bassd vae: <message>``, exit 2."""


# -- the parser ------------------------------------------------------------------------


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``vae`` and its subcommands on the top-level parser's subparsers."""
    lib = argparse.ArgumentParser(add_help=False)
    lib.add_argument(
        "--library",
        type=Path,
        default=None,
        metavar="DIR",
        help="the model library (default $XDG_DATA_HOME/bassd/vae)",
    )
    p = sub.add_parser("vae", help="train, manage and render mel-VAE models of your own audio")
    p.set_defaults(func=cmd_vae)
    vs = p.add_subparsers(dest="vae_command", required=True, metavar="COMMAND")

    t = vs.add_parser("train", parents=[lib], help="train a model on a folder of audio files")
    t.add_argument("--audio-dir", type=Path, required=True, metavar="DIR")
    t.add_argument("--name", required=True, help="the model's name in the library")
    t.add_argument("--epochs", type=int, default=200, metavar="N", help="at most N (200)")
    t.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    t.add_argument("--resume", action="store_true", help="continue the model's checkpoint")
    t.add_argument("--seed", type=int, default=None, metavar="N", help="(0)")
    t.add_argument("--latent", type=int, default=None, metavar="N", help="latent size (16)")
    t.add_argument("--patience", type=int, default=20, metavar="N", help="early stop (20)")
    t.add_argument("--batch", type=int, default=None, metavar="N", help="batch size (32)")
    t.set_defaults(vae_func=cmd_train)

    s = vs.add_parser("sliders", parents=[lib], help="a model's sliders and what they follow")
    s.add_argument("name")
    s.add_argument("--fit", action="store_true", help="refit them on the training audio")
    s.set_defaults(vae_func=cmd_sliders)

    ls = vs.add_parser("list", parents=[lib], help="the models in the library")
    ls.set_defaults(vae_func=cmd_list)
    se = vs.add_parser("search", parents=[lib], help="models whose name/description match")
    se.add_argument("text")
    se.set_defaults(vae_func=cmd_search)
    rn = vs.add_parser("rename", parents=[lib], help="rename a model")
    rn.add_argument("old")
    rn.add_argument("new")
    rn.set_defaults(vae_func=cmd_rename)
    de = vs.add_parser("delete", parents=[lib], help="delete a model and its presets")
    de.add_argument("name")
    de.add_argument("--yes", action="store_true", help="really delete it")
    de.set_defaults(vae_func=cmd_delete)
    ex = vs.add_parser("export", parents=[lib], help="write a model as one .bassdvae file")
    ex.add_argument("name")
    ex.add_argument("file", type=Path)
    ex.set_defaults(vae_func=cmd_export)
    im = vs.add_parser("import", parents=[lib], help="add a model from a .bassdvae file")
    im.add_argument("file", type=Path)
    im.add_argument("--name", default=None, help="a new name for it")
    im.set_defaults(vae_func=cmd_import)

    pr = vs.add_parser("preset", help="named slider settings of a model")
    ps = pr.add_subparsers(dest="preset_command", required=True, metavar="ACTION")
    pv = ps.add_parser("save", parents=[lib], help="save slider values as a preset")
    pv.add_argument("model")
    pv.add_argument("preset")
    _slider_arg(pv)
    pv.set_defaults(vae_func=cmd_preset_save)
    pl = ps.add_parser("list", parents=[lib], help="a model's presets")
    pl.add_argument("model")
    pl.set_defaults(vae_func=cmd_preset_list)
    pw = ps.add_parser("show", parents=[lib], help="a preset's slider values")
    pw.add_argument("model")
    pw.add_argument("preset")
    pw.set_defaults(vae_func=cmd_preset_show)
    pd = ps.add_parser("delete", parents=[lib], help="delete a preset")
    pd.add_argument("model")
    pd.add_argument("preset")
    pd.set_defaults(vae_func=cmd_preset_delete)

    r = vs.add_parser("render", parents=[lib], help="render a model through the engine")
    r.add_argument("--model", required=True, metavar="NAME")
    _slider_arg(r)
    r.add_argument("--preset", default=None, metavar="P", help="start from this preset")
    r.add_argument("--seconds", type=float, required=True, metavar="S")
    r.add_argument("--out", type=Path, required=True, metavar="F.wav|.flac|.ogg|.mp3")
    r.add_argument("--seed", type=int, default=None, metavar="N", help="timeline.seed")
    config_args(r)
    r.set_defaults(vae_func=cmd_render)


def _slider_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--slider",
        dest="sliders",
        action="append",
        default=[],
        metavar="NAME_OR_INDEX=V",
        help="a slider's value, 0..1 (repeatable; by name or 1-based number)",
    )


def cmd_vae(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; a user error is one line on stderr and exit 2."""
    from bassd.models.vae_library import LibraryError

    try:
        return int(args.vae_func(args))
    except (CliError, LibraryError, ValueError, OSError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2


# -- helpers ---------------------------------------------------------------------------


def _library(args: argparse.Namespace) -> Any:
    from bassd.models.vae_library import VaeLibrary

    return VaeLibrary(args.library)


def _parse_sliders(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"--slider {item!r}: expected NAME_OR_INDEX=VALUE")
        try:
            value = float(raw)
        except ValueError:
            raise CliError(f"--slider {item!r}: {raw.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise CliError(f"--slider {item!r}: the value must be finite")
        out[key] = value
    return out


def _slider_index(sliders: Any, key: str) -> int:
    """The 1-based index of slider ``key`` (a name or a number), already validated."""
    if key.isdigit():
        return int(key)
    return int(sliders.by_name(key).index)


def _fmt_corr(correlations: dict[str, float], skip: str) -> str:
    parts = [
        f"{DESCRIPTOR_ABBREV.get(d, d)} {r:+.2f}"
        for d, r in correlations.items()
        if d != skip and r is not None and math.isfinite(r)
    ]
    return ", ".join(parts) or "-"


def format_slider_table(rows: list[dict[str, Any]]) -> list[str]:
    """Lines of the slider table: number, name, descriptor, Spearman rho, explained
    variance and the other descriptors' correlations."""
    head = ("#", "name", "descriptor", "rho", "var%", "other correlations")
    body = []
    for r in rows:
        rho = r["rho"]
        has = r["descriptor"] not in ("", "-") and rho is not None and math.isfinite(rho)
        rho_s = f"{rho:+.2f}" if has else "-"
        body.append(
            (
                str(r["slider"]),
                str(r["name"]),
                str(r["descriptor"]),
                rho_s,
                f"{100.0 * float(r['explained']):.1f}",
                _fmt_corr(dict(r["correlations"]), str(r["descriptor"])),
            )
        )
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head) - 1)]
    lines = []
    for row in [head, *body]:
        cells = [
            row[i].rjust(widths[i]) if i in (0, 3, 4) else row[i].ljust(widths[i])
            for i in range(len(widths))
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def _print_sliders(folder: Path) -> None:
    from bassd.models.vae_pipeline import describe_sliders, read_sliders

    rows = describe_sliders(read_sliders(folder))
    print(f"sliders ({len(rows)}):")
    for line in format_slider_table(rows):
        print(f"  {line}")


def _read_summary(folder: Path) -> dict[str, Any]:
    """The trainer's config.json of a model folder ({} when absent or unreadable)."""
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_device(device: str) -> None:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise CliError("--device cuda: CUDA is not available here (use --device auto or cpu)")
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise CliError("--device mps: MPS is not available here (use --device auto or cpu)")


# -- train and sliders -----------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from bassd.app.vae_data_io import load_audio_dir
    from bassd.dsp.mel import MelSpec
    from bassd.models.vae_library import check_name

    lib = _library(args)
    name = check_name(args.name)
    known = lib.names()
    folder = lib.root / name
    if not args.resume and (name in known or folder.exists()):
        raise CliError(
            f"a model called {name!r} already exists in {lib.root}; pass --resume to "
            "continue its training, or choose another --name"
        )
    if not args.resume:
        clash = [m for m in known if m.lower() == name.lower()]
        if clash:
            raise CliError(f"model name {name!r} differs from {clash[0]!r} only by case")
    audio_dir = Path(args.audio_dir)
    if not audio_dir.is_dir():
        raise CliError(f"--audio-dir {audio_dir}: not a folder")
    _check_device(args.device)

    # on --resume, the run's own settings unless given again (resume refuses others)
    previous = _read_summary(folder) if args.resume else {}
    got = previous.get("config")
    prev_cfg: dict[str, Any] = got if isinstance(got, dict) else {}
    spec = MelSpec.from_dict(previous["spec"]) if "spec" in previous else MelSpec()
    latent = args.latent if args.latent is not None else int(prev_cfg.get("latent", 16))
    seed = args.seed if args.seed is not None else int(previous.get("seed", 0))
    batch = args.batch if args.batch is not None else int(previous.get("batch", 32))

    logmels, names, skipped, seconds = load_audio_dir(audio_dir, spec)
    for path, reason in skipped:
        print(f"skipped {path.name}: {reason}")
    print(f"{len(names)} files, {seconds:.1f} s of audio from {audio_dir}")

    import torch

    from bassd.models.vae import VaeConfig
    from bassd.models.vae_pipeline import compute_sliders
    from bassd.models.vae_train import EpochStats, train_vae

    if prev_cfg:
        fields = ("n_mels", "frames", "channels", "beta", "kl_warmup_epochs")
        kept = {k: prev_cfg[k] for k in fields if k in prev_cfg}
        config = VaeConfig(**{**kept, "latent": latent})
    else:
        config = VaeConfig(n_mels=spec.n_mels, latent=latent)

    def progress(es: EpochStats) -> None:
        print(
            f"epoch {es.epoch}/{es.epochs}: loss {es.loss:.4f}, held-out {es.held_out:.4f} "
            f"(best {es.best_held_out:.4f} at {es.best_epoch})",
            flush=True,
        )

    if args.resume:
        print(f"resuming {name} in {folder}" if folder.exists() else f"training {name} afresh")
    torch.manual_seed(seed)
    result = train_vae(
        logmels,
        names,
        folder,
        spec_dict=spec.to_dict(),
        config=config,
        epochs=args.epochs,
        batch=batch,
        device=args.device,
        seed=seed,
        resume=args.resume,
        patience=args.patience,
        progress=None if sys.stderr.isatty() else progress,
    )
    compute_sliders(folder, logmels, seed=seed)
    metadata = {
        "seconds_of_audio": round(float(seconds), 3),
        "n_files": len(names),
        "description": f"trained on {len(names)} files from {audio_dir}",
        "audio_dir": str(audio_dir.resolve()),
    }
    lib.register(name, metadata, replace=name in lib.names())
    stop = "early stop" if result.stop_reason == "early_stop" else "epoch limit"
    best = result.best_held_out
    print(f"model {name}: {folder}")
    print(f"  files: {len(names)} ({len(result.train_files)} train, "
          f"{len(result.held_out_files)} held out), {seconds:.1f} s of audio")  # fmt: skip
    print(f"  epochs: {result.epochs_run} of {args.epochs} ({stop}) on {result.device}")
    print(f"  best held-out loss: {best:.4f} at epoch {result.best_epoch}")
    _print_sliders(folder)
    return 0


def cmd_sliders(args: argparse.Namespace) -> int:
    lib = _library(args)
    folder = lib.path(args.name)
    if args.fit:
        from bassd.app.vae_data_io import load_audio_dir
        from bassd.dsp.mel import MelSpec

        info = lib.info(args.name)
        audio_dir = info.get("audio_dir")
        if not audio_dir:
            raise CliError(
                f"model {args.name!r} records no training audio folder (audio_dir); "
                "cannot refit its sliders"
            )
        if not Path(audio_dir).is_dir():
            raise CliError(
                f"model {args.name!r} was trained on {audio_dir}, which is gone; "
                "cannot refit its sliders without the training audio"
            )
        summary = _read_summary(folder)
        spec = MelSpec.from_dict(summary["spec"]) if "spec" in summary else MelSpec()
        logmels, names, skipped, _ = load_audio_dir(audio_dir, spec)
        for path, reason in skipped:
            print(f"skipped {path.name}: {reason}")
        trained_on = summary.get("files")
        if isinstance(trained_on, list):
            keep = [i for i, n in enumerate(names) if n in set(trained_on)]
            logmels, names = [logmels[i] for i in keep], [names[i] for i in keep]
        if not logmels:
            raise CliError(f"{audio_dir}: none of the model's training files are left")
        from bassd.models.vae_pipeline import compute_sliders

        compute_sliders(folder, logmels, seed=int(summary.get("seed", 0)))
        print(f"refitted the sliders of {args.name} on {len(names)} files from {audio_dir}")
    _print_sliders(folder)
    return 0


# -- the library -----------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    lib = _library(args)
    names = lib.names()
    if lib.recovered:
        print(f"(index recovered from its backup in {lib.root})", file=sys.stderr)
    if not names:
        print(f"no models in {lib.root}")
        return 0
    width = max(len(n) for n in names)
    for n in names:
        e = lib.info(n)
        files, secs = e.get("n_files", 0), float(e.get("seconds_of_audio", 0.0))
        print(f"{n.ljust(width)}  {files:3d} files  {secs:7.1f} s  {e.get('description', '')}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    lib = _library(args)
    hits = lib.search(args.text)
    if not hits:
        print(f"no model matches {args.text!r}")
        return 1
    for n in hits:
        print(f"{n}  {lib.info(n).get('description', '')}")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    _library(args).rename(args.old, args.new)
    print(f"renamed {args.old} to {args.new}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    lib = _library(args)
    lib.info(args.name)  # unknown -> the error naming the known ones
    if not args.yes:
        raise CliError(
            f"not deleting {args.name!r} (its folder and presets go too): pass --yes to confirm"
        )
    lib.delete(args.name)
    print(f"deleted {args.name}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    path = _library(args).export(args.name, args.file)
    print(f"exported {args.name} to {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    name = _library(args).import_(args.file, args.name)
    print(f"imported {args.file} as {name}")
    return 0


# -- presets ---------------------------------------------------------------------------


def cmd_preset_save(args: argparse.Namespace) -> int:
    from bassd.models.vae_pipeline import read_sliders, slider_values

    lib = _library(args)
    sliders = read_sliders(lib.path(args.model))
    settings = _parse_sliders(args.sliders)
    if not settings:
        raise CliError("give at least one --slider NAME_OR_INDEX=V")
    values = slider_values(sliders, settings)  # ValueError naming a bad slider or value
    lib.save_preset(args.model, args.preset, values)
    shown = ", ".join(f"{s.name}={v:g}" for s, v in zip(sliders.sliders, values, strict=True))
    print(f"saved preset {args.preset} of {args.model}: {shown}")
    return 0


def cmd_preset_list(args: argparse.Namespace) -> int:
    lib = _library(args)
    names = lib.presets(args.model)
    if not names:
        print(f"model {args.model} has no presets")
    for n in names:
        print(n)
    return 0


def cmd_preset_show(args: argparse.Namespace) -> int:
    from bassd.models.vae_pipeline import read_sliders

    lib = _library(args)
    p = lib.preset(args.model, args.preset)
    values = p["values"]
    try:
        sliders = list(read_sliders(lib.path(args.model)).sliders)
    except ValueError:
        sliders = []
    print(f"preset {args.preset} of {args.model} (saved {p.get('saved', '?')}):")
    if isinstance(values, list):
        for i, v in enumerate(values):
            label = sliders[i].name if i < len(sliders) else "?"
            print(f"  {i + 1}  {label}  {v:g}")
    else:
        for k, v in values.items():
            print(f"  {k}  {v:g}")
    return 0


def cmd_preset_delete(args: argparse.Namespace) -> int:
    _library(args).delete_preset(args.model, args.preset)
    print(f"deleted preset {args.preset} of {args.model}")
    return 0


# -- render ----------------------------------------------------------------------------


def _transcode(src: Path, dst: Path, fmt: str, subtype: str, tags: dict[str, str]) -> None:
    """Copy WAV ``src`` to ``dst`` as ``fmt``/``subtype`` with ``tags`` (block by block;
    written to a temporary file beside ``dst`` and moved into place)."""
    import soundfile as sf

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=dst.suffix, dir=dst.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with (
            sf.SoundFile(src) as fin,
            sf.SoundFile(
                tmp, "w", fin.samplerate, fin.channels, subtype=subtype, format=fmt
            ) as fout,
        ):
            for key, value in tags.items():
                with contextlib.suppress(RuntimeError, sf.LibsndfileError):
                    setattr(fout, key, value)  # a format that keeps no such tag: none
            for block in fin.blocks(blocksize=65536, dtype="float32", always_2d=True):
                fout.write(block)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def cmd_render(args: argparse.Namespace) -> int:
    from bassd.models.vae_pipeline import read_sliders, slider_values
    from bassd.models.vae_resolve import model_folder

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise CliError(f"--out {out}: the suffix must be one of {', '.join(OUT_FORMATS)}")
    if not args.seconds > 0 or not math.isfinite(args.seconds):
        raise CliError(f"--seconds must be a positive number, got {args.seconds:g}")
    lib = _library(args)
    folder = model_folder(lib, args.model)
    sliders = read_sliders(folder)
    settings = _parse_sliders(args.sliders)
    slider_values(sliders, settings)  # ValueError naming a bad slider or value
    merged: dict[str, float] = {}
    if args.preset is not None:
        stored = lib.preset(args.model, args.preset)["values"]  # unknown: names the known
        if isinstance(stored, list):
            merged.update({str(i + 1): float(v) for i, v in enumerate(stored)})
        else:
            merged.update({str(k): float(v) for k, v in stored.items()})
    merged.update(settings)
    values = slider_values(sliders, merged)  # what the renderer starts from

    from bassd.app.config import load_config
    from bassd.app.offline import render_offline

    overrides = list(getattr(args, "overrides", []) or [])
    overrides += ["renderer.name=vae", f"vae.model={args.model}", f"vae.library_dir={lib.root}"]
    if args.preset is not None:
        overrides.append(f"vae.preset={args.preset}")
    for key, v in settings.items():
        overrides.append(f"vae.sliders.{_slider_index(sliders, key)}={v!r}")
    if args.seed is not None:
        overrides.append(f"timeline.seed={args.seed}")
    cfg = load_config(args.config, overrides)

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, wav_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".wav", dir=out.parent)
    os.close(fd)
    wav = Path(wav_name)
    try:
        result = render_offline(cfg, args.seconds, wav, record_events=False)
        shown = [f"{s.name}={v:g}" for s, v in zip(sliders.sliders, values, strict=True)]
        comment = f"bassd vae: model {args.model}"
        if args.preset is not None:
            comment += f", preset {args.preset}"
        comment += ", sliders " + " ".join(shown)
        tags = {"title": args.model, "comment": comment, "software": "bassd"}
        fmt, subtype = OUT_FORMATS[suffix]
        _transcode(wav, out, fmt, subtype, tags)
    finally:
        wav.unlink(missing_ok=True)
    print(f"wrote {out}: {result.seconds:.2f} s at {cfg.audio.sample_rate} Hz, "
          f"{result.speed:.1f}x real time ({result.wall_seconds:.1f} s)")  # fmt: skip
    return 0
