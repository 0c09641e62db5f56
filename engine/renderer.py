"""Renderers turn a request (parameters, duration, seed) into audio off the audio thread.

Two kinds of job share one interface:

* streaming jobs (the embedded DSP renderer) synthesise on demand, block by
  block, in the engine's render step; they are always ready;
* clip jobs (heavy renderers) render a whole clip in a worker process, which
  hands the audio back through a ``multiprocessing.shared_memory`` block; they
  become ready when the clip is complete, and a late clip triggers the
  segment controller's fallback.

Reading past the end of a clip loops it, so a segment can always be extended.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import time
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from multiprocessing import resource_tracker, shared_memory
from typing import Any, Protocol

import numpy as np
import structlog

from bassd.dsp.bank_loudness import pitch_powers
from bassd.dsp.loudness import MasterChain, audio_powers, chain_sums, solve_gain
from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.engine.child_process import leave_lifetime_to_parent
from bassd.engine.shm_names import new_name
from bassd.engine.sound_library import SoundLibrary

log = structlog.get_logger("bassd.renderer")


@dataclass(frozen=True)
class RenderRequest:
    """What to render: ``frames`` of audio from ``params`` with ``seed``."""

    index: int
    seed: int
    frames: int
    sample_rate: int
    params: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # prompt id, text, state …


class RenderJob(Protocol):
    request: RenderRequest
    renderer: str

    def ready(self) -> bool: ...

    def read(self, frames: int) -> np.ndarray:
        """The job's next ``frames`` frames, (frames, 2) float32."""
        ...

    @property
    def render_seconds(self) -> float: ...

    @property
    def frames_rendered(self) -> int: ...

    def close(self) -> None: ...


class Renderer(Protocol):
    name: str

    def submit(self, request: RenderRequest) -> RenderJob: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------- streaming
class StreamingJob:
    """A job that synthesises as it is read (always ready).

    The oscillator bank is built on ``prepare()`` (the daemon calls it in idle time
    after topping up the ring) or, at the latest, on the first read: building a
    large bank takes milliseconds the pump must not spend at a segment boundary.
    ``prepare()`` also decides the segment's one fixed gain (loudness
    normalisation, see :class:`Normaliser`), which ``read()`` applies: one gain per
    segment, so nothing pumps. A live parameter changed before the first read
    decides it again at the next ``prepare()``; once heard, the gain stays.
    """

    def __init__(
        self,
        request: RenderRequest,
        renderer: str,
        factory: Callable[[RenderRequest], KuramotoBank],
        normaliser: Normaliser | None = None,
    ) -> None:
        self.request = request
        self.renderer = renderer
        self._factory = factory
        self._normaliser = normaliser
        self._bank: KuramotoBank | None = None
        self._gain: float | None = None  # linear; None: not decided yet
        self.gain_db = 0.0
        self.prepare_seconds = 0.0  # the last prepare's time deciding the gain
        self._seconds = 0.0

    def ready(self) -> bool:
        return True

    @property
    def prepared(self) -> bool:
        return self._bank is not None and self._gain is not None

    def prepare(self) -> KuramotoBank:
        if self._bank is None:
            t0 = time.perf_counter()
            self._bank = self._factory(self.request)
            self._seconds += time.perf_counter() - t0
        if self._gain is None:
            t0 = time.perf_counter()
            norm = self._normaliser
            self.gain_db = 0.0 if norm is None else norm.gain_db(self._bank, self.request)
            self._gain = 10.0 ** (self.gain_db / 20.0)
            self.prepare_seconds = time.perf_counter() - t0
            self._seconds += self.prepare_seconds
        return self._bank

    def read(self, frames: int) -> np.ndarray:
        bank = self.prepare()
        t0 = time.perf_counter()
        out = bank.render(frames)
        if self._gain != 1.0:
            out *= self._gain
        self._seconds += time.perf_counter() - t0
        return out

    @property
    def render_seconds(self) -> float:
        return self._seconds

    @property
    def frames_rendered(self) -> int:
        return 0 if self._bank is None else self._bank.frame

    def close(self) -> None:
        self._bank = None

    @property
    def bank(self) -> KuramotoBank:
        """The live oscillator bank (for controls that change the playing segment)."""
        return self.prepare()

    def set_live(self, name: str, value: Any) -> None:
        """Change a live parameter (coupling, brightness, width, som_xy) of this job, bank
        kept.

        A built bank takes it from its next control step; a bank not built yet is
        built with it. The request records it either way. A segment not heard yet
        has its gain decided again (in idle time, by the next ``prepare()``).
        ``som_xy`` (a pair) is recorded as ``som_x`` and ``som_y``; a bank without a
        map ignores it (the segment after a change of sound may have one).
        """
        update = dict(zip(("som_x", "som_y"), value, strict=True)) if name == "som_xy" else {
            name: value}  # fmt: skip
        self.request = replace(self.request, params={**self.request.params, **update})
        if self._bank is not None:
            if name == "som_xy":
                if self._bank.sound is None or self._bank.sound.som is None:
                    return
                self._bank.set_som_xy(*value)
            else:
                getattr(self._bank, f"set_{name}")(value)
            if self._bank.frame == 0:
                self._gain = None


@dataclass
class Normaliser:
    """The fixed gain that brings a segment to its target loudness through the master chain.

    The target is ``target_lufs`` plus the offset of the segment's prompt category
    (``request.meta["category"]``; a segment without one, such as the fallback
    clip, gets no offset); ``target_lufs`` None switches normalisation off. The
    loudness is predicted from the bank's state (``pitch_powers``) through the
    chain as ``chain()`` gives it at that moment, without rendering.
    """

    target_lufs: float | None
    offsets: Mapping[str, float]
    chain: Callable[[], MasterChain]
    max_gain_db: float = 24.0

    def target(self, meta: Mapping[str, Any]) -> float | None:
        """The target loudness (LUFS) of a segment with ``meta``; None: not normalised."""
        if self.target_lufs is None:
            return None
        return self.target_lufs + float(self.offsets.get(str(meta.get("category", "")), 0.0))

    def gain_db(self, bank: KuramotoBank, request: RenderRequest) -> float:
        """The gain (dB) for ``bank`` playing ``request``: 0 when not normalised."""
        target = self.target(request.meta)
        if target is None:
            return 0.0
        chain = self.chain()
        hz, power = pitch_powers(bank)
        weighted, flat = chain_sums(hz, power, chain)
        return solve_gain(weighted, flat, chain, target, self.max_gain_db)

    def gain_db_audio(self, audio: np.ndarray, request: RenderRequest) -> float:
        """The gain (dB) for a rendered clip (n, 2) playing ``request``, from its spectrum
        through the same chain prediction (0 when not normalised or silent)."""
        hz, power = audio_powers(audio, self.chain().sample_rate)
        return self.gain_db_powers(hz, power, request)

    def gain_db_powers(self, hz: np.ndarray, power: np.ndarray, request: RenderRequest) -> float:
        """The gain (dB) for audio whose spectrum is ``power`` at ``hz`` (mean square per
        bin summed over channels), playing ``request``."""
        target = self.target(request.meta)
        if target is None or not np.any(power > 0):
            return 0.0
        chain = self.chain()
        weighted, flat = chain_sums(hz, power, chain)
        return solve_gain(weighted, flat, chain, target, self.max_gain_db)


class KuramotoRenderer:
    """The embedded default: a Kuramoto-coupled oscillator bank (pure DSP).

    With a ``normaliser`` every segment plays at its target loudness; the engine
    gives its own to a renderer that has none (``normalise``). A request naming a
    sound (``partials``) plays it from ``sounds``, where the controller or the config
    check has loaded it already (the cache: no file is read on the pump's turn).
    """

    name = "kuramoto"

    def __init__(
        self,
        control_frames: int = 128,
        normaliser: Normaliser | None = None,
        sounds: SoundLibrary | None = None,
    ) -> None:
        self.control_frames = control_frames
        self.normaliser = normaliser
        self.sounds = sounds or SoundLibrary()

    def normalise(self, normaliser: Normaliser) -> None:
        """Normalise the segments submitted from now on with ``normaliser``, unless this
        renderer was given one of its own."""
        if self.normaliser is None:
            self.normaliser = normaliser

    def submit(self, request: RenderRequest) -> StreamingJob:
        params = BankParams(**request.params)  # validated now, built later
        if params.partials is not None:
            self.sounds.cached(params.partials)

        def build(req: RenderRequest) -> KuramotoBank:  # the request as it stands then
            p = BankParams(**req.params)
            return KuramotoBank(
                p,
                req.sample_rate,
                seed=req.seed,
                control_frames=self.control_frames,
                sound=None if p.partials is None else self.sounds.cached(p.partials),
            )

        return StreamingJob(request, self.name, build, self.normaliser)

    def close(self) -> None:
        pass


# -------------------------------------------------------------------- clip jobs
ClipFunction = Callable[[RenderRequest], np.ndarray]


def _render_clip_to_shm(fn: ClipFunction, request: RenderRequest) -> tuple[str, int, float]:
    """Worker-process side: render a clip and leave it in a new shared memory block."""
    t0 = time.perf_counter()
    clip = np.ascontiguousarray(fn(request), dtype=np.float32)
    if clip.ndim != 2 or clip.shape[1] != 2 or len(clip) == 0:
        raise ValueError(f"renderer returned shape {clip.shape}, expected (frames, 2)")
    shm = shared_memory.SharedMemory(name=new_name("clip"), create=True, size=clip.nbytes)
    np.ndarray(clip.shape, dtype=np.float32, buffer=shm.buf)[:] = clip
    # the parent takes ownership: this process must not unlink it at exit
    with contextlib.suppress(Exception):
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    name = shm.name
    shm.close()
    return name, len(clip), time.perf_counter() - t0


class ClipJob:
    """A clip rendered in a worker process, read back from shared memory."""

    def __init__(self, request: RenderRequest, renderer: str, future: cf.Future[Any]) -> None:
        self.request = request
        self.renderer = renderer
        self._future = future
        self._clip: np.ndarray | None = None
        self._shm: shared_memory.SharedMemory | None = None
        self._pos = 0
        self._seconds = 0.0
        self.error: BaseException | None = None

    def ready(self) -> bool:
        if self._clip is not None:
            return True
        if not self._future.done():
            return False
        if self._future.cancelled():
            self.error = cf.CancelledError()
            return False
        exc = self._future.exception()
        if exc is not None:
            self.error = exc
            return False
        name, frames, seconds = self._future.result()
        self._shm = shared_memory.SharedMemory(name=name, create=False)
        self._clip = np.ndarray((frames, 2), dtype=np.float32, buffer=self._shm.buf)
        self._seconds = seconds
        return True

    @property
    def failed(self) -> bool:
        return self._future.done() and not self.ready()

    def read(self, frames: int) -> np.ndarray:
        if not self.ready():
            raise RuntimeError(f"clip {self.request.index} is not ready")
        clip = self._clip
        assert clip is not None
        idx = (self._pos + np.arange(frames)) % len(clip)  # loops past the end
        self._pos += frames
        return clip[idx]

    @property
    def render_seconds(self) -> float:
        return self._seconds

    @property
    def frames_rendered(self) -> int:
        return 0 if self._clip is None else len(self._clip)

    def close(self) -> None:
        f = self._future
        if self._shm is None and f.done() and not f.cancelled() and f.exception() is None:
            self.ready()  # take ownership so the block is unlinked below
        self._future.cancel()
        self._clip = None
        if self._shm is not None:
            self._shm.close()
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._shm = None


class ProcessRenderer:
    """Runs a clip function in a worker process (one clip at a time, in order).

    ``initializer`` runs first in each worker (a caller may pass one that also sets
    up logging, as the metrics sink's does); by default the worker only ignores the
    process group's SIGINT and SIGTERM. A worker that dies (killed, out of memory)
    breaks its pool: the clip it was rendering and those queued fail (the timeline
    plays the fallback in their place, with no gap), and the next submission starts a
    new pool, at most once per backoff (0.5 s doubling to 30 s, reset by a healthy
    submission); in between, submissions fail at once.
    """

    def __init__(
        self,
        name: str,
        fn: ClipFunction,
        workers: int = 1,
        *,
        initializer: Callable[..., None] = leave_lifetime_to_parent,
        initargs: tuple[Any, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._fn = fn
        self._workers, self._initializer, self._initargs = workers, initializer, initargs
        self._clock = clock
        self.restarts = 0
        self._backoff = 0.5
        self._retry_at = 0.0
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=mp.get_context("spawn"),
            initializer=self._initializer,
            initargs=self._initargs,
        )

    def _failed(self, request: RenderRequest, why: str) -> ClipJob:
        future: cf.Future[Any] = cf.Future()
        future.set_exception(BrokenProcessPool(why))
        return ClipJob(request, self.name, future)

    def submit(self, request: RenderRequest) -> ClipJob:
        if getattr(self._pool, "_broken", False):
            now = self._clock()
            if now < self._retry_at:
                return self._failed(request, "render worker lost; restarting with backoff")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            self.restarts += 1
            self._retry_at = now + self._backoff
            log.warning("render_worker_restarted", renderer=self.name, restarts=self.restarts,
                        next_backoff_s=self._backoff)  # fmt: skip
            self._backoff = min(30.0, self._backoff * 2)
        else:
            self._backoff = 0.5
        try:
            future = self._pool.submit(_render_clip_to_shm, self._fn, request)
        except BrokenProcessPool as exc:  # it broke between the check and the submission
            return self._failed(request, str(exc))
        return ClipJob(request, self.name, future)

    def close(self) -> None:
        """Stop now: queued clips are cancelled and a clip in progress is abandoned."""
        workers = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:  # a heavy render would otherwise hold shutdown for its duration
            if proc.is_alive():
                proc.terminate()
