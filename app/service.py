"""A systemd unit for ``bassd run``: notify-type, watched, restarted, real-time limits.

``bassd service install`` writes it (``--print`` shows it). The choices:

* ``Type=notify`` + ``NotifyAccess=main``: the daemon itself (the main process,
  ``ExecStart``'s ``python -m bassd``) says READY=1 once the device plays; its
  children (device, metrics, MIDI workers) never talk to systemd, so only the
  main process is listened to.
* ``WatchdogSec=10s``: the daemon pings every 5 s, and only while the audio path
  is healthy (``app/audio_health.py``), so a stalled audio path is restarted
  within 10 s. A JACK restart (the device supervisor reopens within seconds) fits
  inside it.
* ``Restart=on-failure`` (exit 1 when a task fails, a watchdog timeout, a crash),
  ``RestartSec=2s``; ``StartLimitIntervalSec=300`` / ``StartLimitBurst=10``: up to
  ten starts in five minutes ride out a sound server coming up late after boot,
  and a daemon that cannot start at all (a bad config: exit 2) stops being retried
  instead of looping for weeks.
* ``LimitRTPRIO=95`` and ``LimitMEMLOCK=infinity``: the loop's SCHED_FIFO
  (``audio.realtime_priority``) and the sound server's real-time needs.
* ``KillMode=control-group``: ``systemctl stop`` signals every process of the
  service, as Ctrl-C does the process group (each child leaves its lifetime to the
  daemon, which fades out and drains the device: ``TimeoutStopSec=20s``).
* ``ExecReload=/bin/kill -HUP $MAINPID``: ``systemctl reload`` re-reads the config.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "bassd.service"
SYSTEM_DIR = Path("/etc/systemd/system")


def user_unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def _quote(arg: str) -> str:
    """One ExecStart argument, quoted the way systemd reads it."""
    if arg and not any(c in arg for c in " \t\"'\\$%;"):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$").replace("%", "%%")
    return f'"{escaped}"'


@dataclass(frozen=True)
class UnitOptions:
    user: bool = False  # a user unit (~/.config/systemd/user) rather than a system one
    config: Path | None = None  # --config for bassd run (made absolute)
    workdir: Path | None = None  # where outputs/ goes (default: the current directory)
    python: str = sys.executable
    watchdog_seconds: int = 10


def exec_start(opts: UnitOptions) -> str:
    args = [opts.python, "-m", "bassd", "run"]
    if opts.config is not None:
        args += ["--config", str(opts.config)]
    return " ".join(_quote(a) for a in args)


def unit_text(opts: UnitOptions) -> str:
    """The unit file's text."""
    workdir = opts.workdir or Path.cwd()
    target = "default.target" if opts.user else "multi-user.target"
    after = "sound.target" if opts.user else "sound.target network-online.target"
    wants = "" if opts.user else "Wants=network-online.target\n"
    return f"""\
# written by `bassd service install`; see `bassd service install --help`
[Unit]
Description=bassd adaptive music daemon
After={after}
{wants}StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start(opts)}
ExecReload=/bin/kill -HUP $MAINPID
WorkingDirectory={_quote(str(workdir))}
Environment=PYTHONUNBUFFERED=1
WatchdogSec={opts.watchdog_seconds}s
TimeoutStartSec=60s
TimeoutStopSec=20s
Restart=on-failure
RestartSec=2s
KillMode=control-group
KillSignal=SIGTERM
LimitRTPRIO=95
LimitMEMLOCK=infinity

[Install]
WantedBy={target}
"""


class InstallError(Exception):
    """The unit could not be written; one line for the user."""


def install(text: str, user: bool, unit_dir: Path | None = None) -> Path:
    """Write the unit; returns its path."""
    folder = unit_dir or (user_unit_dir() if user else SYSTEM_DIR)
    path = folder / UNIT_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".service.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except PermissionError:
        hint = "" if user else " (run it as root, e.g. with sudo, or use --user)"
        raise InstallError(f"cannot write {path}: permission denied{hint}") from None
    except OSError as exc:
        raise InstallError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def next_steps(user: bool) -> list[str]:
    ctl = "systemctl --user" if user else "sudo systemctl"
    journal = "journalctl --user" if user else "journalctl"
    return [
        f"{ctl} daemon-reload",
        f"{ctl} enable --now bassd",
        f"{ctl} status bassd        # its STATUS= line",
        f"{ctl} reload bassd        # after editing the config (SIGHUP)",
        f"{journal} -u bassd -f     # the JSON log lines",
    ]
