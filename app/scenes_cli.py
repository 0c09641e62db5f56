"""``bassd scenes``: the scenes a session can recall (shipped, scenes.file, inline)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("scenes", help="list the scenes /scene can recall")
    config_args(p)
    p.set_defaults(func=cmd_scenes)


def cmd_scenes(args: argparse.Namespace) -> int:
    from bassd.cli import _load
    from bassd.control.scene_loading import load_scenes

    cfg = _load(args)
    scenes = load_scenes(cfg.scenes)
    print(f"{'scene':<12} {'category':<11} {'tempo':>6} {'fade s':>7}  description")
    for name, s in sorted(scenes.items()):
        tempo = f"{s.tempo_bpm:g}" if s.tempo_bpm is not None else "-"
        fade = f"{s.crossfade_seconds:g}" if s.crossfade_seconds is not None else "-"
        print(f"{name:<12} {s.category or '-':<11} {tempo:>6} {fade:>7}  {s.description}")
    return 0
