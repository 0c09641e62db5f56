"""Batch receive from a non-blocking UDP socket: many datagrams, with peers, per call.

:class:`MmsgReceiver` calls ``recvmmsg(2)`` through ``bassd.control._udpbatch``
(``udp_batch.c``): one system call and one crossing into C for up to
``BASSD_UDP_MAX_BATCH`` datagrams. :class:`RecvfromReceiver` is the fallback
where the C module is not built or the platform has no ``recvmmsg``: a plain
``socket.recvfrom`` loop, same interface. :func:`receiver` picks one.

Both return ``(data, (host, port))`` pairs in arrival order and stop at an empty
socket (never block). A datagram longer than ``max_size`` comes back truncated
to ``max_size`` bytes (recvmmsg; the fallback takes it whole) plus its real
length, so the caller can reject it by its real size: ``(data, peer, length)``,
where ``length > len(data)`` only then.
A socket error (such as ``ECONNREFUSED``, an ICMP error for an earlier send)
goes to ``on_error`` and the drain goes on.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from typing import Any, Protocol

MAX_UDP = 65535


MAX_ERRORS = 8  # socket errors passed on per recv call before giving up for this call

Batch = list[tuple[bytes, tuple[str, int], int]]  # (data, (host, port), real length)
OnError = Callable[[OSError], None] | None


class Receiver(Protocol):
    kind: str

    def recv(self, limit: int, on_error: OnError = None) -> Batch: ...


class RecvfromReceiver:
    """``socket.recvfrom`` until the socket is empty or ``limit`` datagrams are in."""

    kind = "recvfrom"

    def __init__(self, sock: socket.socket, max_size: int = MAX_UDP) -> None:
        self.sock = sock
        # recvfrom cannot tell a datagram's real length once truncated: take them whole
        self.bufsize = MAX_UDP

    def recv(self, limit: int, on_error: OnError = None) -> Batch:
        out: Batch = []
        recvfrom, bufsize = self.sock.recvfrom, self.bufsize
        errors = 0
        while len(out) < limit:
            try:
                data, addr = recvfrom(bufsize)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:  # e.g. ECONNREFUSED: an ICMP error for an earlier send
                errors += 1
                if on_error is None or errors > MAX_ERRORS:
                    raise
                on_error(exc)
                continue
            out.append((data, (addr[0], addr[1]), len(data)))
        return out


class MmsgReceiver:
    """``recvmmsg(2)`` in C: up to ``batch`` datagrams per system call."""

    kind = "recvmmsg"

    def __init__(self, sock: socket.socket, max_size: int = MAX_UDP, batch: int = 64) -> None:
        from bassd.control._udpbatch import ffi, lib

        self.sock = sock
        self._fd = sock.fileno()
        self._lib = lib
        self.batch = max(1, min(batch, lib.BASSD_UDP_MAX_BATCH))
        self.slot = (min(MAX_UDP, max_size + 1) + 7) & ~7
        self._buf = ffi.new("char[]", self.slot * self.batch)
        self._bytes = ffi.buffer(self._buf)
        self._lens = ffi.new("int[]", self.batch)
        self._hosts = ffi.new(f"char[{self.batch}][{lib.BASSD_UDP_HOST_LEN}]")
        self._ports = ffi.new("int[]", self.batch)
        self._same = ffi.new("int[]", self.batch)
        self._string = ffi.string
        self._unpack = ffi.unpack
        self._peers: dict[tuple[bytes, int], tuple[str, int]] = {}

    def recv(self, limit: int, on_error: OnError = None) -> Batch:
        out: Batch = []
        append = out.append
        errors = 0
        lib, buf, lens, hosts, ports = self._lib, self._buf, self._lens, self._hosts, self._ports
        same, unpack = self._same, self._unpack
        view, slot, string, peers = self._bytes, self.slot, self._string, self._peers
        peer = ("", 0)
        while len(out) < limit:
            got = lib.bassd_udp_recv_batch(
                self._fd, buf, slot, min(self.batch, limit - len(out)), lens, hosts, ports, same
            )
            if got <= 0:
                if got == 0 or _again(-got):
                    break
                exc = OSError(-got, os.strerror(-got))
                errors += 1
                if on_error is None or errors > MAX_ERRORS:
                    raise exc
                on_error(exc)  # e.g. ECONNREFUSED: an ICMP error for an earlier send
                continue
            off = 0
            for i, (n, again) in enumerate(zip(unpack(lens, got), unpack(same, got), strict=True)):
                if not again:  # a new peer (C compared the address with the one before)
                    key = (string(hosts[i]), ports[i])
                    peer = peers.get(key)  # type: ignore[assignment]
                    if peer is None:
                        peer = (key[0].decode("ascii"), key[1])
                        if len(peers) < 4096:
                            peers[key] = peer
                append((view[off : off + (n if n <= slot else slot)], peer, n))
                off += slot
            if got < self.batch:
                break  # the socket is (for now) empty
        return out


def _again(err: int) -> bool:
    return err in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)


def mmsg_available() -> bool:
    """The C module is built and this platform has ``recvmmsg``."""
    try:
        from bassd.control._udpbatch import lib
    except ImportError:
        return False
    return bool(lib.bassd_udp_has_recvmmsg())


def receiver(sock: socket.socket, max_size: int = MAX_UDP, *, prefer: str = "auto") -> Any:
    """The batch receiver for ``sock`` (recvmmsg where available, else recvfrom)."""
    if prefer != "recvfrom" and mmsg_available():
        return MmsgReceiver(sock, max_size)
    if prefer == "recvmmsg":
        raise RuntimeError("recvmmsg is not available (bassd.control._udpbatch not built?)")
    return RecvfromReceiver(sock, max_size)
