"""The engine: segment timeline → master post-FX → master fades, on one sample clock.

``Engine.render(n)`` returns the next n frames of the session. The live daemon
pushes them into the device ring, the offline renderer into a WAV file; nothing
else differs, so an offline render is sample-identical to what would have been
played. ``Engine.frame`` is the engine's master clock (frames rendered).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from bassd.dsp.loudness import MasterChain
from bassd.dsp.postfx import PostFX
from bassd.engine.capture import CaptureBuffer, CapturedAudio
from bassd.engine.config import EngineConfig
from bassd.engine.renderer import KuramotoRenderer, Normaliser, Renderer, StreamingJob
from bassd.engine.sound_library import SoundLibrary
from bassd.engine.timeline import ParamsProvider, SegmentController, SegmentStart

#: renderer parameters the playing bank can take live; the others need a new bank
LIVE_PARAMS = ("coupling", "brightness", "width", "som_xy")
STRUCTURAL_PARAMS = (
    "key", "mode", "density", "tempo_bpm", "partials", "partials_snap", "partials_transpose",
)  # fmt: skip


@dataclass
class SegmentRecord:
    """A finished segment as heard: its master output and how it was made."""

    index: int
    start_frame: int
    renderer: str
    params: dict[str, Any]
    fallback: bool
    reason: str
    render_seconds: float
    frames_rendered: int
    captured: CapturedAudio = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def audio(self) -> np.ndarray:
        """The segment's master output (loaded from shared memory on first use)."""
        cached = self.__dict__.get("_audio")
        if cached is None:
            cached = self.__dict__["_audio"] = self.captured.load()
        return cached

    def release(self) -> None:
        """Free the captured audio's shared memory (once, by its consumer)."""
        self.captured.unlink()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_audio", None)  # only the names of the shared-memory chunks travel
        return state

    @property
    def rtf(self) -> float:
        """Render time / audio time of the job (below 1: faster than real time)."""
        if self.frames_rendered <= 0:
            return float("nan")
        return self.render_seconds / (self.frames_rendered / self._sr)

    _sr: int = 48000


class Layer(Protocol):
    """A source mixed into the segment bed before the master chain, on the engine's clock
    (the jam: accompaniment and metronome)."""

    def render(self, frame0: int, frames: int) -> np.ndarray: ...  # (frames, 2) float32
    def close(self) -> None: ...


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        *,
        renderer: Renderer | None = None,
        fallback: Renderer | None = None,
        on_segment_start: Callable[[SegmentStart], None] | None = None,
        on_segment_done: Callable[[SegmentRecord], None] | None = None,
        fade_in_frames: int | None = None,
        params_provider: ParamsProvider | None = None,
    ) -> None:
        self.config = config
        a, t = config.audio, config.timeline
        self.sample_rate = a.sample_rate
        self.renderer = renderer or KuramotoRenderer()
        self.fallback = fallback or KuramotoRenderer()
        self._listeners: list[Callable[[SegmentStart], None]] = (
            [on_segment_start] if on_segment_start is not None else []
        )
        self._on_done = on_segment_done
        self._events: list[SegmentStart] = []
        self.params: dict[str, Any] = config.renderer.params.model_dump()
        self.adapter_blend: dict[str, float] = {}  # set over OSC (/adapter/blend)
        self.fallback_params: dict[str, Any] = config.fallback.params.model_dump()
        fx = config.fx
        self.postfx = PostFX(
            a.sample_rate,
            2,
            hpf_hz=fx.hpf_hz,
            lpf_hz=fx.lpf_hz,
            drive=fx.drive,
            peak=fx.peak,
            gain_db=fx.gain_db,
        )
        # every segment (fallback clips too) at its target loudness through the master chain
        self.normaliser = Normaliser(
            fx.loudness_target_lufs, fx.loudness_offsets_lu.model_dump(), self.master_chain
        )
        for r in (self.renderer, self.fallback):
            normalise = getattr(r, "normalise", None)  # KuramotoRenderer, NeuralRenderer …
            if normalise is not None:
                normalise(self.normaliser)
        set_bed = getattr(self.renderer, "set_bed", None)
        if set_bed is not None:  # a clip that runs dry crossfades into the DSP bed
            set_bed(self.fallback)
        self.controller = SegmentController(
            sample_rate=a.sample_rate,
            segment_frames=round(t.segment_seconds * a.sample_rate),
            crossfade_frames=round(t.crossfade_seconds * a.sample_rate),
            lookahead=t.lookahead,
            seed=t.seed,
            renderer=self.renderer,
            fallback=self.fallback,
            params=params_provider or (lambda k: (dict(self.params), {})),
            fallback_params=lambda k: (dict(self.fallback_params), {"fallback": True}),
            on_segment=self._segment_started,
        )
        self.frame = 0
        # master gain ramp: fade in at start, fade out on shutdown
        self._gain = 0.0
        self._gain_target = 1.0
        self._gain_step = 1.0 / (fade_in_frames or max(1, a.sample_rate // 50))  # 20 ms
        self._capture = CaptureBuffer(2)
        self._capturing: SegmentStart | None = None
        self._out_gain = 1.0  # output fader (after the limiter), ramped per block
        self._out_target = 1.0
        self.paused = False  # transport stopped: the timeline waits, the output is silence
        self.event_seconds = 0.0  # master-clock time of the segment start being reported
        self._stopping = False
        self.layers: list[Layer] = []
        self.bed = True  # the segment timeline plays (off: only the layers, e.g. a jam render)
        # the live daemon runs the post-FX in the audio callback: it hands each change to
        # the device here, and the ring carries the mix before the chain
        self._device_fx: Callable[[dict[str, float], int], None] | None = None
        self._device_fx_flush: Callable[[], None] | None = None
        self._action_frame: int | None = None  # set while a scheduled action runs
        self._chain_silent = False  # the post-FX's last block was exact silence

    def add_layer(self, layer: Layer) -> None:
        """Mix ``layer`` into every block from now on (it is closed with the engine)."""
        self.layers.append(layer)

    def add_segment_listener(self, listener: Callable[[SegmentStart], None]) -> None:
        """Call ``listener`` as each segment starts (when its first frame is rendered)."""
        self._listeners.append(listener)

    @property
    def renderer_name(self) -> str:
        return self.renderer.name

    def renderer_figures(self) -> dict[str, Any]:
        """The renderer's own status figures (a neural worker's state, speed …)."""
        figures = getattr(self.renderer, "figures", None)
        out = dict(figures()) if figures is not None else {}
        out.setdefault("neural_blend", dict(self.adapter_blend))
        out.update(self.bank_figures())
        return out

    def vae(self) -> Any:
        """The VAE renderer when it plays (its sliders, presets, blend), else None."""
        return self.renderer if getattr(self.renderer, "name", "") == "vae" else None

    def sounds(self) -> SoundLibrary | None:
        """Where the renderer finds the user's sounds (None: a renderer that plays none)."""
        sounds = getattr(self.renderer, "sounds", None)
        return sounds if isinstance(sounds, SoundLibrary) else None

    def bank_figures(self) -> dict[str, Any]:
        """The oscillator bank heard now (the newest playing DSP segment): its Kuramoto
        order parameter r, the sound it plays and where on that sound's map."""
        banks = [j.bank for j in self.controller.playing
                 if isinstance(j, StreamingJob) and j.prepared]  # fmt: skip
        if not banks:
            return {"kuramoto_r": None}
        bank = banks[-1]
        sound = bank.sound
        return {
            "kuramoto_r": round(bank.order_parameter(), 4),
            "partials": "" if sound is None else sound.name,
            "partials_count": len(bank.partial_hz),
            "som_x": bank.params.som_x,
            "som_y": bank.params.som_y,
        }

    def add_renderer_event_listener(self, sink: Callable[[str, object, str], None]) -> None:
        """Report the renderer's own decisions (worker restarts …) to ``sink``."""
        add = getattr(self.renderer, "add_event_listener", None)
        if add is not None:
            add(sink)

    def adapter_names(self) -> list[str] | None:
        """The adapters a blend may name (None: this renderer cannot tell, or has none)."""
        available = getattr(self.renderer, "adapter_names", None)
        return list(available()) if available is not None else None

    @property
    def planned_until(self) -> int:
        """The first segment index not yet asked of the renderer (the plan reaches it)."""
        return self.controller.planned_until

    def set_adapter_blend(self, name: str, weight: float) -> None:
        """One adapter's blend weight (over the configured blend), from the next clip.

        Kept here whatever the renderer; a neural renderer applies it (the DSP
        renderer has no adapters, so there it only shows in the status).
        """
        available = getattr(self.renderer, "adapter_names", None)
        names = available() if available is not None else None
        if names is not None and name not in names and "/" not in name:
            listing = ", ".join(names) or "none installed"
            raise ValueError(f"unknown adapter {name!r} (available: {listing})")
        self.adapter_blend[name] = float(weight)
        set_blend = getattr(self.renderer, "set_blend", None)
        if set_blend is not None:
            set_blend(name, weight)

    def clear_adapter_blend(self) -> None:
        self.adapter_blend.clear()
        clear = getattr(self.renderer, "clear_blend", None)
        if clear is not None:
            clear()

    @property
    def fx_settings(self) -> dict[str, float]:
        return dict(self.postfx.settings)

    def master_chain(self) -> MasterChain:
        """The master filters and limiter as set now (fx.gain_db left out: it trims the
        normalised level)."""
        st = self.postfx.settings
        return MasterChain(
            self.sample_rate, st["hpf_hz"], st["lpf_hz"], st["drive"], st["peak"], gain_db=0.0
        )

    # ------------------------------------------------------------- transport
    def fade_out(self, seconds: float = 0.1) -> None:
        """Ramp the master to silence over ``seconds`` (used on shutdown)."""
        self._gain_target = 0.0
        self._gain_step = 1.0 / max(1, round(seconds * self.sample_rate))

    def transport_stop(self, seconds: float = 0.5) -> None:
        """Fade out, then pause the timeline (it resumes where it stopped)."""
        self.fade_out(seconds)
        self._stopping = True

    def transport_start(self, seconds: float = 0.5) -> None:
        """Resume the timeline with a fade-in."""
        self.paused = False
        self._stopping = False
        self._gain_target = 1.0
        self._gain_step = 1.0 / max(64, round(seconds * self.sample_rate))

    # --------------------------------------------------------------- controls
    def set_output_gain_db(self, db: float) -> None:
        """The output fader after the limiter (≤ 0 dB), ramped over the next block.

        The live daemon applies the same fader in the audio callback instead
        (lower latency); this one serves offline renders and tests.
        """
        if db > 0:
            raise ValueError(f"the output fader goes up to 0 dB, got {db:g}")
        self._out_target = 10.0 ** (db / 20.0)

    @property
    def output_gain_db(self) -> float:
        return 20.0 * np.log10(max(self._out_target, 1e-12))

    def set_fx(self, **settings: float) -> None:
        """gain_db, hpf_hz, lpf_hz, drive, peak: smoothed, from the next control step (32
        frames) of the output — in the device's next period when the callback runs the
        chain — or, inside :meth:`scheduled`, from the block that action belongs to."""
        at = self._action_frame
        self.postfx.set(at_frame=at or 0, **settings)
        if self._device_fx is not None:
            self._device_fx(self.postfx.settings, at or 0)

    def run_device_fx(
        self, push: Callable[[dict[str, float], int], None], flush: Callable[[], None]
    ) -> None:
        """From now on the device's callback runs the post-FX: ``push(settings, frame)``
        hands it every change (frame 0: at once; else the engine frame to apply it at),
        ``flush()`` (called as each block renders) what the device could not take yet, and
        :meth:`render` returns the mix before the chain. The engine still runs its own
        chain for each segment's capture (a control applied by the callback one ring
        fill earlier than here: ≤ 21 ms at the default fill, invisible in a segment's
        figures)."""
        self._device_fx, self._device_fx_flush = push, flush

    @contextlib.contextmanager
    def scheduled(self) -> Iterator[None]:
        """Run a scheduled action (an OSC bundle's) for the block about to be rendered: the
        FX change it makes applies at that block's first frame, also in the callback."""
        self._action_frame = self.frame
        try:
            yield
        finally:
            self._action_frame = None

    def set_renderer_param(self, name: str, value: Any, *, crossfade_seconds: float = 2.0) -> str:
        """Change a renderer parameter; returns how it took effect ("live" or "new bank").

        Coupling, brightness, width and the map position (``som_xy``, a pair) act on the
        playing banks from the next block, and on the segments planned ahead, whose banks
        (built or not) are kept. Key, mode, density, tempo and the sound (``partials``,
        its snap and transposition) need a new bank: the segments planned ahead are
        replanned and the new bank fades in over ``crossfade_seconds``.
        """
        if name not in LIVE_PARAMS + STRUCTURAL_PARAMS:
            raise ValueError(f"unknown renderer parameter {name!r}")
        if name == "som_xy":
            self.params.update(som_x=value[0], som_y=value[1])
        else:
            self.params[name] = value
        if name in LIVE_PARAMS:
            pending = self.controller.pending
            for job in (*self.controller.playing, *pending):
                if isinstance(job, StreamingJob):
                    job.set_live(name, value)  # the banks prepared ahead are kept
            if not all(isinstance(job, StreamingJob) for job in pending):
                self.controller.replan()  # a clip rendered ahead cannot change: render it again
            return "live"
        self.controller.replan()
        self.controller.skip(round(crossfade_seconds * self.sample_rate))
        return "new bank"

    def _segment_started(self, ev: SegmentStart) -> None:
        if self._events and self._events[-1].frame == ev.frame:
            self._events[-1] = ev  # replaced in the same block, before it was heard
        else:
            self._events.append(ev)

    def set_segment_seconds(self, seconds: float) -> None:
        self.controller.set_segment_frames(round(seconds * self.sample_rate))

    def set_crossfade_seconds(self, seconds: float) -> None:
        self.controller.set_crossfade_frames(round(seconds * self.sample_rate))

    def skip(self, crossfade_seconds: float | None = None) -> None:
        fade = None if crossfade_seconds is None else round(crossfade_seconds * self.sample_rate)
        self.controller.skip(fade)

    def prepare_next(self) -> bool:
        """Idle-time work: look after the renderer (a worker's replies, its deadlines) and
        build one planned segment's renderer state ahead of its start (then the spare
        fallback's, so a boundary whose clip is late builds nothing)."""
        poll = getattr(self.renderer, "poll", None)
        if poll is not None:
            poll()
        spare = self.controller.spare
        for job in (*self.controller.pending, *(() if spare is None else (spare,))):
            prepare = getattr(job, "prepare", None)
            if prepare is not None and not getattr(job, "prepared", True):
                prepare()
                return True
        return False

    def replan(self) -> None:
        """The plan changed (state, prompt): render the segments ahead again."""
        self.controller.replan()

    @property
    def seconds(self) -> float:
        """The engine's clock: seconds of audio rendered since the session started."""
        return self.frame / self.sample_rate

    @property
    def faded_out(self) -> bool:
        """The master fade reached silence and the post-FX filters have rung out (the fade
        comes before the chain, as in the callback: their tail ends in exact zeros ~60 ms
        after the fade, below -50 dB from its first sample)."""
        return self._gain_target == 0.0 and self._gain <= 0.0 and self._chain_silent

    @property
    def segment_index(self) -> int:
        return self.controller.segment_index

    @property
    def fallbacks(self) -> int:
        return self.controller.fallbacks

    # ---------------------------------------------------------------- render
    def _master_gain(self, n: int) -> np.ndarray | None:
        if self._gain == self._gain_target:  # at rest: unity, or silence once faded out
            return None if self._gain == 1.0 else np.full(n, self._gain, dtype=np.float32)
        direction = 1.0 if self._gain_target > self._gain else -1.0
        ramp = self._gain + direction * self._gain_step * np.arange(1, n + 1)
        ramp = np.clip(ramp, 0.0, 1.0)
        if direction > 0:
            ramp = np.minimum(ramp, self._gain_target)
        else:
            ramp = np.maximum(ramp, self._gain_target)
        self._gain = float(ramp[-1])
        return ramp.astype(np.float32)

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames of master output, (frames, 2) float32."""
        if self._device_fx_flush is not None:
            self._device_fx_flush()
        if self.paused:  # silence through the chain (its filters ring out, as in the callback)
            mix = np.zeros((frames, 2), dtype=np.float32)
            out = self.postfx.process(mix)
            self.frame += frames
            return mix if self._device_fx is not None else self._fader(out)
        f0 = self.controller.frame  # segment frames are on the timeline's own clock
        if self.bed:
            mix = self.controller.render(frames)
        else:
            mix = np.zeros((frames, 2), dtype=np.float32)
        for layer in self.layers:
            mix = mix + layer.render(self.frame, frames)  # never into a buffer the timeline owns
        gain = self._master_gain(frames)  # the master fade, before the chain (as in the callback)
        if gain is not None:
            mix = mix * gain[:, None]
        out = self.postfx.process(mix)
        self._chain_silent = not out[-32:].any()  # its last control step: the tail has ended
        if self._device_fx is None:
            out = self._fader(out)
        self.frame += frames
        self._route_capture(out, f0)
        if self._stopping and self.faded_out:
            self.paused = True
        return out if self._device_fx is None else np.asarray(mix, dtype=np.float32)

    def _fader(self, out: np.ndarray) -> np.ndarray:
        """The output fader (offline; live, the callback applies it), ramped over the block."""
        if self._out_gain != self._out_target or self._out_target != 1.0:
            ramp = np.linspace(self._out_gain, self._out_target, len(out) + 1, dtype=np.float32)
            out *= ramp[1:, None]
            self._out_gain = self._out_target
        return out

    def _route_capture(self, out: np.ndarray, f0: int) -> None:
        pos = 0
        master0 = self.frame - len(out)
        for ev in self._events:
            cut = ev.frame - f0
            # the segment's start on the master clock (they differ after a transport pause)
            self.event_seconds = (master0 + cut) / self.sample_rate
            if cut > pos:
                self._capture.append(out[pos:cut])
                pos = cut
            self._finish_segment()
            self._capturing = ev
            for listener in self._listeners:
                listener(ev)
        self._events.clear()
        if pos < len(out):
            self._capture.append(out[pos:])

    def _finish_segment(self) -> None:
        ev = self._capturing
        captured = self._capture.finish()
        if ev is None:
            captured.unlink()
            return
        record = SegmentRecord(
            index=ev.index,
            start_frame=ev.frame,
            renderer=ev.job.renderer,
            params=dict(ev.job.request.params),
            fallback=ev.fallback,
            reason=ev.reason,
            render_seconds=ev.job.render_seconds,
            frames_rendered=ev.job.frames_rendered,
            captured=captured,
            meta=dict(ev.job.request.meta),
            _sr=self.sample_rate,
        )
        if self._on_done is None:
            record.release()
        else:
            self._on_done(record)

    def flush(self) -> None:
        """Report the segment playing now as finished (at shutdown or end of render)."""
        self._finish_segment()
        self._capturing = None

    def close(self) -> None:
        for layer in self.layers:
            layer.close()
        self._capture.discard()
        self.controller.close()
        self.renderer.close()
        if self.fallback is not self.renderer:
            self.fallback.close()
