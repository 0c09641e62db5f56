"""The controller: what every OSC address does, and how heart rate steers the music.

One object serves the live daemon and the offline renderer. It owns the
heart-rate monitor, the prompt bank, the session's ``events.csv`` and the
subscriptions, and it tells the engine which prompt each segment plays.

Heart rate → music: the monitor's state (neutral / stress / under-aroused)
picks a prompt category (``prompts.state_categories``); each planned segment
draws a prompt from it and the DSP renderer derives its parameters from the
prompt's structured fields. A state change replans the segments ahead and,
with ``control.state_change: early_crossfade``, fades to the new music now.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from bassd.control.addresses import TABLE, Address
from bassd.control.free_text import prompt_from_text
from bassd.control.hr import HeartRateMonitor, HrEvent
from bassd.control.osc_server import Request
from bassd.control.prompt_bank import Prompt, PromptBank, load_prompt_bank, renderer_params
from bassd.engine.config import Config
from bassd.engine.core import Engine
from bassd.engine.events_log import SessionEvents
from bassd.engine.timeline import SegmentStart

log = structlog.get_logger("bassd.control")

#: the per-field status messages (/status/<field>) and their OSC types
STATUS_FIELDS: tuple[tuple[str, str], ...] = (
    ("state", "s"),
    ("bpm", "f"),
    ("baseline_bpm", "f"),
    ("renderer", "s"),
    ("segment_index", "i"),
    ("prompt", "s"),
    ("underruns", "i"),
    ("callbacks", "i"),
    ("uptime_s", "f"),
    ("sample_rate", "i"),
    ("block_size", "i"),
    ("osc_dropped", "i"),
    ("transport", "s"),
)


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
        config: Config,
        *,
        bank: PromptBank,
        events: SessionEvents | None = None,
        status: Callable[[], dict[str, Any]] | None = None,
        fault: Callable[[], None] | None = None,
        prompts_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.bank = bank
        self.events = events
        self._status = status
        self._fault = fault
        self.prompts_dir = prompts_dir
        self.engine: Engine | None = None
        self.osc: Any = None  # the OscServer, for its counters in /status
        self.on_control: Callable[[], None] | None = None  # after each applied state change
        # the output fader: the daemon routes it to the audio callback; else the engine's
        self.set_fader: Callable[[float], None] | None = None
        self.fader_db = 0.0
        self.hr = HeartRateMonitor(config.hr, on_event=self._hr_event)
        self.overrides: dict[str, Any] = {}  # renderer settings the performer set by hand
        self._next_prompt: Prompt | None = None  # /prompt/set or /prompt/text: next segment
        self.current_prompt: dict[str, Any] = {}
        self.subscribers: dict[tuple[str, int], float] = {}  # (host, port) -> expiry
        self.handlers: dict[str, Callable[[tuple[Any, ...], Request], None]] = {
            a.path: getattr(self, f"on_{a.handler}") for a in TABLE
        }

    # ------------------------------------------------------------------ wiring
    def attach(self, engine: Engine) -> None:
        self.engine = engine

    def now(self) -> float:
        """Seconds on the engine's clock since the session started."""
        return self.engine.seconds if self.engine is not None else 0.0

    def record(self, kind: str, value: object, detail: str = "", t: float | None = None) -> None:
        if self.events is not None:
            try:
                self.events.write(self.now() if t is None else t, kind, value, detail)
            except OSError as exc:  # the disk, not the music, failed
                log.error("events_write_failed", error=str(exc))

    def start_session(self) -> None:
        """Begin the baseline calibration at the session's start."""
        self.hr.start_baseline(self.now())

    def tick(self) -> None:
        self.hr.tick(self.now())

    # ------------------------------------------------------------ segments
    def _category(self) -> str:
        return self.config.prompts.state_categories[self.hr.state]

    def segment_params(self, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Parameters and metadata of planned segment ``index`` (called when it is planned)."""
        base = self.config.renderer.params.model_dump()
        if self._next_prompt is not None:
            prompt, source = self._next_prompt, "chosen"
        else:
            prompt, source = self.bank.select(self._category()), "state"
        params = renderer_params(prompt, base)
        params.update(self.overrides)
        meta = {
            "prompt": prompt.id,
            "category": prompt.category,
            "state": self.hr.state,
            "source": source,
            "text": prompt.text,
        }
        return params, meta

    def on_segment_start(self, ev: SegmentStart) -> None:
        meta = dict(ev.job.request.meta)
        chosen = self._next_prompt
        played = meta.get("prompt")
        if meta.get("source") == "chosen" and chosen is not None and chosen.id == played:
            self._next_prompt = None  # a chosen prompt plays once
        self.current_prompt = meta
        detail = json.dumps(
            {
                "renderer": ev.job.renderer,
                "fallback": ev.fallback,
                "reason": ev.reason,
                **{k: v for k, v in meta.items() if k != "text"},
                "params": ev.job.request.params,
            },
            sort_keys=True,
        )
        t = self.engine.event_seconds if self.engine is not None else None
        self.record("segment", ev.index, detail, t=t)

    # ------------------------------------------------------------ heart rate
    def _hr_event(self, ev: HrEvent) -> None:
        if self.events is not None:
            try:
                self.events.write(ev.t, ev.kind, ev.value, ev.detail)
            except OSError as exc:
                log.error("events_write_failed", error=str(exc))
        if ev.kind == "state":
            log.info("state_change", state=ev.value, detail=ev.detail, t=round(ev.t, 3))
            self._state_changed()
        elif ev.kind == "hr_rejected":
            log.debug("hr_rejected", value=ev.value, reason=ev.detail)

    def _state_changed(self) -> None:
        if self.engine is None:
            return
        self.engine.replan()
        if self.config.control.state_change == "early_crossfade":
            self.engine.skip(self.config.control.early_crossfade_seconds)

    def hr_sample(self, t: float | None, bpm: float, rr_ms: tuple[float, ...] = ()) -> None:
        self.hr.sample(self.now() if t is None else t, bpm, rr_ms)

    # ----------------------------------------------------------- dispatch
    def dispatch(self, entry: Address, values: tuple[Any, ...], request: Request) -> None:
        self.handlers[entry.path](values, request)
        if entry.changes_state:
            if self.on_control is not None and entry.handler != "master_gain":
                self.on_control()  # (the fader has its own probe in the callback)
            self.record("osc", entry.path, " ".join(str(v) for v in values))

    def _eng(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("no engine attached")
        return self.engine

    # heart rate
    def on_hr_bpm(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr_sample(None, v[0])

    def on_hr_rr(self, v: tuple[Any, ...], r: Request) -> None:
        """RR intervals are recorded (accepted or rejected); the rules use /hr/bpm."""
        rr = tuple(v)
        lo, hi = 60_000.0 / self.config.hr.max_bpm, 60_000.0 / self.config.hr.min_bpm
        good = [x for x in rr if lo <= x <= hi]
        for x in rr:
            if not lo <= x <= hi:
                self.record(
                    "hr_rejected", f"{x:g}", f"rr interval out of range {lo:.0f}-{hi:.0f} ms"
                )
        if good:
            self.record("rr", " ".join(f"{x:g}" for x in good), f"{len(good)} interval(s)")

    def on_state_force(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr.force_state(self.now(), v[0])

    def on_state_auto(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr.force_state(self.now(), None)

    def on_baseline_start(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr.start_baseline(self.now(), v[0] if v else None)

    def on_baseline_set(self, v: tuple[Any, ...], r: Request) -> None:
        self.hr.set_baseline(self.now(), v[0])

    # prompts
    def on_prompt_set(self, v: tuple[Any, ...], r: Request) -> None:
        try:
            self._next_prompt = self.bank.by_id(v[0])
        except KeyError as exc:
            raise ValueError(exc.args[0] if exc.args else f"unknown prompt {v[0]!r}") from None
        self._eng().replan()

    def on_prompt_next(self, v: tuple[Any, ...], r: Request) -> None:
        self._next_prompt = self.bank.select(self._category())
        eng = self._eng()
        eng.replan()
        eng.skip()

    def on_prompt_text(self, v: tuple[Any, ...], r: Request) -> None:
        p = self._eng().params
        self._next_prompt = prompt_from_text(
            v[0], self._category(), float(p["tempo_bpm"]), str(p["key"]), str(p["mode"])
        )
        self._eng().replan()

    def on_prompt_bank(self, v: tuple[Any, ...], r: Request) -> None:
        if self.prompts_dir is None:
            raise ValueError("no prompts folder is configured (control.prompts_dir)")
        path = resolve_inside(self.prompts_dir, v[0])
        cfg = self.config.prompts
        bank = load_prompt_bank(path, policy=cfg.policy, avoid_last=cfg.avoid_last)
        missing = [c for c in cfg.state_categories.values() if c not in bank.categories]
        if missing:
            raise ValueError(f"{path.name}: no prompts in categor(ies) {', '.join(missing)}")
        self.bank = bank
        self._eng().replan()
        log.info("prompt_bank_loaded", path=str(path), prompts=len(bank))

    # mix and FX
    def on_master_gain(self, v: tuple[Any, ...], r: Request) -> None:
        if self.set_fader is not None:
            self.set_fader(v[0])
        else:
            self._eng().set_output_gain_db(v[0])
        self.fader_db = float(v[0])

    def on_fx_hpf(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().set_fx(hpf_hz=v[0])

    def on_fx_lpf(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().set_fx(lpf_hz=v[0])

    def on_fx_drive(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().set_fx(drive=v[0])

    def on_fx_peak(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().set_fx(peak=v[0])

    # timeline
    def on_segment_length(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().set_segment_seconds(v[0])

    def on_crossfade(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().set_crossfade_seconds(v[0])

    def on_segment_skip(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().skip()

    # renderer
    def _renderer(self, name: str, value: Any) -> None:
        self.overrides[name] = value
        self._eng().set_renderer_param(
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

    # transport
    def on_transport_start(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().transport_start(v[0] if v else 0.5)

    def on_transport_stop(self, v: tuple[Any, ...], r: Request) -> None:
        self._eng().transport_stop(v[0] if v else 0.5)

    # queries
    def status(self) -> dict[str, Any]:
        out = dict(self._status()) if self._status is not None else {}
        eng = self.engine
        out.update(
            state=self.hr.state,
            state_forced=self.hr.forced,
            calibrating=self.hr.calibrating,
            bpm=self.hr.last_bpm,
            baseline_bpm=self.hr.baseline,
            hr_accepted=self.hr.accepted,
            hr_rejected=self.hr.rejected,
            prompt=self.current_prompt.get("prompt", ""),
            category=self.current_prompt.get("category", ""),
            transport="stopped" if eng is not None and eng.paused else "playing",
            session_t=round(self.now(), 3),
            master_gain_db=self.fader_db,
            sample_rate=self.config.audio.sample_rate,
            block_size=self.config.audio.block_size,
        )
        if self.osc is not None:
            c = self.osc.counters
            out.update(
                osc_received=c.received,
                osc_handled=c.handled,
                osc_dropped=c.dropped,
                osc_scheduled=c.scheduled,
                osc_rejections=dict(c.reasons),
            )
        if eng is not None:
            out.update(
                renderer=eng.renderer.name,
                segment_index=eng.segment_index,
                fx=eng.postfx.settings,
                renderer_params={**eng.params, **self.overrides},
            )
        return out

    @staticmethod
    def field_messages(status: dict[str, Any]) -> list[tuple[str, Any]]:
        """(address, value) per status field, typed for a TouchOSC label or a Max [route]."""
        out: list[tuple[str, Any]] = []
        for name, kind in STATUS_FIELDS:
            value = status.get(name)
            if kind == "s":
                out.append((f"/status/{name}", "" if value is None else str(value)))
            elif kind == "f":
                out.append((f"/status/{name}", 0.0 if value is None else float(value)))
            else:
                out.append((f"/status/{name}", 0 if value is None else int(value)))
        return out

    def on_status(self, v: tuple[Any, ...], r: Request) -> None:
        st = self.status()
        r.reply("/status/json", json.dumps(st, separators=(",", ":"), default=str))
        for address, value in self.field_messages(st):
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
        messages = self.field_messages(self.status())
        for dest in self.subscribers:
            for address, value in messages:
                send_to(dest, address, value)
        return len(self.subscribers)

    def on_debug_fail_callback(self, v: tuple[Any, ...], r: Request) -> None:
        if self._fault is None:
            raise ValueError("fault injection is off (debug.fault_injection)")
        self._fault()
