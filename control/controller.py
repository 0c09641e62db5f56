"""The controller: what every OSC address does, and how heart rate steers the music.

One object serves the live daemon and the offline renderer. It receives its
collaborators in its constructor: the engine (through ``EnginePort``, what
control may do to it), the heart-rate monitor, the segment planner (prompt ->
parameters per segment), the session's ``events.csv``, the session clock and
the figures of the other layers for ``/status``.

Heart rate -> music: the monitor's state (neutral / stress / under-aroused)
picks a prompt category; a state change replans the segments ahead and, with
``control.state_change: early_crossfade``, fades to the new music now.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import structlog

from bassd.control.addresses import STATES, TABLE, Address
from bassd.control.clock import SessionClock
from bassd.control.config import ControlSections
from bassd.control.engine_port import EnginePort
from bassd.control.free_text import prompt_from_text, prompt_near
from bassd.control.group import FAN_OUT, GroupSync
from bassd.control.hr import HeartRateMonitor, HrEvent
from bassd.control.hrv_monitor import HrvMonitor
from bassd.control.library_client import LibraryClient
from bassd.control.osc_server import Request
from bassd.control.planner import SegmentPlanner
from bassd.control.prompt_bandit import EventRow
from bassd.control.prompt_loading import load_prompt_bank, shipped_prompts_dir
from bassd.control.prompt_selection import PromptBank
from bassd.control.protocol import Protocol, ProtocolError, load_protocol
from bassd.control.protocol_runner import ProtocolRunner
from bassd.control.status import Status, field_messages
from bassd.control.steering import Steering
from bassd.dsp.sound import Sound
from bassd.engine.events_log import SessionEvents
from bassd.engine.jam import Jam
from bassd.engine.layers import SoundscapeLayers
from bassd.engine.sound_library import SoundLibrary
from bassd.engine.timeline import SegmentStart

log = structlog.get_logger("bassd.control")

T = TypeVar("T")
#: run ``work`` off the loop, then ``done(result)`` or ``failed(exc)`` on it
Offload = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[Exception], None]], None]


def run_inline(
    work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
) -> None:
    """The offline (and default) offload: do it now."""
    try:
        result = work()
    except Exception as exc:
        failed(exc)
        return
    done(result)


def resolve_inside(folder: Path, name: str) -> Path:
    """``folder/name`` if it stays inside ``folder`` (no traversal, no absolute paths)."""
    if not name or "\x00" in name:
        raise ValueError("empty file name")
    base = folder.resolve()
    path = (base / name).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"{name!r} is outside the prompts folder")
    return path


class Controller:
    def __init__(
        self,
        config: ControlSections,
        *,
        engine: EnginePort,
        monitor: HeartRateMonitor,
        planner: SegmentPlanner,
        clock: SessionClock,
        events: SessionEvents | None = None,
        figures: Callable[[], dict[str, Any]] | None = None,
        set_fader: Callable[[float], None] | None = None,
        on_control: Callable[[], None] | None = None,
        fault: Callable[[], None] | None = None,
        offload: Offload = run_inline,
        jam: Jam | None = None,
        hrv: HrvMonitor | None = None,
        layers: SoundscapeLayers | None = None,
    ) -> None:
        self.config = config
        self.layers = layers  # the soundscape layers (layers.enabled), on the engine's clock
        self._layer_mixes = 0  # mixes asked for: each one's seed is layers.seed + this
        self.jam = jam  # the keyboard accompanist (jam.enabled), on the engine's clock
        self.hrv = hrv  # HRV from the RR intervals (hrv.enabled)
        self.hr_contact: bool | None = None  # the sensor's skin contact (/hr/contact, BLE)
        self._som_node: tuple[int, int] | None = None  # the map node nearest /som/xy
        self.search: Any = None  # the semantic search service (the daemon starts it)
        self.search_reason = ""  # why there is none
        self.group: GroupSync | None = None  # the daemon's group (group.peers), live only
        self.on_bank_changed: Callable[[PromptBank], None] | None = None
        self.protocol: ProtocolRunner | None = None  # the session protocol playing (or done)
        self.on_protocol_end: Callable[[ProtocolRunner], None] | None = None  # the daemon's
        self.engine = engine
        self.hr = monitor
        self.planner = planner
        self.clock = clock
        self.events = events
        self._figures = figures  # the device's, engine's and OSC server's figures
        self._set_fader = set_fader  # live: the audio callback's fader; else the engine's
        self._on_control = on_control  # after each applied state change (latency probe)
        self._fault = fault
        self._offload = offload
        self.prompts_dir = config.control.prompts_dir or shipped_prompts_dir()
        self.fader_db = 0.0
        self._fail_tick = False  # /debug/fail_task
        self.subscribers: dict[tuple[str, int], float] = {}  # (host, port) -> expiry
        self.handlers: dict[str, Callable[[tuple[Any, ...], Request], None]] = {
            a.path: getattr(self, f"on_{a.handler}") for a in TABLE
        }
        monitor.subscribe(self._hr_event)
        planner.record_rows = self._record_rows
        engine.add_segment_listener(self.on_segment_start)
        engine.add_renderer_event_listener(
            lambda kind, value, detail: self.record(kind, value, detail)
        )

    @property
    def bank(self) -> PromptBank:
        return self.planner.bank

    def now(self) -> float:
        """Seconds on the session clock."""
        return self.clock.now()

    def record(self, kind: str, value: object, detail: str = "", t: float | None = None) -> None:
        if self.events is not None:
            try:
                self.events.write(self.now() if t is None else t, kind, value, detail)
            except (OSError, ValueError) as exc:  # the disk, not the music, failed
                log.error("events_write_failed", error=str(exc))

    def start_session(self, protocol: Protocol | None = None) -> None:
        """Begin the session: with a protocol (given, or ``protocol.file``), its first stage
        (which calibrates unless the baseline is known); else the baseline calibration."""
        lc = self._layers_config()
        if self.layers is not None and lc is not None and lc.vibe:
            self.layers_mix(lc.vibe, "start")
        pc = self.config.protocol
        if protocol is None and pc.file is not None:
            protocol = load_protocol(pc.file, pc.dir)
        if protocol is None:
            self.hr.start_baseline(self.now())
            return
        self.start_protocol(protocol, listener=pc.listener, baseline_bpm=pc.baseline_bpm)

    def start_protocol(
        self, protocol: Protocol, *, listener: str | None = None, baseline_bpm: float | None = None
    ) -> ProtocolRunner:
        """Play ``protocol`` from now (one that is playing stops first). ProtocolError where
        this session cannot play it (nothing changes then)."""
        runner = ProtocolRunner(protocol, self, listener=listener, baseline_bpm=baseline_bpm,
                                on_finished=self._protocol_finished)  # fmt: skip
        runner.check()
        if self.protocol is not None and not self.protocol.finished:
            self.protocol.stop()
        self.protocol = runner
        runner.start()
        return runner

    def _protocol_finished(self, runner: ProtocolRunner) -> None:
        if self.on_protocol_end is not None:
            self.on_protocol_end(runner)

    def tick(self) -> None:
        if self._fail_tick:
            raise RuntimeError("injected task failure (/debug/fail_task)")
        now = self.now()
        if self.events is not None and self.events.waiting:  # the disk was full: try again
            self.events.retry()
        self.hr.tick(now)
        if self.hrv is not None:
            self.hrv.tick(now)
        if self.protocol is not None:
            self.protocol.tick()

    # ------------------------------------------------------------ segments
    def on_segment_start(self, ev: SegmentStart) -> None:
        if self.protocol is not None:  # a stage that begins with this segment, first
            t0 = self.clock.segment_time(self.engine.event_seconds)
            self.protocol.on_segment_start(ev.index, t0)
        meta = dict(ev.job.request.meta)
        self.planner.started(meta)
        detail = json.dumps(
            {
                "renderer": ev.job.renderer,
                "fallback": ev.fallback,
                "reason": ev.reason,
                "frame": ev.frame,
                **{k: v for k, v in meta.items() if k != "text"},
                "params": ev.job.request.params,
            },
            sort_keys=True,
        )
        t = self.clock.segment_time(self.engine.event_seconds)
        self.record("segment", ev.index, detail, t=t)
        learning = self.planner.learning
        if learning is not None:
            prompt = meta.get("prompt") if meta.get("source") in ("learn", "state") else None
            state = str(meta.get("state", "neutral"))
            self._record_rows(learning.on_segment_start(t, prompt, state))

    def _record_rows(self, rows: list[EventRow]) -> None:
        for row in rows:
            self.record(row.kind, row.value, row.detail, t=row.t)

    def end_session(self) -> None:
        """The session ends: the closed loop judges the last segment and saves."""
        if self.planner.learning is not None:
            self._record_rows(self.planner.learning.close(self.now()))

    # ------------------------------------------------------------ heart rate
    def _hr_event(self, ev: HrEvent) -> None:
        self.record(ev.kind, ev.value, ev.detail, t=ev.t)
        if ev.kind == "hr" and self.planner.learning is not None:
            self.planner.learning.on_hr(ev.t, float(ev.value))
        if ev.kind == "state" and self.planner.steering is not None:
            self.planner.steering.hr_changed(str(ev.value), ev.t)
        if ev.kind == "state":
            log.info("state_change", state=ev.value, detail=ev.detail, t=round(ev.t, 3))
            self._state_changed()
        elif ev.kind == "hr_rejected":
            log.debug("hr_rejected", value=ev.value, reason=ev.detail)

    def _state_changed(self) -> None:
        plan = self.planner.stage_at(self.engine.segment_index + 1)
        if plan is not None and plan.fixed:
            # a protocol's fixed stage: the heart rate is recorded, the music holds; an
            # adaptive stage already planned after it is planned again with the new state
            if self.protocol is not None and self.protocol.adaptive_planned_ahead():
                self.engine.replan()
            return
        self.engine.replan()
        if self.config.control.state_change == "early_crossfade":
            self.engine.skip(self.config.control.early_crossfade_seconds)
        self._state_layers()

    def hr_sample(self, t: float | None, bpm: float, rr_ms: tuple[float, ...] = ()) -> None:
        t = self.now() if t is None else t
        self.hr.sample(t, bpm, rr_ms)
        if rr_ms:
            self.rr_intervals(t, rr_ms)

    def rr_intervals(self, t: float | None, rr_ms: tuple[float, ...]) -> tuple[float, ...]:
        """RR intervals (ms) of one message: the ones in the heart-rate range are recorded
        and go to the HRV window, the others are recorded as rejected. Returns the good."""
        t = self.now() if t is None else t
        lo, hi = 60_000.0 / self.config.hr.max_bpm, 60_000.0 / self.config.hr.min_bpm
        good = tuple(x for x in rr_ms if lo <= x <= hi)
        for x in rr_ms:
            if not lo <= x <= hi:
                self.record("hr_rejected", f"{x:g}",
                            f"rr interval out of range {lo:.0f}-{hi:.0f} ms", t=t)  # fmt: skip
        if good:
            self.record("rr", " ".join(f"{x:g}" for x in good), f"{len(good)} interval(s)", t=t)
            if self.hrv is not None:
                self.hrv.add(t, good)
        return good

    def contact(self, t: float | None, detected: bool) -> None:
        """The sensor's skin contact changed (recorded); without it, no heart-rate sample
        is used (the bridge sends none, and the state falls back as on a silent source)."""
        if detected != self.hr_contact:
            self.record("hr_contact", int(detected), "", t=self.now() if t is None else t)
        self.hr_contact = detected

    # ----------------------------------------------------------- dispatch
    def dispatch(self, entry: Address, values: tuple[Any, ...], request: Request) -> None:
        self.handlers[entry.path](values, request)
        if entry.changes_state:
            if self._on_control is not None and entry.handler != "master_gain":
                self._on_control()  # (the fader has its own probe in the callback)
            self.record("osc", entry.path, " ".join(str(v) for v in values))

    # heart rate
    def on_hr_bpm(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr_sample(None, v[0])

    def on_hr_rr(self, v: tuple[Any, ...], r: Request) -> None:
        """RR intervals: recorded (accepted or rejected) and fed to HRV; the state rules use
        /hr/bpm."""
        self.rr_intervals(None, tuple(v))

    def on_hr_contact(self, v: tuple[Any, ...], r: Request) -> None:
        self.contact(None, bool(v[0]))

    def on_state_force(self, v: tuple[Any, ...], r: Request) -> None:
        if not self._fan_out("/state/force", v[0]):
            self.hr.force_state(self.now(), v[0])

    def on_state_auto(self, v: tuple[Any, ...], r: Request) -> None:
        if not self._fan_out("/state/auto", None):
            self.hr.force_state(self.now(), None)

    def on_baseline_start(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr.start_baseline(self.now(), v[0] if v else None)

    def on_baseline_set(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr.set_baseline(self.now(), v[0])

    # prompts
    def on_prompt_set(self, v: tuple[Any, ...], r: Request) -> None:
        try:
            self.planner.next_prompt = self.bank.by_id(v[0])
        except KeyError as exc:
            raise ValueError(exc.args[0] if exc.args else f"unknown prompt {v[0]!r}") from None
        self.engine.replan()

    def on_prompt_next(self, v: tuple[Any, ...], r: Request) -> None:
        self.planner.next_prompt = self.bank.select(self.planner.category())
        self.engine.replan()
        self.engine.skip()

    def on_prompt_text(self, v: tuple[Any, ...], r: Request) -> None:
        p = self.engine.params
        self.planner.next_prompt = prompt_from_text(
            v[0], self.planner.category(), float(p["tempo_bpm"]), str(p["key"]), str(p["mode"])
        )
        self.engine.replan()

    def on_prompt_search(self, v: tuple[Any, ...], r: Request) -> None:
        """Semantic search (a worker process): the nearest prompt plays next, or, with no good
        match, the text itself mapped from its neighbours; /prompt/results answers."""
        service = self.search
        if service is None:
            raise ValueError(f"search is unavailable: {self.search_reason or 'not started'}")
        text = str(v[0])
        cfg = self.config.search

        def done(reply: Any) -> None:
            if reply.error:
                r.reply("/error", r.address, str(reply.error))
                self.record("prompt_search_failed", text, str(reply.error))
                return
            results = [(i, s) for i, s in reply.results if self.bank.has(i)]
            args: list[Any] = []
            for pid, score in results:
                args += [pid, float(score)]
            r.reply("/prompt/results", *args)
            if not results:
                return
            best, score = results[0]
            if score >= cfg.threshold:
                self.planner.next_prompt = self.bank.by_id(best)
                how = "match"
            else:
                near = [(self.bank.by_id(i), s) for i, s in results]
                self.planner.next_prompt = prompt_near(text, near)
                how = "free text"
            self.engine.replan()
            detail = json.dumps({"how": how, "results": [[i, round(s, 4)] for i, s in results],
                                 "ms": round(1e3 * reply.round_trip_s, 1)})  # fmt: skip
            self.record("prompt_search", text, detail)

        if service.state in ("idle", "failed"):
            service.start()  # not preloaded (or failed before): this query waits for the load
        service.query(text, cfg.top, done)

    # the sound library (app/library.py, docs/library.md): SQLite and numpy off the loop
    @property
    def library(self) -> LibraryClient:
        """The library's connection and figures (made on first use; opened off the loop)."""
        client = self.__dict__.get("_library_client")
        if client is None:
            client = self.__dict__["_library_client"] = LibraryClient(self.config.library)
        return client

    def library_refresh(self) -> None:
        """Count the library's entries off the loop (the daemon calls it at start)."""
        lib = self.library

        def failed(exc: Exception) -> None:
            log.warning("library_unreadable", error=str(exc))

        if lib.state != "off":
            self._offload(lib.refresh, lambda _n: None, failed)

    def _library_answer(
        self, r: Request, kind: str, text: str, how: str, t0: float
    ) -> tuple[Callable[[Any], None], Callable[[Exception], None]]:
        def done(hits: list[Any]) -> None:
            args: list[Any] = []
            for h in hits:
                args += [int(h.id), float(h.score), str(h.path)]
            r.reply("/library/results", *args)
            detail = json.dumps({"how": how, "results": [[h.id, round(h.score, 4)] for h in hits],
                                 "ms": round(1e3 * (time.monotonic() - t0), 1)})  # fmt: skip
            self.record(kind, text, detail)

        def failed(exc: Exception) -> None:
            r.reply("/error", r.address, str(exc))
            self.record(f"{kind}_failed", text, str(exc))

        return done, failed

    def on_library_search(self, v: tuple[Any, ...], r: Request) -> None:
        """Text search of the library: the text's embedding from the search worker (words
        only while it loads, or without one), then the search in the offload thread."""
        lib = self.library
        if lib.state == "off":
            raise ValueError(f"the library is off ({lib.reason})")
        text, top, t0 = str(v[0]), self.config.library.top, time.monotonic()

        def lookup(vector: Any, how: str) -> None:
            done, failed = self._library_answer(r, "library_search", text, how, t0)
            self._offload(lambda: lib.search(text, vector, top), done, failed)

        service = self.search
        if service is not None and service.state == "idle":
            service.start()  # not preloaded: this search matches words, the next embeds
        if service is None or service.state != "ready":
            lookup(None, "words")  # no model, or it is still loading: words only, now
            return

        def embedded(reply: Any) -> None:
            ok = not reply.error and reply.vector is not None
            lookup(reply.vector if ok else None, "embedding" if ok else "words")

        service.embed(text, embedded)

    def on_library_similar(self, v: tuple[Any, ...], r: Request) -> None:
        """The entries nearest an entry or an audio file, computed in the offload thread."""
        lib = self.library
        if lib.state == "off":
            raise ValueError(f"the library is off ({lib.reason})")
        ref, top, t0 = str(v[0]), self.config.library.top, time.monotonic()
        done, failed = self._library_answer(r, "library_similar", ref, "audio", t0)
        self._offload(lambda: lib.similar(ref, top), done, failed)

    def on_prompt_bank(self, v: tuple[Any, ...], r: Request) -> None:
        """Load a bank from ``control.prompts_dir`` off the loop; switch to it when valid."""
        path = resolve_inside(self.prompts_dir, v[0])
        limit = self.config.control.max_bank_bytes
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ValueError(f"{path.name}: {exc.strerror or exc}") from None
        if size > limit:
            raise ValueError(
                f"{path.name}: {size} bytes, more than control.max_bank_bytes ({limit})"
            )
        cfg = self.config.prompts

        def load() -> PromptBank:
            bank = load_prompt_bank(path, policy=cfg.policy, avoid_last=cfg.avoid_last)
            missing = [c for c in cfg.state_categories.values() if c not in bank.categories]
            if missing:
                raise ValueError(f"{path.name}: no prompts in categor(ies) {', '.join(missing)}")
            return bank

        def use(bank: PromptBank) -> None:
            self.planner.bank = bank
            if self.on_bank_changed is not None:
                self.on_bank_changed(bank)  # e.g. the search embeds the new bank
            self.engine.replan()
            self.record("prompt_bank", path.name, f"{len(bank)} prompts")
            log.info("prompt_bank_loaded", path=str(path), prompts=len(bank))

        def failed(exc: Exception) -> None:
            log.warning("prompt_bank_rejected", path=str(path), error=str(exc))
            self.record("prompt_bank_rejected", path.name, str(exc))
            r.reply("/error", r.address, str(exc))

        self._offload(load, use, failed)

    # session protocols (control/protocol_runner.py)
    def on_session_start(self, v: tuple[Any, ...], r: Request) -> None:
        """Start a protocol by name (in ``protocol.dir``, else the shipped ones), read off the
        loop; the baseline the session has is kept (else its first stage calibrates)."""
        name = str(v[0]).strip()
        pc = self.config.protocol

        def use(protocol: Protocol) -> None:
            try:
                self.start_protocol(protocol, listener=pc.listener)
            except ProtocolError as exc:
                failed(exc)

        def failed(exc: Exception) -> None:
            log.warning("protocol_rejected", protocol=name, error=str(exc))
            self.record("protocol_rejected", name, str(exc))
            r.reply("/error", r.address, str(exc))

        if "/" in name or name.startswith("."):
            raise ValueError(f"{name!r}: a protocol's name, not a path")
        self._offload(lambda: load_protocol(name, pc.dir), use, failed)

    def on_session_stop(self, v: tuple[Any, ...], r: Request) -> None:
        if self.protocol is None or self.protocol.finished:
            raise ValueError("no protocol is playing")
        self.protocol.stop()

    # mix and FX
    def on_master_gain(self, v: tuple[Any, ...], r: Request) -> None:
        if self._set_fader is not None:
            self._set_fader(v[0])
        else:
            self.engine.set_output_gain_db(v[0])
        self.fader_db = float(v[0])

    def on_fx_hpf(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.set_fx(hpf_hz=v[0])

    def on_fx_lpf(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.set_fx(lpf_hz=v[0])

    def on_fx_drive(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.set_fx(drive=v[0])

    def on_fx_peak(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.set_fx(peak=v[0])

    # timeline
    def on_segment_length(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.set_segment_seconds(v[0])

    def on_crossfade(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.set_crossfade_seconds(v[0])

    def on_segment_skip(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.skip()

    # renderer
    def _renderer(self, name: str, value: Any) -> None:
        self.planner.overrides[name] = value
        self.engine.set_renderer_param(
            name, value, crossfade_seconds=self.config.control.structural_crossfade_seconds
        )

    def on_renderer_coupling(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("coupling", v[0])

    def on_renderer_brightness(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("brightness", v[0])

    def on_renderer_width(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("width", v[0])

    def on_renderer_density(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("density", v[0])

    def on_renderer_key(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("key", v[0])

    def on_renderer_mode(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("mode", v[0])

    def on_renderer_tempo(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("tempo_bpm", v[0])

    # the user's sounds (bassd analyse) and their maps
    def _sounds(self) -> SoundLibrary:
        sounds = self.engine.sounds()
        if sounds is None:
            raise ValueError(
                f"sounds play on the kuramoto renderer, not {self.engine.renderer_name}"
            )
        return sounds

    def on_renderer_partials(self, v: tuple[Any, ...], r: Request) -> None:
        """Play a sound by name (or "off": the scale); loaded off the loop, then crossfaded."""
        name = str(v[0]).strip()
        if name in ("", "off"):
            self._renderer("partials", None)
            self.record("partials", "off", "the scale")
            return
        sounds = self._sounds()

        def use(sound: Sound) -> None:
            self._renderer("partials", name)
            self._som_node = None
            detail = f"{len(sound.oscset)} partials, " + ("a map" if sound.som else "no map")
            self.record("partials", name, detail)
            log.info("partials_loaded", name=name, partials=len(sound.oscset))

        def failed(exc: Exception) -> None:
            log.warning("partials_rejected", name=name, error=str(exc))
            self.record("partials_rejected", name, str(exc))
            r.reply("/error", r.address, str(exc))

        self._offload(lambda: sounds.load(name, allow_paths=False), use, failed)

    def on_renderer_partials_snap(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("partials_snap", v[0])

    def on_renderer_transpose(self, v: tuple[Any, ...], r: Request) -> None:
        self._renderer("partials_transpose", v[0])

    def on_som_xy(self, v: tuple[Any, ...], r: Request) -> None:
        """Move on the playing sound's map; the nearest node, when it changes, is recorded."""
        name = self.engine.params.get("partials")
        if not name:
            raise ValueError("no sound is playing (/renderer/partials NAME first)")
        sound = self._sounds().cached(str(name))
        if sound.som is None:
            raise ValueError(f"the sound {name!r} has no map")
        x, y = float(v[0]), float(v[1])
        self.planner.overrides.update(som_x=x, som_y=y)
        self.engine.set_renderer_param("som_xy", (x, y))
        som = sound.som
        node = (round(y * (som.rows - 1)), round(x * (som.cols - 1)))
        if node != self._som_node:
            self._som_node = node
            label = int(som.labels[node])
            source = sound.oscset.sources[label] if 0 <= label < len(sound.oscset.sources) else ""
            self.record("som_node", f"{node[0]},{node[1]}", f"x={x:.3f} y={y:.3f} {source}")

    # transport
    def on_adapter_blend(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.set_adapter_blend(v[0], v[1])
        self.record("adapter_blend", f"{v[1]:g}", v[0])

    def on_adapter_clear(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.clear_adapter_blend()
        self.record("adapter_clear", "", "")

    # emotion and scenes (control/steering.py)
    def _steering(self) -> Steering:
        if self.planner.steering is None:
            raise ValueError("no steering in this session")
        return self.planner.steering

    def on_emotion(self, v: tuple[Any, ...], r: Request) -> None:
        steering = self._steering()
        before = self.planner.steered()
        what = steering.set_emotion(str(v[0]), float(v[1]), self.now())
        after = self.planner.steered()
        self.record("emotion", str(v[0]).lower(), f"confidence {float(v[1]):.2f}: {what}; "
                    f"category {after[0]} ({after[1]})")  # fmt: skip
        if what == "applied" and after != before:
            self._state_changed()  # replan, fade to it as a state change does
        elif what == "applied":
            self.engine.replan()  # same category, new parameters for the segments ahead

    def _apply_scene(self, name: str, how: str) -> None:
        steering = self._steering()
        scene = steering.set_scene(name)
        if scene is not None:
            if scene.fx:
                self.engine.set_fx(**scene.fx)
            for adapter, weight in scene.adapters.items():
                with contextlib.suppress(ValueError):  # not the neural renderer: status only
                    self.engine.set_adapter_blend(adapter, weight)
        self.record("scene", name, how + (f": {scene.description}" if scene else ""))
        self._scene_layers(name, how)
        self.engine.replan()
        fade = scene.crossfade_seconds if scene is not None else None
        self.engine.skip(fade or self.config.control.early_crossfade_seconds)

    def on_scene(self, v: tuple[Any, ...], r: Request) -> None:
        if not self._fan_out("/scene", str(v[0]), "recalled"):
            self._apply_scene(str(v[0]), "recalled")

    def on_scene_surprise(self, v: tuple[Any, ...], r: Request) -> None:
        name = self._steering().surprise()  # drawn here: every daemon recalls this one
        if not self._fan_out("/scene", name, "surprise"):
            self._apply_scene(name, "surprise")

    # the soundscape layers (engine/layers.py, app/layers_mix.py): decoded and looped off
    # the loop, handed to the engine layer, which crossfades them in from its next block
    def _layers_config(self) -> Any:
        return getattr(self.config, "layers", None)

    def _layers(self) -> SoundscapeLayers:
        if self.layers is None:
            raise ValueError("the layers are off (layers.enabled: false)")
        return self.layers

    def _vibes(self) -> Any:
        vibes = self.__dict__.get("_vibes_file")
        if vibes is None:
            from bassd.app.layers_mix import load_vibes

            vibes = self.__dict__["_vibes_file"] = load_vibes(self._layers_config().vibes_file)
        return vibes

    def _layer_slot(self, r: Request) -> int:
        return int(r.address.split("/")[2])

    def layers_mix(self, vibe: str, how: str, r: Request | None = None) -> None:
        """Build the four-layer mix of ``vibe`` from the library (seeded by ``layers.seed``
        and the mixes before it; narrowed by the HR state with ``layers.follow_state``) off
        the loop, then crossfade every layer to it. ValueError: layers or library off, an
        unknown vibe (nothing changes)."""
        from bassd.app.layers_mix import build_mix, load_voice

        layers, vibes, lc = self._layers(), self._vibes(), self._layers_config()
        if vibe not in vibes.vibes:
            raise ValueError(f"unknown vibe {vibe!r} (vibes: {', '.join(sorted(vibes.vibes))})")
        lib = self.library
        if lib.state == "off":
            raise ValueError(f"the library is off ({lib.reason})")
        seed = lc.seed + self._layer_mixes
        self._layer_mixes += 1
        state = self.hr.state if lc.follow_state and self.hr.state != "neutral" else None
        sr = self.engine.sample_rate

        def work() -> tuple[Any, list[Any]]:
            db = lib.connection()
            mix = build_mix(db, vibes, vibe, seed=seed, state=state, min_seconds=lc.min_seconds)
            voices = [load_voice(db, p.entry_id, sr, max_seconds=lc.max_loop_seconds,
                                 fade_seconds=lc.loop_crossfade_seconds,
                                 level_dbfs=lc.level_dbfs) for p in mix.picks]  # fmt: skip
            return mix, voices

        def done(result: tuple[Any, list[Any]]) -> None:
            mix, voices = result
            layers.vibe = vibe
            for n in range(len(voices) + 1, len(layers.slots) + 1):
                layers.set_voice(n, None)  # a library of fewer than four: the rest fade out
            for p, voice in zip(mix.picks, voices, strict=True):
                layers.set_voice(p.slot, voice)
                layers.set_gain_db(p.slot, p.gain_db)
                layers.set_pan(p.slot, p.pan)
                layers.set_cutoff(p.slot, p.cutoff_hz)
                layers.set_mute(p.slot, False)
            detail = {"how": how, "seed": seed, "state": state, "widened": mix.widened,
                      "picks": [p.as_dict() for p in mix.picks],
                      "loops": [v.meta for v in voices]}  # fmt: skip
            self.record("layers_mix", vibe, json.dumps(detail, separators=(",", ":")))
            log.info("layers_mix", vibe=vibe, how=how, picks=mix.summary())

        def failed(exc: Exception) -> None:
            log.warning("layers_mix_failed", vibe=vibe, error=str(exc))
            self.record("layers_mix_failed", vibe, str(exc))
            if r is not None:
                r.reply("/error", r.address, str(exc))

        self._offload(work, done, failed)

    def _scene_layers(self, name: str, how: str) -> None:
        """A recalled scene with a vibe of its name rebuilds the mix (layers.follow_scenes)."""
        lc = self._layers_config()
        if self.layers is None or lc is None or not lc.follow_scenes:
            return
        try:
            if name in self._vibes().vibes:
                self.layers_mix(name, f"scene {how}")
        except ValueError as exc:  # the library off: the scene still applies
            self.record("layers_mix_failed", name, str(exc))

    def _state_layers(self) -> None:
        """A new HR state rebuilds the playing vibe's mix, its ranges narrowed by the state
        (layers.follow_state; vibes.yaml states: stress picks calmer layers)."""
        lc = self._layers_config()
        if self.layers is None or lc is None or not lc.follow_state or not self.layers.vibe:
            return
        try:
            self.layers_mix(self.layers.vibe, f"state {self.hr.state}")
        except ValueError as exc:
            self.record("layers_mix_failed", self.layers.vibe, str(exc))

    def on_layers_mix(self, v: tuple[Any, ...], r: Request) -> None:
        self.layers_mix(str(v[0]), "osc", r)

    def on_layers_file(self, v: tuple[Any, ...], r: Request) -> None:
        """Crossfade layer N to a library entry (id or path), decoded and looped off the loop."""
        from bassd.app.layers_mix import load_voice

        layers, lc, n = self._layers(), self._layers_config(), self._layer_slot(r)
        ref = str(v[0]).strip()
        lib = self.library
        if lib.state == "off":
            raise ValueError(f"the library is off ({lib.reason})")
        sr = self.engine.sample_rate

        def work() -> Any:
            db = lib.connection()
            entry = db.resolve(ref)
            return load_voice(db, entry.id, sr, max_seconds=lc.max_loop_seconds,
                              fade_seconds=lc.loop_crossfade_seconds,
                              level_dbfs=lc.level_dbfs)  # fmt: skip

        def done(voice: Any) -> None:
            layers.set_voice(n, voice)
            self.record("layers_file", f"{n}:{voice.entry_id}", json.dumps(
                {"name": voice.name, "loop": voice.meta}, separators=(",", ":")))  # fmt: skip

        def failed(exc: Exception) -> None:
            self.record("layers_file_failed", f"{n}:{ref}", str(exc))
            r.reply("/error", r.address, str(exc))

        self._offload(work, done, failed)

    def on_layers_gain(self, v: tuple[Any, ...], r: Request) -> None:
        n = self._layer_slot(r)
        self._layers().set_gain_db(n, float(v[0]))
        self.record("layers_gain", f"{n}:{float(v[0]):g}", "dB")

    def on_layers_pan(self, v: tuple[Any, ...], r: Request) -> None:
        n = self._layer_slot(r)
        self._layers().set_pan(n, float(v[0]))
        self.record("layers_pan", f"{n}:{float(v[0]):g}", "")

    def on_layers_filter(self, v: tuple[Any, ...], r: Request) -> None:
        n = self._layer_slot(r)
        self._layers().set_cutoff(n, float(v[0]))
        self.record("layers_filter", f"{n}:{float(v[0]):g}", "Hz low-pass")

    def on_layers_mute(self, v: tuple[Any, ...], r: Request) -> None:
        n = self._layer_slot(r)
        self._layers().set_mute(n, bool(v[0]))
        self.record("layers_mute", f"{n}:{int(v[0])}", "")

    # the group (control/group.py): changes that land on every daemon at one beat
    def _fan_out(self, address: str, value: str | None, how: str = "") -> bool:
        """With peers, a performer's change goes to the group (and lands here at the same
        beat); False: no group, apply it now. A change this daemon cannot apply is refused
        before anything is sent."""
        group = self.group
        if group is None or not group.fans_out:
            return False
        self.check_change(address, value)
        group.originate(address, value, f"{how} (group)" if how else "group")
        return True

    def check_change(self, address: str, value: str | None) -> None:
        """ValueError if ``address value`` (one of the group's changes) cannot apply here."""
        if address not in FAN_OUT:
            raise ValueError(f"{address} is not a group change")
        if address == "/scene":
            steering = self._steering()
            if value is None or (value != "off" and value not in steering.scenes):
                known = ", ".join(sorted(steering.scenes))
                raise ValueError(f"unknown scene {value!r} (scenes: {known})")
        elif address == "/state/force" and value not in STATES:
            raise ValueError(f"unknown state {value!r}")

    def apply_change(self, address: str, value: str | None, how: str) -> None:
        """Apply one of the group's changes here, now (at its beat: the pump's block)."""
        if address == "/scene":
            assert value is not None
            self._apply_scene(value, how)
        elif address == "/state/force":
            self.hr.force_state(self.now(), value)
        elif address == "/state/auto":
            self.hr.force_state(self.now(), None)
        else:
            raise ValueError(f"{address} is not a group change")

    def on_group_apply(self, v: tuple[Any, ...], r: Request) -> None:
        """A peer's change: placed on this daemon's clock, never sent on."""
        if self.group is None:
            raise ValueError("no group in this session (the live daemon's: bassd run)")
        self.group.receive(v, r.peer)

    # the VAE renderer
    def _vae(self) -> Any:
        vae = self.engine.vae()
        if vae is None:
            raise ValueError(f"the VAE controls need renderer.name: vae, not "
                             f"{self.engine.renderer_name}")  # fmt: skip
        return vae

    def on_vae_slider(self, v: tuple[Any, ...], r: Request) -> None:
        index = int(r.address.rsplit("/", 1)[1]) - 1
        self._vae().set_slider(index, float(v[0]))

    def on_vae_preset(self, v: tuple[Any, ...], r: Request) -> None:
        vae = self._vae()
        name = str(v[0])

        def load() -> list[float]:
            from bassd.models.vae_pipeline import read_sliders, slider_values

            values = vae.library.preset(vae.model_name, name)["values"]
            settings = ({str(i + 1): x for i, x in enumerate(values)} if isinstance(values, list)
                        else dict(values))  # fmt: skip
            return slider_values(read_sliders(Path(vae.model_folder)), settings)

        def use(values: list[float]) -> None:
            vae.set_sliders(values)
            self.record("vae_preset", name, " ".join(f"{x:.3f}" for x in values))

        def failed(exc: Exception) -> None:
            self.record("vae_preset_rejected", name, str(exc))
            r.reply("/error", r.address, str(exc))

        self._offload(load, use, failed)

    def on_vae_preset_save(self, v: tuple[Any, ...], r: Request) -> None:
        vae = self._vae()
        name = str(v[0])
        values = dict(zip(vae.slider_names, vae.sliders or [0.5] * len(vae.slider_names),
                          strict=False))  # fmt: skip

        def failed(exc: Exception) -> None:
            r.reply("/error", r.address, str(exc))

        def save() -> None:
            vae.library.save_preset(vae.model_name, name, values)

        self._offload(save, lambda _: self.record("vae_preset_saved", name, str(values)), failed)

    def on_vae_blend(self, v: tuple[Any, ...], r: Request) -> None:
        vae = self._vae()
        name, weight = str(v[0]), float(v[1])
        if name in ("", "off") or weight <= 0:
            vae.set_blend(None, 0.0)
            self.record("vae_blend", "off", "")
            return

        def find() -> str:
            from bassd.models.vae_pipeline import read_sliders

            folder = vae.library.path(name)
            read_sliders(folder)  # a partner needs its sliders (matched by name)
            return str(folder)

        def use(folder: str) -> None:
            vae.set_blend(folder, weight)
            self.record("vae_blend", name, f"{weight:g}")

        def failed(exc: Exception) -> None:
            self.record("vae_blend_rejected", name, str(exc))
            r.reply("/error", r.address, str(exc))

        self._offload(find, use, failed)

    # the jam
    def _jam(self) -> Jam:
        if self.jam is None:
            raise ValueError("the jam is off (jam.enabled: false)")
        return self.jam

    def jam_event(self, kind: str, value: object, detail: str, frame: int) -> None:
        """A row from the jam (note, key, chord, beat ...) at its frame on the engine clock."""
        t = self.clock.segment_time(frame / self.engine.sample_rate)
        self.record(kind, value, detail, t=t)

    def on_jam_accompaniment(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().accompaniment = bool(v[0])

    def on_jam_style(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().style = v[0]

    def on_jam_program(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().set_program(v[0])

    def on_jam_level(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().level_db = float(v[0])

    def on_jam_fusion(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().set_fusion_weight(v[0])

    def on_jam_tempo(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().set_tempo(v[0])

    def on_jam_meter(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().set_meter(v[0])

    def on_jam_metronome(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().set_metronome(bool(v[0]))

    def on_jam_metronome_level(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().click.level_db = float(v[0])

    def on_jam_key_lock(self, v: tuple[Any, ...], r: Request) -> None:
        text = v[0].strip()
        self._jam().set_key_lock(None if text.lower() in ("off", "", "auto") else text)

    def on_jam_tempo_follow(self, v: tuple[Any, ...], r: Request) -> None:
        self._jam().tempo_follow = bool(v[0])

    def on_jam_panic(self, v: tuple[Any, ...], r: Request) -> None:
        jam = self._jam()
        jam.all_notes_off(jam.frame_now())

    def on_transport_start(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.transport_start(v[0] if v else 0.5)

    def on_transport_stop(self, v: tuple[Any, ...], r: Request) -> None:
        self.engine.transport_stop(v[0] if v else 0.5)

    # queries
    def status_figures(self) -> dict[str, Any]:
        """The controller's own figures (state, heart rate, prompt, transport, settings)."""
        eng = self.engine
        return {
            "state": self.hr.state,
            "state_forced": self.hr.forced,
            "calibrating": self.hr.calibrating,
            "bpm": self.hr.last_bpm,
            "baseline_bpm": self.hr.baseline,
            "hr_accepted": self.hr.accepted,
            "hr_rejected": self.hr.rejected,
            "prompt": self.planner.current.get("prompt", ""),
            "category": self.planner.current.get("category", ""),
            "transport": "stopped" if eng.paused else "playing",
            "session_t": round(self.now(), 3),
            "master_gain_db": self.fader_db,
            "renderer": eng.renderer_name,
            "segment_index": eng.segment_index,
            "fx": eng.fx_settings,
            "renderer_params": {**eng.params, **self.planner.overrides},
            **eng.renderer_figures(),
            **(self.jam.figures() if self.jam is not None else {}),
            **(self.layers.figures() if self.layers is not None else {}),
            **(self.hrv.figures() if self.hrv is not None else {}),
            "hr_contact": self.hr_contact,
            **self._steering_figures(),
            **(self.protocol.figures() if self.protocol is not None else {}),
            **(
                self.search.figures()
                if self.search is not None
                else {"search_state": "off", "search_reason": self.search_reason}
            ),
            **self.library.figures(),
        }

    def _steering_figures(self) -> dict[str, Any]:
        st = self.planner.steering
        if st is None:
            return {}
        return {"scene": st.scene or "", "emotion": st.label or "",
                "emotion_confidence": st.confidence if st.label else None,
                "steer": self.planner.steered()[1]}  # fmt: skip

    def status(self) -> Status:
        """Everything /status reports."""
        outer = self._figures() if self._figures is not None else {}
        return Status.from_parts(outer, self.status_figures())

    def on_status(self, v: tuple[Any, ...], r: Request) -> None:
        st = self.status()
        r.reply("/status/json", json.dumps(st.as_dict(), separators=(",", ":"), default=str))
        for address, value in field_messages(st):
            r.reply(address, value)

    def on_help(self, v: tuple[Any, ...], r: Request) -> None:
        for a in TABLE:
            if a.debug and self._fault is None:
                continue
            r.reply("/help/address", a.path, a.signature, a.help)

    def on_subscribe(self, v: tuple[Any, ...], r: Request) -> None:
        port = int(v[0]) if v else self.config.osc.reply_port
        key = (r.peer[0], port)
        if key not in self.subscribers and len(self.subscribers) >= self.config.osc.max_subscribers:
            raise ValueError(
                f"too many subscribers (osc.max_subscribers = {self.config.osc.max_subscribers})"
            )
        self.subscribers[key] = time.monotonic() + self.config.osc.subscription_seconds
        log.info("subscribed", host=key[0], port=port)

    def on_unsubscribe(self, v: tuple[Any, ...], r: Request) -> None:
        ports = [int(v[0])] if v else [p for (h, p) in self.subscribers if h == r.peer[0]]
        for port in ports:
            self.subscribers.pop((r.peer[0], port), None)

    def push(self, send_to: Callable[..., None]) -> int:
        """Send the per-field status to every live subscriber; returns how many."""
        now = time.monotonic()
        for key in [k for k, exp in self.subscribers.items() if exp < now]:
            del self.subscribers[key]
            log.info("subscription_expired", host=key[0], port=key[1])
        if not self.subscribers:
            return 0
        messages = field_messages(self.status())
        for dest in self.subscribers:
            for address, value in messages:
                send_to(dest, address, value)
        return len(self.subscribers)

    def on_debug_fail_callback(self, v: tuple[Any, ...], r: Request) -> None:
        if self._fault is None:
            raise ValueError("fault injection is off (debug.fault_injection)")
        self._fault()

    def on_debug_fail_task(self, v: tuple[Any, ...], r: Request) -> None:
        if self._fault is None:
            raise ValueError("fault injection is off (debug.fault_injection)")
        self._fail_tick = True
