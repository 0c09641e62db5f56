"""The control plane's configuration sections: OSC server and control behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import Field, field_validator, model_validator

from bassd.control.hr import HrConfig
from bassd.control.prompt_schema import PromptsConfig
from bassd.engine.config import Strict


class OscConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    reply_port: int = Field(9000, ge=1, le=65535)
    allow: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    rate_limit: float = Field(100_000.0, gt=0.0)  # messages per second per source address
    rate_burst: float = Field(20_000.0, ge=1.0)
    secret: str | None = None  # required (last string argument) on state-changing messages
    max_datagram: int = Field(8192, ge=64, le=65507)
    max_bundle_depth: int = Field(4, ge=1, le=16)
    max_scheduled: int = Field(1024, ge=0, le=100_000)
    max_replies: int = Field(64, ge=16, le=1024)  # replies one datagram may cause (/help: 30)
    max_schedule_ahead_seconds: float = Field(60.0, gt=0.0, le=3600.0)
    push_hz: float = Field(10.0, gt=0.0, le=100.0)
    subscription_seconds: float = Field(60.0, gt=0.0)
    max_subscribers: int = Field(16, ge=1, le=256)
    receive_buffer_bytes: int = Field(4 << 20, ge=65536)

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
    def prompts(self) -> PromptsConfig: ...
    @property
    def control(self) -> ControlConfig: ...
