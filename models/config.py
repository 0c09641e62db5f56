"""The ``musicgen:`` config section: model, device, sampling, adapters, worker limits.

Plain pydantic (no torch): the daemon validates it before anything starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from bassd.engine.config import Strict

Blend = dict[str, float]  # adapter name or folder -> weight (0 and negative allowed)


# Ray Serve cannot stream a deployment's response to a Ray Client (ray://) driver
# (ray 2.58: "Streaming DeploymentHandles are not currently supported ... Ray Client")
NO_RAY_CLIENT = (
    "a daemon cannot stream clips through Ray Client (ray://...); give the cluster's own "
    "address (host:6379, as ray start prints it); bassd serve start takes either"
)


class MusicgenConfig(Strict):
    # the checkpoint: a local folder, or a hub id looked up in the local Hugging Face
    # cache only (`bassd models download ID` fetches one)
    model: str = "facebook/musicgen-small"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    # the decoder's dtype: float32 gives the same codes as transformers' generate;
    # bfloat16/float16 are faster and change the result slightly (opt-in)
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    threads: int | None = Field(None, ge=1, le=256)  # torch threads (null: all cores but one)
    # sampling: the BASS system's settings
    greedy: bool = False
    temperature: float = Field(0.95, gt=0.0, le=5.0)
    top_k: int = Field(150, ge=0, le=4096)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    guidance: float = Field(1.6, ge=1.0, le=20.0)
    # LoRA adapters (peft folders): names are looked up in adapters_dir, then in the
    # adapters shipped with bassd; the blend is exact in weight space
    adapters_dir: Path | None = None
    adapters: Blend = Field(default_factory=dict)  # the blend of every clip
    state_adapters: dict[str, Blend] = Field(default_factory=dict)  # per HR state, over it
    # clip length: null = the timeline's segment length; adaptive: lengthened or
    # shortened from the measured real-time factor (within min..max)
    clip_seconds: float | None = Field(None, ge=2.0, le=40.0)
    adaptive: bool = True
    min_clip_seconds: float = Field(8.0, ge=2.0, le=40.0)
    max_clip_seconds: float = Field(30.0, ge=2.0, le=40.0)
    # streaming: a clip starts playing once what is buffered lets it finish in time
    stream: bool = True
    start_margin_seconds: float = Field(1.0, ge=0.1, le=30.0)
    # the worker: a clip that makes no progress for stall_seconds (or a load that
    # takes longer than load_seconds) is abandoned and the worker restarted
    stall_seconds: float = Field(60.0, ge=1.0, le=3600.0)
    load_seconds: float = Field(600.0, ge=1.0, le=7200.0)
    restart_backoff_seconds: float = Field(1.0, ge=0.0, le=60.0)
    max_backoff_seconds: float = Field(60.0, ge=0.0, le=3600.0)
    # where clips are made: local (the worker loads the model) or ray (the worker streams
    # them from a Ray Serve deployment, `bassd serve start`; model/device/dtype are then
    # the deployment's). ray_address: null = RAY_ADDRESS, else the local cluster
    backend: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    ray_app: str = Field("bassd-musicgen", min_length=1)
    ray_connect_seconds: float = Field(30.0, ge=1.0, le=600.0)
    # a replica silent this long (no audio, no keepalive: it sends one every second while
    # a clip waits or a step decodes) is lost: the clip fails, the segment plays the bed
    ray_lost_seconds: float = Field(10.0, ge=2.0, le=600.0)
    # a clip still queued on the cluster this long after it was asked for is dropped
    # there (the segment plays the DSP bed); null: the clip's own length
    ray_deadline_seconds: float | None = Field(None, ge=0.5, le=600.0)

    @model_validator(mode="after")
    def _clip_range(self) -> MusicgenConfig:
        if self.min_clip_seconds > self.max_clip_seconds:
            raise ValueError(
                f"min_clip_seconds ({self.min_clip_seconds:g}) must not exceed "
                f"max_clip_seconds ({self.max_clip_seconds:g})"
            )
        if self.ray_address is not None and self.ray_address.startswith("ray://"):
            raise ValueError(f"ray_address: {NO_RAY_CLIENT}")
        states = {"neutral", "stress", "underaroused"}
        unknown = sorted(set(self.state_adapters) - states)
        if unknown:
            raise ValueError(
                f"state_adapters: unknown state {', '.join(unknown)} "
                f"(states are {', '.join(sorted(states))})"
            )
        return self
