"""The group: a scene or state change made here lands on every daemon of the group at one beat.

A performer's ``/scene``, ``/scene/surprise`` (drawn here first, so every daemon recalls
the same scene), ``/state/force`` and ``/state/auto`` are not applied at once when
``group.peers`` lists other daemons. :meth:`GroupSync.originate` picks the target: on
the Ableton Link session's beat timeline (the jam's Link, ``jam.link``) the next
multiple of ``group.quantum`` beats at least ``group.lead_seconds`` ahead; it sends
every peer one ``/group/apply`` datagram and schedules the change here on the sample
clock at that beat. A receiver (:meth:`GroupSync.receive`) converts the beat to its own
wall time through its own Link session and schedules it the same way; a change from a
peer is never sent on (no loops), and one whose moment has passed is applied at once
and counted late.

Link aligns the peers' *phase* (the beat modulo the Link quantum), not the beat
numbers: two peers' beat values differ by a whole number of Link quanta. So the
message carries the origin's target beat and the origin's beat when it sent it; the
receiver adds to its own beat now the beats the target lay ahead, and snaps the
difference between the two timelines to whole Link quanta (:func:`local_beat`), which
absorbs the datagram's transit time (anything under half a quantum). Without Link on
either side the target is a wall-clock moment (``time.time()``) carried in the
message: the machines are assumed NTP-synchronised.

Every decision is a row of ``events.csv`` (``group_sent``, ``group_received``,
``group_applied``, ``group_rejected``), and ``/status`` carries the counts. A malformed
or unknown change from a peer is logged, counted and refused; nothing here raises into
the pump (a failed apply is logged and counted).
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from bassd.control.group_config import GroupConfig, PeerAddress
from bassd.control.osc_codec import Double

log = structlog.get_logger("bassd.group")

APPLY_ADDRESS = "/group/apply"
#: the changes that fan out, and whether each takes a value
FAN_OUT: dict[str, bool] = {"/scene": True, "/state/force": True, "/state/auto": False}
MAX_AHEAD_SECONDS = 60.0  # a target further ahead than this is refused (a clock far off)
REJECT_LOG_SECONDS = 1.0  # a rejection reason is logged (and recorded) at most this often
RESOLVE_RETRY_SECONDS = 5.0  # a peer whose name did not resolve is tried again this often
LINK, WALL = "link", "wall"


class LinkLike(Protocol):
    """What the group reads of an ``aalink.Link`` (each read is non-blocking)."""

    @property
    def beat(self) -> float: ...
    @property
    def tempo(self) -> float: ...
    @property
    def quantum(self) -> float: ...


# --------------------------------------------------------------------- pure parts
def target_beat(beat_now: float, tempo: float, quantum: float, lead_s: float) -> float:
    """The first multiple of ``quantum`` at least ``lead_s`` seconds after ``beat_now``."""
    earliest = beat_now + lead_s * tempo / 60.0
    return math.ceil(earliest / quantum - 1e-9) * quantum


def beat_to_time(beat: float, beat_now: float, tempo: float, now: float) -> float:
    """The wall time (``now``'s clock) of ``beat``, with ``beat_now`` read at ``now``."""
    return now + (beat - beat_now) * 60.0 / tempo


def local_beat(origin_target: float, origin_sent: float, beat_now: float, link_q: float) -> float:
    """The origin's target beat on this peer's own Link timeline.

    The origin sent at its beat ``origin_sent`` a target ``origin_target``; this peer reads
    ``beat_now`` on receiving it. Link keeps the two timelines a whole number of Link
    quanta (``link_q``) apart, and the transit time (a few ms) is far under half a
    quantum, so the offset rounds to the exact whole number.
    """
    offset = link_q * round((beat_now - origin_sent) / link_q)
    return origin_target + offset


@dataclass(frozen=True)
class Target:
    """When a change lands: on the Link timeline (``clock`` link) or on the wall clock."""

    clock: str  # "link" or "wall"
    at: float  # wall time (time.time()) of the moment
    beat: float = 0.0  # the origin's target beat (link)
    sent: float = 0.0  # the origin's beat when it sent the change (link)


@dataclass(frozen=True)
class Change:
    """One ``/group/apply``: who sent it, where it lands, what it changes."""

    origin: str
    target: Target
    address: str
    value: str | None

    def args(self, secret: str | None = None) -> tuple[Any, ...]:
        """The message's arguments (floats as OSC doubles: a unix time needs 64 bits)."""
        t = self.target
        out: list[Any] = [self.origin, t.clock, Double(t.at), Double(t.beat), Double(t.sent),
                          self.address]  # fmt: skip
        if self.value is not None:
            out.append(self.value)
        if secret is not None:
            out.append(secret)
        return tuple(out)


class GroupRejected(ValueError):
    """A ``/group/apply`` refused: ``reason`` is a fixed code, the message its detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def parse_change(values: tuple[Any, ...]) -> Change:
    """A validated ``/group/apply`` (the address table has checked types) → Change."""
    if len(values) not in (6, 7):
        raise GroupRejected("malformed", f"takes 6 or 7 arguments, got {len(values)}")
    origin, clock, at, beat, sent, address = values[:6]
    value = values[6] if len(values) == 7 else None
    if clock not in (LINK, WALL):
        raise GroupRejected("malformed", f"clock {clock!r} is not link or wall")
    if not all(isinstance(x, float) and math.isfinite(x) for x in (at, beat, sent)):
        raise GroupRejected("malformed", "at, beat and sent must be finite numbers")
    if address not in FAN_OUT:
        raise GroupRejected(
            "unknown_address", f"{address!r} does not fan out (only {', '.join(FAN_OUT)})"
        )
    if FAN_OUT[address] != (value is not None):
        want = "a value" if FAN_OUT[address] else "no value"
        raise GroupRejected("malformed", f"{address} takes {want}")
    return Change(str(origin), Target(clock, at, beat, sent), address, value)


# ------------------------------------------------------------------ the group
Send = Callable[[tuple[str, int], str, tuple[Any, ...]], None]  # (dest, address, args)
Schedule = Callable[[float, Callable[[], None]], bool]  # (unix time, action) -> queued
Apply = Callable[[str, str | None, str], None]  # (address, value, how): the change itself
Check = Callable[[str, str | None], None]  # ValueError if this daemon cannot apply it
Record = Callable[[str, object, str], None]  # (kind, value, detail) -> events.csv
Heard = Callable[[], tuple[int, float]]  # (engine frame, wall time it is heard)


class GroupSync:
    """This daemon's part of the group: fans changes out, takes them in, applies them."""

    def __init__(
        self,
        config: GroupConfig,
        *,
        self_id: str,
        link: Callable[[], LinkLike | None],
        send: Send,
        schedule: Schedule,
        apply: Apply,
        check: Check,
        record: Record,
        heard: Heard | None = None,
        clock: Callable[[], float] = time.time,
        secret: str | None = None,
    ) -> None:
        self.config = config
        self.id = self_id
        self._link = link
        self._send = send
        self._schedule = schedule
        self._apply = apply
        self._check = check
        self._record = record
        self._heard = heard
        self._clock = clock
        self._secret = secret
        self.wanted: list[PeerAddress] = config.peer_addresses()
        self.peers: dict[PeerAddress, tuple[str, int]] = {}  # resolved: IP and port
        self.sent = 0  # changes fanned out (each to every resolved peer)
        self.datagrams = 0
        self.received = 0
        self.late = 0
        self.rejected = 0
        self.applied = 0
        self.failed = 0  # applies that raised (logged; the music plays on)
        self.last_lag_ms: float | None = None
        self._reject_next: dict[str, float] = {}  # reason -> when it may be logged again
        self._reject_held: dict[str, int] = {}

    # -------------------------------------------------------------- peers
    @property
    def fans_out(self) -> bool:
        """Changes go to the group (peers are configured) rather than straight here."""
        return bool(self.wanted)

    def use_addresses(self, resolved: dict[PeerAddress, tuple[str, int]]) -> None:
        self.peers.update(resolved)

    async def resolve(self, family: int = socket.AF_INET) -> None:
        """Resolve every peer's name once (``getaddrinfo`` off the loop's thread); the
        ones that fail are logged and tried again every RESOLVE_RETRY_SECONDS."""
        loop = asyncio.get_running_loop()
        while True:
            for peer in [p for p in self.wanted if p not in self.peers]:
                try:
                    infos = await loop.getaddrinfo(
                        peer.host, peer.port, family=family, type=socket.SOCK_DGRAM
                    )
                except (OSError, UnicodeError) as exc:
                    log.warning("group_peer_unresolved", peer=str(peer), error=str(exc))
                    continue
                ip, port = str(infos[0][4][0]), int(infos[0][4][1])
                self.peers[peer] = (ip, port)
                log.info("group_peer", peer=str(peer), address=f"{ip}:{port}")
            if len(self.peers) == len(self.wanted):
                return
            await asyncio.sleep(RESOLVE_RETRY_SECONDS)

    # ------------------------------------------------------------- timing
    def link(self) -> LinkLike | None:
        try:
            return self._link()
        except Exception:  # a Link going away: the wall clock then
            return None

    def choose_target(self) -> Target:
        """Where a change made now lands (the origin's choice)."""
        now = self._clock()
        cfg = self.config
        link = self.link()
        if link is not None:
            beat, tempo = float(link.beat), float(link.tempo)
            if tempo > 0 and math.isfinite(beat):
                b = target_beat(beat, tempo, cfg.quantum, cfg.lead_seconds)
                return Target(LINK, beat_to_time(b, beat, tempo, now), b, beat)
        return Target(WALL, now + cfg.lead_seconds)

    def _local(self, target: Target) -> tuple[float, float | None]:
        """(wall time, beat on this daemon's Link timeline or None) of a received target."""
        link = self.link()
        if target.clock == LINK and link is not None:
            beat, tempo, q = float(link.beat), float(link.tempo), float(link.quantum)
            if tempo > 0 and q > 0 and math.isfinite(beat):
                b = local_beat(target.beat, target.sent, beat, q)
                return beat_to_time(b, beat, tempo, self._clock()), b
        return target.at, None

    def _beat_at(self, t: float) -> float | None:
        link = self.link()
        if link is None:
            return None
        beat, tempo = float(link.beat), float(link.tempo)
        return beat + (t - self._clock()) * tempo / 60.0

    # ------------------------------------------------------------ origin
    def originate(self, address: str, value: str | None, how: str = "") -> Target:
        """A performer's change: to every peer, and here at the same beat."""
        target = self.choose_target()
        change = Change(self.id, target, address, value)
        to = []
        args = change.args(self._secret)
        for peer, dest in self.peers.items():
            try:
                self._send(dest, APPLY_ADDRESS, args)
            except Exception as exc:  # a refused send: that room misses it, the others not
                log.warning("group_send_failed", peer=str(peer), error=repr(exc))
                continue
            self.datagrams += 1
            to.append(str(peer))
        self.sent += 1
        missing = [str(p) for p in self.wanted if p not in self.peers]
        detail = {"to": to, **({"unresolved": missing} if missing else {}),
                  **self._target_fields(target), "value": value}  # fmt: skip
        self._record("group_sent", address, json.dumps(detail, sort_keys=True))
        log.info("group_sent", address=address, value=value, to=to, **self._target_fields(target))
        local_b = target.beat if target.clock == LINK else None
        self._land(change, target.at, local_b, how or "group")
        return target

    # ----------------------------------------------------------- receiver
    def receive(self, values: tuple[Any, ...], peer: tuple[str, int]) -> None:
        """A ``/group/apply`` from a peer: checked, placed on this daemon's clock, never
        sent on. GroupRejected (counted, logged, recorded) for a change refused."""
        source = f"{peer[0]}:{peer[1]}"
        try:
            change = parse_change(values)
            if change.origin == self.id:
                raise GroupRejected("own_change", f"a change from this daemon ({self.id}) itself")
            try:
                self._check(change.address, change.value)
            except (ValueError, LookupError) as exc:
                raise GroupRejected("refused", str(exc)) from None
            at, b = self._local(change.target)
            now = self._clock()
            if at - now > MAX_AHEAD_SECONDS:
                raise GroupRejected(
                    "too_far_ahead", f"lands {at - now:.1f} s ahead (more than "
                    f"{MAX_AHEAD_SECONDS:g} s: are the clocks synchronised?)"
                )  # fmt: skip
        except GroupRejected as exc:
            self.reject(exc.reason, str(exc), source)
            raise
        self.received += 1
        early = at - now
        detail = {"from": change.origin, "peer": source, "early_s": round(early, 6),
                  "late": early <= 0, **self._target_fields(change.target),
                  "local_beat": b, "local_at": round(at, 6), "value": change.value}  # fmt: skip
        self._record("group_received", change.address, json.dumps(detail, sort_keys=True))
        log.info("group_received", address=change.address, origin=change.origin, peer=source,
                 early_ms=round(early * 1e3, 3), beat=change.target.beat, local_beat=b)  # fmt: skip
        self._land(change, at, b, f"group: from {change.origin}")

    def reject(self, reason: str, detail: str, source: str = "") -> None:
        """Count, log and record one refused change (also the wire's: the OSC server's).

        Counted every time; logged and recorded at most once a second per reason (with
        how many were held back), so a peer's flood never floods the log or the disk."""
        self.rejected += 1
        now = time.monotonic()
        if now < self._reject_next.get(reason, -math.inf):
            self._reject_held[reason] = self._reject_held.get(reason, 0) + 1
            return
        self._reject_next[reason] = now + REJECT_LOG_SECONDS
        held = self._reject_held.pop(reason, 0)
        log.warning("group_rejected", reason=reason, detail=detail, peer=source or None,
                    suppressed=held)  # fmt: skip
        fields = {"peer": source, "detail": detail, **({"suppressed": held} if held else {})}
        self._record("group_rejected", reason, json.dumps(fields))

    def wire_rejected(self, address: str, reason: str) -> None:
        """The OSC server refused a datagram to ``address`` before the group saw it
        (arity, types, size, source ...): counted with the group's own rejections."""
        if address == APPLY_ADDRESS and reason != "handler_error":  # the group's own
            self.reject(reason, "refused by the OSC server (see osc_rejected)")

    # ----------------------------------------------------------- landing
    def _land(self, change: Change, at: float, local_b: float | None, how: str) -> None:
        """Schedule the change on the sample clock at ``at``; applied at once if that has
        passed (or its block is rendered already): counted late."""

        def action() -> None:
            self._applied(change, at, local_b, how, late=False)

        if at > self._clock() and self._schedule(at, action):
            return
        self.late += 1
        self._applied(change, at, local_b, how, late=True)

    def _applied(
        self, change: Change, at: float, local_b: float | None, how: str, *, late: bool
    ) -> None:
        try:
            self._apply(change.address, change.value, how)
        except Exception as exc:  # never into the pump: the music plays on
            self.failed += 1
            log.error("group_apply_failed", address=change.address, value=change.value,
                      origin=change.origin, error=repr(exc))  # fmt: skip
            self.reject("apply_failed", f"{change.address} {change.value}: {exc}")
            return
        self.applied += 1
        fields: dict[str, Any] = {"origin": change.origin, "late": late,
                                  "beat": change.target.beat if change.target.clock == LINK
                                  else None, "local_beat": local_b, "at": round(at, 6),
                                  "clock": change.target.clock if local_b is not None
                                  else WALL, "value": change.value}  # fmt: skip
        if self._heard is not None:
            frame, heard_t = self._heard()
            lag = heard_t - at
            self.last_lag_ms = round(lag * 1e3, 3)
            heard_beat = self._beat_at(heard_t)
            fields.update(frame=frame, heard_t=round(heard_t, 6), lag_s=round(lag, 6),
                          heard_beat=heard_beat,
                          lag_beats=(heard_beat - local_b) if heard_beat is not None
                          and local_b is not None else None)  # fmt: skip
        self._record("group_applied", change.address, json.dumps(fields, sort_keys=True))

    @staticmethod
    def _target_fields(t: Target) -> dict[str, Any]:
        if t.clock == LINK:
            return {"clock": LINK, "beat": t.beat, "sent_beat": t.sent, "at": round(t.at, 6)}
        return {"clock": WALL, "at": round(t.at, 6)}

    # ------------------------------------------------------------ figures
    def figures(self) -> dict[str, Any]:
        """What /status reports of the group."""
        return {
            "group_id": self.id,
            "group_peers": len(self.peers),
            "group_clock": LINK if self.link() is not None else WALL,
            "group_sent": self.sent,
            "group_received": self.received,
            "group_applied": self.applied,
            "group_late": self.late,
            "group_rejected": self.rejected,
            "group_lag_ms": self.last_lag_ms,
        }
