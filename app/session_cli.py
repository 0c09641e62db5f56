"""``bassd session``: run a session protocol live, or render it offline (its twin).

``session run P`` is ``bassd run`` with ``protocol.file = P`` and ``protocol.exit_at_end``:
the daemon plays the protocol's stages and stops after the last. ``session render P``
is ``bassd render`` on the simulated clock with the same protocol, ending with it.
``session list`` names the shipped protocols; ``session check P`` validates one and
prints its stages.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("session", help="session protocols: run one live, render it, list them")
    ss = p.add_subparsers(dest="session_command", required=True)
    run = ss.add_parser("run", help="play a protocol live (the daemon stops after its last stage)")
    render = ss.add_parser("render", help="render a protocol offline to a WAV (its offline twin)")
    for q in (run, render):
        config_args(q)
        q.add_argument("protocol", help="a protocol YAML file, or a shipped protocol's name")
        q.add_argument("--baseline-bpm", type=float,
                       help="the listener's known baseline: no calibration")  # fmt: skip
        q.add_argument("--listener", metavar="ID", help="the listener's id (in events.csv)")
    run.set_defaults(func=cmd_session_run)
    trace = render.add_mutually_exclusive_group()
    trace.add_argument("--hr-trace", type=Path, help="heart-rate CSV (t,bpm[,rr_ms])")
    trace.add_argument("--scenario", help="a shipped heart-rate scenario (bassd demo --list)")
    render.add_argument("--out", type=Path, required=True, help="output WAV file")
    render.add_argument("--seconds", type=float,
                        help="the most to render (default: the protocol's length)")  # fmt: skip
    render.add_argument("--seed", type=int, help="timeline seed (default: timeline.seed)")
    render.set_defaults(func=cmd_session_render)
    lst = ss.add_parser("list", help="the shipped protocols")
    lst.set_defaults(func=cmd_session_list)
    check = ss.add_parser("check", help="validate a protocol and print its stages")
    config_args(check)
    check.add_argument("protocol")
    check.set_defaults(func=cmd_session_check)


def _protocol(args: argparse.Namespace) -> Any:
    from bassd.control.protocol import ProtocolError, load_protocol

    try:
        return load_protocol(args.protocol)
    except ProtocolError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _with_protocol(args: argparse.Namespace, protocol: Any, *, exit_at_end: bool) -> None:
    """The protocol as config overrides (the user's --set still win), given before them."""
    given = Path(args.protocol)
    ref = str(given.resolve()) if given.is_file() else args.protocol
    sets = [f"protocol.file={ref}"]
    if protocol.renderer is not None:
        sets.append(f"renderer.name={protocol.renderer}")
    if exit_at_end:
        sets.append("protocol.exit_at_end=true")
    if args.listener:
        sets.append(f"protocol.listener={args.listener}")
    if args.baseline_bpm is not None:
        sets.append(f"protocol.baseline_bpm={args.baseline_bpm}")
    args.overrides = sets + list(args.overrides)
    args.listener = None  # the protocol records the listener; bassd run's --listener learns


def cmd_session_run(args: argparse.Namespace) -> int:
    from bassd.cli import cmd_run

    _with_protocol(args, _protocol(args), exit_at_end=True)
    return cmd_run(args)


def cmd_session_render(args: argparse.Namespace) -> int:
    from bassd.cli import _render, scenario_path

    protocol = _protocol(args)
    _with_protocol(args, protocol, exit_at_end=False)
    trace = args.hr_trace or (scenario_path(args.scenario) if args.scenario else None)

    def done(session: Any) -> bool:
        runner = session.controller.protocol
        return runner is not None and runner.finished

    def planned(cfg: Any) -> float:
        # an upper bound: late neural clips and crossfades can stretch a stage of segments
        return protocol.planned_seconds(cfg.timeline.segment_seconds) * 1.5 + 30.0

    return _render(args, trace, until=done, planned=planned)


def cmd_session_list(args: argparse.Namespace) -> int:
    from bassd.control.protocol import load_protocol, shipped_protocols

    for name in shipped_protocols():
        p = load_protocol(name)
        first = p.description.strip().splitlines()[0] if p.description.strip() else ""
        print(f"{name:<20} {len(p.stages)} stages  {first}")
    return 0


def cmd_session_check(args: argparse.Namespace) -> int:
    from bassd.cli import _load

    protocol = _protocol(args)
    cfg = _load(args)
    seg = protocol.segment_seconds or cfg.timeline.segment_seconds
    print(f"protocol {protocol.name}: {len(protocol.stages)} stages, about "
          f"{protocol.planned_seconds(seg):.0f} s with {seg:g} s segments")  # fmt: skip
    print(f"{'stage':<14} {'length':>10}  {'steered by':<11} plays")
    for s in protocol.stages:
        length = f"{s.seconds:g} s" if s.seconds is not None else f"{s.segments} seg"
        what = [s.prompt or s.category or ("hr" if s.adaptive else "neutral")]
        what += [f"renderer {s.renderer}"] if s.renderer else []
        what += [f"scene {s.scene}"] if s.scene else []
        what += [f"{k}={v:g}" for k, v in s.adapters.items()]
        what += [f"{k}={v}" for k, v in s.params.items()]
        print(f"{s.name:<14} {length:>10}  {'heart rate' if s.adaptive else 'fixed':<11} "
              f"{', '.join(what)}")  # fmt: skip
    return 0
