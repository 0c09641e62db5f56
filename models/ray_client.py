"""The neural worker's view of a Ray Serve deployment: MusicGen's streaming API, remote.

:class:`RemoteMusicGen` has what the worker uses of :class:`bassd.models.musicgen.MusicGen`
(``sample_rate``, ``channels``, ``device``, ``max_frames``, ``frame_rate``, ``stream``), so
the worker streams a replica's chunks into the clip's shared-memory block exactly as it
streams its own model's. It runs in the worker process only: the daemon never imports Ray.

* A clip that waited past its deadline raises :class:`LateClip` (the daemon counts it and
  plays the DSP bed); a cancelled clip (the daemon gave up on it) cancels the request.
* A replica lost mid-clip raises from the stream: that clip fails and the next goes to
  another replica (Serve replaces the lost one). Ray does not always raise at once when a
  replica's process is killed, so the stream also ends with :class:`ReplicaLost` when the
  replica, which says ``{"alive": True}`` every second while it has nothing else to
  send, is silent for ``lost_s`` (``musicgen.ray_lost_seconds``).
  :meth:`RemoteMusicGen.alive` asks the deployment with a short timeout; the worker exits
  when the cluster is gone, and the daemon's supervision restarts it with backoff, which
  reconnects.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from bassd.models.ray_serve import APP_NAME, connect


class LateClip(RuntimeError):
    """The deployment dropped a request that waited past its deadline."""


class ReplicaLost(RuntimeError):
    """The replica said nothing (no chunk, no keepalive) for ``lost_s``."""


_END = object()


def _within(items: Any, lost_s: float) -> Iterator[Any]:
    """``items`` (a blocking iterator), each within ``lost_s`` of the one before, else
    :class:`ReplicaLost`. A thread of its own reads them, so the wait can time out; it ends
    when ``items`` does, or raises once the caller has cancelled the request."""
    inbox: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

    def pull() -> None:
        try:
            for item in items:
                inbox.put((True, item))
            inbox.put((True, _END))
        except BaseException as exc:  # handed to the reader, which raises it
            inbox.put((False, exc))

    threading.Thread(target=pull, name="bassd-ray-stream", daemon=True).start()
    while True:
        try:
            ok, item = inbox.get(timeout=lost_s)
        except queue.Empty:
            raise ReplicaLost(f"no word from the replica for {lost_s:g} s") from None
        if not ok:
            raise item
        if item is _END:
            return
        yield item


class RemoteMusicGen:
    remote = True

    def __init__(
        self, address: str | None, app: str = APP_NAME, timeout_s: float = 30.0,
        lost_s: float = 10.0,
    ) -> None:  # fmt: skip
        where = address or os.environ.get("RAY_ADDRESS") or ""
        if where.startswith("ray://"):  # RAY_ADDRESS (the config refuses it by name)
            from bassd.models.config import NO_RAY_CLIENT

            raise ValueError(f"RAY_ADDRESS={where}: {NO_RAY_CLIENT}")
        # a driver whose cluster is gone exits after this long, rather than the default 60 s
        os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", "5")
        connect(address)
        from ray import serve

        self.app = app
        self.lost_s = lost_s
        self.handle: Any = serve.get_app_handle(app)
        info = self.handle.info.remote().result(timeout_s=timeout_s)
        self.sample_rate: int = int(info["sample_rate"])
        self.channels: int = int(info["channels"])
        self.device: str = f"ray:{info['device']}"
        self.frame_rate: float = float(info["frame_rate"])
        self.max_frames: int = int(info["max_frames"])

    def alive(self, timeout_s: float = 3.0) -> bool:
        try:
            self.handle.info.remote().result(timeout_s=timeout_s)
        except Exception:
            return False
        return True

    def stream(
        self,
        prompt: str,
        seconds: float,
        *,
        seed: int = 0,
        adapters: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
        stats: dict[str, Any] | None = None,
        deadline: float | None = None,
        **sampling: Any,
    ) -> Iterator[np.ndarray]:
        """Audio chunks (frames, channels) float32 at ``sample_rate``, as the replica makes them."""
        req = {"prompt": prompt, "seconds": float(seconds), "seed": int(seed),
               "adapters": dict(adapters) if adapters else None, "sampling": dict(sampling),
               "deadline": deadline}  # fmt: skip
        gen = self.handle.options(stream=True).stream.remote(req)
        finished = False
        try:
            for item in _within(gen, self.lost_s):
                if isinstance(item, dict):
                    if "late" in item:
                        raise LateClip(f"waited {item['late']:g} s past its deadline")
                    if stats is not None:
                        stats.update(item.get("done", {}))
                    continue
                yield np.asarray(item, dtype=np.float32)
            finished = True
        finally:
            if not finished:
                gen.cancel()  # the daemon gave up on it, or it failed: free the replica
