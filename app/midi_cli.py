"""``bassd midi``: MIDI tools for the keyboard jam (so far: ``bassd midi ports``).

Light at import: mido and rtmidi are imported only when a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, get_args


def add_commands(sub: Any) -> None:
    """Register ``midi`` (with ``ports``) on the top-level parser's subparsers."""
    from bassd.control.midi_config import Api

    midi = sub.add_parser("midi", help="MIDI input for the keyboard jam: list ports")
    msub = midi.add_subparsers(dest="midi_command", required=True)
    ports = msub.add_parser("ports", help="print the MIDI input and output port names")
    ports.add_argument(
        "--api",
        default="auto",
        choices=get_args(Api),
        help="MIDI backend (default: auto, rtmidi's own choice)",
    )
    midi.set_defaults(func=cmd_midi)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence what C libraries print on fd 2 (libjack's 'Cannot connect to server ...')."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def cmd_midi(args: argparse.Namespace) -> int:
    """Run a ``midi`` subcommand: 0 on success, 1 (one line on stderr) with no backend."""
    if getattr(args, "midi_command", None) != "ports":
        print(f"bassd: unknown midi command {getattr(args, 'midi_command', None)!r}",
              file=sys.stderr)  # fmt: skip
        return 2
    from bassd.control.midi_input import MidiBackendError, list_ports

    try:
        with _quiet_stderr():
            ports = list_ports(args.api)
    except MidiBackendError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 1
    for title, key in (("inputs", "inputs"), ("outputs", "outputs")):
        names = ports[key]
        print(f"{title} ({args.api}):" if names else f"{title} ({args.api}): none")
        for name in names:
            print(f"  {name}")
    return 0
