"""``bassd service install``: write (or print) the systemd unit that runs ``bassd run``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    p = sub.add_parser("service", help="run bassd as a systemd service")
    ssub = p.add_subparsers(dest="service_command", required=True)
    inst = ssub.add_parser(
        "install",
        help="write the systemd unit (Type=notify, watchdog, restart on failure)",
        description="Write bassd.service to /etc/systemd/system (or, with --user, to "
        "~/.config/systemd/user) and say what to run next.",
    )
    inst.add_argument("--user", action="store_true", help="a user unit (~/.config/systemd/user)")
    inst.add_argument("--print", dest="print_only", action="store_true",
                      help="print the unit and install nothing")  # fmt: skip
    inst.add_argument("--config", type=Path, help="the YAML file bassd run is started with")
    inst.add_argument(
        "--workdir", type=Path, help="working directory, where outputs/ goes (default: here)"
    )
    inst.set_defaults(func=cmd_install)


def cmd_install(args: argparse.Namespace) -> int:
    from bassd.app.service import InstallError, UnitOptions, install, next_steps, unit_text

    config = args.config.expanduser().resolve() if args.config is not None else None
    if config is not None and not config.is_file():
        print(f"bassd: --config {config}: no such file", file=sys.stderr)
        return 2
    workdir = args.workdir.expanduser().resolve() if args.workdir is not None else None
    text = unit_text(UnitOptions(user=args.user, config=config, workdir=workdir))
    if args.print_only:
        print(text, end="")
        return 0
    try:
        path = install(text, args.user)
    except InstallError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}; next:")
    for line in next_steps(args.user):
        print(f"  {line}")
    return 0
