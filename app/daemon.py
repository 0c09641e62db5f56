"""The live daemon: wires a session to the audio device and OSC, and supervises its tasks.

Threads and processes (docs/architecture.md has the whole picture):

* the device process (engine/device_host.py) owns PortAudio; its real-time
  thread runs the C callback, which only reads the shared ring;
* this process's asyncio loop (uvloop where installed) runs the pump
  (engine -> ring), the device supervisor (watchdog), the heart-rate tick, the
  subscription push and the OSC server;
* the metrics sink's worker process measures finished segments.

Signals: the first SIGINT/SIGTERM fades out over 100 ms, lets the fade play,
stops the device, records the last segment and exits 0. A second one forces
a quick exit (130) that still removes the shared memory. Every child ignores
both signals (they reach the whole process group) and leaves its lifetime to
this process. A task that fails stops the daemon with exit code 1, so a
supervisor (systemd) restarts it. SIGHUP reloads the configuration file(s) it
started with (validated first; a bad file changes nothing): what can change live
is applied, the rest is listed as needing a restart (app/config_reload.py).

Under systemd (``NOTIFY_SOCKET``), the notify task sends READY=1 once the first
callbacks have run, STATUS= lines, WATCHDOG=1 only while the audio path is healthy
(app/audio_health.py) and STOPPING=1 at shutdown (app/sd_notify.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from bassd.app import diagnostics, import_watch
from bassd.app.audio_health import AudioSample, unhealthy_reason
from bassd.app.ble_input import sample_handler
from bassd.app.config import Config, ConfigError
from bassd.app.config_reload import adopt, plan_reload
from bassd.app.gc_watch import GcWatch
from bassd.app.logging_setup import configure_logging, worker_init
from bassd.app.offload import ThreadOffload
from bassd.app.sd_notify import Notifier, status_line
from bassd.app.session import Session, build_session, log_segment_start
from bassd.control.ble_bridge import HeartRateBridge
from bassd.control.clock import WallClock
from bassd.control.group import GroupSync
from bassd.control.link_tempo import LinkTempo
from bassd.control.midi_host import MidiHost, wait_ready
from bassd.control.midi_notes import MidiEvent
from bassd.control.osc_server import OscServer, OscSettings, start_osc_server
from bassd.engine.device_process import DeviceProcess
from bassd.engine.device_supervisor import DeviceSupervisor
from bassd.engine.metrics_sink import MetricsSink, SegmentWriter
from bassd.engine.player import SharedPlayer
from bassd.engine.pump import Pump
from bassd.engine.renderer import Renderer
from bassd.engine.ring import SharedRing
from bassd.engine.scheduler import FrameScheduler

log = structlog.get_logger("bassd.daemon")

EXIT_OK, EXIT_TASK_FAILED, EXIT_FORCED = 0, 1, 130
NOTIFY_STATUS_SECONDS = 5.0  # STATUS= lines without a watchdog
DeviceParts = tuple[SharedRing, SharedPlayer, DeviceProcess]


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        device: DeviceParts,
        segment_log: SegmentWriter | None = None,
        renderer: Renderer | None = None,
        session_name: str | None = None,
        midi_process: subprocess.Popen[bytes] | None = None,
        reload_config: Callable[[], Config] | None = None,
    ) -> None:
        self.config = config
        self._reload_config = reload_config  # SIGHUP: the same file(s) and overrides again
        self._reloading = False
        self._reload_again = False
        self.config_reloads = 0
        self.config_reload_rejected = 0
        self.notifier = Notifier()  # systemd's NOTIFY_SOCKET; does nothing without it
        self.watchdog_pings = 0
        self._pump_task: asyncio.Task[Any] | None = None
        self._midi_process = midi_process  # started by bassd run before the daemon
        self.ring, self.player, device_process = device
        self.supervisor = DeviceSupervisor(
            device_process, config.watchdog, frame=lambda: self.engine_frame
        )
        self.sink = (
            MetricsSink(segment_log, initializer=worker_init, initargs=(config.logging.level,))
            if segment_log is not None
            else None
        )
        self._renderer = renderer
        self._session_name = session_name
        self.scheduler = FrameScheduler(config.osc.max_scheduled)
        self.started_at = time.monotonic()
        self.session: Session | None = None
        self.pump: Pump | None = None
        self.imports = import_watch.ImportWatch()  # modules imported while the music plays
        self.gc_watch = GcWatch()  # collections while the music plays, timed
        self.heap_trim = diagnostics.HeapTrim()  # the C heap's free pages back, now and then
        self.osc: OscServer | None = None
        self._osc_transport: asyncio.DatagramTransport | None = None
        self._stop = asyncio.Event()
        self._signals = 0
        self._exit_code = EXIT_OK
        self._tasks: set[asyncio.Task[Any]] = set()  # strong references
        self._main_task: asyncio.Task[Any] | None = None  # run(), cancelled by a forced stop
        self.midi: MidiHost | None = None
        self.ble: HeartRateBridge | None = None
        self.search: Any = None  # the semantic search service (models/prompt_search.py)
        self.oscquery: Any = None  # the OSCQuery server (control/oscquery.py)
        self.advertiser: Any = None  # its mDNS advertisement
        self.link: LinkTempo | None = None
        self.group: GroupSync | None = None  # the other daemons (group.peers)
        self._control_ns = 0  # arrival of the last applied control (latency probe)
        self._fader_ns = 0

    # ------------------------------------------------------------- figures
    @property
    def engine_frame(self) -> int:
        return self.session.engine.frame if self.session is not None else 0

    def _latency_ms(self, since_ns: int, done_ns: int) -> float | None:
        if not since_ns or done_ns < since_ns:
            return None
        return (done_ns - since_ns) / 1e6

    def figures(self) -> dict[str, Any]:
        """The device's, the engine's, the pump's and the OSC server's status figures."""
        p = self.player.p
        stats = self.player.stats()
        eng = self.session.engine if self.session is not None else None
        info = self.supervisor.info
        out: dict[str, Any] = {
            "stream": self.supervisor.state,
            "dry_callbacks": stats["dry_callbacks"],
            "late_pumps": self.pump.late_pumps if self.pump is not None else 0,
            "slow_blocks": self.pump.slow_blocks if self.pump is not None else 0,
            "offcpu_blocks": self.pump.offcpu_blocks if self.pump is not None else 0,
            "late_imports": self.imports.late_imports,
            "slow_gcs": self.gc_watch.slow,
            "gc_max_ms": round(self.gc_watch.max_s * 1e3, 2),
            "server_xruns": stats["pa_output_underflows"],
            "underrun_events": stats["underrun_events"],
            "callbacks": stats["callbacks"],
            "frames_out": stats["frames_out"],
            "ring_fill": self.ring.fill(),
            "stream_restarts": self.supervisor.restarts,
            "stream_failures": self.supervisor.failures,
            "device": info.get("device"),
            "hostapi": info.get("hostapi"),
            "uptime_s": round(time.monotonic() - self.started_at, 3),
            "sample_rate": self.config.audio.sample_rate,
            "block_size": self.config.audio.block_size,
            "engine_frame": eng.frame if eng is not None else 0,
            "fallbacks": eng.fallbacks if eng is not None else 0,
            "control_latency_ms": self._latency_ms(self._control_ns, int(p.mark_ns)),
            "fader_latency_ms": self._latency_ms(self._fader_ns, int(p.fader_mark_ns)),
            "fx_latency_ms": self.player.fx_latency_ms(),
            "fx_in_callback": bool(p.fx_on),
            "output_fader": round(float(p.fader), 6),
            "session": self.session.name if self.session is not None else None,
            "segment_log_errors": self.sink.errors if self.sink is not None else 0,
            "metrics_pool_restarts": self.sink.pool_restarts if self.sink is not None else 0,
            "osc_scheduled_waiting": len(self.scheduler),
            "config_reloads": self.config_reloads,
            "config_reload_rejected": self.config_reload_rejected,
            "watchdog_pings": self.watchdog_pings,
        }
        out.update(diagnostics.figures())  # RSS, open files, shm blocks, asyncio tasks
        out.update(self.heap_trim.figures())
        out.update(diagnostics.disk_figures(self.sink.worker_disk if self.sink else {}))
        for name, value in self.player.callback_durations().items():
            out[name] = int(value) if name == "callback_count" else round(value, 1)
        if self.osc is not None:
            out.update(self.osc.counters.figures())
        if self.midi is not None:
            out.update(self.midi.figures())
        if self.ble is not None:
            out.update(self.ble.figures())
        if self.link is not None:
            out.update(self.link.figures())
        if self.group is not None:
            out.update(self.group.figures())
        return out

    def _mark_control(self) -> None:
        """Latency probe: the next rendered frame is the first that reflects this control;
        the C callback notes when it hands that frame to the device."""
        self._control_ns = time.monotonic_ns()
        self.player.p.mark_ns = 0
        self.player.p.mark_frame = max(1, self.engine_frame)

    def _set_fader(self, db: float) -> None:
        """/master/gain: the C callback ramps to it at its next period."""
        self._fader_ns = time.monotonic_ns()
        self.player.p.fader_target = 10.0 ** (db / 20.0)

    # --------------------------------------------------------------- tasks
    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task_failed", task=task.get_name(), error=repr(exc))
            self._exit_code = EXIT_TASK_FAILED
            self._stop.set()

    async def _heartbeat(self) -> None:
        """Heart-rate staleness and calibration, 10 times a second on the session clock."""
        assert self.session is not None
        dry = int(self.player.p.dry_callbacks)
        while True:
            await asyncio.sleep(0.1)
            self.session.controller.tick()
            self.imports.check()
            self.gc_watch.check()
            now = int(self.player.p.dry_callbacks)
            if now != dry and self.pump is not None:  # when it happened, and beside what
                log.warning("ran_dry", dry_callbacks=now, new=now - dry, frame=self.engine_frame,
                            ring_fill=self.ring.fill(), late_pumps=self.pump.late_pumps,
                            slow_blocks=self.pump.slow_blocks,
                            offcpu_blocks=self.pump.offcpu_blocks,
                            server_xruns=int(self.player.p.pa_output_underflows))  # fmt: skip
                dry = now

    async def _trim_heap(self, every_s: float) -> None:
        """The C heap's free pages back to the system every ``every_s`` (on the loop: a trim
        takes arena locks, which a helper thread at normal priority could hold preempted)."""
        while True:
            await asyncio.sleep(every_s)
            before = self.heap_trim.released_mb
            took_ms = self.heap_trim()
            released = self.heap_trim.released_mb - before
            if released >= 1.0 or (took_ms or 0.0) > 2.0:  # a step given back, or a slow one
                log.info("heap_trim", took_ms=round(took_ms or 0.0, 3),
                         released_mb=round(released, 2))  # fmt: skip

    def _midi_event(self, ev: MidiEvent) -> None:
        """A MIDI event (on the loop, stamped with the frame playing when it arrived)."""
        assert self.session is not None
        jam = self.session.controller.jam
        if jam is None:
            return
        if ev.kind == "note_on":
            jam.note_on(ev.note, ev.velocity, ev.frame)
        elif ev.kind == "note_off":
            jam.note_off(ev.note, ev.frame)
        elif ev.kind == "all_notes_off":  # its note-offs came before it
            self.session.controller.jam_event("midi_all_notes_off", ev.port, "", ev.frame)

    async def _start_oscquery(self, session: Session, osc_port: int) -> None:
        """OSCQuery: the address table and /status's live values over HTTP and WebSocket;
        a port already taken is logged and the daemon plays on without it."""
        from bassd.control.oscquery import Advertiser, OscQueryServer

        o = self.config.osc
        controller = session.controller
        server = OscQueryServer(lambda: controller.status().as_dict(), host=o.host,
                                port=o.oscquery_port, osc_port=osc_port, allow=o.allow,
                                push_hz=o.push_hz)  # fmt: skip
        try:
            await server.start()
        except OSError as exc:
            log.warning("oscquery_off", port=o.oscquery_port, error=str(exc))
            return
        self.oscquery = server
        log.info("oscquery_listening", host=o.host, port=server.port)
        if o.oscquery_mdns:
            self.advertiser = Advertiser()

            async def advertise() -> None:
                assert self.advertiser is not None
                await self.advertiser.advertise("bassd", server.port, osc_port)

            self._spawn(advertise(), "mdns")

    def _start_search(self, session: Session) -> None:
        """Semantic prompt search: a worker process loading the model in the background
        (the music plays meanwhile), polled from the loop 100 times a second."""
        from bassd.models.search_config import search_available

        cfg = self.config.search
        why = search_available(cfg)
        controller = session.controller
        if why:
            controller.search_reason = why
            log.info("search_off", reason=why)
            return
        from bassd.models.prompt_search import SearchService

        def start(prompts: Any, preload: bool) -> None:
            service = SearchService(prompts, model_dir=cfg.model_dir, cache_dir=cfg.cache_dir,
                                    threads=cfg.threads)  # fmt: skip
            self.search = controller.search = service
            if preload:
                service.start()

        def bank_changed(bank: Any) -> None:  # /prompt/bank: a new worker embeds the new bank
            old = self.search
            start(bank.prompts, True)
            if old is not None:  # its worker may be mid-load: stopped off the loop
                threading.Thread(target=old.close, name="bassd-search-close", daemon=True).start()

        start(controller.bank.prompts, cfg.preload)
        controller.on_bank_changed = bank_changed
        self._spawn(self._poll_search(), "search")

    async def _poll_search(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            if self.search is not None:
                self.search.poll()

    def _start_group(self, session: Session, osc_port: int) -> None:
        """The group (control/group.py): changes from peers are taken from now on; with
        group.peers the performer's scene and state changes fan out, at the Link beat
        (jam.link) or, without Link, at a wall-clock moment. Peers' names resolve once,
        in a task (a name that fails is tried again)."""
        assert self.osc is not None and self.pump is not None
        g, o, controller = self.config.group, self.config.osc, session.controller
        osc = self.osc
        self.group = GroupSync(
            g, self_id=g.id or f"{socket.gethostname()}:{osc_port}",
            link=self._link_session,
            send=lambda dest, address, args: osc.send_to(dest, address, *args),
            schedule=self.pump.schedule, apply=controller.apply_change,
            check=controller.check_change, record=controller.record, heard=self._heard,
            secret=o.secret,
        )  # fmt: skip
        controller.group = self.group
        osc.on_reject = self.group.wire_rejected
        if g.peers:
            family = socket.AF_INET6 if ":" in o.host else socket.AF_INET
            self._spawn(self.group.resolve(family), "group_resolve")
            log.info("group_joined", id=self.group.id, peers=g.peers, quantum=g.quantum,
                     lead_s=g.lead_seconds, link=bool(self.config.jam.enabled and
                                                      self.config.jam.link))  # fmt: skip

    def _link_session(self) -> Any:
        """The jam's Ableton Link session (an aalink.Link) while it is joined, else None."""
        return self.link.link if self.link is not None else None

    def _heard(self) -> tuple[int, float]:
        """The block being rendered now: its first frame and the wall time it is heard
        (the ring's read position is the frame the device plays about now)."""
        frame = self.engine_frame
        return frame, time.time() + (frame - self.ring.read_pos) / self.config.audio.sample_rate

    async def _push(self) -> None:
        assert self.session is not None and self.osc is not None
        while True:
            await asyncio.sleep(1.0 / self.config.osc.push_hz)
            self.session.controller.push(self.osc.send_to)

    # ------------------------------------------------------------- systemd
    def _audio_sample(self) -> AudioSample:
        stats = self.player.stats()
        pump = self._pump_task
        return AudioSample(
            stream=self.supervisor.state,
            callbacks=int(stats["callbacks"]),
            dry_callbacks=int(stats["dry_callbacks"]),
            write_pos=int(self.ring.write_pos),
            pump_alive=pump is not None and not pump.done(),
        )

    def _status_text(self) -> str:
        """The figures that matter, for systemd's STATUS= (``systemctl status``)."""
        stats = self.player.stats()
        s = self.session
        hr = s.controller.hr if s is not None else None
        return status_line({
            "stream": self.supervisor.state,
            "state": hr.state if hr is not None else None,
            "bpm": None if hr is None or hr.last_bpm is None else round(hr.last_bpm, 1),
            "segment": s.engine.segment_index if s is not None else None,
            "dry_callbacks": stats["dry_callbacks"],
            "late_pumps": self.pump.late_pumps if self.pump is not None else 0,
            "restarts": self.supervisor.restarts,
        })  # fmt: skip

    async def _notify(self) -> None:
        """READY=1 once the first callbacks have run; then every WatchdogSec/2 (or every
        few seconds without a watchdog) a STATUS= line, with WATCHDOG=1 only while the
        audio path has been healthy since the last check."""
        n = self.notifier
        while self.player.stats()["callbacks"] < 1:
            await asyncio.sleep(0.005)
        n.ready(self._status_text())
        log.info("sd_notify_ready", watchdog_s=n.watchdog_s)
        period = n.watchdog_s / 2 if n.watchdog_s else NOTIFY_STATUS_SECONDS
        before = self._audio_sample()
        withheld: str | None = None
        while True:
            await asyncio.sleep(period)
            now = self._audio_sample()
            reason = unhealthy_reason(before, now)
            before = now
            text = self._status_text()
            if n.watchdog_s is None:
                n.status(text)
            elif reason is None:
                if n.watchdog(text):
                    self.watchdog_pings += 1
                if withheld is not None:
                    log.info("watchdog_resumed", was=withheld)
                    withheld = None
            else:
                n.status(f"unhealthy: {reason}; {text}")
                if withheld is None:
                    log.warning("watchdog_withheld", reason=reason)
                withheld = reason

    def request_reload(self) -> None:
        """SIGHUP: reload the configuration (one reload at a time; a SIGHUP meanwhile
        reloads once more after it)."""
        if self._reload_config is None or self.session is None:
            log.warning("config_reload_unavailable")
            return
        if self._reloading:
            self._reload_again = True
            return
        self._reloading = True
        self._spawn(self._reload(), "reload")

    async def _reload(self) -> None:
        assert self._reload_config is not None and self.session is not None
        controller = self.session.controller
        self.notifier.reloading()
        try:
            try:  # YAML and validation off the loop: the pump keeps its wake-ups
                new = await asyncio.to_thread(self._reload_config)
            except ConfigError as exc:
                error = "; ".join(str(exc).splitlines())
                self.config_reload_rejected += 1
                log.error("config_reload_rejected", error=error)
                controller.record("config_reload_rejected", "", error)
                return
            plan = plan_reload(self.config, new)
            self._apply_live(new, plan.live)
            self.config_reloads += 1
            log.info("config_reloaded", applied=plan.live, needs_restart=plan.restart)
            detail = json.dumps({"applied": plan.live, "needs_restart": plan.restart})
            controller.record("config_reloaded", len(plan.live), detail)
        except Exception as exc:  # a reload never stops the music
            self.config_reload_rejected += 1
            log.error("config_reload_failed", error=repr(exc))
        finally:
            self.notifier.ready(self._status_text())
            self._reloading = False
            if self._reload_again:
                self._reload_again = False
                self.request_reload()

    def _apply_live(self, new: Config, keys: list[str]) -> None:
        """Apply the live keys of a reloaded (validated) configuration."""
        assert self.session is not None
        engine, controller = self.session.engine, self.session.controller
        old_level = self.config.logging.level
        adopt(self.config, new, keys)  # the planner's base parameters read it from now on
        fx = {k.split(".", 1)[1]: float(getattr(new.fx, k.split(".", 1)[1]))
              for k in keys if k.startswith("fx.")}  # fmt: skip
        if fx:
            engine.set_fx(**fx)
        overrides = controller.planner.overrides  # a performer's value (OSC) stays on top
        for key in keys:
            name = key.removeprefix("renderer.params.")
            if key.startswith("renderer.params.") and name not in overrides:
                engine.set_renderer_param(name, getattr(new.renderer.params, name))
        if any(k.startswith("hr.") for k in keys):
            controller.hr.cfg = self.config.hr  # the rules read it at each sample
        if self.config.logging.level != old_level:
            configure_logging(self.config.logging.level, self.config.logging.format)

    # ------------------------------------------------------------ lifetime
    def _protocol_done(self, runner: Any) -> None:
        log.info("protocol_done_stopping", protocol=runner.protocol.name, outcome=runner.outcome)
        self._stop.set()

    def request_stop(self) -> None:
        """SIGINT/SIGTERM: the first stops cleanly, a second forces a quick exit."""
        self._signals += 1
        if self._signals == 1:
            log.info("stop_requested")
            self._stop.set()
            return
        log.warning("forced_stop", signals=self._signals)
        self._exit_code = EXIT_FORCED
        self.supervisor.kill()
        if self.midi is not None:
            self.midi.kill()
        for task in list(self._tasks):
            task.cancel()
        if self._main_task is not None:
            self._main_task.cancel()

    def _set_realtime(self) -> None:
        prio = self.config.audio.realtime_priority
        if prio <= 0:
            return
        # Only the loop thread: the pump must wake on time while other processes load
        # the cores. RESET_ON_FORK keeps processes started later at normal priority.
        policy = os.SCHED_FIFO | getattr(os, "SCHED_RESET_ON_FORK", 0)
        try:
            os.sched_setscheduler(0, policy, os.sched_param(prio))
            log.info("realtime_priority", priority=prio)
        except (OSError, AttributeError) as exc:
            log.warning("realtime_priority_unavailable", priority=prio, error=str(exc))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._main_task = asyncio.current_task()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            await self._play()
        except asyncio.CancelledError:
            if self._exit_code != EXIT_FORCED:
                raise
        finally:
            self._close()
        return self._exit_code

    async def _play(self) -> None:
        cfg, a = self.config, self.config.audio
        self._set_realtime()
        session = self.session = build_session(
            cfg,
            session=self._session_name,
            clock=lambda engine: WallClock(),
            renderer=self._renderer,
            on_segment_done=self.sink.submit if self.sink is not None else None,
            figures=self.figures,
            set_fader=self._set_fader,
            on_control=self._mark_control,
            fault=self.supervisor.device.inject_failure if cfg.debug.fault_injection else None,
            offload=ThreadOffload(self._spawn),
        )
        session.engine.add_segment_listener(log_segment_start)
        if a.fx_in_callback:  # the master post-FX in the C callback: heard next period
            self.player.init_fx(a.sample_rate, session.engine.postfx.settings)
            session.engine.run_device_fx(self.player.push_fx, self.player.flush_fx)
        self.pump = Pump(
            session.engine, self.ring, self.scheduler, sample_rate=a.sample_rate,
            block_size=a.block_size, target_fill_frames=a.target_fill_frames,
            stall_dump_s=cfg.debug.stall_dump_ms / 1e3,
        )  # fmt: skip
        if cfg.protocol.exit_at_end:  # bassd session run: the protocol's end ends the daemon
            session.controller.on_protocol_end = lambda runner: self._protocol_done(runner)
        session.controller.start_session()
        if cfg.osc.oscquery:  # aiohttp's import (~0.3 s) before the music, not on its loop
            import bassd.control.oscquery  # noqa: F401

            if cfg.osc.oscquery_mdns:
                import zeroconf  # noqa: F401  (its registration runs in a thread later)
        import_watch.warm()  # what the loop would import on first use, while playing
        if cfg.jam.enabled and cfg.jam.link:  # the link extra: joined on the loop, later
            with contextlib.suppress(ImportError):
                import aalink  # noqa: F401
        if self.sink is not None:  # its worker process starts now, not at the first segment's end
            self.sink.start()
        # the ring is full before the first callback, with start-up headroom (it drains to
        # target_fill_frames within ~0.1 s)
        self.pump.top_up(a.startup_fill)
        # what start-up built (config, session, FluidSynth, the predictor ...) lives as long
        # as the daemon: collected once now and frozen, so the collector never walks it
        # while the music plays (a full collection of it took ~20 ms on the loop)
        gc.collect()
        gc.freeze()
        self.gc_watch.arm()
        if self._midi_process is not None:  # its start-up burst ends before the music starts
            ready = await asyncio.to_thread(wait_ready, self._midi_process, 5.0)
            if not ready:
                log.warning("midi_process_not_ready", pid=self._midi_process.pid)
        dev = await self.supervisor.open()
        self.pump.running = True
        log.info("daemon_started", device=dev.get("device"), hostapi=dev.get("hostapi"),
                 sample_rate=a.sample_rate, block_size=a.block_size,
                 latency_s=round(float(dev.get("latency", 0.0)), 4),
                 renderer=session.engine.renderer_name, session=session.name)  # fmt: skip
        o = cfg.osc
        settings = OscSettings.from_config(o, debug=cfg.debug.fault_injection)
        self._osc_transport, self.osc = await start_osc_server(
            o.host, o.port, session.controller, settings, self.pump.schedule, o.receive_buffer_bytes
        )
        self._start_group(session, self._osc_transport.get_extra_info("sockname")[1])
        log.info("osc_listening", host=o.host, port=o.port, reply_port=o.reply_port)
        self._pump_task = self._spawn(self.pump.run(), "pump")
        if self.notifier.enabled:
            self._spawn(self._notify(), "sd_notify")
        self._spawn(self.supervisor.run(), "watchdog")
        self._spawn(self._heartbeat(), "heartbeat")
        self._spawn(self._push(), "push")
        if a.heap_trim_seconds > 0 and self.heap_trim.available:
            self._spawn(self._trim_heap(a.heap_trim_seconds), "heap_trim")
        if cfg.debug.tracemalloc:  # soak diagnosis: which allocations grow
            self._spawn(diagnostics.trace_allocations(cfg.debug.tracemalloc_seconds), "tracemalloc")
        self._start_search(session)
        session.controller.library_refresh()  # the library's entry count, off the loop
        if o.oscquery:  # the pump runs first: the server's start-up never delays it
            osc_port = self._osc_transport.get_extra_info("sockname")[1]
            self._spawn(self._start_oscquery(session, osc_port), "oscquery")
        if cfg.ble.enabled:  # bleak's BlueZ backend is asyncio (dbus-fast): no thread, no block
            self.ble = HeartRateBridge(cfg.ble, sample_handler(session.controller, lambda t: None))
            self._spawn(self.ble.run(), "ble")
        if cfg.midi.enabled:
            # a process of its own (control/midi_host.py): its rtmidi thread stamps each
            # event with the frame the device is playing (it reads the ring's position)
            self.midi = MidiHost(cfg.midi, ring_name=self.ring.name, on_event=self._midi_event,
                                 clock=lambda: self.ring.read_pos,
                                 early=self._midi_process)  # fmt: skip
            self._spawn(self.midi.run(), "midi")
        if cfg.jam.enabled and cfg.jam.link:
            # Ableton Link (the link extra): polled on the loop, every aalink call non-blocking
            controller = session.controller
            self.link = LinkTempo(lambda: controller.jam, on_event=controller.jam_event,
                                  quantum=cfg.jam.beats_per_bar,
                                  playing_frame=lambda: self.ring.read_pos)  # fmt: skip
            self._spawn(self.link.run(), "link")
        self.imports.arm()  # start-up's imports are done: any later one is counted
        await self._stop.wait()
        await self._shutdown()

    async def _shutdown(self) -> None:
        """Fade out over ~100 ms and let it play; then stop the device, record, close."""
        assert self.session is not None
        engine = self.session.engine
        log.info("daemon_stopping", frame=engine.frame, exit_code=self._exit_code)
        self.notifier.stopping()
        playing = self.supervisor.state == "playing" and self.supervisor.device.alive
        self.supervisor.begin_stop()  # from now on nothing is respawned
        engine.fade_out(0.1)
        deadline = time.monotonic() + 2.0
        faded_at: int | None = None
        while playing and time.monotonic() < deadline:
            if faded_at is None and engine.faded_out:
                faded_at = self.ring.write_pos
            if faded_at is not None and self.ring.read_pos >= faded_at:
                break
            if not self.supervisor.device.alive:
                break
            await asyncio.sleep(0.005)
        # the pump keeps the ring topped up (with silence) until the stream has stopped,
        # so the callback never runs dry while the device drains
        await self.supervisor.stop()  # the stream is stopped after the fade has played
        if self.midi is not None:
            await self.midi.stop()  # every held note is released (note-offs) before the end
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.advertiser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.advertiser.close(), 2.0)
        if self.oscquery is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.oscquery.stop(), 2.0)
        engine.flush()  # the playing segment's record goes to the sink
        if self.sink is not None:
            await self.sink.drain()
        status = self.session.controller.status()
        log.info("daemon_stopped", status=status.as_dict(), exit_code=self._exit_code)

    def _close(self) -> None:
        if self._osc_transport is not None:
            self._osc_transport.close()
        self.supervisor.kill()
        proc = self.supervisor.device.proc
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.wait(2)
        if self.search is not None:
            with contextlib.suppress(Exception):
                self.search.close()
        if self.session is not None:
            self.session.close()
        if self.sink is not None:
            self.sink.close(wait=self._exit_code != EXIT_FORCED)
        self.ring.close()
        self.player.close()
        self.notifier.close()
        if self._exit_code != EXIT_FORCED and self.session is not None:
            self._write_report()  # after the shared memory is gone: ~2-3 s of matplotlib

    def _write_report(self) -> None:
        """The session's picture and summary (report.png, report.json) beside its events.csv."""
        assert self.session is not None
        if self.session.events is None:
            return
        try:
            from bassd.app.session_report import write_report

            folder = self.session.events.path.parent
            write_report(folder, metrics_csv=self.config.outputs.metrics_csv, hr=self.config.hr)
        except Exception as exc:  # write_report never raises; this guards its import
            log.error("report_failed", error=str(exc))


def event_loop_runner() -> tuple[str, Callable[..., Any]]:
    """uvloop's runner where installed; plain asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        return "asyncio", asyncio.run
    return "uvloop", uvloop.run


def run_daemon(
    config: Config,
    device: DeviceParts,
    segment_log: SegmentWriter | None,
    midi_process: subprocess.Popen[bytes] | None = None,
    reload_config: Callable[[], Config] | None = None,
) -> int:
    name, runner = event_loop_runner()
    # The pump renders on this thread and gives the GIL up inside every numpy call; a
    # thread doing Python work (a reload's parse, a prompt bank, zeroconf) then keeps it
    # for up to the switch interval each time. 5 ms (the default) a handoff, several in
    # one 21 ms fill, ran the ring dry once; 1 ms caps what each handoff costs the pump.
    sys.setswitchinterval(0.001)
    log.info("event_loop", implementation=name, gil_switch_ms=1.0)
    session = getattr(segment_log, "session", None)  # metrics rows and events share it
    daemon = Daemon(config, segment_log=segment_log, device=device, session_name=session,
                    midi_process=midi_process, reload_config=reload_config)  # fmt: skip
    result: int = runner(daemon.run())
    return result
