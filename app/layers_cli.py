"""``bassd layers``: soundscape layers from the sound library, offline.

``bassd layers render --vibe zen --seconds 120 --out F.wav`` renders the session with the
layers (alone, ``renderer.name: layers``; with ``--bed`` under the segment bed) through
:func:`bassd.app.offline.render_offline`, the live session on a simulated clock: the same
samples as ``bassd run`` would play. ``bassd layers vibes`` lists the vibes;
``bassd layers mix --vibe zen`` prints the four picks without rendering.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    layers = sub.add_parser("layers", help="soundscape layers from the sound library")
    cmds = layers.add_subparsers(dest="layers_command", required=True)
    r = cmds.add_parser("render", help="render a vibe's layers offline to a 24-bit WAV")
    config_args(r)
    r.add_argument("--vibe", required=True, help="zen, focus, energise, sleep or your own")
    r.add_argument("--seconds", type=float, default=120.0)
    r.add_argument("--out", type=Path, required=True, metavar="OUT.wav")
    r.add_argument("--library", type=Path, help="the library file (default: library.path)")
    r.add_argument("--seed", type=int, help="the mix and drift seed (default: layers.seed)")
    r.add_argument("--bed", action="store_true", help="under the segment bed (not alone)")
    r.set_defaults(func=cmd_render)
    m = cmds.add_parser("mix", help="print the four picks of a vibe (no audio)")
    config_args(m)
    m.add_argument("--vibe", required=True)
    m.add_argument("--library", type=Path)
    m.add_argument("--seed", type=int)
    m.add_argument("--state", choices=("neutral", "stress", "underaroused"), default=None)
    m.set_defaults(func=cmd_mix)
    v = cmds.add_parser("vibes", help="list the vibes (configs/vibes.yaml, layers.vibes_file)")
    config_args(v)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_vibes)


def _config(args: argparse.Namespace, extra: list[str]) -> Any:
    from bassd.cli import _load

    more = list(extra)
    if getattr(args, "library", None) is not None:
        more.append(f"library.path={args.library}")
    if getattr(args, "seed", None) is not None:
        more.append(f"layers.seed={args.seed}")
    args.overrides = [*args.overrides, *more]
    return _load(args)


def _vibes_or_exit(cfg: Any, vibe: str | None = None) -> Any:
    from bassd.app.layers_mix import load_vibes

    try:
        vibes = load_vibes(cfg.layers.vibes_file)
    except ValueError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if vibe is not None and vibe not in vibes.vibes:
        print(f"bassd: unknown vibe {vibe!r} (vibes: {', '.join(sorted(vibes.vibes))})",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    return vibes


def _library_or_exit(cfg: Any) -> Path:
    path = cfg.library.resolved_path()
    if not path.exists():
        print(f"bassd: no library at {path} (bassd library add FOLDER first)", file=sys.stderr)
        raise SystemExit(2)
    return path


def cmd_render(args: argparse.Namespace) -> int:
    from bassd.app.offline import render_offline

    extra = ["layers.enabled=true", f"layers.vibe={args.vibe}"]
    if not args.bed:
        extra.append("renderer.name=layers")
    cfg = _config(args, extra)
    _vibes_or_exit(cfg, args.vibe)
    _library_or_exit(cfg)
    result = render_offline(cfg, args.seconds, args.out)
    mixes = []
    if result.events_csv is not None:
        import csv

        with result.events_csv.open() as f:
            mixes = [row for row in csv.DictReader(f) if row["kind"].startswith("layers_mix")]
    for row in mixes:
        if row["kind"] == "layers_mix_failed":
            print(f"bassd: the mix failed: {row['detail']}", file=sys.stderr)
            return 1
        for p in json.loads(row["detail"])["picks"]:
            print(f"layer {p['slot']}: {p['role']:<8} {p['name']} (#{p['entry_id']}, {p['how']})")
    print(f"{result.path}: {result.seconds:g} s in {result.wall_seconds:.2f} s "
          f"({result.speed:.1f}x real time)")  # fmt: skip
    return 0


def cmd_mix(args: argparse.Namespace) -> int:
    from bassd.app.layers_mix import build_mix
    from bassd.app.library import Library

    cfg = _config(args, [])
    vibes = _vibes_or_exit(cfg, args.vibe)
    state = None if args.state in (None, "neutral") else args.state
    with Library(_library_or_exit(cfg)) as lib:
        try:
            mix = build_mix(lib, vibes, args.vibe, seed=cfg.layers.seed, state=state,
                            min_seconds=cfg.layers.min_seconds)  # fmt: skip
        except ValueError as exc:
            print(f"bassd: {exc}", file=sys.stderr)
            return 1
    for p in mix.picks:
        print(f"layer {p.slot}: {p.role:<8} {p.name} (#{p.entry_id}, {p.how})")
    return 0


def cmd_vibes(args: argparse.Namespace) -> int:
    cfg = _config(args, [])
    vibes = _vibes_or_exit(cfg)
    if args.json:
        print(json.dumps({k: v.model_dump() for k, v in vibes.vibes.items()}, indent=1))
        return 0
    for name, v in vibes.vibes.items():
        print(f"{name:<10} {', '.join(v.roles):<28} {v.description}")
    return 0
