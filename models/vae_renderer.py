"""The VAE renderer (``renderer.name: vae``): texture streamed from a worker process.

``VaeRenderer`` implements the engine's ``Renderer``. One spawned worker
(:mod:`bassd.models.vae_worker`) loads the model and generates a texture stream
per job into a shared-memory ring. A job asks for what it will read next plus
``lookahead_s`` (the worker never runs further ahead), so a slider sent now is
heard within about ``lookahead_s`` plus one 85 ms chunk; offline (``blocking``)
each read waits for its frames, so a render is deterministic per seed.

* A job is ready once ``start_s`` is buffered (the segment controller plays the
  fallback meanwhile, e.g. while the worker loads).
* A playing job that runs dry (the worker died or fell behind) crossfades into a
  DSP bed rendition of its request over what is still buffered, as the neural
  renderer does, and is counted; a dead worker is restarted with backoff.
* Sliders, presets and blends go to the worker and to every stream at once, and
  are remembered for the streams opened later.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import structlog

from bassd.dsp.crossfade import equal_power_gains
from bassd.engine.renderer import Normaliser, Renderer, RenderJob, RenderRequest
from bassd.engine.ring import SharedRing
from bassd.models.vae_worker import CHUNK_FRAMES, worker_main

log = structlog.get_logger("bassd.vae")

RING_FRAMES = 1 << 16  # 1.37 s at 48 kHz: the ring of one stream


class VaeJob:
    renderer = "vae"

    def __init__(self, owner: VaeRenderer, request: RenderRequest, sid: int) -> None:
        self.request = request
        self._owner = owner
        self.sid = sid
        self.ring = SharedRing(RING_FRAMES, 2)
        self._pos = 0  # frames read
        self._asked = 0
        self._bed: RenderJob | None = None
        self._fade_at: int | None = None
        self._fade_len = 0
        self._gain: float | None = None
        self.gain_db = 0.0
        self.underrun = False
        self.closed = False

    def open(self) -> None:
        """Ask the (new) worker for this stream."""
        o = self._owner
        start = self._pos + self.ring.fill()  # a new worker goes on where the old one stopped
        o.send(("open", self.sid, self.ring.name, self.request.seed, o.sliders, start))
        self._asked = 0
        self.ask(0)

    def ask(self, frames_ahead: int) -> None:
        want = self._pos + frames_ahead + self._owner.lookahead_frames
        if want > self._asked:
            self._asked = want
            self._owner.send(("want", self.sid, want))

    def ready(self) -> bool:
        o = self._owner
        o.poll()
        if self._pos > 0:
            return True
        if o.blocking:
            o.wait(self, o.start_frames)
        return o.state == "ready" and self.ring.fill() >= o.start_frames

    def read(self, frames: int) -> np.ndarray:
        o = self._owner
        o.poll()
        self.ask(frames)
        if o.blocking and self._fade_at is None:
            o.wait(self, frames)
        if self._gain is None:
            self._decide_gain()
        out = np.zeros((frames, 2), dtype=np.float32)
        if self._fade_at is None and self.ring.fill() < frames:
            self._start_bed(self.ring.fill())
        n = (
            min(frames, self.ring.fill())
            if self._fade_at is None
            else min(frames, max(0, self._fade_at + self._fade_len - self._pos), self.ring.fill())
        )
        gain = 1.0 if self._gain is None else self._gain
        if n:
            self.ring.read_into(out[:n])
            if gain != 1.0:
                out[:n] *= gain
        if self._fade_at is not None:
            assert self._bed is not None
            idx = self._pos + np.arange(frames)
            p = np.clip((idx - self._fade_at + 0.5) / max(1, self._fade_len), 0.0, 1.0)
            g_out, g_in = equal_power_gains(p)
            out *= g_out[:, None].astype(np.float32)
            out += self._bed.read(frames) * g_in[:, None].astype(np.float32)
        self._pos += frames
        return out

    def _start_bed(self, buffered: int) -> None:
        self._fade_at, self._fade_len = self._pos, buffered
        self._bed = self._owner.bed_job(self.request)
        self.underrun = True
        self._owner.underruns += 1
        log.warning("vae_underrun", segment=self.request.index, buffered=buffered)

    def _decide_gain(self) -> None:
        """One gain for the stream, from its first ``lookahead`` of audio (or what is buffered,
        if less, live). A fixed amount, waited for offline: the worker may have run further
        ahead by the first read or not, and a gain from "all that is buffered" made two
        offline renders of one seed differ by 0.13 dB (a fresh-clone run)."""
        o = self._owner
        norm = o.normaliser
        self.gain_db = 0.0
        window = min(o.lookahead_frames, RING_FRAMES - CHUNK_FRAMES)
        if o.blocking:
            o.wait(self, window)
        n = min(self.ring.fill(), window)
        if norm is not None and n > 0:
            self.gain_db = norm.gain_db_audio(self.ring.peek(n), self.request)
        self._gain = 10.0 ** (self.gain_db / 20.0)

    @property
    def render_seconds(self) -> float:
        return 0.0

    @property
    def frames_rendered(self) -> int:
        return self._pos + self.ring.fill()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._owner.send(("close", self.sid))
        self._owner.forget(self)
        if self._bed is not None:
            self._bed.close()
        with contextlib.suppress(Exception):
            self.ring.close()


class VaeRenderer:
    """See the module."""

    name = "vae"

    def __init__(
        self,
        model_folder: str,
        *,
        sample_rate: int = 48_000,
        blocking: bool = False,
        sliders: Sequence[float] | None = None,
        lookahead_s: float = 0.2,
        start_s: float = 0.15,
        synth: dict[str, Any] | None = None,
        threads: int = 1,
        clock: Callable[[], float] = time.monotonic,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.model_folder = model_folder
        self.sample_rate = sample_rate
        self.blocking = blocking
        self.sliders: list[float] | None = list(sliders) if sliders is not None else None
        self.slider_names: list[str] = []
        self.lookahead_frames = round(lookahead_s * sample_rate)
        self.start_frames = min(round(start_s * sample_rate), RING_FRAMES // 2)
        self.synth = {**(synth or {}), "sample_rate": sample_rate}
        self.threads = threads
        self.clock = clock
        self.max_backoff_s = max_backoff_s
        self.normaliser: Normaliser | None = None
        self.bed: Renderer | None = None
        self.state = "loading"
        self.reason = ""
        self.restarts = 0
        self.underruns = 0
        self.blend: tuple[str, float] | None = None
        self.pid: int | None = None
        self.library: Any = None  # the VaeLibrary the model came from (presets, blends)
        self.model_name = ""
        self._jobs: dict[int, VaeJob] = {}
        self._ids = itertools.count(1)
        self._proc: Any = None
        self._requests: Any = None
        self._replies: Any = None
        self._backoff = 0.5
        self._restart_at = 0.0
        self._last_poll = 0.0
        self._spawn()

    # ---------------------------------------------------------------- setup
    def normalise(self, normaliser: Normaliser) -> None:
        if self.normaliser is None:
            self.normaliser = normaliser

    def set_bed(self, bed: Renderer) -> None:
        self.bed = bed

    def bed_job(self, request: RenderRequest) -> RenderJob:
        if self.bed is None:
            from bassd.engine.renderer import KuramotoRenderer

            self.bed = KuramotoRenderer(normaliser=self.normaliser)
        from dataclasses import replace

        return self.bed.submit(replace(request, params={}))

    def _spawn(self) -> None:
        ctx = mp.get_context("spawn")
        self._requests, self._replies = ctx.Queue(), ctx.Queue()
        settings = {"model": self.model_folder, "threads": self.threads, "sliders": self.sliders,
                    **self.synth}  # fmt: skip
        self._proc = ctx.Process(target=worker_main, name="bassd-vae", daemon=True,
                                 args=(self._requests, self._replies, settings))  # fmt: skip
        # a spawn takes ~10 ms: on a thread of its own, so the loop never waits for it
        self._starter = threading.Thread(target=self._proc.start, daemon=True)
        self._starter.start()
        self.state = "loading"
        if self.blend is not None:
            self.send(("blend", *self.blend))

    def send(self, msg: tuple[Any, ...]) -> None:
        if self._requests is not None:
            with contextlib.suppress(Exception):
                self._requests.put_nowait(msg)

    # ------------------------------------------------------------- controls
    def set_slider(self, index: int, value: float) -> None:
        """Slider ``index`` (0-based) to ``value`` (0..1): every stream, from the next chunk."""
        n = len(self.slider_names) or (len(self.sliders) if self.sliders else 8)
        if not 0 <= index < n:
            raise ValueError(f"slider {index + 1}: the model has {n} sliders")
        if self.sliders is None:
            self.sliders = [0.5] * n
        self.sliders[index] = float(value)
        self.send(("slider", index, float(value)))

    def set_sliders(self, values: Sequence[float]) -> None:
        self.sliders = [float(v) for v in values]
        self.send(("sliders", self.sliders))

    def set_blend(self, folder: str | None, weight: float) -> None:
        self.blend = None if folder is None or weight <= 0 else (folder, float(weight))
        self.send(("blend", folder, float(weight)))

    # --------------------------------------------------------- RenderJob API
    def submit(self, request: RenderRequest) -> VaeJob:
        job = VaeJob(self, request, next(self._ids))
        self._jobs[job.sid] = job
        job.open()
        return job

    def forget(self, job: VaeJob) -> None:
        self._jobs.pop(job.sid, None)

    def poll(self, *, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._last_poll < 0.02:
            return
        self._last_poll = now
        if self._proc is None:
            if now >= self._restart_at:
                self._spawn()
                for job in self._jobs.values():
                    job.open()
            return
        if self._starter.is_alive():
            return
        while True:
            try:
                msg = self._replies.get_nowait()
            except (queue.Empty, OSError, EOFError, ValueError):
                break
            if msg[0] == "loaded":
                self.state, self.reason = "ready", ""
                self.slider_names = list(msg[1]["sliders"])
                self.pid = msg[1].get("pid")
                self._backoff = 0.5
                log.info("vae_loaded", model=self.model_folder, sliders=self.slider_names)
            elif msg[0] == "error":
                self.reason = str(msg[1])
                log.error("vae_worker_error", error=self.reason)
        if not self._proc.is_alive():
            self._fail(f"worker exited (code {self._proc.exitcode})")

    def _fail(self, why: str) -> None:
        self.state = "failed"
        self.reason = self.reason or why
        self.restarts += 1
        with contextlib.suppress(Exception):
            self._proc.kill()
        self._proc = None
        self._restart_at = self.clock() + self._backoff
        self._backoff = min(self.max_backoff_s, self._backoff * 2)
        log.error("vae_worker_failed", reason=why, restart_in_s=self._backoff)

    def wait(self, job: VaeJob, frames: int, timeout: float = 60.0) -> None:
        """Offline: until ``frames`` are buffered for ``job`` and the worker's "loaded" reply is
        read (or the worker failed). The reply comes through the queue's feeder thread, so the
        ring can fill before it arrives: a render that stopped waiting at the fill alone saw
        the job not ready and played the fallback for its first segment (a fresh-clone run)."""
        end = time.monotonic() + timeout
        need = min(frames, RING_FRAMES - CHUNK_FRAMES)
        while job.ring.fill() < need or self.state != "ready":
            self.poll(force=True)
            if self.state == "failed" or time.monotonic() > end:
                return
            time.sleep(0.001)

    def figures(self) -> dict[str, Any]:
        return {
            "vae_state": self.state,
            "vae_reason": self.reason,
            "vae_model": self.model_folder,
            "vae_sliders": dict(zip(self.slider_names, self.sliders or [], strict=False)),
            "vae_blend": f"{self.blend[0]}={self.blend[1]:g}" if self.blend else "",
            "vae_underruns": self.underruns,
            "vae_restarts": self.restarts,
            "vae_worker_pid": self.pid,
        }

    def close(self) -> None:
        for job in list(self._jobs.values()):
            job.close()
        self.send(("stop",))
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(Exception):
                self._starter.join(timeout=5)
                proc.join(timeout=2)
                if proc.is_alive():
                    proc.kill()
        for q in (self._requests, self._replies):
            if q is not None:
                with contextlib.suppress(Exception):
                    q.close()
                    q.cancel_join_thread()
        self._proc = None
