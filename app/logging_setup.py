"""structlog set-up: JSON lines in daemon mode (not a TTY), readable on a TTY.

Nothing logs from the audio callback: it exports counters instead.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    json_lines = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def worker_init(level: str = "info") -> None:
    """Initializer of the daemon's worker processes.

    Ctrl-C and ``systemctl stop`` signal the whole process group; a worker
    leaves its lifetime to the daemon, so it ignores both. It logs JSON lines
    to stderr, like the daemon, never console text to stdout.
    """
    from bassd.engine.child_process import leave_lifetime_to_parent

    leave_lifetime_to_parent()
    configure_logging(level, "json")
