"""The long-running daemon: owns the audio device and runs the engine's tasks.

Threads and processes:

* The device process (engine/device_host.py) owns PortAudio; its real-time
  thread runs the C callback (engine/rtcore.c), which only reads the shared
  ring and writes counters into the shared player state. If the sound server
  dies, the daemon kills that process and starts another.
* The asyncio loop (uvloop where installed) runs the pump (engine → ring), the
  watchdog (stream health), the OSC server and the segment bookkeeping.
* A worker process measures finished segments and writes metrics rows and
  clips, so that work never holds the daemon's GIL while the pump must run.
* Heavy renderers run in worker processes (engine/renderer.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import structlog

from bassd.control.controller import Controller
from bassd.control.osc_server import OscServer, OscSettings, start_osc_server
from bassd.control.prompt_bank import load_configured_bank
from bassd.engine.config import Config
from bassd.engine.core import Engine, SegmentRecord
from bassd.engine.device import DeviceError
from bassd.engine.device_process import DeviceProcess
from bassd.engine.events_log import SessionEvents
from bassd.engine.player import SharedPlayer
from bassd.engine.renderer import Renderer
from bassd.engine.ring import SharedRing
from bassd.engine.scheduler import FrameScheduler
from bassd.engine.timeline import SegmentStart

log = structlog.get_logger("bassd.daemon")


@dataclass
class DaemonCounters:
    stream_restarts: int = 0
    stream_failures: int = 0
    segment_log_errors: int = 0


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        renderer: Renderer | None = None,
        segment_log: Any = None,
        device: tuple[SharedRing, SharedPlayer, DeviceProcess] | None = None,
    ) -> None:
        self.config = config
        self.counters = DaemonCounters()
        self._renderer = renderer
        self.segment_log = segment_log
        self._early_device = device  # spawned by `bassd run` before the daemon's imports
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()  # strong references
        self._pending_io: set[asyncio.Future[Any]] = set()
        self.started_at = time.monotonic()
        self.state = "starting"
        self.engine: Engine | None = None
        self.ring: SharedRing | None = None
        self.device: DeviceProcess | None = None
        self.player: SharedPlayer | None = None
        self.osc: OscServer | None = None
        self._osc_transport: asyncio.DatagramTransport | None = None
        self.controller: Controller | None = None
        self.events: SessionEvents | None = None
        self.scheduler = FrameScheduler(config.osc.max_scheduled)
        self._io_pool: ProcessPoolExecutor | None = None
        self._control_ns = 0  # arrival of the last applied control (latency probe)
        self._fader_ns = 0

    # ------------------------------------------------------------- callbacks
    def _segment_started(self, ev: SegmentStart) -> None:
        log.info(
            "segment_start",
            segment=ev.index,
            frame=ev.frame,
            renderer=ev.job.renderer,
            fallback=ev.fallback,
            reason=ev.reason or None,
        )
        if ev.fallback:
            log.warning("segment_fallback", segment=ev.index, reason=ev.reason)
        if self.controller is not None:
            self.controller.on_segment_start(ev)

    def _segment_done(self, rec: SegmentRecord) -> None:
        if self.segment_log is None:
            rec.release()
            return
        loop = asyncio.get_running_loop()
        if self._io_pool is None:
            # a process, not a thread: measuring a segment (BS.1770 loudness, FFT) holds
            # the GIL for tens of milliseconds, which would stall the real-time pump
            self._io_pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        fut = loop.run_in_executor(self._io_pool, self.segment_log.write, rec)
        self._pending_io.add(fut)

        def finished(f: asyncio.Future[Any]) -> None:
            self._pending_io.discard(f)
            if f.cancelled():
                rec.release()
                return
            exc = f.exception()
            if exc is not None:
                rec.release()  # the worker may have died before freeing it
                self.counters.segment_log_errors += 1
                log.error("segment_log_failed", segment=rec.index, error=str(exc))

        fut.add_done_callback(finished)

    # ---------------------------------------------------------------- status
    def status(self) -> dict[str, Any]:
        """Everything /status reports: the controller adds state, heart rate and prompt."""
        if self.controller is not None:
            return self.controller.status()
        return self.device_status()

    def _mark_control(self) -> None:
        """Latency probe: the next rendered frame is the first that reflects this control;
        the C callback notes when it hands that frame to the device."""
        if self.player is None or self.engine is None:
            return
        self._control_ns = time.monotonic_ns()
        self.player.p.mark_ns = 0
        self.player.p.mark_frame = max(1, self.engine.frame)

    def _set_fader(self, db: float) -> None:
        """/master/gain: the C callback ramps to it at its next period."""
        if self.player is None:
            return
        self._fader_ns = time.monotonic_ns()
        self.player.p.fader_target = 10.0 ** (db / 20.0)

    def fader_latency_ms(self) -> float | None:
        if self.player is None or not self._fader_ns:
            return None
        done = int(self.player.p.fader_mark_ns)
        return (done - self._fader_ns) / 1e6 if done >= self._fader_ns else None

    def control_latency_ms(self) -> float | None:
        if self.player is None or not self._control_ns:
            return None
        done = int(self.player.p.mark_ns)
        return (done - self._control_ns) / 1e6 if done >= self._control_ns else None

    def device_status(self) -> dict[str, Any]:
        dev = self.player.stats() if self.player else {}
        eng = self.engine
        return {
            "stream": self.state,
            "underruns": dev.get("underruns", 0),
            "dry_callbacks": dev.get("dry_callbacks", 0),
            "underrun_events": dev.get("underrun_events", 0),
            "pa_output_underflows": dev.get("pa_output_underflows", 0),
            "callbacks": dev.get("callbacks", 0),
            "frames_out": dev.get("frames_out", 0),
            "uptime_s": round(time.monotonic() - self.started_at, 3),
            "sample_rate": self.config.audio.sample_rate,
            "block_size": self.config.audio.block_size,
            "renderer": eng.renderer.name if eng else self.config.renderer.name,
            "segment_index": eng.segment_index if eng else -1,
            "engine_frame": eng.frame if eng else 0,
            "fallbacks": eng.fallbacks if eng else 0,
            "ring_fill": self.ring.fill() if self.ring else 0,
            "stream_restarts": self.counters.stream_restarts,
            "stream_failures": self.counters.stream_failures,
            "segment_log_errors": self.counters.segment_log_errors,
            "device": self.device.info.get("device") if self.device else None,
            "osc_scheduled_waiting": len(self.scheduler),
            "control_latency_ms": self.control_latency_ms(),
            "fader_latency_ms": self.fader_latency_ms(),
            "output_fader": round(float(self.player.p.fader), 6) if self.player else None,
            "session": self.events.path.parent.name if self.events else None,
            **(
                {k: round(v, 1) for k, v in self.player.callback_durations().items()}
                if self.player
                else {}
            ),
        }

    # ----------------------------------------------------------------- tasks
    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task_failed", task=task.get_name(), error=repr(task.exception()))
            self._stop.set()

    def _top_up(self) -> None:
        """Render into the ring until it holds ``target_fill_frames``."""
        assert self.engine is not None and self.ring is not None
        a = self.config.audio
        while self.ring.fill() < a.target_fill_frames:
            for action in self.scheduler.pop_due(self.engine.frame + a.block_size):
                action()  # bundles due in this block: applied at its boundary
            block = self.engine.render(a.block_size)
            written = self.ring.write(block)
            if written != len(block):  # cannot happen: target + block ≤ capacity
                raise RuntimeError("ring overflow")

    async def _pump(self) -> None:
        period = self.config.audio.block_size / self.config.audio.sample_rate
        while True:
            self._top_up()
            if self.engine is not None:
                self.engine.prepare_next()  # the ring is full: time for work ahead
            await asyncio.sleep(period / 2)

    def _schedule(self, when: float, action: Callable[[], None]) -> bool:
        """Put a timetagged OSC message on the sample clock; False if its block is rendered."""
        if self.ring is None or self.engine is None:
            return False
        playing = self.ring.read_pos  # the engine frame the device is playing about now
        frame = playing + round((when - time.time()) * self.config.audio.sample_rate)
        if frame < self.engine.frame:
            return False
        return self.scheduler.at(frame, action)

    async def _heartbeat(self) -> None:
        """Heart-rate staleness and calibration run on the engine's clock, 10 times a second."""
        while True:
            await asyncio.sleep(0.1)
            if self.controller is not None:
                self.controller.tick()

    async def _push(self) -> None:
        while True:
            await asyncio.sleep(1.0 / self.config.osc.push_hz)
            if self.controller is not None and self.osc is not None:
                self.controller.push(self.osc.send_to)

    async def _watchdog(self) -> None:
        w = self.config.watchdog
        while True:
            await asyncio.sleep(w.interval_seconds)
            dev = self.device
            if dev is None or self.state != "playing":
                continue
            reason = None
            if not dev.alive:
                reason = "device process exited"
            elif dev.seconds_since_callback() > w.stall_seconds:
                reason = f"no callback for {dev.seconds_since_callback():.2f} s"
            if reason is None:
                continue
            self.counters.stream_failures += 1
            log.error("stream_lost", reason=reason, frame=self.engine.frame if self.engine else 0)
            await self._reopen(dev)

    async def _reopen(self, dev: DeviceProcess) -> None:
        self.state = "reopening"
        dev.kill()  # a stalled PortAudio cannot be trusted to close cleanly
        await dev.stop(timeout=1.0)
        backoff = self.config.watchdog.backoff_seconds
        attempt = 0
        while not self._stop.is_set():
            delay = backoff[min(attempt, len(backoff) - 1)]
            attempt += 1
            try:
                opened = await dev.start(timeout=10.0)
            except DeviceError as exc:  # keep trying: the music must come back
                log.warning(
                    "stream_reopen_failed", attempt=attempt, retry_in_s=delay, error=str(exc)
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                continue
            self.counters.stream_restarts += 1
            self.state = "playing"
            log.info(
                "stream_reopened",
                attempt=attempt,
                device=opened.get("device"),
                frame=self.engine.frame if self.engine else 0,
            )
            return

    # -------------------------------------------------------------- lifetime
    def request_stop(self) -> None:
        self._stop.set()

    def _set_realtime(self) -> None:
        prio = self.config.audio.realtime_priority
        if prio <= 0:
            return
        # Only the loop thread: the pump must wake on time while other processes load
        # the cores. RESET_ON_FORK keeps threads and processes started later (worker
        # processes, the device process's Python side) at normal priority.
        policy = os.SCHED_FIFO | getattr(os, "SCHED_RESET_ON_FORK", 0)
        try:
            os.sched_setscheduler(0, policy, os.sched_param(prio))
            log.info("realtime_priority", priority=prio)
        except (OSError, AttributeError) as exc:
            log.warning("realtime_priority_unavailable", priority=prio, error=str(exc))

    async def run(self) -> int:
        cfg = self.config
        a = cfg.audio
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        self._set_realtime()
        if self._early_device is not None:
            self.ring, self.player, self.device = self._early_device
        else:
            self.ring = SharedRing(a.ring_frames, 2)
            self.player = SharedPlayer()
            self.device = DeviceProcess(
                self.ring,
                self.player,
                sample_rate=a.sample_rate,
                block_size=a.block_size,
                fade_frames=a.fade_frames,
                device=a.device,
            )
            self.device.spawn()  # it boots while the engine is built
        try:
            session = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            if self.segment_log is not None:
                session = getattr(self.segment_log, "session", session)
            self.events = SessionEvents(cfg.outputs.sessions_dir, session)
            fault = self.device.inject_failure if cfg.debug.fault_injection else None
            self.controller = Controller(
                cfg,
                bank=load_configured_bank(cfg.prompts, seed=cfg.timeline.seed),
                events=self.events,
                status=self.device_status,
                fault=fault,
                prompts_dir=cfg.control.prompts_dir,
            )
            self.engine = Engine(
                cfg,
                renderer=self._renderer,
                on_segment_start=self._segment_started,
                on_segment_done=self._segment_done,
                params_provider=self.controller.segment_params,
            )
            self.controller.attach(self.engine)
            self.controller.on_control = self._mark_control
            self.controller.set_fader = self._set_fader
            self.controller.start_session()
            self._top_up()  # the ring is full before the first callback
            dev = await self.device.open()
            self.state = "playing"
            log.info(
                "daemon_started",
                device=dev.get("device"),
                hostapi=dev.get("hostapi"),
                sample_rate=a.sample_rate,
                block_size=a.block_size,
                latency_s=round(float(dev.get("latency", 0.0)), 4),
                renderer=self.engine.renderer.name,
            )
            o = cfg.osc
            settings = OscSettings.from_config(o, debug=cfg.debug.fault_injection)
            self._osc_transport, self.osc = await start_osc_server(
                o.host, o.port, self.controller, settings, self._schedule, o.receive_buffer_bytes
            )
            self.controller.osc = self.osc
            log.info(
                "osc_listening", host=cfg.osc.host, port=cfg.osc.port, reply_port=cfg.osc.reply_port
            )
            self._spawn(self._pump(), "pump")
            self._spawn(self._watchdog(), "watchdog")
            self._spawn(self._heartbeat(), "heartbeat")
            self._spawn(self._push(), "push")
            await self._stop.wait()
            await self._shutdown()
        finally:
            self._close()
        return 0

    async def _shutdown(self) -> None:
        """Fade out over ~100 ms, let it play, then flush records."""
        assert self.engine is not None and self.ring is not None and self.device is not None
        log.info("daemon_stopping", frame=self.engine.frame)
        self.engine.fade_out(0.1)
        deadline = time.monotonic() + 2.0
        faded_at: int | None = None
        while time.monotonic() < deadline:
            if faded_at is None and self.engine.faded_out:
                faded_at = self.ring.write_pos
            if faded_at is not None and (self.ring.read_pos >= faded_at or not self.device.alive):
                break
            await asyncio.sleep(0.005)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.device.stop()
        self.engine.flush()
        if self._pending_io:
            await asyncio.gather(*self._pending_io, return_exceptions=True)
        log.info("daemon_stopped", status=self.status())

    def _close(self) -> None:
        if self._osc_transport is not None:
            self._osc_transport.close()
        if self.device is not None:
            self.device.kill()
            if self.device.proc is not None:
                with contextlib.suppress(Exception):
                    self.device.proc.wait(2)
        if self.engine is not None:
            self.engine.close()
        if self.ring is not None:
            self.ring.close()
        if self.player is not None:
            self.player.close()
        if self.events is not None:
            self.events.close()
        if self._io_pool is not None:
            self._io_pool.shutdown(wait=True)


def event_loop_runner() -> tuple[str, Callable[..., Any]]:
    """uvloop's runner where installed; plain asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        return "asyncio", asyncio.run
    return "uvloop", uvloop.run


def run_daemon(
    config: Config,
    segment_log: Any = None,
    device: tuple[SharedRing, SharedPlayer, DeviceProcess] | None = None,
) -> int:
    name, runner = event_loop_runner()
    log.info("event_loop", implementation=name)
    daemon = Daemon(config, segment_log=segment_log, device=device)
    result: int = runner(daemon.run())
    return result
