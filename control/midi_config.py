"""The ``midi`` config section (keyboard input for the jam) and the velocity curves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field, field_validator

from bassd.engine.config import Strict

Api = Literal["auto", "alsa", "jack", "coremidi", "winmm"]
Curve = Literal["linear", "soft", "hard", "fixed"]

# exponents of the power curves: "soft" lifts a light touch, "hard" asks for a firm one
_EXPONENT = {"linear": 1.0, "soft": 0.5, "hard": 2.0}


class MidiConfig(Strict):
    enabled: bool = False
    api: Api = "auto"
    ports: list[str] = Field(default_factory=list)  # substrings of input names; [] = virtual
    virtual_name: str = Field("bassd", min_length=1)
    channels: list[int] = Field(default_factory=list)  # 1..16; [] = all
    velocity_curve: Curve = "linear"
    fixed_velocity: int = Field(100, ge=1, le=127)
    retry_seconds: float = Field(1.0, gt=0.0)

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[int]) -> list[int]:
        bad = [c for c in v if not 1 <= c <= 16]
        if bad:
            raise ValueError(f"MIDI channels are 1..16, got {bad}")
        return v

    @field_validator("ports")
    @classmethod
    def _ports(cls, v: list[str]) -> list[str]:
        if any(not p.strip() for p in v):
            raise ValueError("an empty port pattern would match every port; list names")
        return v


def curve_velocity(curve: Curve, velocity: int, fixed: int = 100) -> int:
    """A note-on velocity (1..127) through ``curve``; the result is 1..127 too."""
    if curve == "fixed":
        return fixed
    v = min(max(velocity, 1), 127)
    return min(127, max(1, round(127.0 * (v / 127.0) ** _EXPONENT[curve])))


def velocity_curve(config: MidiConfig) -> Callable[[int], int]:
    """The configured curve as a function of the played velocity."""
    curve, fixed = config.velocity_curve, config.fixed_velocity
    return lambda v: curve_velocity(curve, v, fixed)
