"""The ``group:`` section of the config: the other daemons a scene or state change fans out to.

``peers`` lists them as ``host:port`` (their OSC ports; a DNS name is resolved once at
start). A change recalled here lands on every daemon at the next multiple of
``quantum`` beats on the Link session's beat timeline that is at least ``lead_seconds``
ahead (without Link: ``lead_seconds`` ahead on the wall clock). docs/group.md has the
whole picture.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from pydantic import Field, field_validator

from bassd.control.config import OscConfig
from bassd.engine.config import Strict

_HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?")  # fmt: skip
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")
PEER_EXAMPLE = "e.g. 192.168.1.12:8000, room-b.local:8000 or [fe80::1]:8000"


@dataclass(frozen=True)
class PeerAddress:
    """One ``group.peers`` entry, parsed: ``host`` (an IP literal or a DNS name) and ``port``."""

    host: str
    port: int

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The host as an IP address; None for a DNS name."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_peer(text: str) -> PeerAddress:
    """``host:port`` (IPv6 as ``[addr]:port``) → PeerAddress; ValueError naming the entry."""
    bad = ValueError(f"peer {text!r} is not host:port ({PEER_EXAMPLE})")
    if not isinstance(text, str):
        raise bad
    entry = text.strip()
    if entry.startswith("["):
        host, sep, port = entry[1:].partition("]:")
        if not sep:
            raise bad
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad from None
    else:
        host, sep, port = entry.rpartition(":")
        if not sep or not host or ":" in host:
            raise bad
        if not _HOSTNAME.fullmatch(host):
            raise bad
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"peer {text!r} is not host:port: the port must be 1..65535 "
                         f"({PEER_EXAMPLE})")  # fmt: skip
    return PeerAddress(host, int(port))


class GroupConfig(Strict):
    #: the other daemons (rooms), ``host:port`` of their OSC ports; [] = no group: a scene
    #: or state change applies here at once (a change from a peer is still taken)
    peers: list[str] = Field(default_factory=list)
    quantum: float = Field(4.0, gt=0.0, le=64.0)  # beats: changes land on a multiple of it
    lead_seconds: float = Field(0.2, gt=0.0, le=10.0)  # the boundary is at least this far ahead
    id: str | None = None  # this daemon's name in the group; None: <hostname>:<osc.port>

    @field_validator("peers")
    @classmethod
    def _peers(cls, v: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for entry in v:
            key = str(parse_peer(entry)).lower()
            if key in seen:
                raise ValueError(f"peer {entry!r} is listed twice (also as {seen[key]!r})")
            seen[key] = entry
        return v

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not _ID.fullmatch(v):
            raise ValueError(
                f"id {v!r}: 1..64 letters, digits, '_', '.', ':', '@' or '-' (first a letter "
                "or digit)"
            )
        return v

    def peer_addresses(self) -> list[PeerAddress]:
        return [parse_peer(p) for p in self.peers]


_WILDCARDS = ("0.0.0.0", "::", "")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_group_osc(group: GroupConfig, osc: OscConfig) -> None:
    """The cross-section checks of ``group`` against ``osc``; ValueError naming the entry.

    A peer must not be this daemon itself; a peer beyond loopback cannot reach a daemon
    listening on loopback; a peer given as an IP must be in ``osc.allow`` (its changes
    arrive from that address and would be dropped); with ``osc.keys`` the daemons send
    each other ``osc.secret`` (the admin key), so it must be set.
    """
    if not group.peers:
        return
    networks = [ipaddress.ip_network(n, strict=False) for n in osc.allow]
    here_loopback = _is_loopback(osc.host)
    for entry in group.peers:
        peer = parse_peer(entry)
        same_host = peer.host == osc.host or (
            _is_loopback(peer.host) and (here_loopback or osc.host in _WILDCARDS)
        )
        if same_host and peer.port == osc.port:
            raise ValueError(
                f"group.peers: {entry!r} is this daemon itself (osc.host {osc.host}, "
                f"osc.port {osc.port}); list only the others"
            )
        if here_loopback and not _is_loopback(peer.host):
            raise ValueError(
                f"group.peers: {entry!r} is beyond loopback, but osc.host {osc.host!r} takes "
                "datagrams from this machine only: set osc.host (and osc.allow) so the "
                "peers reach this daemon"
            )
        ip = peer.ip
        if ip is not None and not any(ip in net for net in networks):
            raise ValueError(
                f"group.peers: {entry!r} is not in osc.allow ({', '.join(osc.allow)}): its "
                "changes would be dropped here; add its network"
            )
    if osc.keys and osc.secret is None:
        raise ValueError(
            "group.peers: with osc.keys the daemons send each other osc.secret (the admin "
            "key): set osc.secret, the same on every daemon of the group"
        )
