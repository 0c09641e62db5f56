"""``bassd listen prepare|serve|analyse``: blind listening tests of bassd's renders."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    listen = sub.add_parser(
        "listen",
        help="blind listening tests: prepare stimuli, serve the test page, analyse answers",
        description="Blind A/B and MUSHRA-style listening tests (docs/listening.md).",
    )
    lsub = listen.add_subparsers(dest="listen_command", required=True)

    prep = lsub.add_parser(
        "prepare",
        help="render or excerpt the stimuli, loudness-match and blind them, write the trials",
        description="Build a test folder: stimuli/<token>.wav (loudness-matched, equal "
        "length, faded), trials.json, key.json (kept apart: never served), loudness.json.",
    )
    config_args(prep)
    prep.add_argument("--out", type=Path, required=True, metavar="DIR", help="the test folder")
    src = prep.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--pairs",
        type=Path,
        metavar="SPEC",
        help="a SPEC (YAML): conditions, items, trials (configs/listening/)",
    )
    src.add_argument(
        "--from-sessions",
        type=Path,
        nargs="+",
        metavar="DIR",
        help="session audio: folders of segment clips (outputs.audio_dir) or WAV files "
        "(bassd render); each session or WAV is a condition",
    )
    prep.add_argument(
        "--seconds",
        type=float,
        default=8.0,
        help="with --from-sessions: length of each excerpt (default 8)",
    )
    prep.add_argument(
        "--excerpts",
        type=int,
        default=2,
        help="with --from-sessions: excerpts per session (default 2)",
    )
    prep.add_argument(
        "--reference",
        metavar="SESSION",
        help="with --from-sessions: add MUSHRA pages with this session as the "
        "hidden reference (and its 3.5 kHz anchor)",
    )
    prep.add_argument(
        "--target-lufs",
        type=float,
        default=None,
        help="loudness target (default: the SPEC's, else -23)",
    )
    prep.add_argument(
        "--seed",
        type=int,
        default=None,
        help="randomisation seed of the trial orders (default: the SPEC's, else 0)",
    )
    prep.add_argument("--force", action="store_true",
                      help="write into a folder that already holds a test (answers are kept "
                           "aside as answers.csv.old)")  # fmt: skip
    prep.set_defaults(func=cmd_prepare)

    serve = lsub.add_parser("serve", help="serve the test page on this machine")
    serve.add_argument("dir", type=Path, metavar="DIR")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    serve.set_defaults(func=cmd_serve)

    analyse = lsub.add_parser("analyse", help="unblind the answers: means, CIs, paired tests, PNG")
    analyse.add_argument("dir", type=Path, metavar="DIR")
    analyse.add_argument("--png", type=Path, help="the figure (default DIR/analysis.png)")
    analyse.set_defaults(func=cmd_analyse)


def _err(msg: str, code: int = 2) -> int:
    print(f"bassd: {msg}", file=sys.stderr)
    return code


def cmd_prepare(args: argparse.Namespace) -> int:
    from bassd.app.listen_design import DesignError, load_design
    from bassd.app.listen_prepare import PrepareError, plan_from_sessions, prepare, render_design
    from bassd.app.logging_setup import configure_logging

    out: Path = args.out
    if (out / "trials.json").exists() and not args.force:
        return _err(f"{out}: already holds a test (trials.json); give --force to replace it")
    configure_logging("warning", "console")
    try:
        if args.pairs is not None:
            design = load_design(args.pairs)
            update: dict[str, Any] = {}
            if args.target_lufs is not None:
                update["target_lufs"] = args.target_lufs
            if args.seed is not None:
                update["seed"] = args.seed
            design = design.model_copy(update=update)
            plan = render_design(design, out, args.config, args.overrides)
        else:
            if args.config is not None or args.overrides:
                return _err("--config/--set apply to --pairs renders, not to --from-sessions")
            plan = plan_from_sessions(
                args.from_sessions,
                seconds=args.seconds,
                excerpts=args.excerpts,
                reference=args.reference,
                target_lufs=-23.0 if args.target_lufs is None else args.target_lufs,
                seed=args.seed or 0,
            )
        old = out / "answers.csv"
        if old.exists():
            old.replace(out / "answers.csv.old")
        (out / "listeners.json").unlink(missing_ok=True)
        result = prepare(plan, out)
    except (DesignError, PrepareError) as exc:
        return _err(str(exc))
    print(result.table())
    print(f"test in {out}: serve it with `bassd listen serve {out}`; key in {out / 'key.json'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bassd.app.listen_server import Refused, serve
    from bassd.app.logging_setup import configure_logging

    configure_logging("info", "auto")
    try:
        serve(args.dir, args.host, args.port)
    except Refused as exc:
        return _err(str(exc))
    except OSError as exc:
        return _err(f"cannot serve on {args.host}:{args.port}: {exc}", 3)
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from bassd.app.listen_analyse import AnalyseError, analyse

    try:
        result = analyse(args.dir, args.png)
    except AnalyseError as exc:
        return _err(str(exc))
    print(result.table())
    print(f"figure: {result.png}; figures as JSON: {result.json_path}")
    return 0
