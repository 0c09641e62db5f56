"""The control plane's configuration sections: OSC server and control behaviour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field, field_validator, model_validator

from bassd.control.hr import HrConfig
from bassd.control.prompt_schema import PromptsConfig
from bassd.control.steering import EmotionConfig, ScenesConfig
from bassd.engine.config import Strict

ADMIN_CLIENT = "admin"  # the client name of the shared secret (osc.secret) when keys are set
MIN_KEY_LENGTH = 16
_CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PATTERN_CHARS = frozenset("*?[]{}#, ")


class OscKey(Strict):
    """One client's API key (``osc.keys.<name>``) and the address prefixes it may send.

    A prefix permits that address and the addresses below it: ``/prompt`` permits
    ``/prompt`` and ``/prompt/next``, not ``/prompts``; ``/`` permits everything.
    Validation errors never quote the key.
    """

    key: str = Field(repr=False)
    allow: list[str]

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError("the key must be a string (quote it in YAML)")
        if len(v) < MIN_KEY_LENGTH:
            raise ValueError(
                f"the key needs at least {MIN_KEY_LENGTH} characters (this one has {len(v)})"
            )
        if "\x00" in v or v != v.strip():
            raise ValueError("the key may not contain NUL or begin or end with whitespace")
        return v

    @field_validator("allow")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("list at least one address prefix (e.g. ['/prompt', '/status'])")
        for prefix in v:
            if not prefix.startswith("/"):
                raise ValueError(f"address prefix {prefix!r} does not start with '/'")
            if prefix != "/" and prefix.endswith("/"):
                raise ValueError(f"address prefix {prefix!r} ends with '/' (write it without)")
            bad = sorted(_PATTERN_CHARS & set(prefix))
            if bad:
                raise ValueError(
                    f"address prefix {prefix!r} contains {''.join(bad)!r}: "
                    "prefixes are plain addresses, not OSC patterns"
                )
        return v


class OscConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    reply_port: int = Field(9000, ge=1, le=65535)
    allow: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    rate_limit: float = Field(100_000.0, gt=0.0)  # messages per second per source address
    rate_burst: float = Field(20_000.0, ge=1.0)
    secret: str | None = None  # required (last string argument) on state-changing messages
    #: per-client API keys: name -> {key, allow: [address prefixes]}; when set, every
    #: state-changing message carries one as its last string argument (osc.secret, if set,
    #: is then the admin key, allowed everything)
    keys: dict[str, OscKey] = Field(default_factory=dict)
    keys_for_queries: bool = False  # with keys: queries (/status, /help, ...) need a key too
    max_datagram: int = Field(8192, ge=64, le=65507)
    max_bundle_depth: int = Field(4, ge=1, le=16)
    max_scheduled: int = Field(1024, ge=0, le=100_000)
    max_replies: int = Field(256, ge=16, le=1024)  # replies one datagram may cause (/help: 67)
    max_schedule_ahead_seconds: float = Field(60.0, gt=0.0, le=3600.0)
    push_hz: float = Field(10.0, gt=0.0, le=100.0)
    subscription_seconds: float = Field(60.0, gt=0.0)
    max_subscribers: int = Field(16, ge=1, le=256)
    receive_buffer_bytes: int = Field(4 << 20, ge=65536)
    # OSCQuery (control/oscquery.py): the namespace and live values over HTTP + WebSocket on
    # osc.host (0: any free port), advertised by mDNS as _oscjson._tcp and _osc._udp
    oscquery: bool = True
    oscquery_port: int = Field(5678, ge=0, le=65535)
    oscquery_mdns: bool = True

    @field_validator("allow")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for net in v:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(
                    f"{net!r} is not a network in CIDR notation (e.g. 10.0.0.0/24)"
                ) from None
        return v

    @field_validator("keys", mode="before")
    @classmethod
    def _key_entries(cls, v: Any) -> Any:
        """Names checked and unknown fields named here (the error never quotes a key)."""
        if not isinstance(v, dict):
            return v
        allowed = list(OscKey.model_fields)
        for name, entry in v.items():
            if not isinstance(name, str) or not _CLIENT_NAME.fullmatch(name):
                raise ValueError(
                    f"client name {name!r}: use 1..64 letters, digits, '_', '.' or '-'"
                )
            if name == ADMIN_CLIENT:
                raise ValueError(
                    f"client name {ADMIN_CLIENT!r} is reserved for the shared secret (osc.secret)"
                )
            if isinstance(entry, dict):
                unknown = sorted(str(k) for k in entry if k not in allowed)
                if unknown:
                    raise ValueError(
                        f"{name}: unknown field {', '.join(map(repr, unknown))} "
                        f"(allowed: {', '.join(allowed)})"
                    )
        return v

    @model_validator(mode="after")
    def _distinct_keys(self) -> OscConfig:
        owners: dict[str, str] = {}
        if self.secret is not None:
            owners[self.secret] = "osc.secret"
        for name, entry in self.keys.items():
            other = owners.setdefault(entry.key, name)
            if other != name:
                raise ValueError(f"keys: {name} has the same key as {other}: give each its own")
        if self.keys_for_queries and not self.keys:
            raise ValueError("keys_for_queries is set but osc.keys lists no keys")
        return self

    @model_validator(mode="after")
    def _exposure(self) -> OscConfig:
        loopback = self.host in ("127.0.0.1", "localhost", "::1")
        if not loopback and self.allow == ["127.0.0.0/8", "::1/128"]:
            raise ValueError(
                f"host {self.host!r} listens beyond loopback: list the source networks allowed "
                "to control the daemon in osc.allow (CIDR, e.g. ['192.168.1.0/24'])"
            )
        return self


class ControlConfig(Strict):
    state_change: Literal["next_segment", "early_crossfade"] = "early_crossfade"
    early_crossfade_seconds: float = Field(4.0, ge=0.1, le=30.0)
    structural_crossfade_seconds: float = Field(2.0, ge=0.05, le=30.0)
    prompts_dir: Path | None = None  # where /prompt/bank may load files from (None: shipped)
    max_bank_bytes: int = Field(1 << 20, ge=1024, le=64 << 20)  # largest /prompt/bank file


class ControlSections(Protocol):
    """The sections the controller reads (the app's ``Config`` has them all)."""

    @property
    def osc(self) -> OscConfig: ...
    @property
    def hr(self) -> HrConfig: ...
    @property
    def protocol(self) -> Any: ...
    @property
    def prompts(self) -> PromptsConfig: ...
    @property
    def control(self) -> ControlConfig: ...
    @property
    def emotion(self) -> EmotionConfig: ...
    @property
    def scenes(self) -> ScenesConfig: ...
    @property
    def search(self) -> Any: ...
    @property
    def library(self) -> Any: ...
