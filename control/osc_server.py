"""OSC over UDP inside the daemon's event loop: the wire, validated against the table.

Every datagram is checked in this order, and a failure at any step drops it,
counts it (by reason), logs it with its peer (rate-limited) and, where the
peer may be answered, replies ``/error s s`` (address, reason):

1. source address in ``osc.allow`` (CIDR) — else dropped silently (no reply);
2. per-source token bucket (``osc.rate_limit``) — else dropped silently;
3. size ≤ ``osc.max_datagram``;
4. strict parse (``control/osc_codec.py``): UTF-8, padding, sizes, bundle depth;
5. each message: address (or OSC pattern, matched in bounded time) in the
   table; shared secret on state-changing addresses when configured; arity,
   types and ranges; then the handler.

python-osc's ``AsyncIOOSCUDPServer`` and dispatcher are not used: the
dispatcher swallows parse errors, lets non-UTF-8 strings escape as a
different exception, recurses into nested bundles without bound, turns client
patterns into backtracking regexes, and waits for future timetags with
``asyncio.sleep`` per message. Here a bundle whose timetag lies in the future
is validated now and handed to ``schedule`` (the engine's sample clock), with a
bound on how far ahead and how many wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from bassd.control.addresses import TABLE, Address
from bassd.control.osc_codec import (
    Bundle,
    Message,
    OscError,
    encode_message,
    ntp_to_unix,
    parse_packet,
)
from bassd.control.osc_pattern import PatternError, is_pattern, matches
from bassd.engine.logging_setup import RateLimitedLog

log = structlog.get_logger("bassd.osc")

MAX_ADDRESS = 256
MAX_PATTERN_TARGETS = 8  # a pattern may fan out to at most this many addresses


@dataclass
class OscCounters:
    received: int = 0
    messages: int = 0
    handled: int = 0
    dropped: int = 0  # messages (or datagrams that never became messages) rejected
    scheduled: int = 0
    late: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Request:
    """What a handler knows about the message it handles."""

    address: str
    peer: tuple[str, int]
    reply: Callable[..., None]  # reply(address, *args) to the peer's host on the reply port
    send_to: Callable[..., None]  # send_to((host, port), address, *args)


class Surface(Protocol):
    """The controller: one ``on_<handler>(values, request)`` method per table entry."""

    def dispatch(self, entry: Address, values: tuple[Any, ...], request: Request) -> None: ...


Scheduler = Callable[[float, Callable[[], None]], bool]  # (unix time, action) -> accepted


@dataclass
class OscSettings:
    reply_port: int = 9000
    allow: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    rate_limit: float = 100_000.0
    rate_burst: float = 20_000.0
    secret: str | None = None
    max_datagram: int = 8192
    max_bundle_depth: int = 4
    max_scheduled: int = 1024
    max_schedule_ahead_seconds: float = 60.0
    debug: bool = False

    @classmethod
    def from_config(cls, osc: Any, *, debug: bool = False, **overrides: Any) -> OscSettings:
        """From the ``osc`` config section (``OscConfig``); keywords override fields."""
        settings = cls(
            reply_port=osc.reply_port,
            allow=tuple(osc.allow),
            rate_limit=osc.rate_limit,
            rate_burst=osc.rate_burst,
            secret=osc.secret,
            max_datagram=osc.max_datagram,
            max_bundle_depth=osc.max_bundle_depth,
            max_scheduled=osc.max_scheduled,
            max_schedule_ahead_seconds=osc.max_schedule_ahead_seconds,
            debug=debug,
        )
        for name, value in overrides.items():
            setattr(settings, name, value)
        return settings


class _Buckets:
    """Token bucket per source address (bounded number of sources, LRU)."""

    def __init__(self, rate: float, burst: float, max_sources: int = 4096) -> None:
        self.rate, self.burst, self.max_sources = rate, burst, max_sources
        self._b: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, source: str, now: float) -> bool:
        tokens, last = self._b.pop(source, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        ok = tokens >= 1.0
        self._b[source] = (tokens - 1.0 if ok else tokens, now)
        if len(self._b) > self.max_sources:
            self._b.popitem(last=False)
        return ok


class OscServer(asyncio.DatagramProtocol):
    def __init__(
        self,
        surface: Surface,
        settings: OscSettings,
        schedule: Scheduler | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.surface = surface
        self.settings = settings
        self.schedule = schedule
        self.clock = clock
        self.counters = OscCounters()
        self.transport: asyncio.DatagramTransport | None = None
        self._networks = [ipaddress.ip_network(n, strict=False) for n in settings.allow]
        self._allowed: dict[str, bool] = {}
        self._buckets = _Buckets(settings.rate_limit, settings.rate_burst)
        self._warn = RateLimitedLog(log)
        self._table = [a for a in TABLE if settings.debug or not a.debug]
        self._by_path = {a.path: a for a in self._table}
        self.waiting = 0  # scheduled messages not yet run

    # ------------------------------------------------------------ transport
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def send_to(self, dest: tuple[str, int], address: str, *args: Any) -> None:
        if self.transport is not None:
            with contextlib.suppress(OSError):
                self.transport.sendto(encode_message(address, *args), dest)

    def _reply_fn(self, peer: tuple[str, int]) -> Callable[..., None]:
        dest = (peer[0], self.settings.reply_port)

        def reply(address: str, *args: Any) -> None:
            self.send_to(dest, address, *args)

        return reply

    # -------------------------------------------------------------- drops
    def _drop(
        self, peer: tuple[str, int], reason: str, address: str = "", *, answer: bool = True
    ) -> None:
        self.counters.dropped += 1
        self.counters.reasons[reason.split(":")[0]] += 1
        self._warn.warning(
            "osc_rejected",
            time.monotonic(),
            peer=f"{peer[0]}:{peer[1]}",
            reason=reason,
            address=address or None,
        )
        if answer:
            self.send_to((peer[0], self.settings.reply_port), "/error", address, reason)

    def _source_allowed(self, host: str) -> bool:
        ok = self._allowed.get(host)
        if ok is None:
            try:
                ip = ipaddress.ip_address(host)
                ok = any(ip in net for net in self._networks)
            except ValueError:
                ok = False
            if len(self._allowed) < 4096:
                self._allowed[host] = ok
        return ok

    # ------------------------------------------------------------ datagrams
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counters.received += 1
        peer = (addr[0], addr[1])
        if not self._source_allowed(peer[0]):
            self._drop(peer, "source not allowed", answer=False)
            return
        if not self._buckets.take(peer[0], time.monotonic()):
            self._drop(peer, "rate limit", answer=False)
            return
        if len(data) > self.settings.max_datagram:
            self._drop(peer, f"oversized packet: {len(data)} > {self.settings.max_datagram} bytes")
            return
        try:
            packet = parse_packet(data, self.settings.max_bundle_depth)
        except OscError as exc:
            self._drop(peer, f"malformed packet: {exc}")
            return
        except Exception as exc:  # the parser must never take the daemon down
            self._drop(peer, f"malformed packet: {type(exc).__name__}")
            return
        if isinstance(packet, Message):
            self._message(packet, peer, None)
        else:
            self._bundle(packet, peer, self.clock())

    def _bundle(self, bundle: Bundle, peer: tuple[str, int], now: float) -> None:
        when = None if bundle.immediate else ntp_to_unix(bundle.timetag)
        if when is not None and when <= now:
            when = None  # due or late: now
        if when is not None and when - now > self.settings.max_schedule_ahead_seconds:
            limit = self.settings.max_schedule_ahead_seconds
            self._drop(peer, f"timetag more than {limit:g} s ahead")
            return
        for el in bundle.elements:
            if isinstance(el, Message):
                self._message(el, peer, when)
            else:
                self._bundle(el, peer, now)

    def _targets(self, msg: Message, peer: tuple[str, int]) -> list[Address] | None:
        address = msg.address
        if len(address) > MAX_ADDRESS:
            self._drop(peer, f"address longer than {MAX_ADDRESS} bytes")
            return None
        entry = self._by_path.get(address)
        if entry is not None:
            return [entry]
        if not is_pattern(address):
            self._drop(peer, "unknown address", address)
            return None
        try:
            found = [a for a in self._table if matches(address, a.path)]
        except PatternError as exc:
            self._drop(peer, f"bad address pattern: {exc}", address)
            return None
        if not found:
            self._drop(peer, "no address matches the pattern", address)
            return None
        if len(found) > MAX_PATTERN_TARGETS:
            self._drop(peer, f"pattern matches more than {MAX_PATTERN_TARGETS} addresses", address)
            return None
        return found

    def _message(self, msg: Message, peer: tuple[str, int], when: float | None) -> None:
        self.counters.messages += 1
        targets = self._targets(msg, peer)
        if targets is None:
            return
        for entry in targets:
            tags, args = msg.typetags, msg.args
            if self.settings.secret is not None and entry.changes_state:
                if not (args and tags[-1:] in ("s", "S")) or not hmac.compare_digest(
                    str(args[-1]).encode(), self.settings.secret.encode()
                ):
                    self._drop(peer, "missing or wrong secret", entry.path)
                    continue
                tags, args = tags[:-1], args[:-1]
            try:
                values = entry.validate(tags, args)
            except OscError as exc:
                self._drop(peer, str(exc), entry.path)
                continue
            request = Request(entry.path, peer, self._reply_fn(peer), self.send_to)
            if when is None:
                self._run(entry, values, request)
            else:
                self._schedule(entry, values, request, when)

    def _schedule(
        self, entry: Address, values: tuple[Any, ...], request: Request, when: float
    ) -> None:
        if self.schedule is None:
            self._run(entry, values, request)
            return
        if self.waiting >= self.settings.max_scheduled:
            self._drop(
                request.peer,
                f"more than {self.settings.max_scheduled} scheduled messages",
                entry.path,
            )
            return

        def action() -> None:
            self.waiting -= 1
            self._run(entry, values, request)

        if self.schedule(when, action):
            self.waiting += 1
            self.counters.scheduled += 1
        else:
            self.counters.late += 1
            self._run(entry, values, request)

    def _run(self, entry: Address, values: tuple[Any, ...], request: Request) -> None:
        try:
            self.surface.dispatch(entry, values, request)
        except (ValueError, KeyError, LookupError) as exc:
            reason = exc.args[0] if exc.args else type(exc).__name__
            self._drop(request.peer, str(reason), entry.path)
            return
        except Exception as exc:  # a handler bug must not stop the daemon
            log.error("osc_handler_failed", address=entry.path, error=repr(exc))
            self._drop(request.peer, f"internal error: {type(exc).__name__}", entry.path)
            return
        self.counters.handled += 1


async def start_osc_server(
    host: str,
    port: int,
    surface: Surface,
    settings: OscSettings,
    schedule: Scheduler | None = None,
    receive_buffer: int = 4 << 20,
) -> tuple[asyncio.DatagramTransport, OscServer]:
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):  # a bigger buffer absorbs bursts (kernel drops otherwise)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            f"cannot listen for OSC on {host}:{port}: {exc.strerror} "
            "(another bassd running? pick another with --set osc.port=N)"
        ) from None
    sock.setblocking(False)
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: OscServer(surface, settings, schedule), sock=sock
    )
    return transport, protocol
