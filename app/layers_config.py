"""The ``layers:`` config section: soundscape layers from the sound library (no heavy
imports: the daemon reads it at start)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bassd.engine.config import Strict


class LayersConfig(Strict):
    enabled: bool = False  # four looping library layers under the segment bed
    vibe: str | None = None  # a mix built at the session's start (None: silent layers)
    seed: int = 0  # the mix choice and the drift
    vibes_file: Path | None = None  # your vibes (same shape as configs/vibes.yaml)
    crossfade_seconds: float = Field(4.0, gt=0, le=60)  # a layer change, a mute, a gain
    loop_crossfade_seconds: float = Field(1.0, ge=0.05, le=10)  # the loop seam
    max_loop_seconds: float = Field(60.0, ge=2, le=600)  # what is decoded of a file
    min_seconds: float = Field(2.0, ge=0.5)  # shorter entries are never picked
    level_dbfs: float = Field(-20.0, ge=-60, le=0)  # each loop's RMS before its layer gain
    drift_db: float = Field(2.0, ge=0, le=12)  # slow random gain wander (±)
    drift_octaves: float = Field(0.5, ge=0, le=3)  # slow random cut-off wander (±)
    drift_seconds: float = Field(20.0, ge=1, le=600)  # between drift targets
    follow_scenes: bool = True  # a recalled scene (and /scene/surprise) rebuilds the mix
    follow_state: bool = True  # the heart-rate state narrows the choice (vibes.yaml states)
