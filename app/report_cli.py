"""``bassd report SESSION_DIR|latest [--out F.png]``: the picture and summary of a session."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "report",
        help="write a session's report.png and report.json (heart rate, states, segments)",
        description="Read a session folder's events.csv and its metrics.csv rows and write "
        "report.json (states as bands, baseline and thresholds, HR/HRV summary, segments "
        "with loudness, control events) and report.png (the same on one time axis).",
    )
    config_args(p)
    p.add_argument(
        "session",
        metavar="SESSION_DIR|latest",
        help="a session folder, or 'latest': the newest in outputs.sessions_dir",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="F.png",
        help="the PNG (the JSON goes beside it); default: in the session folder",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from bassd.cli import _load

    cfg = _load(args)
    from bassd.app.session_report import ReportError, latest_session, make_report

    try:
        folder = (
            latest_session(cfg.outputs.sessions_dir)
            if args.session == "latest"
            else Path(args.session)
        )
        png, js = make_report(folder, args.out, metrics_csv=cfg.outputs.metrics_csv, hr=cfg.hr)
    except ReportError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    print(f"report: {png}")
    print(f"summary: {js}")
    return 0
