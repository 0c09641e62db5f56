"""The segment controller: a timeline of segments on the engine's sample clock.

Segment k starts at frame k·P (P = segment length in frames) and its successor
fades in over X frames from frame (k+1)·P with an equal-power crossfade, so
segment k's job is read for P + X frames. While segment k plays, the next
``lookahead`` segments are already submitted to the renderer.

At each boundary the oldest pending job is used if it is ready. If it is not,
the music never stops: a neutral fallback (the embedded DSP renderer, always
ready) fades in instead, the event is logged and counted, and the late job stays
at the head of the queue for the next boundary.

Everything here is pure and frame-based: no clocks, no threads, no I/O. The live
daemon and the offline renderer drive the same object.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bassd.dsp.crossfade import equal_power_gains, fade_positions
from bassd.engine.renderer import Renderer, RenderJob, RenderRequest


@dataclass(frozen=True)
class SegmentStart:
    """Emitted when a segment starts to fade in."""

    index: int
    frame: int
    job: RenderJob
    fallback: bool
    reason: str = ""


ParamsProvider = Callable[[int], dict[str, Any]]


class SegmentController:
    def __init__(
        self,
        *,
        sample_rate: int,
        segment_frames: int,
        crossfade_frames: int,
        lookahead: int,
        seed: int,
        renderer: Renderer,
        fallback: Renderer,
        params: ParamsProvider,
        fallback_params: ParamsProvider,
        on_segment: Callable[[SegmentStart], None] | None = None,
    ) -> None:
        if crossfade_frames * 2 > segment_frames:
            raise ValueError("crossfade must be at most half a segment")
        self.sample_rate = sample_rate
        self.segment_frames = segment_frames
        self.crossfade_frames = crossfade_frames
        self.lookahead = lookahead
        self.seed = seed
        self.renderer = renderer
        self.fallback = fallback
        self._params = params
        self._fallback_params = fallback_params
        self._on_segment = on_segment
        self.frame = 0
        self.segment_index = -1
        self.fallbacks = 0
        self._next_request = 0
        self._pending: deque[RenderJob] = deque()
        self._current: RenderJob | None = None
        self._outgoing: RenderJob | None = None
        self._fade_start = 0  # frame the current crossfade started
        self._fill_queue()

    # ------------------------------------------------------------------ jobs
    def _request(self, index: int, params: dict[str, Any]) -> RenderRequest:
        return RenderRequest(
            index=index,
            seed=self.seed + index,
            frames=self.segment_frames + self.crossfade_frames,
            sample_rate=self.sample_rate,
            params=params,
        )

    def _fill_queue(self) -> None:
        while len(self._pending) < self.lookahead:
            k = self._next_request
            self._next_request += 1
            self._pending.append(self.renderer.submit(self._request(k, self._params(k))))

    def _start_next_segment(self) -> None:
        index = self.segment_index + 1
        head = self._pending[0] if self._pending else None
        failed = getattr(head, "failed", False)
        if head is not None and failed:
            self._pending.popleft().close()
        if head is not None and not failed and head.ready():
            job = self._pending.popleft()
            event = SegmentStart(index, self.frame, job, fallback=False)
        else:
            reason = "render failed" if failed else "render not ready"
            job = self.fallback.submit(self._request(index, self._fallback_params(index)))
            self.fallbacks += 1
            event = SegmentStart(index, self.frame, job, fallback=True, reason=reason)
        if self._outgoing is not None:  # a crossfade still running: cut it short
            self._outgoing.close()
        self._outgoing = self._current
        if self.crossfade_frames == 0 and self._outgoing is not None:
            self._outgoing.close()
            self._outgoing = None
        self._current = job
        self._fade_start = self.frame
        self.segment_index = index
        self._fill_queue()
        if self._on_segment is not None:
            self._on_segment(event)

    def next_boundary(self) -> int:
        """Frame at which the next segment starts."""
        return (self.segment_index + 1) * self.segment_frames

    def skip(self) -> None:
        """Start the next segment now (with its crossfade)."""
        self._start_next_segment()

    # --------------------------------------------------------------- render
    def render(self, frames: int) -> np.ndarray:
        """Mix the next ``frames`` frames of the timeline: (frames, 2) float32."""
        out = np.empty((frames, 2), dtype=np.float32)
        done = 0
        while done < frames:
            if self.frame >= self.next_boundary():
                self._start_next_segment()
            n = min(frames - done, self.next_boundary() - self.frame)
            if self._outgoing is not None:
                left = self._fade_start + self.crossfade_frames - self.frame
                if left <= 0:
                    self._outgoing.close()
                    self._outgoing = None
                else:
                    n = min(n, left)
            assert self._current is not None
            block = self._current.read(n)
            if self._outgoing is not None:
                pos = fade_positions(self.frame - self._fade_start, n, self.crossfade_frames)
                g_out, g_in = equal_power_gains(pos)
                old = self._outgoing.read(n)
                block = block * g_in[:, None].astype(np.float32) + old * g_out[:, None].astype(
                    np.float32
                )
            out[done : done + n] = block
            done += n
            self.frame += n
        return out

    def close(self) -> None:
        for job in (self._current, self._outgoing, *self._pending):
            if job is not None:
                job.close()
        self._pending.clear()
