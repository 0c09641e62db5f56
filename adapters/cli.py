"""``bassd adapters merge | train | list``: the adapter commands of the command line.

:func:`add_commands` registers them on the main parser's subparsers; the main
``cli.py`` dispatches ``args.command == "adapters"`` to :func:`cmd_adapters`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bassd.adapters.lora_files import AdapterError, available_adapters, parse_blend

DEFAULT_OUT = Path("adapters_out")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``adapters`` (with ``merge``, ``train`` and ``list``) on ``sub``."""
    p = sub.add_parser("adapters", help="LoRA adapters of the neural renderer: train, merge, list")
    p.set_defaults(handler=cmd_adapters)
    asub = p.add_subparsers(dest="adapters_command", required=True)

    merge = asub.add_parser("merge", help="bake a blend of adapters into a standalone checkpoint")
    merge.add_argument("--model", required=True, help="MusicGen checkpoint folder or cached id")
    merge.add_argument(
        "--adapter",
        dest="adapters",
        action="append",
        required=True,
        metavar="NAME_OR_DIR=W",
        help="an adapter and its blend weight, e.g. calm=0.012 (repeatable)",
    )
    merge.add_argument("--out", type=Path, required=True, help="folder of the merged checkpoint")
    _add_dirs(merge)

    train = asub.add_parser("train", help="fine-tune a LoRA adapter on a folder of audio")
    train.add_argument("--model", required=True, help="MusicGen checkpoint folder or cached id")
    train.add_argument("--audio-dir", type=Path, required=True, help="WAV/FLAC/OGG/MP3 files")
    train.add_argument("--name", required=True, help="adapter name (its output folder)")
    train.add_argument("--captions", type=Path, help="CSV with header file,text")
    train.add_argument("--text", help="caption of files the CSV does not list (default: music)")
    train.add_argument("--steps", type=int, default=200)
    train.add_argument("--rank", type=int, default=16)
    train.add_argument("--alpha", type=float, default=16.0)
    train.add_argument("--lr", type=float, default=1e-4)
    train.add_argument("--clip-seconds", type=float, default=10.0)
    train.add_argument("--batch-size", type=int, default=1)
    train.add_argument("--checkpoint-every", type=int, default=50)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output root (default {DEFAULT_OUT})"
    )

    lst = asub.add_parser("list", help="list the adapters found")
    _add_dirs(lst)


def _add_dirs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--adapters-dir",
        dest="adapters_dirs",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of adapter folders searched before the shipped ones (repeatable)",
    )


def _merge(args: argparse.Namespace) -> int:
    from bassd.adapters.merge import merge_checkpoint

    blend = parse_blend(args.adapters)
    out = merge_checkpoint(args.model, blend, args.out, args.adapters_dirs)
    print(f"merged {', '.join(f'{n}={w:g}' for n, w in blend)} into {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    import os

    import torch

    from bassd.adapters.train import DEFAULT_TEXT, train_adapter

    # the command line keeps BLAS to one thread for the engine; training wants every core
    torch.set_num_threads(os.cpu_count() or 1)

    result = train_adapter(
        args.model,
        args.audio_dir,
        args.name,
        out_dir=args.out,
        captions=args.captions,
        default_text=args.text or DEFAULT_TEXT,
        steps=args.steps,
        rank=args.rank,
        alpha=args.alpha,
        lr=args.lr,
        clip_seconds=args.clip_seconds,
        batch_size=args.batch_size,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        progress=not args.no_progress,
    )
    for path, why in result.skipped:
        print(f"skipped {path}: {why}", file=sys.stderr)
    last = f", last loss {result.losses[-1]:.4f}" if result.losses else ""
    print(f"adapter {args.name}: {result.steps_done} steps{last}; saved in {result.path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    names = available_adapters(args.adapters_dirs)
    if not names:
        print("no adapters found (none are shipped; train one with `bassd adapters train`)")
    for n in names:
        print(n)
    return 0


def cmd_adapters(args: argparse.Namespace) -> int:
    """Run ``bassd adapters <command>``; errors print one line and return exit code 2."""
    handlers = {"merge": _merge, "train": _train, "list": _list}
    try:
        return handlers[args.adapters_command](args)
    except AdapterError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
