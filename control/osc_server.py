"""OSC over UDP inside the daemon's event loop.

python-osc's ``AsyncIOOSCUDPServer`` hands datagrams to its dispatcher, which
swallows parse errors silently; here every datagram is parsed with python-osc's
packet parser and a malformed one is logged with its peer and counted. Replies
go to the sender's host on the configured reply port (TouchOSC's 9000).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from bassd.engine.logging_setup import RateLimitedLog
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

log = structlog.get_logger("bassd.osc")

MAX_DATAGRAM = 65507

Reply = Callable[[str, list[Any]], None]
Handler = Callable[[list[Any], Reply], None]


@dataclass
class OscCounters:
    received: int = 0
    handled: int = 0
    dropped: int = 0


def build_message(address: str, args: list[Any]) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


class OscServer(asyncio.DatagramProtocol):
    def __init__(self, routes: dict[str, Handler], reply_port: int) -> None:
        self.routes = routes
        self.reply_port = reply_port
        self.counters = OscCounters()
        self.transport: asyncio.DatagramTransport | None = None
        self._warn = RateLimitedLog(log)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def _drop(self, peer: tuple[str, int], reason: str, address: str = "") -> None:
        self.counters.dropped += 1
        self._warn.warning(
            "osc_rejected",
            time.monotonic(),
            peer=f"{peer[0]}:{peer[1]}",
            reason=reason,
            address=address or None,
        )

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counters.received += 1
        try:
            packet = OscPacket(data)
        except ParseError as exc:
            self._drop(addr, f"malformed packet: {exc}")
            return
        except Exception as exc:  # the parser raises more than ParseError on hostile input
            self._drop(addr, f"malformed packet: {type(exc).__name__}")
            return

        def reply(address: str, args: list[Any]) -> None:
            if self.transport is not None:
                self.transport.sendto(build_message(address, args), (addr[0], self.reply_port))

        for timed in packet.messages:
            msg = timed.message
            handler = self.routes.get(msg.address)
            if handler is None:
                self._drop(addr, "unknown address", msg.address)
                continue
            try:
                handler(list(msg.params), reply)
            except (TypeError, ValueError) as exc:
                self._drop(addr, str(exc), msg.address)
                continue
            self.counters.handled += 1


async def start_osc_server(
    host: str, port: int, routes: dict[str, Handler], reply_port: int
) -> tuple[asyncio.DatagramTransport, OscServer]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: OscServer(routes, reply_port), local_addr=(host, port)
    )
    return transport, protocol
