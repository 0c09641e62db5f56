"""The neural renderer: MusicGen clips from a supervised worker process, streamed.

``NeuralRenderer`` implements the engine's ``Renderer``: ``submit`` queues a
clip, and one spawned worker (:mod:`bassd.models.worker`) renders them in
order, writing audio into a shared-memory block per clip as it is decoded.

* **Streaming.** A clip is ``ready()`` once what is buffered lets it finish in
  time at the rate measured so far (frames written per second of its render),
  with ``start_margin_seconds`` to spare — not when it is complete. Offline
  (``blocking``) a clip is ready when complete: the render waits for it, so an
  offline render is deterministic per seed.
* **Never a gap.** If a playing clip runs dry (the worker slowed down or died),
  it crossfades into a DSP bed rendition of the same request (the engine's
  fallback renderer) over the frames still buffered; counted as an underrun.
* **Supervision.** A worker that dies, raises, or makes no progress for
  ``stall_seconds`` fails its clip (the segment controller plays the fallback),
  is killed and restarted with exponential backoff; the clips still queued go
  to the new worker. Missing weights: one log line with the command that
  fetches them, the DSP renderer keeps playing, and the worker retries slowly.
* **Adaptive clip length.** Each clip's length follows the measured real-time
  factor: long enough that render time stays below play time when the machine
  can; the shortest allowed when it cannot, so neural material lands sooner.

Threads: everything here runs on the engine's thread (the daemon's loop);
``poll()`` is called from the pump's idle time and from the jobs themselves.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from multiprocessing import shared_memory
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from bassd.dsp.crossfade import equal_power_gains
from bassd.dsp.loudness import SpectrumAccumulator
from bassd.engine.renderer import Normaliser, Renderer, RenderJob, RenderRequest
from bassd.engine.shm_names import new_name
from bassd.models.config import MusicgenConfig
from bassd.models.worker import clip_bytes, clip_views, worker_main

log = structlog.get_logger("bassd.neural")

EventSink = Callable[[str, object, str], None]  # (kind, value, detail) -> events.csv

STATES = ("loading", "ready", "generating", "failed", "missing-weights")
POLL_INTERVAL = 0.02  # seconds between two looks at the worker (pump wake-ups are ~3 ms)
GUARD_SECONDS = 0.25  # a playing clip with less than this buffered crossfades to the bed
EWMA = 0.5
# offline (blocking): after this many workers in a row failed before loading, a clip
# waited on fails at once (the DSP fallback plays it) instead of waiting for ever
OFFLINE_START_TRIES = 3


class NeuralJob:
    """One clip: queued, then streamed into shared memory by the worker."""

    renderer = "musicgen"

    def __init__(self, owner: NeuralRenderer, request: RenderRequest, frames: int) -> None:
        self.request = request
        self._owner = owner
        self.planned_frames = frames  # the clip's length (the timeline's segment follows it)
        self.state = "queued"  # queued, sent, done, failed, closed
        self.error = ""
        self.shm: shared_memory.SharedMemory | None = None
        self._header: np.ndarray | None = None
        self._sums: np.ndarray | None = None
        self._audio: np.ndarray | None = None
        self.sent_at = 0.0
        self.started_at = 0.0
        self.progress_at = 0.0
        self._last_written = 0
        self.figures: dict[str, Any] = {}
        self._pos = 0
        self._gain: float | None = None
        self.gain_db = 0.0
        self._bed: RenderJob | None = None
        self._fade_at: int | None = None  # clip frame where the crossfade to the bed starts
        self._fade_len = 0
        self.underrun = False

    # ------------------------------------------------------------- the block
    def allocate(self) -> str:
        self.shm = shared_memory.SharedMemory(
            name=new_name("clip"), create=True, size=clip_bytes(self.planned_frames)
        )
        self._header, self._sums, self._audio = clip_views(self.shm.buf, self.planned_frames)
        self._header[:] = 0
        self._sums[:] = 0.0
        self._header[2] = self.planned_frames
        return self.shm.name

    @property
    def written(self) -> int:
        return 0 if self._header is None else int(self._header[0])

    # --------------------------------------------------------- RenderJob API
    @property
    def failed(self) -> bool:
        self._owner.poll()
        return self.state == "failed" and self._pos == 0

    def ready(self) -> bool:
        owner = self._owner
        owner.poll()
        if self._pos > 0:
            return True
        if owner.blocking:
            owner.wait_for(self)
        if self.state == "done":
            return self.written > 0
        if self.state != "sent" or not owner.config.stream:
            return False
        w = self.written
        if w <= 0 or self.started_at <= 0:
            return False
        elapsed = max(1e-3, owner.clock() - self.started_at)
        sr = self.request.sample_rate
        rate = 0.8 * w / elapsed / sr  # × real time, with a margin for slow-downs
        margin = round(owner.config.start_margin_seconds * sr)
        need = self.planned_frames * max(0.0, 1.0 - rate) + margin
        return w >= min(self.planned_frames, need)

    def read(self, frames: int) -> np.ndarray:
        if self._gain is None:
            self._decide_gain()
        out = np.zeros((frames, 2), dtype=np.float32)
        w = self.written
        pos = self._pos
        sr = self.request.sample_rate
        if self._fade_at is None:
            guard = round(GUARD_SECONDS * sr)
            complete = self.state == "done"
            if not complete and w - (pos + frames) < guard:
                # running dry: fade to the bed over what is left
                self._start_bed(pos, max(0, w - pos), underrun=True)
            elif complete and pos + frames > w:
                # read past the clip's end (its segment was lengthened): the bed goes on
                self._start_bed(pos, max(0, w - pos), underrun=False)
        neural_end = w if self._fade_at is None else min(w, self._fade_at + self._fade_len)
        n = max(0, min(frames, neural_end - pos))
        if n and self._audio is not None:
            out[:n] = self._audio[pos : pos + n]
            gain = 1.0 if self._gain is None else self._gain
            if gain != 1.0:
                out[:n] *= gain
        if self._fade_at is not None:
            bed = self._bed
            assert bed is not None
            idx = pos + np.arange(frames)
            fade = max(1, self._fade_len)
            p = np.clip((idx - self._fade_at + 0.5) / fade, 0.0, 1.0)
            g_out, g_in = equal_power_gains(p)
            out *= g_out[:, None].astype(np.float32)
            out += bed.read(frames) * g_in[:, None].astype(np.float32)
        self._pos += frames
        return out

    def _start_bed(self, at: int, length: int, *, underrun: bool) -> None:
        self._fade_at, self._fade_len = at, length
        self._bed = self._owner.bed_job(self.request)
        if underrun:
            self.underrun = True
            self._owner.underrun(self)

    def _decide_gain(self) -> None:
        """One gain for the clip, from the spectrum the worker kept of what it wrote
        (a few milliseconds here: no pass over the audio on the engine's thread)."""
        norm = self._owner.normaliser
        self.gain_db = 0.0
        if norm is not None and self._sums is not None and self.written > 0:
            sums = np.array(self._sums)
            hz, power = SpectrumAccumulator.powers_from(sums, self.request.sample_rate)
            self.gain_db = norm.gain_db_powers(hz, power, self.request)
        self._gain = 10.0 ** (self.gain_db / 20.0)

    @property
    def render_seconds(self) -> float:
        return float(self.figures.get("seconds") or 0.0)

    @property
    def frames_rendered(self) -> int:
        return self.written

    def close(self) -> None:
        if self.state == "closed":
            return
        if self._header is not None:
            self._header[1] = 1  # the worker stops at its next chunk
        self.state = "closed"
        self._header = self._sums = self._audio = None
        if self._bed is not None:
            self._bed.close()
        if self.shm is not None:
            self.shm.close()
            with contextlib.suppress(FileNotFoundError):
                self.shm.unlink()
            self.shm = None
        self._owner.forget(self)


class NeuralRenderer:
    """MusicGen in a supervised worker process (see the module docstring)."""

    name = "musicgen"

    def __init__(
        self,
        config: MusicgenConfig,
        *,
        sample_rate: int = 48000,
        blocking: bool = False,
        adapter_dirs: Sequence[Path] = (),
        clock: Callable[[], float] = time.monotonic,
        start: bool = True,
    ) -> None:
        self.config = config
        self.sample_rate = sample_rate
        self.blocking = blocking
        self.adapter_dirs = tuple(adapter_dirs)
        self.clock = clock
        self.normaliser: Normaliser | None = None
        self.bed: Renderer | None = None
        self._listeners: list[EventSink] = []
        self._queue: deque[NeuralJob] = deque()
        self._active: NeuralJob | None = None
        self._proc: Any = None
        self._requests: Any = None
        self._replies: Any = None
        self._spawned_at = 0.0
        self._restart_at = 0.0
        self._backoff = config.restart_backoff_seconds
        self._last_poll = -1.0
        self.state = "loading"
        self.reason = ""
        self.pid: int | None = None
        self.restarts = 0
        self.clips = 0
        self.failures = 0
        self.late = 0  # clips a Ray deployment dropped at their deadline (among failures)
        self.underruns = 0
        self.rtf: float | None = None
        self.first_audio_s: float | None = None
        self._rtf_avg: float | None = None
        self._overhead_avg: float | None = None
        self.osc_blend: dict[str, float] = {}
        self.clip_seconds: float | None = config.clip_seconds
        self.worker_info: dict[str, Any] = {}
        self._missing_logged = False
        self._zombies: list[Any] = []  # killed workers not reaped yet
        self._starter: threading.Thread | None = None
        self._parked = False  # weights missing / extra not installed: retried slowly
        self._failed_starts = 0  # workers in a row that failed before "loaded"
        self._gave_up_said = False
        self._start_error = ""
        if start:
            self._spawn()

    # ------------------------------------------------------------ wiring
    def normalise(self, normaliser: Normaliser) -> None:
        if self.normaliser is None:
            self.normaliser = normaliser

    def set_bed(self, bed: Renderer) -> None:
        """The DSP renderer a clip that runs dry crossfades into."""
        self.bed = bed

    def add_event_listener(self, sink: EventSink) -> None:
        self._listeners.append(sink)

    def _event(self, kind: str, value: object, detail: str = "") -> None:
        for sink in self._listeners:
            sink(kind, value, detail)

    # ------------------------------------------------------------ blends
    def blend_for(self, meta: dict[str, Any]) -> dict[str, float]:
        """The adapter blend of a clip: config, then its HR state's (not in a protocol's fixed
        stage: the heart rate does not steer it), then its protocol stage's, then OSC's."""
        blend = dict(self.config.adapters)
        if not meta.get("fixed"):
            blend.update(self.config.state_adapters.get(str(meta.get("state", "")), {}))
        blend.update(meta.get("adapters") or {})
        blend.update(self.osc_blend)
        return blend

    def set_blend(self, name: str, weight: float) -> None:
        """An OSC blend weight, for the next clip (the base model is not reloaded)."""
        self.osc_blend[name] = float(weight)

    def clear_blend(self) -> None:
        self.osc_blend.clear()

    # ------------------------------------------------------------ submit
    def _clip_frames(self, request: RenderRequest) -> int:
        """The clip's length in frames: nominal, or adapted to the measured speed."""
        sr = request.sample_rate
        cfg = self.config
        nominal = cfg.clip_seconds if cfg.clip_seconds is not None else request.frames / sr
        seconds = nominal
        rtf, over = self._rtf_avg, self._overhead_avg or 0.0
        if cfg.adaptive and not self.blocking and rtf is None:
            seconds = cfg.min_clip_seconds  # speed unknown: a short first clip lands soonest
        elif cfg.adaptive and not self.blocking and rtf is not None:
            # keeps up: long enough that the fixed costs stay small; cannot: short
            # clips land sooner, and the DSP bed fills between them
            seconds = max(nominal, 2.0 * over / (1.0 - rtf)) if rtf < 0.9 else cfg.min_clip_seconds
        seconds = min(max(seconds, cfg.min_clip_seconds), cfg.max_clip_seconds)
        longest = self.worker_info.get("max_seconds")
        if longest is not None:
            seconds = min(seconds, float(longest) - 0.05)
        self.clip_seconds = seconds
        return max(1, round(seconds * sr))

    def submit(self, request: RenderRequest) -> NeuralJob:
        job = NeuralJob(self, request, self._clip_frames(request))
        self._queue.append(job)
        self.poll(force=True)
        return job

    def bed_job(self, request: RenderRequest) -> RenderJob:
        if self.bed is None:
            from bassd.engine.renderer import KuramotoRenderer

            self.bed = KuramotoRenderer(normaliser=self.normaliser)
        return self.bed.submit(request)

    def forget(self, job: NeuralJob) -> None:
        with contextlib.suppress(ValueError):
            self._queue.remove(job)

    def underrun(self, job: NeuralJob) -> None:
        self.underruns += 1
        log.warning("neural_underrun", segment=job.request.index, written=job.written)
        self._event("neural_underrun", job.request.index, "clip ran dry: crossfaded to the DSP bed")

    # ------------------------------------------------------------ the worker
    def _settings(self) -> dict[str, Any]:
        c = self.config
        dirs = [*self.adapter_dirs]
        return {
            "model": c.model, "device": c.device, "dtype": c.dtype, "threads": c.threads,
            "adapter_dirs": [str(d) for d in dirs], "backend": c.backend,
            "ray_address": c.ray_address, "ray_app": c.ray_app,
            "ray_connect_seconds": c.ray_connect_seconds, "ray_lost_seconds": c.ray_lost_seconds,
        }  # fmt: skip

    def _spawn(self) -> None:
        ctx = mp.get_context("spawn")
        self._requests, self._replies = ctx.Queue(), ctx.Queue()
        self._proc = ctx.Process(
            target=worker_main,
            args=(self._requests, self._replies, self._settings()),
            name="bassd-neural",
            daemon=True,
        )
        # starting a spawned process takes ~10 ms (more on a loaded machine): on a
        # thread of its own, so the loop never waits for it
        self._starter = threading.Thread(target=self._start_process, args=(self._proc,),
                                         name="bassd-neural-start", daemon=True)  # fmt: skip
        self._starter.start()
        self._spawned_at = self.clock()
        if not self._parked:
            self.state = "loading"

    def _start_process(self, proc: Any) -> None:
        try:
            proc.start()
        except Exception as exc:  # fork refused, no memory: reported by the next poll
            self._start_error = f"{type(exc).__name__}: {exc}"
            return
        log.info("neural_worker_start", pid=proc.pid, model=self.config.model)

    def _discard_worker(self) -> None:
        if self._starter is not None:
            self._starter.join()  # a start in flight finishes first (milliseconds)
            self._starter = None
        proc, self._proc = self._proc, None
        if proc is not None and getattr(proc, "_popen", None) is None:
            proc = None  # never started
        if proc is not None and proc.is_alive():
            proc.kill()
        for q in (self._requests, self._replies):
            if q is not None:
                with contextlib.suppress(Exception):
                    q.close()
                    q.cancel_join_thread()
        self._requests = self._replies = None
        if proc is not None:
            proc.join(timeout=0)  # never wait on the loop: reaped by a later poll
            if proc.exitcode is None:
                self._zombies.append(proc)
        self.pid = None

    def _fail_worker(self, why: str, *, restart: bool = True) -> None:
        """The worker failed: its clip fails, it is replaced after the backoff."""
        job = self._active
        self._active = None
        if job is not None and job.state == "sent":
            job.state, job.error = "failed", why
            self.failures += 1
        pid = self.pid
        if self.state == "loading":
            self._failed_starts += 1
        self._discard_worker()
        self.state = "failed"
        self.reason = why
        self.restarts += 1
        delay = self._backoff
        self._backoff = min(self.config.max_backoff_seconds, max(0.5, self._backoff * 2))
        self._restart_at = self.clock() + delay
        log.error("neural_worker_failed", pid=pid, reason=why, restart_in_s=round(delay, 2),
                  segment=job.request.index if job is not None else None)  # fmt: skip
        self._event("neural_worker_failed", pid or 0, why)

    def poll(self, *, force: bool = False) -> None:
        """Look at the worker: replies, liveness, deadlines; send the next clip."""
        now = self.clock()
        if not force and now - self._last_poll < POLL_INTERVAL:
            return
        self._last_poll = now
        if self._zombies:
            self._zombies = [p for p in self._zombies if p.join(0) or p.exitcode is None]
        if self._proc is None:
            if now >= self._restart_at:
                self._spawn()
            return
        if self._starter is not None:
            if self._starter.is_alive():
                return  # still starting
            self._starter = None
            if self._start_error:
                why, self._start_error = self._start_error, ""
                self._fail_worker(f"could not start the worker: {why}")
                return
            self.pid = self._proc.pid
        self._drain()
        if self._proc is None:
            return
        if not self._proc.is_alive():
            code = self._proc.exitcode
            if self._parked:  # it said why it cannot run: try again now and then
                self._discard_worker()
                self._restart_at = now + self.config.max_backoff_seconds
                return
            self._fail_worker(f"worker exited (code {code})")
            return
        if self.state == "loading" and now - self._spawned_at > self.config.load_seconds:
            self._fail_worker(f"model load took longer than {self.config.load_seconds:g} s")
            return
        job = self._active
        if job is not None and job.state == "sent":
            w = job.written
            if w != job._last_written:
                job._last_written, job.progress_at = w, now
            if now - job.progress_at > self.config.stall_seconds:
                self._fail_worker(f"no progress for {self.config.stall_seconds:g} s")
                return
        self._dispatch(now)

    def _drain(self) -> None:
        while self._replies is not None:
            try:
                msg = self._replies.get_nowait()
            except (queue.Empty, OSError, EOFError, ValueError):
                return
            self._handle(msg)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        now = self.clock()
        if kind == "loaded":
            self.worker_info = dict(msg[1])
            self.state, self.reason, self._parked = "ready", "", False
            self._failed_starts, self._gave_up_said = 0, False
            self._missing_logged = False
            log.info("neural_worker_ready", **self.worker_info,
                     load_s=round(now - self._spawned_at, 2))  # fmt: skip
            self._event("neural_ready", self.worker_info.get("pid", 0),
                        str(self.worker_info.get("device", "")))  # fmt: skip
        elif kind == "unavailable":  # the neural extra is not installed
            self.state, self.reason, self._parked = "failed", str(msg[1]), True
            if not self._missing_logged:
                log.error("neural_unavailable", detail=msg[1], fix=msg[2])
                self._event("neural_unavailable", self.config.model, str(msg[2]))
                self._missing_logged = True
        elif kind == "missing":
            self.state, self.reason, self._parked = "missing-weights", str(msg[1]), True
            if not self._missing_logged:
                log.warning("neural_weights_missing", model=self.config.model, fetch=msg[2],
                            detail=msg[1])  # fmt: skip
                self._event("neural_weights_missing", self.config.model, str(msg[2]))
                self._missing_logged = True
        elif kind == "load_failed":
            self._fail_worker(f"model load failed: {msg[1]}")
        elif kind == "started":
            job = self._active
            if job is not None and job.request.index == msg[1]:
                job.started_at = job.progress_at = now
                self.state = "generating"
        elif kind == "done":
            job, self._active = self._active, None
            self._backoff = self.config.restart_backoff_seconds
            figures = dict(msg[2])
            if self.state == "generating":
                self.state = "ready"
            if job is None or job.state != "sent":
                return
            job.figures = figures
            if figures.get("cancelled"):
                return
            job.state = "done"
            self.clips += 1
            self.rtf = figures.get("rtf")
            self.first_audio_s = figures.get("first_audio_s")
            if self.rtf is not None:
                self._rtf_avg = self.rtf if self._rtf_avg is None else (
                    EWMA * self.rtf + (1 - EWMA) * self._rtf_avg)  # fmt: skip
            if self.first_audio_s is not None:
                o = self.first_audio_s
                self._overhead_avg = o if self._overhead_avg is None else (
                    EWMA * o + (1 - EWMA) * self._overhead_avg)  # fmt: skip
        elif kind in ("error", "late"):
            job, self._active = self._active, None
            if self.state == "generating":
                self.state = "ready"
            if job is not None and job.state == "sent":
                job.state, job.error = "failed", str(msg[2])
                self.failures += 1
                if kind == "late":  # dropped by the cluster at its deadline: not an error
                    self.late += 1
                    log.warning("neural_clip_late", segment=job.request.index, detail=msg[2])
                    self._event("neural_clip_late", job.request.index, str(msg[2]))
                    return
                log.error("neural_clip_failed", segment=job.request.index, error=msg[2])
                self._event("neural_clip_failed", job.request.index, str(msg[2]))

    def _dispatch(self, now: float) -> None:
        if self._active is not None or self.state not in ("ready", "generating"):
            return
        while self._queue:
            job = self._queue.popleft()
            if job.state != "queued":
                continue
            meta = job.request.meta
            c = self.config
            sr = job.request.sample_rate
            longest = self.worker_info.get("max_seconds")
            if longest is not None and job.planned_frames / sr + 0.05 > longest:
                # not heard yet: shorten it to what this model can make in one clip
                job.planned_frames = max(1, int((longest - 0.05) * sr))
            try:
                name = job.allocate()
            except OSError as exc:
                job.state, job.error = "failed", f"shared memory: {exc}"
                self.failures += 1
                log.error("neural_clip_failed", segment=job.request.index, error=job.error)
                continue
            req = {
                "index": job.request.index,
                "shm": name,
                "capacity": job.planned_frames,
                "sample_rate": sr,
                "seconds": job.planned_frames / sr + 0.05,
                "seed": job.request.seed,
                "prompt": str(meta.get("text") or meta.get("prompt") or "ambient music"),
                "width": float(job.request.params.get("width", 0.7)),
                "adapters": self.blend_for(meta),
                "sampling": {"greedy": c.greedy, "temperature": c.temperature, "top_k": c.top_k,
                             "top_p": c.top_p, "guidance": c.guidance},
                # wall-clock: a cluster that has not started it by then drops it
                "deadline": time.time() + (c.ray_deadline_seconds or job.planned_frames / sr),
            }  # fmt: skip
            job.request = replace(job.request, meta={**meta, "adapters": req["adapters"]})
            try:
                self._requests.put(req)
            except (OSError, ValueError) as exc:
                job.state = "failed"
                self._fail_worker(f"request queue: {exc}")
                return
            job.state, job.sent_at, job.progress_at = "sent", now, now
            self._active = job
            return

    def wait_for(self, job: NeuralJob) -> None:
        """Offline: wait until ``job`` is complete or has failed (or weights are missing, or
        the worker cannot start: ``OFFLINE_START_TRIES`` in a row died before loading)."""
        while job.state in ("queued", "sent"):
            if self._parked and job.state == "queued":
                return
            if self._failed_starts >= OFFLINE_START_TRIES and job.state == "queued":
                job.state, job.error = "failed", f"the worker cannot start: {self.reason}"
                self.failures += 1
                if not self._gave_up_said:  # once, not per clip
                    self._gave_up_said = True
                    log.error("neural_worker_cannot_start", tries=OFFLINE_START_TRIES,
                              reason=self.reason)  # fmt: skip
                    self._event("neural_worker_cannot_start", OFFLINE_START_TRIES, self.reason)
                return
            self.poll(force=True)
            if job.state in ("queued", "sent"):
                time.sleep(0.01)

    # ------------------------------------------------------------ figures
    def figures(self) -> dict[str, Any]:
        return {
            "neural_state": self.state,
            "neural_reason": self.reason,
            "neural_worker_pid": self.pid,
            "neural_restarts": self.restarts,
            "neural_rtf": None if self.rtf is None else round(self.rtf, 3),
            "neural_first_audio_s": (
                None if self.first_audio_s is None else round(self.first_audio_s, 3)
            ),
            "neural_clips": self.clips,
            "neural_failures": self.failures,
            "neural_late": self.late,
            "neural_backend": self.config.backend,
            "neural_underruns": self.underruns,
            "neural_clip_seconds": self.clip_seconds,
            "neural_blend": self.osc_blend_view(),
        }

    def osc_blend_view(self) -> dict[str, float]:
        return {**self.config.adapters, **self.osc_blend}

    def adapter_names(self) -> list[str] | None:
        """The adapters a blend may name (None: cannot tell)."""
        try:
            from bassd.adapters.lora_files import available_adapters
        except ImportError:
            return None
        return sorted(available_adapters(self.adapter_dirs))

    def kill_worker(self) -> int | None:
        """Kill the worker now (tests, /debug): the supervisor notices and restarts it."""
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        return pid

    def close(self) -> None:
        for job in [*self._queue, *([self._active] if self._active else [])]:
            job.close()
        self._queue.clear()
        if self._requests is not None:
            with contextlib.suppress(Exception):
                self._requests.put_nowait(None)
        if self._starter is not None:
            self._starter.join()
        proc = self._proc
        if proc is not None and getattr(proc, "_popen", None) is not None:
            proc.join(timeout=2.0)
        self._discard_worker()
        for p in self._zombies:
            p.join(timeout=1.0)
