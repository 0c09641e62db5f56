"""systemd's notify protocol (``sd_notify(3)``): a few lines over a Unix datagram socket.

systemd passes the socket's path in ``NOTIFY_SOCKET`` (a leading ``@`` names an
abstract socket) and, with ``WatchdogSec=``, the watchdog period in
``WATCHDOG_USEC`` (for the process ``WATCHDOG_PID`` names, when set). Each message is
one datagram of ``KEY=value`` lines: ``READY=1``, ``STATUS=...``, ``WATCHDOG=1``,
``RELOADING=1``, ``STOPPING=1``. Without ``NOTIFY_SOCKET`` every call does nothing, so
the daemon runs the same from a terminal. A send that fails (systemd gone, a full
buffer) is logged once and never raises: the music does not depend on systemd.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

import structlog

log = structlog.get_logger("bassd.sd_notify")


def socket_address(value: str) -> str | bytes:
    """``NOTIFY_SOCKET``'s value as an address for ``sendto``: ``@name`` is abstract."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def watchdog_seconds(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The watchdog period systemd expects pings within (``WATCHDOG_USEC``), or None when
    there is no watchdog (unset, not a positive number, or meant for another process)."""
    env = os.environ if env is None else env
    raw = env.get("WATCHDOG_USEC", "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = env.get("WATCHDOG_PID")
    if owner and owner.isdigit() and int(owner) != (os.getpid() if pid is None else pid):
        return None
    return usec / 1e6


def status_line(figures: Mapping[str, object]) -> str:
    """The figures as one ``STATUS=`` value: ``key=value`` pairs, no newlines."""
    parts = []
    for key, value in figures.items():
        text = "-" if value is None else str(value)
        parts.append(f"{key}={text.replace(chr(10), ' ')}")
    return " ".join(parts)


class Notifier:
    """Sends sd_notify messages to ``NOTIFY_SOCKET`` (nothing at all without it)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        path = env.get("NOTIFY_SOCKET", "")
        self.address: str | bytes | None = socket_address(path) if path else None
        self.watchdog_s = watchdog_seconds(env) if self.address is not None else None
        self._sock: socket.socket | None = None
        self._failed = False
        self.sent = 0
        if self.address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *lines: str) -> bool:
        """One datagram of ``KEY=value`` lines; True if it went out."""
        if self._sock is None or self.address is None:
            return False
        try:
            self._sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            if not self._failed:  # once: systemd may be restarting, the music goes on
                log.warning("sd_notify_failed", error=str(exc))
                self._failed = True
            return False
        self._failed = False
        self.sent += 1
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def watchdog(self, status: str = "") -> bool:
        return self.send("WATCHDOG=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
