"""Offline rendering: the live engine on a simulated clock, into a 24-bit WAV.

The clock advances one block per step as fast as the CPU allows; the engine,
the renderers and the post-FX are the live ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import structlog
from bassd.engine.config import Config
from bassd.engine.core import Engine, SegmentRecord
from bassd.engine.renderer import Renderer
from bassd.engine.segment_log import SegmentLog
from bassd.engine.timeline import SegmentStart
from bassd.engine.wavfile import WavWriter

log = structlog.get_logger("bassd.offline")


@dataclass(frozen=True)
class RenderResult:
    path: Path
    frames: int
    seconds: float
    wall_seconds: float
    segments: int
    fallbacks: int

    @property
    def speed(self) -> float:
        """× real time."""
        return self.seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def render_offline(
    config: Config,
    seconds: float,
    out: str | Path,
    *,
    renderer: Renderer | None = None,
    fallback: Renderer | None = None,
    segment_log: SegmentLog | None = None,
) -> RenderResult:
    sr, block = config.audio.sample_rate, config.audio.block_size
    total = round(seconds * sr)

    def started(ev: SegmentStart) -> None:
        log.info(
            "segment_start",
            segment=ev.index,
            frame=ev.frame,
            renderer=ev.job.renderer,
            fallback=ev.fallback,
            reason=ev.reason or None,
        )

    def done(rec: SegmentRecord) -> None:
        if segment_log is not None:
            segment_log.write(rec)

    engine = Engine(
        config, renderer=renderer, fallback=fallback, on_segment_start=started, on_segment_done=done
    )
    t0 = time.perf_counter()
    try:
        with WavWriter(out, sr, 2) as wav:
            while engine.frame < total:
                wav.write(engine.render(min(block, total - engine.frame)))
        engine.flush()
    finally:
        engine.close()
    wall = time.perf_counter() - t0
    return RenderResult(
        path=Path(out),
        frames=total,
        seconds=total / sr,
        wall_seconds=wall,
        segments=engine.segment_index + 1,
        fallbacks=engine.fallbacks,
    )
