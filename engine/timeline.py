"""The segment controller: a timeline of segments on the engine's sample clock.

Segment k starts at frame k·P (P = segment length in frames) and its successor
fades in over X frames from frame (k+1)·P with an equal-power crossfade, so
segment k's job is read for P + X frames. While segment k plays, the next
``lookahead`` segments are already submitted to the renderer.

At each boundary the oldest pending job is used if it is ready. If it is not,
the music never stops: a neutral fallback (the embedded DSP renderer, always
ready) fades in instead, the event is logged and counted, and the late job stays
at the head of the queue: it joins, with a crossfade, as soon as it is ready
(once the fallback's fade-in is over), or at the next boundary. A job may carry
its own length (``planned_frames``: a neural clip adapted to the renderer's
speed); its segment then lasts that long, less the crossfade.

When the renderer is not the fallback itself (neural, VAE), a *spare* fallback job
for the next segment is asked for as each segment starts and kept apart from the
planned jobs (``spare``: the planner's jobs carry its choices, the spare only the
fallback's parameters), and the daemon builds its bank in idle time: a boundary whose job is
not ready starts the prepared spare instead of building a bank in the pump (which
took longer than the ring holds and ran it dry at start-up, while a model loads).
An unused spare is closed at the boundary.

A skip never cuts audio. A skip before the segment that the last one started
has been heard (two structural changes in one block) replaces that segment:
the fade already begun keeps going, towards the newer one. A skip during a
running crossfade fades the playing segment out from the gain it has reached,
while the older ones finish their own fades; at most ``MAX_FADING`` segments
fade out at once, and a skip beyond that waits for the oldest fade to end.

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

MAX_FADING = 2  # segments fading out at once (each costs a renderer voice)


@dataclass
class _Fading:
    """A segment fading out: its own fade-in (maybe still running) times its fade-out."""

    job: RenderJob
    in_start: int
    in_len: int  # 0: no fade-in
    out_start: int
    out_len: int

    @property
    def end(self) -> int:
        return self.out_start + self.out_len

    def gains(self, frame: int, n: int) -> np.ndarray:
        g_out, _ = equal_power_gains(fade_positions(frame - self.out_start, n, self.out_len))
        if self.in_len and frame < self.in_start + self.in_len:
            _, g_in = equal_power_gains(fade_positions(frame - self.in_start, n, self.in_len))
            g_out = g_out * g_in
        return g_out


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
        self._fading: list[_Fading] = []  # oldest first
        self._in_start = 0  # frame the current segment's fade-in started
        self._in_len = 0  # length of that fade-in (0: none)
        self._segment_start = 0
        self._current_fallback = False
        self._boundary = 0  # frame the next segment starts
        self._deferred = False  # a skip waits for a fade to end (MAX_FADING reached)
        self._deferred_fade: int | None = None
        self._spare: RenderJob | None = None  # the next segment's fallback, built ahead
        self._spare_index = -1
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
            request = self._request(k, self._params)
            # a protocol stage may play the DSP renderer (the fallback's) in a neural
            # session: its segments are planned with the stage's parameters, not the bed's
            wanted = request.meta.get("renderer")
            bed = wanted is not None and wanted == self.fallback.name != self.renderer.name
            renderer = self.fallback if bed else self.renderer
            self._pending.append(renderer.submit(request))

    def _start_next_segment(self, fade_frames: int | None = None, *, skip: bool = False) -> None:
        fade = self.crossfade_frames if fade_frames is None else fade_frames
        heard = self._current is not None and self.frame > self._segment_start
        if skip and fade > 0 and heard and len(self._fading) >= MAX_FADING:
            self._deferred, self._deferred_fade = True, fade_frames  # wait for a fade to end
            return
        self._deferred = False
        if self._current is not None and not heard and self.segment_index >= 0:
            # started in this very block and never heard: the newer segment takes its place
            self._current.close()
            self._current = None
            for v in self._fading:
                if v.out_start == self.frame:
                    v.out_len = fade
        index = self.segment_index + 1
        head = self._pending[0] if self._pending else None
        failed = head is not None and getattr(head, "failed", False)
        ready = head is not None and not failed and head.ready()
        if head is not None and not ready and not failed:
            failed = getattr(head, "failed", False)  # it may have failed as it was asked
        if failed:
            self._pending.popleft().close()
        spare, self._spare = self._spare, None
        if ready:
            job = self._pending.popleft()
            event = SegmentStart(index, self.frame, job, fallback=False)
        else:
            reason = "render failed" if failed else "render not ready"
            if spare is not None and self._spare_index == index:
                job, spare = spare, None  # built in idle time: nothing to build now
            else:
                job = self.fallback.submit(self._request(index, self._fallback_params))
            self.fallbacks += 1
            event = SegmentStart(index, self.frame, job, fallback=True, reason=reason)
        if spare is not None:
            spare.close()
        if fade == 0:  # a cut, as asked for
            for v in self._fading:
                v.job.close()
            self._fading.clear()
            if self._current is not None:
                self._current.close()
        elif self._current is not None:
            self._fading.append(
                _Fading(self._current, self._in_start, self._in_len, self.frame, fade)
            )
        self._current = job
        self._current_fallback = event.fallback
        self._in_start = self.frame
        self._in_len = fade if self._fading else 0
        self._segment_start = self.frame
        self._boundary = self.frame + self._length_of(job)
        self.segment_index = index
        self._fill_queue()
        self._ask_spare()
        if self._on_segment is not None:
            self._on_segment(event)

    def _ask_spare(self) -> None:
        """A fallback job for the next segment, built ahead (only where the renderer is
        not the fallback itself)."""
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        if self.renderer is self.fallback:
            return
        self._spare_index = self.segment_index + 1
        self._spare = self.fallback.submit(self._request(self._spare_index, self._fallback_params))

    def _length_of(self, job: RenderJob) -> int:
        """A segment lasts the timeline's length, or its clip's own (``planned_frames``,
        adapted by the renderer) less the crossfade into the next one."""
        planned = getattr(job, "planned_frames", None)
        if planned is None:
            return self.segment_frames
        return max(2 * self.crossfade_frames, int(planned) - self.crossfade_frames)

    def _late_job_landed(self) -> bool:
        """A fallback is playing, its fade-in is over, and the late job is ready now:
        the job joins at once (with a crossfade) instead of at the next boundary."""
        if not self._current_fallback or self._fading or self._deferred or not self._pending:
            return False
        if self.frame - self._segment_start < self.crossfade_frames:
            return False
        if self.next_boundary() - self.frame < 2 * self.crossfade_frames:
            return False  # the boundary is near: let it come
        head = self._pending[0]
        return not getattr(head, "failed", False) and head.ready()

    def next_boundary(self) -> int:
        """Frame at which the next segment starts."""
        return self._boundary

    @property
    def current(self) -> RenderJob | None:
        return self._current

    @property
    def outgoing(self) -> RenderJob | None:
        """The segment fading out during a crossfade (the newest, if several)."""
        return self._fading[-1].job if self._fading else None

    @property
    def playing(self) -> tuple[RenderJob, ...]:
        """Every segment heard now: the current one and those fading out."""
        jobs = tuple(v.job for v in self._fading)
        return jobs + ((self._current,) if self._current is not None else ())

    @property
    def pending(self) -> tuple[RenderJob, ...]:
        """The segments planned ahead, oldest first."""
        return tuple(self._pending)

    @property
    def spare(self) -> RenderJob | None:
        """The next segment's fallback, built ahead (None where the renderer is the fallback)."""
        return self._spare

    def skip(self, fade_frames: int | None = None) -> None:
        """Start the next segment at the next rendered frame (crossfade, default length)."""
        if fade_frames is not None:
            fade_frames = max(0, min(fade_frames, self.segment_frames // 2))
        self._start_next_segment(fade_frames, skip=True)

    @property
    def planned_until(self) -> int:
        """The first segment index not yet submitted."""
        return self._next_request

    def replan(self) -> None:
        """Drop the segments rendered ahead and ask for them again (the plan changed)."""
        for job in self._pending:
            job.close()
        self._pending.clear()
        self._next_request = self.segment_index + 1
        self._fill_queue()
        if self._spare is not None:
            self._ask_spare()  # the fallback's parameters may have changed too

    def set_segment_frames(self, frames: int) -> None:
        """New segment length; the playing segment ends at its start + the new length
        (a clip of its own length, such as a neural one, can end sooner, not later)."""
        if frames < 2 * self.crossfade_frames:
            raise ValueError(
                f"segment length must be at least twice the crossfade "
                f"({2 * self.crossfade_frames / self.sample_rate:g} s)"
            )
        self.segment_frames = frames
        if self.segment_index >= 0:
            length = frames
            current = self._current
            if current is not None and getattr(current, "planned_frames", None) is not None:
                length = min(frames, self._length_of(current))
            self._boundary = max(self.frame, self._segment_start + length)

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
            for v in [v for v in self._fading if self.frame >= v.end]:
                v.job.close()
                self._fading.remove(v)
            if self._deferred and len(self._fading) < MAX_FADING:
                self._start_next_segment(self._deferred_fade, skip=True)
            if self.frame >= self.next_boundary() or self._late_job_landed():
                self._start_next_segment()
            n = min(frames - done, self.next_boundary() - self.frame)
            for v in self._fading:
                n = min(n, v.end - self.frame)
            assert self._current is not None
            block = self._current.read(n)
            if self._in_len and self.frame < self._in_start + self._in_len:
                pos = fade_positions(self.frame - self._in_start, n, self._in_len)
                _, g_in = equal_power_gains(pos)
                block = block * g_in[:, None].astype(np.float32)
            for v in self._fading:
                g = v.gains(self.frame, n)
                block = block + v.job.read(n) * g[:, None].astype(np.float32)
            out[done : done + n] = block
            done += n
            self.frame += n
        return out

    def close(self) -> None:
        for job in (*self.playing, *self.pending, *([] if self._spare is None else [self._spare])):
            job.close()
        self._fading.clear()
        self._current = None
        self._pending.clear()
        self._spare = None
