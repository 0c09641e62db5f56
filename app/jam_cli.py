"""``bassd jam``: keyboard jamming tools: ``bassd jam key FILE.mid`` (the key of a file) and
``bassd jam eval`` (the next-chord predictors, the Ear and their fusion on held-out pieces;
see :mod:`bassd.models.chord_eval`).

Light at import: mido is imported only when a file is read; music21 never (it is only the
reference of the tests and benchmarks); torch never (the evaluation runs the numpy LSTM).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``jam`` (with ``key`` and ``eval``) on the top-level parser's subparsers."""
    from bassd.dsp.key_finding import DEFAULT_PROFILE
    from bassd.dsp.key_profiles import PROFILES

    jam = sub.add_parser("jam", help="keyboard jamming: key finding, chord-predictor evaluation")
    jsub = jam.add_subparsers(dest="jam_command", required=True)
    k = jsub.add_parser("key", help="print the key of a whole MIDI file")
    k.add_argument("file", type=Path, metavar="FILE.mid", help="a standard MIDI file")
    k.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help=f"key profile: {', '.join(PROFILES)} (default: {DEFAULT_PROFILE})",
    )
    e = jsub.add_parser(
        "eval",
        help="held-out top-1/top-3 of unigram, bigram, LSTM, Ear (simulated notes) and fused",
    )
    e.add_argument("--checkpoint", type=Path, default=None, help="LSTM .npz (default: shipped)")
    e.add_argument("--corpus", type=Path, default=None, help="corpus file (default: shipped)")
    e.add_argument("--weight", type=float, default=None, help="fusion weight of the LSTM, 0..1")
    e.add_argument("--seed", type=int, default=0, help="seed of the simulated notes (0)")
    e.add_argument("--held-out", type=float, default=None, help="default: the checkpoint's split")
    e.add_argument("--split-seed", type=int, default=None, help="default: the checkpoint's split")
    e.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write JSON here")
    r = jsub.add_parser(
        "render",
        help="play a MIDI file into the jam on the simulated clock: a WAV and the events.csv",
    )
    config_args(r)
    r.add_argument("--midi", type=Path, required=True, metavar="IN.mid", help="the performance")
    r.add_argument("--out", type=Path, required=True, metavar="OUT.wav")
    r.add_argument(
        "--tempo",
        type=float,
        default=None,
        metavar="BPM",
        help="the jam's tempo (default: the file's own, else jam.tempo_bpm)",
    )
    r.add_argument(
        "--meter",
        type=int,
        default=None,
        metavar="BEATS",
        help="beats per bar (default: the file's time signature, else the config's)",
    )
    r.add_argument("--style", choices=("pad", "block", "arpeggio"), default=None)
    r.add_argument("--metronome", action="store_true", help="with the click (default: off)")
    r.add_argument("--no-bed", action="store_true", help="without the segment bed under it")
    r.add_argument("--no-melody", action="store_true", help="without the file's own notes")
    r.add_argument("--seed", type=int, default=None, help="the bed's timeline seed")
    r.add_argument("--session", default=None, help="session folder name (default: a timestamp)")
    jam.set_defaults(func=cmd_jam)


def cmd_render(args: argparse.Namespace) -> int:
    """``bassd jam render``: 0 with a summary; 2 with one line on a bad file or config."""
    from bassd.app.config import ConfigError, load_config
    from bassd.app.jam_render import midi_file_timing, render_jam
    from bassd.app.logging_setup import configure_logging

    try:
        timing = midi_file_timing(args.midi)
    except ValueError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    sets = ["jam.enabled=true", f"jam.metronome.enabled={str(args.metronome).lower()}",
            f"jam.thru={str(not args.no_melody).lower()}"]  # fmt: skip
    tempo = args.tempo if args.tempo is not None else timing.tempo_bpm
    meter = args.meter if args.meter is not None else timing.beats_per_bar
    if tempo is not None:
        sets.append(f"jam.tempo_bpm={tempo}")
    if meter is not None:
        sets.append(f"jam.beats_per_bar={meter}")
    if args.style is not None:
        sets.append(f"jam.style={args.style}")
    if args.seed is not None:
        sets.append(f"timeline.seed={args.seed}")
    try:
        cfg = load_config(args.config, [*sets, *args.overrides])
    except ConfigError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    configure_logging(cfg.logging.level, cfg.logging.format)
    try:
        res = render_jam(cfg, args.midi, args.out, bed=not args.no_bed, session=args.session)
    except (ValueError, OSError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    j = cfg.jam
    print(f"rendered {res.seconds:.1f} s of {args.midi} to {res.path} in "
          f"{res.wall_seconds:.2f} s ({res.speed:.1f}x real time) at {j.tempo_bpm:g} bpm, "
          f"{j.beats_per_bar}/4, {j.style}")  # fmt: skip
    if res.events_csv is not None:
        print(f"events in {res.events_csv}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """``bassd jam eval``: print the table (and write JSON); 2 on a bad checkpoint/corpus."""
    from bassd.dsp.chord_fusion import DEFAULT_WEIGHT
    from bassd.models.chord_eval import format_table, run_eval, write_json

    weight = DEFAULT_WEIGHT if args.weight is None else args.weight
    if not 0.0 <= weight <= 1.0:
        print(f"bassd: --weight must be in [0, 1], not {weight}", file=sys.stderr)
        return 2
    try:
        res = run_eval(args.checkpoint, args.corpus, weight, args.seed, args.held_out,
                       args.split_seed)  # fmt: skip
    except (ValueError, OSError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    print(format_table(res))
    if args.json is not None:
        print(f"wrote {write_json(res, args.json)}")
    return 0


def cmd_jam(args: argparse.Namespace) -> int:
    """Run a ``jam`` subcommand; 0 on success, 2 (one line on stderr) on a bad file/profile."""
    if getattr(args, "jam_command", None) == "eval":
        return cmd_eval(args)
    if getattr(args, "jam_command", None) == "render":
        return cmd_render(args)
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
