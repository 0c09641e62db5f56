"""The oscillator bank's parameters as a renderer request carries them (validated)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bassd.dsp.scales import KEYS, MODES


class KuramotoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    key: Literal[KEYS] = "D"  # type: ignore[valid-type]
    mode: Literal[tuple(MODES)] = "dorian"  # type: ignore[valid-type]
    tempo_bpm: float = Field(64.0, ge=20.0, le=240.0)
    brightness: float = Field(0.5, ge=0.0, le=1.0)
    density: int = Field(96, ge=4, le=4096)
    coupling: float = Field(0.6, ge=0.0, le=8.0)
    width: float = Field(0.7, ge=0.0, le=1.0)
    chord_beats: int = Field(8, ge=1, le=64)  # beats per chord: the harmonic rhythm
    pulse_depth: float = Field(0.12, ge=0.0, le=0.5)  # depth of the swell on each beat
    low_note: int = Field(40, ge=28, le=60)  # register: lowest tonic at or above this MIDI note
    # a sound of the user's instead of the scale: an analysis folder (bassd analyse --out)
    # or its name in renderer.sounds_dir / the shipped sounds; None: the scale
    partials: str | None = Field(None, min_length=1, max_length=512)
    partials_snap: Literal["off", "key"] = "off"  # key: partials snapped to key and mode
    partials_transpose: float = Field(0.0, ge=-24.0, le=24.0)  # semitones
    som_x: float | None = Field(None, ge=0.0, le=1.0)  # position on the sound's map
    som_y: float | None = Field(None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _som_position(self) -> KuramotoParams:
        if (self.som_x is None) != (self.som_y is None):
            raise ValueError("som_x and som_y go together (both set, or neither)")
        return self


def param_range(name: str) -> tuple[float, float]:
    """The allowed (lowest, highest) value of a numeric parameter: the one range that the
    config, OSC validation (control/addresses.py) and the docs share."""
    lo = hi = None
    for meta in KuramotoParams.model_fields[name].metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    if lo is None or hi is None:
        raise KeyError(f"{name} has no numeric range")
    return float(lo), float(hi)
