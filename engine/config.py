"""The engine's configuration sections (pydantic models with cross-field checks).

The whole configuration, its loading and its error messages live in the
composition root (``bassd.app.config``); the engine only knows its own
sections, through ``EngineConfig``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bassd.dsp.bank_params import KuramotoParams
from bassd.engine.sound_library import SoundError, SoundLibrary


class Strict(BaseModel):
    """A config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AudioConfig(Strict):
    sample_rate: Literal[44100, 48000, 88200, 96000] = 48000
    block_size: int = Field(256, ge=16, le=4096)
    channels: Literal[2] = 2
    device: str | None = None
    ring_frames: int = Field(8192, ge=512, le=1 << 20)
    target_fill_frames: int = Field(2048, ge=64)
    # rendered ahead before the device opens: the first ~0.1 s of a daemon (first calls,
    # its clients joining the sound server) may stall the loop; it drains to the target.
    # None: as much as the ring holds (7936 frames, 165 ms: a fresh-clone run saw a loop
    # stalled 118 ms just after start, two daemons and a Ray head starting on 2 cores,
    # drain the 6144 frames the default was then to a late pump)
    startup_fill_frames: int | None = Field(None, ge=64)
    fade_frames: int = Field(64, ge=1, le=4096)
    realtime_priority: int = Field(20, ge=0, le=98)
    # every so many seconds the loop hands the C heap's free pages back to the system
    # (glibc malloc_trim, 0.02-0.4 ms): a freed temporary otherwise stays resident as the
    # allocator's free-but-held memory, a step in RSS that a weeks-long run never gives back
    # (0: off; nothing happens where the C library is not glibc)
    heap_trim_seconds: float = Field(60.0, ge=0.0)
    # the master post-FX runs in the audio callback (a filter or limiter control is heard
    # at the next period); false: in the engine, before the ring (heard a fill later)
    fx_in_callback: bool = True

    @field_validator("ring_frames")
    @classmethod
    def _pow2(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError(f"must be a power of two (e.g. 4096, 8192), got {v}")
        return v

    @model_validator(mode="after")
    def _fits(self) -> AudioConfig:
        if self.target_fill_frames < 2 * self.block_size:
            raise ValueError(
                f"target_fill_frames ({self.target_fill_frames}) must be at least two blocks "
                f"(2 × block_size = {2 * self.block_size})"
            )
        s = self.startup_fill_frames
        if s is not None and not self.target_fill_frames <= s <= self.ring_frames - self.block_size:
            raise ValueError(
                f"startup_fill_frames ({s}) must be within target_fill_frames "
                f"({self.target_fill_frames}) .. ring_frames - block_size "
                f"({self.ring_frames - self.block_size})"
            )
        if self.target_fill_frames + self.block_size > self.ring_frames:
            raise ValueError(
                f"target_fill_frames + block_size ({self.target_fill_frames + self.block_size}) "
                f"must fit in ring_frames ({self.ring_frames})"
            )
        return self

    @property
    def startup_fill(self) -> int:
        """The frames rendered ahead before the device opens."""
        if self.startup_fill_frames is not None:
            return self.startup_fill_frames
        return max(self.target_fill_frames, self.ring_frames - self.block_size)


class TimelineConfig(Strict):
    segment_seconds: float = Field(24.0, ge=2.0, le=600.0)
    crossfade_seconds: float = Field(1.5, ge=0.0, le=30.0)
    lookahead: int = Field(2, ge=1, le=8)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _crossfade_fits(self) -> TimelineConfig:
        if self.crossfade_seconds > self.segment_seconds / 2:
            raise ValueError(
                f"crossfade_seconds ({self.crossfade_seconds:g}) must be at most half of "
                f"segment_seconds ({self.segment_seconds:g})"
            )
        return self


class RendererConfig(Strict):
    # musicgen: see the musicgen section; vae: the vae section (a model you trained)
    name: Literal["kuramoto", "musicgen", "vae", "layers"] = "kuramoto"  # layers: the layers alone
    params: KuramotoParams = KuramotoParams()
    # where sounds (bassd analyse folders) are found by name: params.partials and
    # /renderer/partials; the sounds shipped with bassd are searched after it
    sounds_dir: Path | None = None

    def sound_library(self) -> SoundLibrary:
        return SoundLibrary([self.sounds_dir] if self.sounds_dir is not None else [])

    @model_validator(mode="after")
    def _sound_exists(self) -> RendererConfig:
        """The sound ``params.partials`` names is found and reads (an error names it)."""
        if self.params.partials is not None:
            try:
                self.sound_library().load(self.params.partials)
            except SoundError as exc:
                raise ValueError(f"renderer.params.partials: {exc}") from None
        return self


class FallbackConfig(Strict):
    params: KuramotoParams = KuramotoParams(
        key="C", mode="ionian", tempo_bpm=60.0, brightness=0.4, density=48, coupling=1.5
    )


class LoudnessOffsets(Strict):
    """LU added to the loudness target for segments of each prompt category
    (the categories of ``bassd.control.prompt_schema.CATEGORIES``)."""

    neutral: float = Field(0.0, ge=-20.0, le=10.0)
    calm: float = Field(-3.0, ge=-20.0, le=10.0)
    grounding: float = Field(-3.0, ge=-20.0, le=10.0)
    uplifting: float = Field(0.5, ge=-20.0, le=10.0)
    activating: float = Field(1.0, ge=-20.0, le=10.0)


class FxConfig(Strict):
    gain_db: float = Field(0.0, ge=-60.0, le=24.0)
    hpf_hz: float = Field(120.0, ge=10.0, le=2000.0)
    lpf_hz: float = Field(10000.0, ge=1000.0, le=20000.0)
    drive: float = Field(1.6, ge=0.1, le=10.0)
    peak: float = Field(0.9, ge=0.05, le=1.0)
    #: integrated loudness every segment is brought to (at gain_db 0); None: off
    loudness_target_lufs: float | None = Field(-16.0, ge=-40.0, le=-6.0)
    loudness_offsets_lu: LoudnessOffsets = LoudnessOffsets()

    @model_validator(mode="after")
    def _band(self) -> FxConfig:
        if self.hpf_hz >= self.lpf_hz:
            raise ValueError(f"hpf_hz ({self.hpf_hz:g}) must be below lpf_hz ({self.lpf_hz:g})")
        return self


class OutputsConfig(Strict):
    dir: Path = Path("outputs")
    metrics_csv: Path = Path("outputs/metrics.csv")
    keep_audio: bool = True
    audio_dir: Path = Path("outputs/audio")
    sessions_dir: Path = Path("outputs/sessions")


class WatchdogConfig(Strict):
    interval_seconds: float = Field(0.1, gt=0.0, le=1.0)
    stall_seconds: float = Field(0.5, gt=0.0, le=10.0)
    backoff_seconds: list[float] = Field(default_factory=lambda: [0.1, 0.25, 0.5, 1.0, 2.0, 5.0])

    @field_validator("backoff_seconds")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if not v or any(x <= 0 for x in v):
            raise ValueError("must be a non-empty list of positive seconds")
        return v


class DebugConfig(Strict):
    fault_injection: bool = False
    # trace Python allocations (slows allocation ~2x): every tracemalloc_seconds the daemon
    # logs the ten biggest growths since the first snapshot (what a soak's RSS growth is)
    tracemalloc: bool = False
    tracemalloc_seconds: float = Field(300.0, gt=0)
    # a stalled loop's stacks: when the pump has not woken for this long, faulthandler (a C
    # thread, no GIL needed) writes every thread's traceback to stderr (0: off)
    stall_dump_ms: float = Field(0.0, ge=0.0)


class EngineConfig(Protocol):
    """The sections the engine reads (the app's ``Config`` has them all)."""

    @property
    def audio(self) -> AudioConfig: ...
    @property
    def timeline(self) -> TimelineConfig: ...
    @property
    def renderer(self) -> RendererConfig: ...
    @property
    def fallback(self) -> FallbackConfig: ...
    @property
    def fx(self) -> FxConfig: ...
