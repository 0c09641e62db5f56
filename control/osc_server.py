"""OSC over UDP inside the daemon's event loop: the wire, validated against the table.

Every datagram is checked in this order, and a failure at any step drops it,
counts it (by reason), logs it with its peer (rate-limited) and, where the
peer may be answered, replies ``/error s s`` (address, reason):

1. source address in ``osc.allow`` (CIDR) — else dropped silently (no reply);
2. per-source token bucket (``osc.rate_limit``), one token per message: the
   datagram pays for its first, each further message of a bundle for itself —
   else dropped silently;
3. size ≤ ``osc.max_datagram``;
4. strict parse (``control/osc_codec.py``): UTF-8, padding, sizes, bundle depth;
5. each message: address (or OSC pattern, matched in bounded time) in the
   table; the client's key (or the shared secret) on state-changing addresses
   when configured; arity, types and ranges; then the handler.

Keys (``osc.keys``, per client: a key and the address prefixes it may send).
Without keys, ``osc.secret`` (if set) is the one credential: a state-changing
message must carry it as its last string argument, else ``bad_secret``. With
keys, every state-changing message (and every query too with
``osc.keys_for_queries``) must carry a key as its last string argument; the
shared secret, if set, is then the admin key (client ``admin``), allowed every
address. The argument is matched against every key, each compared as a
SHA-256 digest with ``hmac.compare_digest`` and without an early exit, so
neither the time taken nor the length reveals which key (if any) came close;
no key, or one matching none: ``bad_key``. Then the address must lie under
one of that key's prefixes (``/prompt`` permits ``/prompt`` and
``/prompt/next``, not ``/prompts``), else ``key_forbidden``, answered with the
address. The key is stripped before validation, so it never reaches a
handler, a log line, an ``/error`` reply or ``/status``; the key's name goes
to the handler as ``Request.client`` (``None`` for an open query) and to the
log of a ``key_forbidden``. Each pattern target is checked on its own.

Rejections are counted by a fixed code (``control/osc_reasons.py``), so the
counters stay bounded; the detail, which may quote the client, goes only to
the log and the ``/error`` reply. One datagram may cause at most
``max_replies`` replies (``/error`` included): past that, queries are rejected
(``reply_budget``) and a handler's further replies are withheld and counted.
A reply larger than ``max_reply`` bytes is never sent silently short: it is
counted (``reply_too_large``), logged, and the peer gets an ``/error`` instead.
An unexpected exception while handling a datagram is logged with the peer and
counted (``internal_error``); it never reaches the transport, which would
close the socket.

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
import hashlib
import hmac
import ipaddress
import socket
import struct
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from bassd.control import udp_batch
from bassd.control.addresses import TABLE, Address
from bassd.control.config import ADMIN_CLIENT, OscConfig
from bassd.control.osc_codec import (
    Bundle,
    Message,
    OscError,
    _fixed_struct,
    encode_message,
    ntp_to_unix,
    parse_packet,
)
from bassd.control.osc_pattern import PatternError, is_pattern, matches
from bassd.control.osc_reasons import Reason

log = structlog.get_logger("bassd.osc")

MAX_ADDRESS = 256
MAX_PATTERN_TARGETS = 8  # a pattern may fan out to at most this many addresses
MAX_UDP_PAYLOAD = 65507  # the largest IPv4 UDP datagram
MAX_PLANS = 1024  # (address, type tags) headers remembered for the fast path
DRAIN_LIMIT = 256  # datagrams drained per loop wake-up (4 recvmmsg calls of 64)
FLOOD_BATCH = 16  # a drain this large that emptied the socket: pause FLOOD_PAUSE_S
FLOOD_PAUSE_S = 0.001


@dataclass
class OscCounters:
    received: int = 0
    messages: int = 0
    handled: int = 0
    dropped: int = 0  # messages (or datagrams that never became messages) rejected
    scheduled: int = 0
    late: int = 0
    coalesced: int = 0  # validated messages superseded by a later value in the same batch
    batches: int = 0  # receive wake-ups that drained at least one datagram
    batch_max: int = 0  # most datagrams drained in one wake-up
    receiver: str = ""  # recvmmsg or recvfrom (a live socket); "" when fed directly
    #: by code (``Reason``): rejected messages, and replies withheld or not sent
    reasons: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        """These counters as ``/status`` fields."""
        return {
            "osc_received": self.received,
            "osc_handled": self.handled,
            "osc_dropped": self.dropped,
            "osc_scheduled": self.scheduled,
            "osc_coalesced": self.coalesced,
            "osc_batches": self.batches,
            "osc_batch_max": self.batch_max,
            "osc_receiver": self.receiver,
            "osc_rejections": dict(self.reasons),
        }


@dataclass(frozen=True)
class Request:
    """What a handler knows about the message it handles."""

    address: str
    peer: tuple[str, int]
    reply: Callable[..., None]  # reply(address, *args) to the peer's host on the reply port
    send_to: Callable[..., None]  # send_to((host, port), address, *args)
    client: str | None = None  # the name of the key that sent it (osc.keys; "admin": osc.secret)


class Surface(Protocol):
    """The controller: one ``on_<handler>(values, request)`` method per table entry."""

    def dispatch(self, entry: Address, values: tuple[Any, ...], request: Request) -> None: ...


Scheduler = Callable[[float, Callable[[], None]], bool]  # (unix time, action) -> accepted


@dataclass(frozen=True)
class ClientKey:
    """One client's key (``osc.keys.<name>``) and the address prefixes it may send."""

    name: str
    key: str = field(repr=False)
    allow: tuple[str, ...] = ("/",)

    def permits(self, path: str) -> bool:
        """``path`` is one of the prefixes or lies below one (``/prompt`` → ``/prompt/next``)."""
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.allow)


@dataclass
class OscSettings:
    reply_port: int = 9000
    allow: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    rate_limit: float = 100_000.0  # messages per second per source
    rate_burst: float = 20_000.0
    secret: str | None = field(default=None, repr=False)
    keys: tuple[ClientKey, ...] = field(default=(), repr=False)
    keys_for_queries: bool = False
    max_datagram: int = 8192
    max_bundle_depth: int = 4
    max_scheduled: int = 1024
    max_schedule_ahead_seconds: float = 60.0
    max_replies: int = 256  # replies one datagram may cause (/status and /help: one per field)
    max_reply: int = MAX_UDP_PAYLOAD  # bytes of one reply
    debug: bool = False

    @classmethod
    def from_config(cls, osc: OscConfig, *, debug: bool = False, **overrides: Any) -> OscSettings:
        """From the ``osc`` config section (``OscConfig``); keywords override fields."""
        settings = cls(
            reply_port=osc.reply_port,
            allow=tuple(osc.allow),
            rate_limit=osc.rate_limit,
            rate_burst=osc.rate_burst,
            secret=osc.secret,
            keys=tuple(ClientKey(n, k.key, tuple(k.allow)) for n, k in osc.keys.items()),
            keys_for_queries=osc.keys_for_queries,
            max_datagram=osc.max_datagram,
            max_bundle_depth=osc.max_bundle_depth,
            max_scheduled=osc.max_scheduled,
            max_schedule_ahead_seconds=osc.max_schedule_ahead_seconds,
            max_replies=osc.max_replies,
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


class _ReasonLog:
    """Logs each reason code at most once per ``interval`` seconds, with the count held back.

    Keyed by the fixed codes, so a flood of one kind never hides another kind.
    """

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._next: dict[Reason, float] = {}
        self._held: Counter[Reason] = Counter()

    def __call__(self, level: str, event: str, reason: Reason, **kw: object) -> None:
        now = time.monotonic()
        if now < self._next.get(reason, float("-inf")):
            self._held[reason] += 1
            return
        self._next[reason] = now + self.interval
        suppressed = self._held.pop(reason, 0)
        getattr(log, level)(event, reason=reason.value, suppressed=suppressed, **kw)


@dataclass(slots=True)
class _Datagram:
    """One datagram being handled: its peer, whether its first message is paid, its replies."""

    peer: tuple[str, int]
    replies_left: int
    paid: bool = True  # the datagram's token pays for its first message
    withheld: int = 0  # replies not sent because the budget ran out

    @property
    def peer_text(self) -> str:
        return f"{self.peer[0]}:{self.peer[1]}"


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
        self._log = _ReasonLog()
        self._table = [a for a in TABLE if settings.debug or not a.debug]
        self._by_path = {a.path: a for a in self._table}
        keys = list(settings.keys)
        if keys and settings.secret is not None:
            keys.append(ClientKey(ADMIN_CLIENT, settings.secret, ("/",)))
        self._keys = [(k, _digest(k.key)) for k in keys]
        self.waiting = 0  # scheduled messages not yet run
        #: told (address, reason) of every message refused with its address known (the
        #: group counts refused /group/apply datagrams with its own)
        self.on_reject: Callable[[str, str], None] | None = None
        self._coalescable = coalescable(self._table)
        self._plans: dict[bytes, tuple[Address, struct.Struct, tuple[tuple[Any, str], ...]]] = {}
        #: the batch being handled: held set-a-value controls by (peer, address, client)
        self._pending: dict[tuple[Any, ...], _Pending] | None = None
        self._receiver: Any = None  # control/udp_batch.py, on a live socket
        self.drain_limit = DRAIN_LIMIT

    def readable(self) -> int:
        """The socket is readable (``loop.add_reader``): drain at most ``drain_limit``;
        the number drained.

        Bounded, so a flood never holds the loop (the pump) for long: what is left
        waits for the next wake-up, in the kernel's receive buffer.
        """
        if self._receiver is None:
            return 0
        try:
            batch = self._receiver.recv(self.drain_limit, self.error_received)
        except OSError as exc:
            self.error_received(exc)
            return 0
        if batch:
            c = self.counters
            c.batches += 1
            if len(batch) > c.batch_max:
                c.batch_max = len(batch)
            self.datagrams_received(batch)
        return len(batch)

    # ------------------------------------------------------------ transport
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def error_received(self, exc: Exception) -> None:
        """The socket refused a send (the transport reports it here, not to the sender)."""
        self.counters.reasons[Reason.SEND_FAILED] += 1
        self._log("warning", "osc_send_failed", Reason.SEND_FAILED, error=str(exc))

    def send_to(self, dest: tuple[str, int], address: str, *args: Any) -> None:
        """Send one message (a push or a reply); one too large is counted and logged."""
        self._send(dest, address, *args)

    def _send(self, dest: tuple[str, int], address: str, *args: Any) -> bool:
        """Send one message; False (counted and logged) if it is too large to send."""
        data = encode_message(address, *args)
        if len(data) > self.settings.max_reply:
            self.counters.reasons[Reason.REPLY_TOO_LARGE] += 1
            self._log(
                "warning",
                "osc_reply_too_large",
                Reason.REPLY_TOO_LARGE,
                dest=f"{dest[0]}:{dest[1]}",
                address=address,
                size=len(data),
                limit=self.settings.max_reply,
            )
            return False
        if self.transport is not None:
            with contextlib.suppress(OSError):
                self.transport.sendto(data, dest)
        return True

    def _reply_fn(self, dg: _Datagram, origin: str) -> Callable[..., None]:
        """Replies to the peer for a message to ``origin``, within the datagram's budget."""
        dest = (dg.peer[0], self.settings.reply_port)

        def reply(address: str, *args: Any) -> None:
            if dg.replies_left <= 0:
                dg.withheld += 1
                return
            dg.replies_left -= 1
            if not self._send(dest, address, *args) and dg.replies_left > 0:
                dg.replies_left -= 1
                size = len(encode_message(address, *args))
                limit = self.settings.max_reply
                detail = f"reply {address} of {size} bytes is larger than {limit}"
                self._send(dest, "/error", origin, detail)

        return reply

    # -------------------------------------------------------------- drops
    def _drop(
        self,
        dg: _Datagram,
        reason: Reason,
        detail: str,
        address: str = "",
        *,
        answer: bool = True,
        client: str | None = None,
    ) -> None:
        """Count a rejected message by its code; log the detail (and the key's name, never the
        key); answer ``/error``."""
        self.counters.dropped += 1
        self.counters.reasons[reason] += 1
        if self.on_reject is not None and address:
            try:
                self.on_reject(address, reason.value)
            except Exception as exc:  # a listener's bug never stops the drain
                log.error("osc_reject_listener_failed", error=repr(exc))
        self._log(
            "warning",
            "osc_rejected",
            reason,
            peer=dg.peer_text,
            detail=detail,
            address=address or None,
            **({"client": client} if client is not None else {}),
        )
        if answer:
            self._reply_fn(dg, address)("/error", address, detail)

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
        """One datagram (a batch of one: nothing to coalesce it with)."""
        self.datagrams_received([(data, (str(addr[0]), int(addr[1])), len(data))])

    def datagrams_received(self, batch: list[tuple[bytes, tuple[str, int], int]]) -> None:
        """A batch drained in one wake-up: ``(data, (host, port), real length)`` in order.

        Each datagram is counted and checked on its own, exactly as if it came alone;
        then the batch's immediate set-a-value controls are applied (see ``_message``).
        """
        pending = self._pending = {}
        try:
            for data, peer, length in batch:
                self.counters.received += 1
                try:
                    self._datagram(data, peer, length)
                except Exception as exc:  # last resort: never let it stop the drain
                    self._internal_error(peer, exc)
        finally:
            self._pending = None
            if pending:
                self._flush(pending)

    def _internal_error(self, peer: tuple[str, int], exc: Exception) -> None:
        self.counters.dropped += 1
        self.counters.reasons[Reason.INTERNAL_ERROR] += 1
        with contextlib.suppress(Exception):
            self._log(
                "error",
                "osc_internal_error",
                Reason.INTERNAL_ERROR,
                peer=f"{peer[0]}:{peer[1]}",
                error=repr(exc),
            )

    def _flush(self, pending: dict[tuple[Any, ...], _Pending]) -> None:
        """Apply the held controls, each the latest value of its (peer, address, client)."""
        items = list(pending.values())
        pending.clear()
        for entry, values, client, dg in items:
            try:
                self._run(entry, values, self._request(entry, dg, client), dg)
            except Exception as exc:  # _run catches handler errors; this is a last resort
                self._internal_error(dg.peer, exc)

    def _datagram(self, data: bytes, peer: tuple[str, int], length: int) -> None:
        dg = _Datagram(peer, self.settings.max_replies)
        if not self._source_allowed(peer[0]):
            self._drop(dg, Reason.NOT_ALLOWED, "source not allowed", answer=False)
            return
        if not self._buckets.take(peer[0], time.monotonic()):
            self._drop(dg, Reason.RATE_LIMITED, "rate limit", answer=False)
            return
        if length > self.settings.max_datagram:
            detail = f"oversized packet: {length} > {self.settings.max_datagram} bytes"
            self._drop(dg, Reason.OVERSIZED, detail)
            return
        plans = self._plans
        if plans:  # a message whose address and type tags were seen before (see _plan)
            a = data.find(b"\0")
            t = data.find(b"\0", (a + 4) & ~3) if a > 0 else -1
            if t > 0:
                end = (t + 4) & ~3
                plan = plans.get(data[:end])
                if plan is not None and len(data) == end + plan[1].size:
                    entry, fixed, steps = plan
                    self.counters.messages += 1
                    dg.paid = False  # the first message rides on the datagram's token
                    path = entry.path
                    try:
                        if len(steps) == 1:  # the common case: one value
                            spec, tag = steps[0]
                            values = (spec.convert(tag, fixed.unpack_from(data, end)[0], path),)
                        else:
                            args = fixed.unpack_from(data, end)
                            values = tuple(
                                spec.convert(tag, v, path)
                                for (spec, tag), v in zip(steps, args, strict=True)
                            )
                    except OscError as exc:
                        self._drop(dg, exc.reason, str(exc), path)
                        return
                    self._accept(entry, values, dg, None, None, True)
                    return
        try:
            packet = parse_packet(data, self.settings.max_bundle_depth)
        except OscError as exc:
            self._drop(dg, Reason.MALFORMED, f"malformed packet: {exc}")
            return
        if isinstance(packet, Message):
            self._message(packet, dg, None, bare=True)
            self._plan(packet, data)
        else:
            self._bundle(packet, dg, self.clock())

    def _plan(self, msg: Message, data: bytes) -> None:
        """Remember how to check a bare message like ``msg`` without parsing it again.

        Only where the general path would do exactly this: an exact table address that
        changes state, no key or secret in play (those carry a string), numeric
        fixed-size arguments only, and an arity the address accepts. The plan is keyed by
        the datagram's header bytes (address and type tags, padded): a later datagram
        with the same header and the right length parses to the same address and tags by
        construction, so only its arguments are unpacked (one struct) and converted by
        the same ``Arg.convert`` as ``Address.validate``. Bounded (``MAX_PLANS``).
        """
        if len(self._plans) >= MAX_PLANS or self._keys or self.settings.secret is not None:
            return
        entry = self._by_path.get(msg.address)
        tags = msg.typetags
        if (
            entry is None
            or not entry.changes_state
            or not tags
            or any(t not in "ifdh" for t in tags)
            or not entry.min_args <= len(tags) <= entry.max_args
        ):
            return
        fixed = _fixed_struct(tags)
        if fixed is None:
            return
        specs = entry.args
        steps = tuple((specs[min(i, len(specs) - 1)], t) for i, t in enumerate(tags))
        self._plans[data[: len(data) - fixed.size]] = (entry, fixed, steps)

    def _bundle(self, bundle: Bundle, dg: _Datagram, now: float) -> None:
        when = None if bundle.immediate else ntp_to_unix(bundle.timetag)
        if when is not None and when <= now:
            when = None  # due or late: now
        if when is not None and when - now > self.settings.max_schedule_ahead_seconds:
            limit = self.settings.max_schedule_ahead_seconds
            self._drop(dg, Reason.TOO_FAR_AHEAD, f"timetag more than {limit:g} s ahead")
            return
        for el in bundle.elements:
            if isinstance(el, Message):
                self._message(el, dg, when)
            else:
                self._bundle(el, dg, now)

    def _targets(self, msg: Message, dg: _Datagram) -> list[Address] | None:
        address = msg.address
        if len(address) > MAX_ADDRESS:
            self._drop(dg, Reason.BAD_PATTERN, f"address longer than {MAX_ADDRESS} bytes")
            return None
        entry = self._by_path.get(address)
        if entry is not None:
            return [entry]
        if not is_pattern(address):
            self._drop(dg, Reason.UNKNOWN_ADDRESS, "unknown address", address)
            return None
        try:
            found = [a for a in self._table if matches(address, a.path)]
        except PatternError as exc:
            self._drop(dg, Reason.BAD_PATTERN, f"bad address pattern: {exc}", address)
            return None
        if not found:
            self._drop(dg, Reason.UNKNOWN_ADDRESS, "no address matches the pattern", address)
            return None
        if len(found) > MAX_PATTERN_TARGETS:
            detail = f"pattern matches more than {MAX_PATTERN_TARGETS} addresses"
            self._drop(dg, Reason.BAD_PATTERN, detail, address)
            return None
        return found

    def _message(
        self, msg: Message, dg: _Datagram, when: float | None, *, bare: bool = False
    ) -> None:
        """Check one message and run it; ``bare``: a datagram of its own (not in a bundle).

        Coalescing: a bare message to a set-a-value address (``COALESCABLE``) is fully
        checked and validated, then held until the end of the batch under
        (peer, address, client); a later one under the same key replaces it, so the
        controller sees only the latest value. The one replaced counts as handled (it
        was accepted; its value was overtaken) and in ``coalesced``: the controller ran
        ``handled - coalesced`` times. Any other message
        that gets as far as running (a trigger, a query, a bundle's message) first applies
        everything held, so no reply or trigger ever sees state older than it should.
        """
        self.counters.messages += 1
        if dg.paid:
            dg.paid = False  # the first message rides on the datagram's token
        elif not self._buckets.take(dg.peer[0], time.monotonic()):
            self._drop(
                dg, Reason.RATE_LIMITED, "rate limit", msg.address[:MAX_ADDRESS], answer=False
            )
            return
        targets = self._targets(msg, dg)
        if targets is None:
            return
        for entry in targets:
            tags, args = msg.typetags, msg.args
            client: str | None = None
            if self._keys and (entry.changes_state or self.settings.keys_for_queries):
                key = self._match(str(args[-1]) if tags[-1:] in ("s", "S") else None)
                if key is None:
                    self._drop(dg, Reason.BAD_KEY, "missing or wrong key", entry.path)
                    continue
                if not key.permits(entry.path):
                    detail = f"this key may not send {entry.path}"
                    self._drop(dg, Reason.KEY_FORBIDDEN, detail, entry.path, client=key.name)
                    continue
                client, tags, args = key.name, tags[:-1], args[:-1]
            elif self.settings.secret is not None and entry.changes_state:
                if not (args and tags[-1:] in ("s", "S")) or not hmac.compare_digest(
                    str(args[-1]).encode(), self.settings.secret.encode()
                ):
                    self._drop(dg, Reason.BAD_SECRET, "missing or wrong secret", entry.path)
                    continue
                client, tags, args = ADMIN_CLIENT, tags[:-1], args[:-1]
            try:
                values = entry.validate(tags, args)
            except OscError as exc:
                self._drop(dg, exc.reason, str(exc), entry.path)
                continue
            if not entry.changes_state and dg.replies_left <= 0:
                detail = f"more than {self.settings.max_replies} replies to one datagram"
                self._drop(dg, Reason.REPLY_BUDGET, detail, entry.path, answer=False)
                continue
            self._accept(entry, values, dg, client, when, bare)

    def _accept(
        self,
        entry: Address,
        values: tuple[Any, ...],
        dg: _Datagram,
        client: str | None,
        when: float | None,
        bare: bool,
    ) -> None:
        """A message that passed every check: hold it (coalescing), run it or schedule it."""
        pending = self._pending
        if pending is not None:
            if bare and entry.path in self._coalescable:
                key = (dg.peer, entry.path, client)
                if pending.pop(key, None) is not None:  # handled: superseded
                    self.counters.coalesced += 1
                    self.counters.handled += 1
                pending[key] = (entry, values, client, dg)  # at its latest position
                return
            if pending:
                self._flush(pending)
        request = self._request(entry, dg, client)
        if when is None:
            self._run(entry, values, request, dg)
        else:
            self._schedule(entry, values, request, dg, when)

    def _request(self, entry: Address, dg: _Datagram, client: str | None) -> Request:
        reply = self._reply_fn(dg, entry.path)
        return Request(entry.path, dg.peer, reply, self.send_to, client)

    def _match(self, given: str | None) -> ClientKey | None:
        """The key ``given`` is, compared with every key in constant time; None if none."""
        if given is None:
            return None
        digest = _digest(given)
        found = None
        for key, expected in self._keys:  # no early exit: every key is compared
            same = hmac.compare_digest(digest, expected)
            found = key if same else found
        return found

    def _schedule(
        self,
        entry: Address,
        values: tuple[Any, ...],
        request: Request,
        dg: _Datagram,
        when: float,
    ) -> None:
        if self.schedule is None:
            self._run(entry, values, request, dg)
            return
        if self.waiting >= self.settings.max_scheduled:
            detail = f"more than {self.settings.max_scheduled} scheduled messages"
            self._drop(dg, Reason.SCHEDULE_FULL, detail, entry.path)
            return

        def action() -> None:
            self.waiting -= 1
            self._run(entry, values, request, dg)

        if self.schedule(when, action):
            self.waiting += 1
            self.counters.scheduled += 1
        else:
            self.counters.late += 1
            self._run(entry, values, request, dg)

    def _run(
        self, entry: Address, values: tuple[Any, ...], request: Request, dg: _Datagram
    ) -> None:
        withheld = dg.withheld
        try:
            self.surface.dispatch(entry, values, request)
        except (ValueError, LookupError) as exc:  # the handler refused the values
            detail = exc.args[0] if exc.args else type(exc).__name__
            self._drop(dg, Reason.HANDLER_ERROR, str(detail), entry.path)
            return
        except Exception as exc:  # a handler bug must not stop the daemon
            self._drop(
                dg, Reason.INTERNAL_ERROR, f"internal error: {type(exc).__name__}", entry.path
            )
            log.error("osc_handler_failed", address=entry.path, peer=dg.peer_text, error=repr(exc))
            return
        finally:
            if dg.withheld > withheld:  # the handler's replies ran past the budget
                self.counters.reasons[Reason.REPLY_BUDGET] += 1
                self._log(
                    "warning",
                    "osc_replies_withheld",
                    Reason.REPLY_BUDGET,
                    peer=dg.peer_text,
                    address=entry.path,
                    withheld=dg.withheld - withheld,
                )
        self.counters.handled += 1


_Pending = tuple[Address, tuple[Any, ...], str | None, _Datagram]

#: groups whose numeric messages are samples or events, each one meaningful on its own
#: (a heart-rate sample, an RR interval, a contact change): never coalesced
NOT_COALESCED_GROUPS = frozenset({"heart rate"})


def coalescable(table: tuple[Address, ...] | list[Address]) -> frozenset[str]:
    """The addresses that set a value and nothing else, so only the latest one counts.

    From the table: state-changing, a fixed number of numeric arguments (no optional
    or repeated one: those are triggers with options or lists), no string argument
    (a name picks what to set: ``/adapter/blend name w``), not a sample stream.
    Triggers (no arguments), queries and everything else are never coalesced.
    """
    return frozenset(
        a.path
        for a in table
        if a.changes_state
        and not a.debug
        and a.args
        and a.group not in NOT_COALESCED_GROUPS
        and all(x.type in ("f", "i") and not x.optional and x.repeat == 1 for x in a.args)
    )


def _digest(text: str) -> bytes:
    """SHA-256 of a key: digests of equal length, so comparing them reveals no key's length."""
    return hashlib.sha256(text.encode()).digest()


class UdpTransport(asyncio.DatagramTransport):
    """The OSC socket on the loop: reads by ``add_reader`` (batches), writes at once.

    A send the kernel refuses for now (``EAGAIN``: the send buffer is full) is queued
    (bounded: ``MAX_QUEUED`` datagrams) and written when the socket is writable, as
    asyncio's own transport does; past the bound it is counted as ``send_failed``.
    """

    MAX_QUEUED = 4096

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, server: OscServer
    ) -> None:
        super().__init__({"socket": sock, "sockname": sock.getsockname()})
        self._loop, self._sock, self._server = loop, sock, server
        self._queue: deque[tuple[bytes, Any]] = deque()
        self._closing = False
        self._paused: asyncio.TimerHandle | None = None
        loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        """Drain; after a busy drain (a flood), read again only ``FLOOD_PAUSE_S`` later.

        In a flood the loop would otherwise wake for every few datagrams (it iterates
        for the pump's timers too), paying the wake-up, a system call and one applied
        control per handful of messages; pausing the reader for a millisecond lets the
        kernel gather the next batch (100 datagrams at 100k/s, far below the 4 MiB
        buffer's ~10,000), so more of it is coalesced. A drain that hit the limit (a
        backlog) goes on at once; one below ``FLOOD_BATCH`` (light traffic) never waits.
        """
        n = self._server.readable()
        if FLOOD_BATCH <= n < self._server.drain_limit and not self._closing:
            fd = self._sock.fileno()
            self._loop.remove_reader(fd)
            self._paused = self._loop.call_later(FLOOD_PAUSE_S, self._resume)

    def _resume(self) -> None:
        self._paused = None
        if not self._closing:
            self._loop.add_reader(self._sock.fileno(), self._readable)

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self._closing:
            return
        if self._queue:
            self._enqueue(bytes(data), addr)
            return
        try:
            self._sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            self._enqueue(bytes(data), addr)
            self._loop.add_writer(self._sock.fileno(), self._write_ready)
        except OSError as exc:
            self._server.error_received(exc)

    def _enqueue(self, data: bytes, addr: Any) -> None:
        if len(self._queue) >= self.MAX_QUEUED:
            self._server.error_received(OSError("send queue full: datagram not sent"))
            return
        self._queue.append((data, addr))

    def _write_ready(self) -> None:
        while self._queue:
            data, addr = self._queue[0]
            try:
                self._sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._server.error_received(exc)
            self._queue.popleft()
        self._loop.remove_writer(self._sock.fileno())

    def get_write_buffer_size(self) -> int:
        return len(self._queue)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._paused is not None:
            self._paused.cancel()
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self._sock.fileno())
            self._loop.remove_writer(self._sock.fileno())
        self._queue.clear()
        self._sock.close()
        self._server.connection_lost(None)

    def abort(self) -> None:
        self.close()


async def start_osc_server(
    host: str,
    port: int,
    surface: Surface,
    settings: OscSettings,
    schedule: Scheduler | None = None,
    receive_buffer: int = 4 << 20,
    *,
    receive: str = "auto",
) -> tuple[asyncio.DatagramTransport, OscServer]:
    """Listen on ``host:port``: the socket on the loop, drained in batches.

    ``receive``: ``auto`` (``recvmmsg`` through ``bassd.control._udpbatch`` where it is
    built and the platform has it, else ``recvfrom``), ``recvmmsg`` or ``recvfrom``.
    """
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
    server = OscServer(surface, settings, schedule)
    try:
        server._receiver = udp_batch.receiver(sock, settings.max_datagram, prefer=receive)
        server.counters.receiver = server._receiver.kind
        transport = UdpTransport(loop, sock, server)
    except BaseException:
        sock.close()
        raise
    server.connection_made(transport)
    return transport, server
