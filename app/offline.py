"""Offline rendering: the live session on a simulated clock, into a 24-bit WAV.

The clock advances one block per step as fast as the CPU allows; the session
(engine, renderers, post-FX, controller, heart-rate rules) is built by the
same ``build_session`` as the live daemon's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bassd.app.config import Config
from bassd.app.session import Session, build_session, log_segment_start
from bassd.engine.renderer import Renderer
from bassd.engine.segment_log import SegmentLog
from bassd.engine.wavfile import WavWriter

HrTrace = list[tuple[float, float, list[float]]]


@dataclass(frozen=True)
class RenderResult:
    path: Path
    frames: int
    seconds: float
    wall_seconds: float
    segments: int
    fallbacks: int
    events_csv: Path | None = None
    states: tuple[tuple[float, str], ...] = ()
    report: tuple[Path, Path] | None = None  # report.png, report.json (``report=True``)

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
    hr_trace: HrTrace | None = None,
    session: str | None = None,
    record_events: bool = True,
    bed: bool = True,
    feed: Callable[[Session, int, int], None] | None = None,
    report: bool = False,
    until: Callable[[Session], bool] | None = None,
    tail_seconds: float = 1.0,
) -> RenderResult:
    """Render ``seconds`` of the session; a heart-rate trace (t, bpm, rr) drives the
    same controller as live OSC, on the simulated clock. ``feed(session, frame0, n)`` runs
    before each block (``bassd jam render`` plays a MIDI file's notes into the jam with it);
    ``bed=False`` leaves out the segment timeline (only the engine's layers play);
    ``report=True`` writes the session's report.png and report.json at the end (never
    failing the render: a report that cannot be written is logged as ``report_failed``).
    ``until(session)``: checked after each block; once true, the music fades out over
    ``tail_seconds`` and the render ends (``seconds`` is then the most it renders: a
    protocol's end)."""
    sr, block = config.audio.sample_rate, config.audio.block_size
    total = round(seconds * sr)
    session = session or (segment_log.session if segment_log is not None else None)
    built = build_session(
        config,
        session=session,
        record_events=record_events,
        renderer=renderer,
        fallback=fallback,
        on_segment_done=segment_log.write if segment_log is not None else None,
        blocking_renders=True,  # the simulated clock waits for each neural clip
    )
    engine, controller, events = built.engine, built.controller, built.events
    engine.bed = engine.bed and bed

    engine.add_segment_listener(log_segment_start)
    controller.start_session()
    states: list[tuple[float, str]] = [(0.0, controller.hr.state)]
    trace = sorted(hr_trace or [], key=lambda s: s[0])
    next_sample = 0
    t0 = time.perf_counter()
    try:
        with WavWriter(out, sr, 2) as wav:
            while engine.frame < total:
                n = min(block, total - engine.frame)
                block_end = (engine.frame + n) / sr
                # samples that arrive during this block are applied at its start, as the
                # live daemon applies a datagram at the next block it renders
                while next_sample < len(trace) and trace[next_sample][0] < block_end:
                    t, bpm, rr = trace[next_sample]
                    controller.hr_sample(max(t, engine.seconds), bpm, tuple(rr))
                    next_sample += 1
                controller.tick()
                if controller.hr.state != states[-1][1]:
                    states.append((engine.seconds, controller.hr.state))
                if feed is not None:
                    feed(built, engine.frame, n)
                wav.write(engine.render(n))
                if until is not None and until(built):
                    until = None
                    engine.fade_out(tail_seconds)
                    total = min(total, engine.frame + round(tail_seconds * sr))
        engine.flush()
    finally:
        built.close()
    wall = time.perf_counter() - t0
    written = None
    if report and events is not None:  # after close: every row and metrics line is written
        from bassd.app.session_report import write_report

        written = write_report(
            events.path.parent,
            metrics_csv=segment_log.metrics_csv if segment_log is not None else None,
            hr=config.hr,
            duration_s=total / sr,
        )
    return RenderResult(
        path=Path(out),
        frames=total,
        seconds=total / sr,
        wall_seconds=wall,
        segments=engine.segment_index + 1,
        fallbacks=engine.fallbacks,
        events_csv=events.path if events is not None else None,
        states=tuple(states),
        report=written,
    )
