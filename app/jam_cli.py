"""``bassd jam``: keyboard jamming tools (so far: ``bassd jam key FILE.mid``).

Light at import: mido is imported only when a file is read; music21 never (it is only the
reference of the tests and benchmarks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    """Register ``jam`` (with ``key``) on the top-level parser's subparsers."""
    from bassd.dsp.key_finding import DEFAULT_PROFILE
    from bassd.dsp.key_profiles import PROFILES

    jam = sub.add_parser("jam", help="keyboard jamming: key finding")
    jsub = jam.add_subparsers(dest="jam_command", required=True)
    k = jsub.add_parser("key", help="print the key of a whole MIDI file")
    k.add_argument("file", type=Path, metavar="FILE.mid", help="a standard MIDI file")
    k.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help=f"key profile: {', '.join(PROFILES)} (default: {DEFAULT_PROFILE})",
    )
    jam.set_defaults(func=cmd_jam)


def cmd_jam(args: argparse.Namespace) -> int:
    """Run a ``jam`` subcommand; 0 on success, 2 (one line on stderr) on a bad file/profile."""
    if getattr(args, "jam_command", None) != "key":
        print(f"bassd: unknown jam command {getattr(args, 'jam_command', None)!r}",
              file=sys.stderr)  # fmt: skip
        return 2
    from bassd.dsp.key_profiles import PROFILES
    from bassd.dsp.midi_notes import key_of_midi_file

    if args.profile not in PROFILES:
        print(f"bassd: unknown key profile {args.profile!r} (known: {', '.join(PROFILES)})",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        est = key_of_midi_file(args.file, args.profile)
    except ValueError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    print(est)
    return 0
