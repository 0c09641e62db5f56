"""The ``vae:`` config section: which model the VAE renderer plays, and how.

Plain pydantic (no torch). A model is a name in the library (``library_dir``, by
default ``~/.local/share/bassd/vae``) or a model folder; ``sliders`` sets slider
values by name or 1-based index (0..1, 0.5 the model's centre), over a ``preset``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bassd.engine.config import Strict


class VaeSection(Strict):
    model: str | None = None  # renderer.name: vae needs it
    library_dir: Path | None = None  # None: $XDG_DATA_HOME/bassd/vae
    preset: str | None = None  # a preset of the model (bassd vae preset save)
    sliders: dict[str, float] = Field(default_factory=dict)  # name or index -> 0..1
    blend: str | None = None  # a second model mixed in (by name), with blend_weight
    blend_weight: float = Field(0.0, ge=0.0, le=1.0)
    drift: float = Field(0.25, ge=0.0, le=2.0)  # the latent path's wander, in sigmas
    drift_seconds: float = Field(6.0, gt=0.0, le=600.0)
    glide_seconds: float = Field(0.25, ge=0.0, le=10.0)  # slider moves are smoothed over this
    lookahead_seconds: float = Field(0.2, ge=0.05, le=1.0)  # how far the worker runs ahead
    width: float = Field(0.6, ge=0.0, le=1.0)  # stereo width (a decorrelated copy)
    azimuth: float | None = Field(None, ge=-90.0, le=90.0)  # binaural placement instead
    vocoder_iterations: int = Field(16, ge=1, le=256)  # Fast Griffin-Lim per chunk
    threads: int = Field(1, ge=1, le=64)  # torch threads in the worker
