"""MusicGen as a Ray Serve deployment: one model per replica, clips streamed to any daemon.

A machine without a GPU (a Raspberry Pi or a laptop in a gallery) plays; a GPU box or a
cloud node renders. ``bassd serve start`` deploys :class:`MusicGenReplica` to a Ray
cluster as the application ``bassd-musicgen``; each daemon with ``musicgen.backend: ray``
reaches it from its neural worker process (:mod:`bassd.models.ray_client`), which
streams what a replica yields into the same shared-memory clip blocks as the local
worker, so supervision, streaming, the DSP bed and every figure stay as they are.

* **One model per replica**, loaded by the same code as the local worker
  (``MusicGen.load``: a local folder or the Hugging Face cache, never a download).
* **Queue-length autoscaling.** A replica renders one clip at a time, in arrival order;
  with ``--max-replicas`` above ``--replicas`` Serve adds replicas while requests wait
  (``target_ongoing_requests``: more than one clip, or one batch, per replica) and
  removes idle ones.
* **Streaming.** ``stream`` is a generator: audio chunks (frames, channels) float32 at
  the model's rate, as MusicGen's streaming decoder makes them, then a final
  ``{"done": figures}``; the caller iterates a ``DeploymentResponseGenerator``, so first
  audio arrives as early as with the local worker (plus one network hop).
* **Keepalives.** While a request waits its turn or a decode step takes long, ``stream``
  yields ``{"alive": True}`` every ``keepalive_s`` (1 s): a daemon that hears nothing at
  all for ``musicgen.ray_lost_seconds`` knows the replica is gone (Ray does not always
  raise at once when a replica's process is killed) and plays the bed at once.
* **Deadlines.** A request carries ``deadline`` (Unix time; the cluster's clocks are
  assumed NTP-synchronised): one whose turn comes after it yields ``{"late": seconds}``
  and is not rendered; the daemon plays the DSP bed for that segment instead of music
  out of time. A cancelled request (the daemon gave up on the clip) stops its render.

* **Batching** (``max_batch`` > 1, ``bassd serve start --max-batch N``): requests that
  arrive together are decoded as one batch, one forward pass per step for all of them
  (``MusicGen.stream_batch``), through Ray Serve's own ``serve.batch`` (a streaming
  batch handler: each step hands every request its new chunks). A lone request waits
  at most ``batch_wait_s`` for company. Requests with different adapter blends cannot
  share weights: they render one blend group after another within the batch.

Adapters named in a request are looked up on the replica's machine (``adapter_dirs``
given at deploy time, then the adapters shipped with bassd), and bassd must be
installed where replicas run (the same wheel; Ray pickles this class by reference).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

APP_NAME = "bassd-musicgen"
DEPLOYMENT = "musicgen"
FIGURES = ("first_audio_s", "decoder_s", "codec_s", "text_s")
KEEPALIVE_S = 1.0  # a streaming request hears from its replica at least this often


class MusicGenReplica:
    """One replica: MusicGen loaded once, clips rendered one at a time, in arrival order.

    Serve runs a replica's methods on one event loop: ``stream`` renders on a thread of
    its own and hands chunks to the loop, so ``info`` (a daemon connecting, or asking
    whether the service is there) answers while a clip renders.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        import asyncio

        from bassd.models.musicgen import MusicGen, default_threads

        self.mg = MusicGen.load(
            settings["model"],
            settings.get("device", "auto"),
            dtype=settings.get("dtype", "float32"),
            threads=settings.get("threads") or default_threads(),
            adapter_dirs=[Path(p) for p in settings.get("adapter_dirs", ())],
        )
        self._turn = asyncio.Lock()  # FIFO: one clip renders, the others wait their turn
        self.keepalive_s = float(settings.get("keepalive_s", KEEPALIVE_S))
        self.clips = 0
        self.late = 0
        self.batches = 0  # batches of more than one request
        self.max_batch = int(settings.get("max_batch", 1))
        if self.max_batch > 1:
            from ray import serve

            batch: Any = serve.batch(  # (its stubs know no streaming batch handler)
                max_batch_size=self.max_batch,
                batch_wait_timeout_s=float(settings.get("batch_wait_s", 0.05)),
            )
            self._batched = batch(self._render_batch)

    async def info(self) -> dict[str, Any]:
        mg = self.mg
        return {"pid": os.getpid(), "sample_rate": mg.sample_rate, "channels": mg.channels,
                "device": mg.device, "frame_rate": mg.frame_rate, "max_frames": mg.max_frames,
                "clips": self.clips, "late": self.late, "batches": self.batches,
                "max_batch": self.max_batch}  # fmt: skip

    async def stream(self, req: dict[str, Any]) -> AsyncIterator[Any]:
        async for item in _keepalive(self._items(req), self.keepalive_s):
            yield item

    async def _items(self, req: dict[str, Any]) -> AsyncIterator[Any]:
        if self.max_batch > 1:
            async for items in self._batched(req):
                for item in items:
                    yield item
            return
        async for item in self._stream_one(req):
            yield item

    async def _stream_one(self, req: dict[str, Any]) -> AsyncIterator[Any]:
        async with self._turn:
            deadline = req.get("deadline")
            if deadline is not None and time.time() > float(deadline):
                self.late += 1  # waited too long: the daemon has played its bed already
                yield {"late": round(time.time() - float(deadline), 3)}
                return
            stats: dict[str, Any] = {}
            make = functools.partial(
                self.mg.stream, str(req["prompt"]), float(req["seconds"]), seed=int(req["seed"]),
                adapters=req.get("adapters") or None, stats=stats, **req["sampling"],
            )  # fmt: skip
            async for chunk in _threaded(make):
                yield chunk
            self.clips += 1
            yield {"done": _figures(stats)}

    async def _render_batch(self, reqs: list[dict[str, Any]]) -> AsyncIterator[list[Any]]:
        """Serve's streaming batch handler: every yield is a list with one entry per
        request: the items it gets now (chunks, then {"done": figures} or {"late": s}),
        or StopIteration once it has had its last."""
        import json

        n = len(reqs)
        ended: set[int] = set()

        def row(items: dict[int, list[Any]], last: set[int]) -> list[Any]:
            out = [StopIteration if i in ended else items.get(i, []) for i in range(n)]
            ended.update(last)
            return out

        if n > 1:
            self.batches += 1
        groups: dict[str, list[int]] = {}
        for i, req in enumerate(reqs):
            groups.setdefault(json.dumps(req.get("adapters") or {}, sort_keys=True), []).append(i)
        for members in groups.values():  # one adapter blend after another
            now = time.time()
            late = {i: now - float(reqs[i]["deadline"]) for i in members
                    if reqs[i].get("deadline") is not None
                    and now > float(reqs[i]["deadline"])}  # fmt: skip
            if late:
                self.late += len(late)
                yield row({i: [{"late": round(s, 3)}] for i, s in late.items()}, set(late))
            live = [i for i in members if i not in late]
            if not live:
                continue
            stats: list[dict[str, Any]] = [{} for _ in live]
            make = functools.partial(self.mg.stream_batch, [reqs[i] for i in live],
                                     adapters=reqs[live[0]].get("adapters") or None,
                                     stats=stats)  # fmt: skip
            async for j, chunk in _threaded(make):
                yield row({live[j]: [chunk]}, set())
            self.clips += len(live)
            yield row({i: [{"done": _figures(st)}] for i, st in zip(live, stats, strict=True)},
                      set(live))  # fmt: skip


async def _keepalive(items: AsyncIterator[Any], every: float) -> AsyncIterator[Any]:
    """``items``, with ``{"alive": True}`` whenever ``every`` seconds pass without one.

    The next item is awaited in a task of its own so that waiting can time out without
    cancelling it; when the consumer stops (or the request is cancelled) that task is
    cancelled and ``items`` closed, so its own clean-up (the turn, the render thread) runs
    before this returns.
    """
    import asyncio
    import contextlib

    it = aiter(items)
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(it))
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield {"alive": True}
                continue
            task, pending = pending, None
            try:
                item = task.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        await it.aclose()  # type: ignore[attr-defined]


def _figures(stats: dict[str, Any]) -> dict[str, float]:
    return {k: float(stats[k]) for k in FIGURES if stats.get(k) is not None}


async def _threaded(make: Callable[[], Iterator[Any]]) -> AsyncIterator[Any]:
    """The items of ``make()``, produced on an executor thread and handed to the loop as
    they come (a replica's loop keeps answering meanwhile). When the consumer stops (the
    daemon gave up on the clip) the thread stops at its next item; the generator returns
    once it has, so the next clip starts on a free model."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()
    stop = threading.Event()
    end = object()

    def run() -> None:
        try:
            for item in make():
                if stop.is_set():
                    return
                loop.call_soon_threadsafe(inbox.put_nowait, (True, item))
            loop.call_soon_threadsafe(inbox.put_nowait, (True, end))
        except Exception as exc:
            loop.call_soon_threadsafe(inbox.put_nowait, (False, exc))

    work = loop.run_in_executor(None, run)
    try:
        while True:
            ok, item = await inbox.get()
            if not ok:
                raise item
            if item is end:
                return
            yield item
    finally:
        stop.set()
        await asyncio.shield(work)


def deployment_options(
    replicas: int, max_replicas: int | None, gpus: float, cpus: float, max_batch: int = 1
) -> dict[str, Any]:
    """Serve options: a fixed count, or autoscaling on queue length up to ``max_replicas``."""
    if max_batch < 1:
        raise ValueError(f"--max-batch must be at least 1, not {max_batch}")
    if replicas < 1:
        raise ValueError(f"--replicas must be at least 1, not {replicas}")
    if max_replicas is not None and max_replicas < replicas:
        raise ValueError(
            f"--max-replicas ({max_replicas}) must be at least --replicas ({replicas})"
        )
    if gpus < 0 or cpus <= 0:
        raise ValueError("--gpus-per-replica must be >= 0 and --cpus-per-replica > 0")
    opts: dict[str, Any] = {
        "name": DEPLOYMENT,
        # one clip (or one batch) renders at a time; up to 4 more (batches' worth) wait
        # there, and what waits is the queue autoscaling reads (target_ongoing_requests)
        "max_ongoing_requests": 5 * max_batch,
        "ray_actor_options": {"num_cpus": cpus, "num_gpus": gpus},
        "health_check_period_s": 2.0,
        "health_check_timeout_s": 30.0,
        "graceful_shutdown_timeout_s": 2.0,
    }
    if max_replicas is not None and max_replicas > replicas:
        opts["autoscaling_config"] = {
            "min_replicas": replicas, "max_replicas": max_replicas,
            "target_ongoing_requests": max_batch, "upscale_delay_s": 3.0, "downscale_delay_s": 60.0,
        }  # fmt: skip
    else:
        opts["num_replicas"] = replicas
    return opts


def deploy(settings: dict[str, Any], options: dict[str, Any], app: str = APP_NAME) -> None:
    """Deploy (or update) the application on the connected cluster; returns once it runs."""
    from ray import serve

    serve.start(http_options={"location": "NoServer"})  # handles only: no HTTP proxy
    deployment: Any = serve.deployment(MusicGenReplica, **options)  # a Deployment
    bound = deployment.bind(settings)
    serve.run(bound, name=app, route_prefix=None, blocking=False)


def connect(address: str | None) -> None:
    """Join the cluster at ``address`` (None: ``RAY_ADDRESS``, else the local one), quietly."""
    import logging

    import ray

    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS") or "auto",
                 logging_level=logging.ERROR, log_to_driver=False)  # fmt: skip
