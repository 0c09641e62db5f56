"""systemd's notify protocol against a real Unix datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bassd.app.sd_notify import Notifier, socket_address, status_line, watchdog_seconds


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify.sock"
    if len(str(path)) > 100:  # sun_path holds 108 bytes
        pytest.skip("temporary path too long for a Unix socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    yield sock, str(path)
    sock.close()


def test_messages_arrive_as_one_datagram_of_lines(listener) -> None:
    """READY=1 with its STATUS= line, WATCHDOG=1 and STOPPING=1 each arrive as one datagram
    of newline-separated KEY=value lines."""
    sock, path = listener
    n = Notifier({"NOTIFY_SOCKET": path})
    assert n.enabled
    assert n.ready("stream=playing")
    assert sock.recv(4096) == b"READY=1\nSTATUS=stream=playing"
    assert n.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert n.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    n.close()


def test_reloading_carries_the_monotonic_clock(listener) -> None:
    """RELOADING=1 carries MONOTONIC_USEC (systemd 253+ requires it)."""
    sock, path = listener
    n = Notifier({"NOTIFY_SOCKET": path})
    n.reloading()
    lines = sock.recv(4096).decode().split("\n")
    assert lines[0] == "RELOADING=1" and lines[1].startswith("MONOTONIC_USEC=")
    assert int(lines[1].split("=")[1]) > 0
    n.close()


def test_abstract_socket_names() -> None:
    """A NOTIFY_SOCKET starting with @ names an abstract socket (a leading NUL byte)."""
    name = f"bassd-test-{uuid.uuid4().hex}"
    assert socket_address(f"@{name}") == b"\0" + name.encode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2.0)
    try:
        n = Notifier({"NOTIFY_SOCKET": f"@{name}"})
        n.ready()
        assert sock.recv(4096) == b"READY=1"
        n.close()
    finally:
        sock.close()


def test_without_notify_socket_nothing_is_sent() -> None:
    """Without NOTIFY_SOCKET (a terminal) the notifier is off and every call is a no-op."""
    n = Notifier({"WATCHDOG_USEC": "1000000"})
    assert not n.enabled and n.watchdog_s is None
    assert not n.ready() and not n.watchdog() and not n.stopping()


def test_a_vanished_systemd_does_not_raise(tmp_path: Path) -> None:
    """A socket nobody listens on: the send fails quietly (False), the music does not care."""
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert n.enabled and not n.ready() and not n.watchdog()
    n.close()


def test_watchdog_period_from_the_environment() -> None:
    """WATCHDOG_USEC gives the period; unset, malformed, zero or another process's
    (WATCHDOG_PID) means no watchdog."""
    assert watchdog_seconds({"WATCHDOG_USEC": "10000000"}) == 10.0
    assert watchdog_seconds({}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "0"}) is None
    mine = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_seconds(mine) == 2.0
    assert watchdog_seconds({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, pid=2) is None


def test_status_line_is_one_line() -> None:
    """STATUS= values are key=value pairs on one line; None reads as '-'."""
    assert status_line({"stream": "playing", "bpm": None, "x": "a\nb"}) == (
        "stream=playing bpm=- x=a b"
    )
