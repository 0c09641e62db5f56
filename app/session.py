"""The session builder: one wiring of a session, shared by ``bassd run`` and ``bassd render``.

A session is the engine (segment timeline, renderers, post-FX), the segment
planner and heart-rate monitor that steer it, the controller every OSC address
and heart-rate sample goes through, and the session's ``events.csv``. The live
daemon and the offline renderer differ only in what they pass in: the clock,
where finished segments go, the output fader, and how slow work is offloaded.

Adding a renderer: a module implementing ``Renderer`` and one line in
``make_renderer``. Adding an input source: a module that calls the
controller (``hr_sample``, ``dispatch``) and one task in the daemon.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from bassd.app.config import Config
from bassd.control.clock import RenderClock, SessionClock
from bassd.control.controller import Controller, Offload, run_inline
from bassd.control.hr import HeartRateMonitor
from bassd.control.hrv_monitor import HrvMonitor
from bassd.control.planner import SegmentPlanner
from bassd.control.prompt_loading import load_configured_bank
from bassd.control.scene_loading import load_scenes
from bassd.control.steering import Steering
from bassd.engine.core import Engine, SegmentRecord
from bassd.engine.events_log import SessionEvents
from bassd.engine.jam import EventSink, Jam
from bassd.engine.layers import SoundscapeLayers
from bassd.engine.renderer import KuramotoRenderer, Renderer
from bassd.engine.timeline import SegmentStart

log = structlog.get_logger("bassd.session")


def make_renderer(name: str, config: Config | None = None, *, blocking: bool = False) -> Renderer:
    """The renderer called ``name`` in the config (``renderer.name``).

    ``musicgen`` starts its worker process now (the model loads while the DSP bed
    plays); ``blocking`` (offline renders) makes each clip wait until complete.
    """
    if name == "kuramoto":
        return KuramotoRenderer(sounds=(config or Config()).renderer.sound_library())
    if name == "layers":  # the soundscape layers alone: a DSP timeline kept silent (bed off)
        renderer = KuramotoRenderer(sounds=(config or Config()).renderer.sound_library())
        renderer.name = "layers"
        return renderer
    if name == "musicgen":
        from bassd.models.neural_renderer import NeuralRenderer

        cfg = config or Config()
        dirs = [cfg.musicgen.adapters_dir] if cfg.musicgen.adapters_dir is not None else []
        return NeuralRenderer(
            cfg.musicgen, sample_rate=cfg.audio.sample_rate, blocking=blocking, adapter_dirs=dirs
        )
    if name == "vae":
        from bassd.models.vae_renderer import VaeRenderer
        from bassd.models.vae_resolve import resolve_vae

        cfg = config or Config()
        v = cfg.vae
        found = resolve_vae(v)
        renderer = VaeRenderer(
            str(found.folder),
            sample_rate=cfg.audio.sample_rate,
            blocking=blocking,
            sliders=found.values,
            lookahead_s=v.lookahead_seconds,
            synth={"drift": v.drift, "drift_s": v.drift_seconds, "glide_s": v.glide_seconds,
                   "width": v.width, "azimuth": v.azimuth, "n_iter": v.vocoder_iterations},
            threads=v.threads,
        )  # fmt: skip
        renderer.slider_names = [s.name for s in found.sliders.sliders]
        renderer.library = found.library
        renderer.model_name = v.model or ""
        if found.blend is not None and v.blend_weight > 0:
            renderer.set_blend(str(found.blend), v.blend_weight)
        return renderer
    raise ValueError(f"unknown renderer {name!r}")


SYNTH_GAIN = 2.0


def make_jam(config: Config, on_event: EventSink) -> Jam:
    """The keyboard accompanist of ``config.jam``: FluidSynth with its SoundFont and the chord
    predictor (the shipped LSTM or ``jam.predictor``). OSError with one clear line when the
    SoundFont, libfluidsynth or the checkpoint is missing."""
    from bassd.engine.fluid_synth import FluidVoice
    from bassd.models.chord_predictor import ChordPredictor

    jc = config.jam
    try:
        predictor = ChordPredictor.load(jc.predictor, context=jc.context)
    except ValueError as exc:
        raise OSError(str(exc)) from None
    try:
        # FluidSynth's gain 2: a GM piano chord then sits a few LU under the -16 LUFS bed
        synth = FluidVoice(config.audio.sample_rate, jc.soundfont, gain=SYNTH_GAIN)
    except RuntimeError as exc:  # libfluidsynth missing
        raise OSError(str(exc)) from None
    return Jam(jc, config.audio.sample_rate, synth=synth, predictor=predictor.predict,
               on_event=on_event)  # fmt: skip


def make_layers(config: Config) -> SoundscapeLayers:
    """The soundscape layers of ``config.layers`` (silent until a mix or a file is set)."""
    lc = config.layers
    return SoundscapeLayers(config.audio.sample_rate, seed=lc.seed,
                            crossfade_seconds=lc.crossfade_seconds, drift_db=lc.drift_db,
                            drift_octaves=lc.drift_octaves,
                            drift_seconds=lc.drift_seconds)  # fmt: skip


def _learning(config: Config, monitor: HeartRateMonitor, hrv: HrvMonitor | None) -> Any:
    """The closed loop of ``prompts.policy: learn`` for ``prompts.listener`` (kept in
    ``prompts.listeners_dir``); without a listener it learns for this session only."""
    import os
    from pathlib import Path

    from bassd.control.listener_response import ResponseTracker
    from bassd.control.prompt_bandit import LearningPolicy, PromptBandit

    p = config.prompts
    rmssd = (lambda: hrv.latest.rmssd_ms if hrv.latest else None) if hrv is not None else None
    seed = config.timeline.seed
    if p.listener is None:
        tracker = ResponseTracker(lambda: monitor.baseline, hrv=rmssd)
        import random

        return LearningPolicy(PromptBandit(), tracker, None, None, rng=random.Random(seed))
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    folder = p.listeners_dir or Path(base) / "bassd" / "listeners"
    folder.mkdir(parents=True, exist_ok=True)
    return LearningPolicy.open(folder, p.listener, baseline=lambda: monitor.baseline,
                               hrv=rmssd, seed=seed)  # fmt: skip


def log_segment_start(ev: SegmentStart) -> None:
    """The ``segment_start`` log line (and ``segment_fallback`` for a late render)."""
    log.info("segment_start", segment=ev.index, frame=ev.frame, renderer=ev.job.renderer,
             fallback=ev.fallback, reason=ev.reason or None,
             prompt=ev.job.request.meta.get("prompt"))  # fmt: skip
    if ev.fallback:
        log.warning("segment_fallback", segment=ev.index, reason=ev.reason)


def new_session_name() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime())


@dataclass
class Session:
    config: Config
    engine: Engine
    controller: Controller
    planner: SegmentPlanner
    monitor: HeartRateMonitor
    events: SessionEvents | None

    @property
    def name(self) -> str | None:
        return self.events.path.parent.name if self.events is not None else None

    def close(self) -> None:
        self.controller.end_session()
        self.engine.close()
        if self.events is not None:
            self.events.close()


def build_session(
    config: Config,
    *,
    session: str | None = None,
    record_events: bool = True,
    clock: Callable[[Engine], SessionClock] = lambda engine: RenderClock(lambda: engine.seconds),
    renderer: Renderer | None = None,
    fallback: Renderer | None = None,
    on_segment_done: Callable[[SegmentRecord], None] | None = None,
    figures: Callable[[], dict[str, Any]] | None = None,
    set_fader: Callable[[float], None] | None = None,
    on_control: Callable[[], None] | None = None,
    fault: Callable[[], None] | None = None,
    offload: Offload = run_inline,
    blocking_renders: bool = False,
) -> Session:
    """Wire one session. Raises PromptBankError (bad bank) or OSError (outputs folder)."""
    bank = load_configured_bank(config.prompts, seed=config.timeline.seed)
    events = (
        SessionEvents(config.outputs.sessions_dir, session or new_session_name())
        if record_events
        else None
    )
    made: Renderer | None = None
    try:
        if renderer is None:
            made = make_renderer(config.renderer.name, config, blocking=blocking_renders)
        monitor = HeartRateMonitor(config.hr)
        steering = Steering(config.emotion, load_scenes(config.scenes), seed=config.scenes.seed)
        now: list[Callable[[], float]] = [lambda: 0.0]  # the session clock, once it exists
        planner = SegmentPlanner(
            config.prompts,
            base_params=lambda: config.renderer.params.model_dump(),
            bank=bank,
            state=lambda: monitor.state,
            steering=steering,
            now=lambda: now[0](),
        )
        engine = Engine(
            config,
            renderer=renderer or made,
            fallback=fallback,
            on_segment_done=on_segment_done,
            params_provider=planner.segment_params,
        )
        jam = None
        if config.jam.enabled:
            sink: list[Controller] = []  # the controller, once made: it records the jam's rows
            jam = make_jam(config, lambda *row: sink[0].jam_event(*row))
            engine.add_layer(jam)
            engine.bed = config.jam.bed
        layers = None
        if config.layers.enabled or config.renderer.name == "layers":
            layers = make_layers(config)
            engine.add_layer(layers)
            if config.renderer.name == "layers":
                engine.bed = False
        hrv = HrvMonitor(config.hrv) if config.hrv.enabled else None
        controller = Controller(
            config,
            engine=engine,
            monitor=monitor,
            planner=planner,
            clock=clock(engine),
            events=events,
            figures=figures,
            set_fader=set_fader,
            on_control=on_control,
            fault=fault,
            offload=offload,
            jam=jam,
            hrv=hrv,
            layers=layers,
        )
        now[0] = controller.now
        if config.prompts.policy == "learn":
            planner.learning = _learning(config, monitor, hrv)
        if hrv is not None:
            hrv.record = lambda t, kind, value, detail: controller.record(kind, value, detail, t=t)
        if jam is not None:
            sink.append(controller)
    except BaseException:
        if made is not None:
            made.close()
        if events is not None:
            events.close()
        raise
    return Session(config, engine, controller, planner, monitor, events)
