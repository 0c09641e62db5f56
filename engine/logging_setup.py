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


class RateLimitedLog:
    """Logs an event at most once per ``interval`` seconds, with the count suppressed."""

    def __init__(
        self, logger: structlog.typing.FilteringBoundLogger, interval: float = 1.0
    ) -> None:
        self._log = logger
        self._interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, event: str, now: float, **kw: object) -> None:
        last = self._last.get(event, -1e18)
        if now - last >= self._interval:
            suppressed = self._suppressed.pop(event, 0)
            self._last[event] = now
            self._log.warning(event, suppressed=suppressed, **kw)
        else:
            self._suppressed[event] = self._suppressed.get(event, 0) + 1
