"""The segment controller: exact boundaries, crossfades, lookahead and fallback."""

from __future__ import annotations

import time

import numpy as np

from bassd.app.config import load_config
from bassd.engine.core import Engine
from bassd.engine.renderer import KuramotoRenderer, ProcessRenderer
from bassd.engine.timeline import SegmentController, SegmentStart
from tests.engine.renderers_for_tests import (
    ConstantRenderer,
    sleepy_tone_clip,
    slow_tone_clip,
    tone_clip,
)

SR = 48_000


def _controller(renderer=None, fallback=None, seg=1000, xfade=100, lookahead=2, events=None):
    return SegmentController(
        sample_rate=SR,
        segment_frames=seg,
        crossfade_frames=xfade,
        lookahead=lookahead,
        seed=0,
        renderer=renderer or ConstantRenderer(),
        fallback=fallback or ConstantRenderer(),
        params=lambda k: ({}, {}),
        fallback_params=lambda k: ({}, {}),
        on_segment=None if events is None else events.append,
    )


def test_segments_start_at_exact_frames() -> None:
    """Segment k starts at frame k·P whatever the block sizes; outside fades each plays alone."""
    events: list[SegmentStart] = []
    ctl = _controller(events=events)
    rng = np.random.default_rng(0)
    parts, done = [], 0
    while done < 5500:
        n = int(rng.integers(1, 700))
        parts.append(ctl.render(n))
        done += n
    y = np.concatenate(parts)[:, 0]
    assert [e.frame for e in events] == [0, 1000, 2000, 3000, 4000, 5000]
    assert [e.index for e in events] == [0, 1, 2, 3, 4, 5]
    for k in range(5):
        start = k * 1000
        body = slice(start + 100 if k else start, start + 1000)  # after the fade-in
        np.testing.assert_allclose(y[body], (k + 1) / 100, rtol=1e-6)
        if k:
            assert y[start - 1] == np.float32(k / 100)  # the frame before the boundary: old only
            assert y[start] != np.float32(k / 100)  # the boundary frame: the fade has begun


def test_crossfade_is_equal_power_between_segments() -> None:
    """Inside the fade the mix is cos·old + sin·new at the frame's position."""
    ctl = _controller()
    y = ctl.render(1200)[:, 0]
    pos = (np.arange(100) + 0.5) / 100
    expected = 0.01 * np.cos(pos * np.pi / 2) + 0.02 * np.sin(pos * np.pi / 2)
    np.testing.assert_allclose(y[1000:1100], expected, rtol=1e-5)


def test_lookahead_keeps_jobs_submitted() -> None:
    """While segment k plays, segments k+1 .. k+lookahead are already submitted."""
    submitted: list[int] = []

    class Spy(ConstantRenderer):
        def submit(self, request):  # type: ignore[no-untyped-def]
            submitted.append(request.index)
            return super().submit(request)

    ctl = _controller(renderer=Spy(), lookahead=2)
    ctl.render(1)
    assert submitted == [0, 1, 2]
    ctl.render(1000)
    assert submitted == [0, 1, 2, 3]


def _gaps(y: np.ndarray, sr: int, floor_db: float = -60.0, window_s: float = 0.05) -> int:
    win = int(window_s * sr)
    mono = y.mean(axis=1) if y.ndim == 2 else y
    n = len(mono) // win
    rms = np.sqrt(np.mean(mono[: n * win].reshape(n, win) ** 2, axis=1))
    return int(np.sum(20 * np.log10(rms + 1e-12) < floor_db))


def test_slow_renderer_triggers_fallback_without_gap() -> None:
    """A renderer slower than real time: the offline engine falls back and never goes quiet."""
    cfg = load_config(overrides=["timeline.segment_seconds=2", "timeline.crossfade_seconds=0.5"])
    slow = ProcessRenderer("slow", slow_tone_clip)
    engine = Engine(cfg, renderer=slow, fallback=KuramotoRenderer())
    try:
        y = np.concatenate([engine.render(4096) for _ in range(int(7 * SR / 4096))])
        assert engine.fallbacks == engine.segment_index + 1 >= 3
        assert _gaps(y[SR // 10 :], SR) == 0  # after the 20 ms start-up fade-in
        assert np.abs(y).max() <= 0.9
    finally:
        engine.close()


def test_clip_from_worker_process_is_played() -> None:
    """A clip rendered in another process (shared memory hand-over) is used once ready."""
    cfg = load_config(overrides=["timeline.segment_seconds=2", "timeline.crossfade_seconds=0.5"])
    started: list[SegmentStart] = []
    renderer = ProcessRenderer("tone", tone_clip)
    engine = Engine(cfg, renderer=renderer, on_segment_start=started.append)
    try:
        deadline = time.monotonic() + 60
        while (
            not all(j.ready() for j in engine.controller._pending) and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        y = engine.render(SR)
        assert started[0].fallback is False and started[0].job.renderer == "tone"
        spec = np.abs(np.fft.rfft(y[SR // 2 :, 0]))
        assert abs(np.argmax(spec) * SR / (SR // 2) - 330) < 3
    finally:
        engine.close()


def test_a_worker_killed_mid_render_is_replaced_and_no_gap_is_heard() -> None:
    """SIGKILL of the render worker mid-clip: that segment plays the fallback (no gap), the
    pool is replaced (counted, with backoff) and a later segment is the worker's clip again."""
    import os
    import signal

    cfg = load_config(overrides=["timeline.segment_seconds=2", "timeline.crossfade_seconds=0.5",
                                 "timeline.lookahead=1"])  # fmt: skip
    started: list[SegmentStart] = []
    renderer = ProcessRenderer("tone", sleepy_tone_clip)
    engine = Engine(cfg, renderer=renderer, on_segment_start=started.append)
    try:
        time.sleep(0.5)  # the worker is inside the first clip now
        for proc in list(renderer._pool._processes.values()):  # type: ignore[attr-defined]
            os.kill(proc.pid, signal.SIGKILL)
        out = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            renderer.restarts and any(not e.fallback for e in started[1:])
        ):
            out.append(engine.render(4096))
            time.sleep(4096 / SR)  # about real time, so clips can be ready
        y = np.concatenate(out)
        assert started[0].fallback and renderer.restarts >= 1
        assert any(not e.fallback and e.job.renderer == "tone" for e in started[1:])
        assert _gaps(y[SR // 10 :], SR) == 0
    finally:
        engine.close()


def test_failed_render_falls_back() -> None:
    """A renderer that raises is replaced by the fallback at the boundary, not fatal."""

    class Broken(ConstantRenderer):
        def submit(self, request):  # type: ignore[no-untyped-def]
            job = super().submit(request)
            job.ready = lambda: False  # type: ignore[method-assign]
            job.failed = True  # type: ignore[attr-defined]
            return job

    events: list[SegmentStart] = []
    ctl = _controller(renderer=Broken(), events=events)
    y = ctl.render(2500)
    assert all(e.fallback and e.reason == "render failed" for e in events)
    assert np.all(y[:, 0] > 0)


def _bank_controller() -> SegmentController:
    return SegmentController(
        sample_rate=SR,
        segment_frames=4 * SR,
        crossfade_frames=SR // 2,
        lookahead=2,
        seed=0,
        renderer=KuramotoRenderer(),
        fallback=KuramotoRenderer(),
        params=lambda k: ({}, {}),
        fallback_params=lambda k: ({}, {}),
    )


def _play(script: list[tuple[str, int]]) -> np.ndarray:
    """Render a script of ("render", frames) and ("skip", fade frames) steps."""
    ctl = _bank_controller()
    out = [ctl.render(arg) if kind == "render" else ctl.skip(arg) for kind, arg in script]
    ctl.close()
    return np.concatenate([y for y in out if y is not None])


def _max_jump(y: np.ndarray) -> float:
    return float(np.abs(np.diff(y, axis=0)).max())


def test_two_skips_in_one_block_never_cut_the_audio() -> None:
    """Two structural changes in one block fade once, to the newer segment: no jump."""
    clean = _play([("render", SR), ("skip", SR // 2), ("render", 2 * SR)])
    twice = _play([("render", SR), ("skip", SR // 2), ("skip", SR // 2), ("render", 2 * SR)])
    assert _max_jump(twice) <= 1.5 * _max_jump(clean)


def test_a_skip_during_a_running_crossfade_never_cuts_the_audio() -> None:
    """A skip half-way through a fade fades from the gains reached: no jump, no dip."""
    clean = _play([("render", SR), ("skip", SR // 2), ("render", 2 * SR)])
    half = SR // 2
    y = _play([("render", SR), ("skip", half), ("render", SR // 4), ("skip", half), ("render", SR)])
    assert _max_jump(y) <= 1.5 * _max_jump(clean)

    def quietest(z: np.ndarray) -> float:  # 20 ms RMS, over the second with the fades
        win = SR // 50
        mono = z[SR : 2 * SR].mean(axis=1).reshape(-1, win)
        return float(np.sqrt(np.mean(mono**2, axis=1)).min())

    assert quietest(y) > 0.7 * quietest(clean)


def test_skips_beyond_the_fading_limit_wait_for_a_fade_to_end() -> None:
    """At most MAX_FADING segments fade out at once; one more skip starts when a fade ends."""
    from bassd.engine.timeline import MAX_FADING

    ctl = _controller(seg=1000, xfade=100)
    ctl.render(500)
    for _ in range(MAX_FADING):
        ctl.skip(100)
        ctl.render(10)
    assert len(ctl.playing) == MAX_FADING + 1
    index = ctl.segment_index
    ctl.skip(100)
    assert ctl.segment_index == index  # deferred
    ctl.render(100)  # the oldest fade (started 20 frames ago) ends after 80
    assert ctl.segment_index == index + 1 and len(ctl.playing) <= MAX_FADING + 1


def test_a_late_segment_starts_the_fallback_built_ahead() -> None:
    """With a renderer that is never ready, each boundary starts the fallback job that was
    asked for (the spare, kept apart from the planned jobs, to be built in idle time) while
    the segment before played; the renderer's own jobs stay queued."""

    class Never(ConstantRenderer):
        def submit(self, request):
            job = super().submit(request)
            job.ready = lambda: False
            return job

    class Counting(ConstantRenderer):
        def __init__(self) -> None:
            self.asked: list[int] = []

        def submit(self, request):
            self.asked.append(request.index)
            return super().submit(request)

    fallback = Counting()
    events: list[SegmentStart] = []
    c = _controller(renderer=Never(), fallback=fallback, events=events)
    c.render(10)  # segment 0: no spare yet, asked at the boundary
    spare = c.spare
    assert spare is not None and spare not in c.pending
    assert fallback.asked == [0, 1] and spare.request.index == 1
    c.render(1000)  # the boundary of segment 1
    assert events[-1].job is spare and events[-1].fallback
    assert fallback.asked == [0, 1, 2] and c.spare is not None and c.spare.request.index == 2
    assert [j.request.index for j in c.pending] == [0, 1]  # the late ones stay queued


def test_with_the_fallback_as_the_renderer_no_spare_is_asked_for() -> None:
    """The DSP renderer playing itself needs no spare: pending holds its own jobs only."""
    r = ConstantRenderer()
    c = _controller(renderer=r, fallback=r)
    c.render(10)
    assert c.spare is None and [j.request.index for j in c.pending] == [1, 2]


def test_a_segment_planned_for_the_bed_renderer_is_rendered_by_it_and_is_no_fallback() -> None:
    """A protocol stage that plays the DSP renderer in another renderer's session: a planned
    segment whose meta names the bed's renderer is submitted to the bed with its own params,
    plays in its turn and is not counted as a fallback."""

    class Bed(ConstantRenderer):
        name = "bed"

        def submit(self, request):  # type: ignore[no-untyped-def]
            job = super().submit(request)
            job.renderer = "bed"
            job.level = 0.5
            return job

    events: list[SegmentStart] = []
    ctl = SegmentController(
        sample_rate=SR, segment_frames=1000, crossfade_frames=100, lookahead=2, seed=0,
        renderer=ConstantRenderer(), fallback=Bed(),
        params=lambda k: ({"k": k}, {"renderer": "bed"} if k == 1 else {}),
        fallback_params=lambda k: ({}, {}), on_segment=events.append,
    )  # fmt: skip
    y = ctl.render(3000)[:, 0]
    assert [e.job.renderer for e in events] == ["constant", "bed", "constant"]
    assert events[1].job.request.params == {"k": 1} and not any(e.fallback for e in events)
    assert ctl.fallbacks == 0
    np.testing.assert_allclose(y[1100:2000], 0.5)  # the bed's segment, after its fade-in
    np.testing.assert_allclose(y[2100:3000], 0.03)  # then the session's renderer again
