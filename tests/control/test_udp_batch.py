"""Batch receive (control/udp_batch.py): recvmmsg through the C helper and the recvfrom
fallback, over real loopback sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bassd.control import udp_batch

KINDS = ["recvfrom", *(["recvmmsg"] if udp_batch.mmsg_available() else [])]


@pytest.fixture
def server() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    yield s
    s.close()


def _client() -> socket.socket:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    return c


def _drain(rx: object, want: int) -> list[tuple[bytes, tuple[str, int], int]]:
    """Everything sent so far (loopback delivers at send time; a few retries for safety)."""
    out: list[tuple[bytes, tuple[str, int], int]] = []
    for _ in range(1000):
        out += rx.recv(1000)  # type: ignore[attr-defined]
        if len(out) >= want:
            break
    return out


def test_recvmmsg_is_built_on_linux() -> None:
    """The C helper is part of the install here: the daemon reads in batches, not per datagram."""
    assert udp_batch.mmsg_available()
    assert udp_batch.receiver(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)).kind == "recvmmsg"


@pytest.mark.parametrize("kind", KINDS)
def test_batch_returns_every_datagram_with_its_peer_in_order(
    server: socket.socket, kind: str
) -> None:
    """Two clients interleaved, more than one recvmmsg batch: all come back, in order, each
    with the right (host, port) and length."""
    rx = udp_batch.receiver(server, 8192, prefer=kind)
    assert rx.kind == kind
    a, b = _client(), _client()
    dest = server.getsockname()
    sent = []
    for i in range(150):  # > 2 batches of 64
        c = a if i % 3 else b
        data = f"/d/{i:04d}".encode().ljust(12 + 4 * (i % 5), b"\0")
        c.sendto(data, dest)
        sent.append((data, ("127.0.0.1", c.getsockname()[1]), len(data)))
    got = _drain(rx, len(sent))
    assert got == sent
    a.close()
    b.close()


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_socket_returns_nothing_at_once(server: socket.socket, kind: str) -> None:
    """No datagram waiting: an empty list, never a blocking call."""
    rx = udp_batch.receiver(server, 8192, prefer=kind)
    assert rx.recv(64) == []


@pytest.mark.parametrize("kind", KINDS)
def test_limit_bounds_one_drain(server: socket.socket, kind: str) -> None:
    """At most ``limit`` per call; the rest stays queued for the next call, none lost."""
    rx = udp_batch.receiver(server, 8192, prefer=kind)
    c = _client()
    for i in range(100):
        c.sendto(i.to_bytes(4, "big"), server.getsockname())
    first = rx.recv(70)
    rest = _drain(rx, 30)
    assert len(first) == 70 and len(rest) == 30
    assert [int.from_bytes(d, "big") for d, _, _ in first + rest] == list(range(100))
    c.close()


@pytest.mark.parametrize("kind", KINDS)
def test_an_oversized_datagram_reports_its_real_length(server: socket.socket, kind: str) -> None:
    """A datagram over max_size comes back with its true length (so it is rejected as
    oversized by its size, as before), and the next one is intact."""
    rx = udp_batch.receiver(server, 1024, prefer=kind)
    c = _client()
    c.sendto(b"x" * 5000, server.getsockname())
    c.sendto(b"/ok\0", server.getsockname())
    got = _drain(rx, 2)
    assert [n for _, _, n in got] == [5000, 4]
    assert len(got[0][0]) <= 5000 and got[0][0].startswith(b"xxxx")
    assert got[1][0] == b"/ok\0"
    c.close()


def test_ipv6_peers() -> None:
    """An IPv6 socket's peers come back as text addresses (the allowlist's input)."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.bind(("::1", 0))
    except OSError:
        s.close()
        pytest.skip("no ::1")
    s.setblocking(False)
    c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    c.bind(("::1", 0))
    for kind in KINDS:
        c.sendto(b"/v6\0", s.getsockname()[:2])
        rx = udp_batch.receiver(s, 8192, prefer=kind)
        assert _drain(rx, 1) == [(b"/v6\0", ("::1", c.getsockname()[1]), 4)]
    s.close()
    c.close()
