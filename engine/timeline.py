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


ParamsProvider = Callable[[int], tuple[dict[str, Any], dict[str, Any]]]  # (params, meta)


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
        self._fade_len = crossfade_frames  # length of the current crossfade
        self._segment_start = 0
        self._boundary = 0  # frame the next segment starts
        self._fill_queue()

    # ------------------------------------------------------------------ jobs
    def _request(self, index: int, provider: ParamsProvider) -> RenderRequest:
        params, meta = provider(index)
        return RenderRequest(
            index=index,
            seed=self.seed + index,
            frames=self.segment_frames + self.crossfade_frames,
            sample_rate=self.sample_rate,
            params=params,
            meta=meta,
        )

    def _fill_queue(self) -> None:
        while len(self._pending) < self.lookahead:
            k = self._next_request
            self._next_request += 1
            self._pending.append(self.renderer.submit(self._request(k, self._params)))

    def _start_next_segment(self, fade_frames: int | None = None) -> None:
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
            job = self.fallback.submit(self._request(index, self._fallback_params))
            self.fallbacks += 1
            event = SegmentStart(index, self.frame, job, fallback=True, reason=reason)
        if self._outgoing is not None:  # a crossfade still running: cut it short
            self._outgoing.close()
        self._outgoing = self._current
        self._fade_len = self.crossfade_frames if fade_frames is None else fade_frames
        if self._fade_len == 0 and self._outgoing is not None:
            self._outgoing.close()
            self._outgoing = None
        self._current = job
        self._fade_start = self.frame
        self._segment_start = self.frame
        self._boundary = self.frame + self.segment_frames
        self.segment_index = index
        self._fill_queue()
        if self._on_segment is not None:
            self._on_segment(event)

    def next_boundary(self) -> int:
        """Frame at which the next segment starts."""
        return self._boundary

    @property
    def current(self) -> RenderJob | None:
        return self._current

    @property
    def outgoing(self) -> RenderJob | None:
        """The segment fading out during a crossfade."""
        return self._outgoing

    @property
    def pending(self) -> tuple[RenderJob, ...]:
        """The segments planned ahead, oldest first."""
        return tuple(self._pending)

    def skip(self, fade_frames: int | None = None) -> None:
        """Start the next segment at the next rendered frame (crossfade, default length)."""
        if fade_frames is not None:
            fade_frames = max(0, min(fade_frames, self.segment_frames // 2))
        self._start_next_segment(fade_frames)

    def replan(self) -> None:
        """Drop the segments rendered ahead and ask for them again (the plan changed)."""
        for job in self._pending:
            job.close()
        self._pending.clear()
        self._next_request = self.segment_index + 1
        self._fill_queue()

    def set_segment_frames(self, frames: int) -> None:
        """New segment length; the playing segment ends at its start + the new length."""
        if frames < 2 * self.crossfade_frames:
            raise ValueError(
                f"segment length must be at least twice the crossfade "
                f"({2 * self.crossfade_frames / self.sample_rate:g} s)"
            )
        self.segment_frames = frames
        if self.segment_index >= 0:
            self._boundary = max(self.frame, self._segment_start + frames)

    def set_crossfade_frames(self, frames: int) -> None:
        if frames * 2 > self.segment_frames:
            raise ValueError(
                f"crossfade must be at most half the segment length "
                f"({self.segment_frames / self.sample_rate / 2:g} s)"
            )
        self.crossfade_frames = frames

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
                left = self._fade_start + self._fade_len - self.frame
                if left <= 0:
                    self._outgoing.close()
                    self._outgoing = None
                else:
                    n = min(n, left)
            assert self._current is not None
            block = self._current.read(n)
            if self._outgoing is not None:
                pos = fade_positions(self.frame - self._fade_start, n, self._fade_len)
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
