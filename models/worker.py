"""The neural worker process: loads MusicGen once, then streams clips into shared memory.

It is started with the ``spawn`` method by :class:`bassd.models.neural_renderer.NeuralRenderer`
and speaks to it through two queues:

* requests (parent → worker): a clip to render (dict, see :func:`_render`) or None (stop);
* replies (worker → parent): ``("loaded", info)``, ``("missing", message, command)``,
  ``("unavailable", message, fix)`` (torch, transformers or soxr not installed),
  ``("load_failed", message)``, ``("started", index)``, ``("done", index, figures)``,
  ``("error", index, message)``, ``("late", index, message)`` (a Ray deployment dropped
  the clip at its deadline).

With ``backend: ray`` the model is a :class:`bassd.models.ray_client.RemoteMusicGen` (a
Ray Serve deployment, :mod:`bassd.models.ray_serve`) instead of a local one; everything
else is the same. A remote clip that fails while the deployment does not answer either
ends the worker (the cluster is gone): the parent restarts it with backoff.

The clip's audio goes into a shared-memory block the parent created (and owns):
a header of int64 ``[frames written, cancel flag, capacity]``, the running
power spectrum of the clip's first 20 s (the parent decides the clip's
loudness gain from it without touching the audio), then float32 stereo frames
at the engine's rate. The worker writes the frames, then the
count, chunk by chunk as MusicGen's stream decodes them — the parent can play
the clip before it is complete. The model's 32 kHz is resampled with soxr
(band-limited, VHQ) and a mono model is spread to stereo by the width stage
(:mod:`bassd.dsp.widen`).

Its lifetime is the daemon's: it ignores the process group's SIGINT/SIGTERM,
stops on None, and stops by itself when its parent is gone.
"""

from __future__ import annotations

import os
import time
from multiprocessing import shared_memory
from typing import Any

import numpy as np

HEADER_BYTES = 64  # int64 [written, cancel, capacity, ...]
SPECTRUM_FFT = 4096
SUMS = SPECTRUM_FFT // 2 + 1 + 3  # float64: the clip's spectrum so far (SpectrumAccumulator)
LOUDNESS_SECONDS = 20.0  # the spectrum covers the clip's first 20 s (its gain's basis)


def clip_views(buf: Any, capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(header int64 (8,), spectrum sums float64, audio float32 (capacity, 2)) over a
    clip block's buffer."""
    header = np.ndarray((HEADER_BYTES // 8,), dtype=np.int64, buffer=buf)
    sums = np.ndarray((SUMS,), dtype=np.float64, buffer=buf, offset=HEADER_BYTES)
    audio = np.ndarray((capacity, 2), dtype=np.float32, buffer=buf,
                       offset=HEADER_BYTES + SUMS * 8)  # fmt: skip
    return header, sums, audio


def clip_bytes(capacity: int) -> int:
    return HEADER_BYTES + SUMS * 8 + capacity * 2 * 4


def worker_main(requests: Any, replies: Any, settings: dict[str, Any]) -> None:
    """The worker's entry point (a spawned process)."""
    from bassd.engine.child_process import leave_lifetime_to_parent

    leave_lifetime_to_parent()
    parent = os.getppid()
    from bassd.models.musicgen import MissingWeights, MusicGen, default_threads

    remote = settings.get("backend") == "ray"  # the playback machine needs no torch then
    try:
        import soxr  # noqa: F401

        if remote:
            import ray  # noqa: F401
        else:
            import torch  # noqa: F401
            import transformers  # noqa: F401
    except ImportError as exc:
        extra = "cluster" if remote else "neural"
        fix = f"pip install {'' if remote else 'torch==2.13.0 '}'bassd[{extra}]'"
        replies.put(("unavailable", f"the {extra} extra is not installed ({exc}); {fix}", fix))
        return

    mg: Any
    try:
        if remote:
            mg = _remote(settings)
        else:
            mg = MusicGen.load(
                settings["model"],
                settings.get("device", "auto"),
                dtype=settings.get("dtype", "float32"),
                threads=settings.get("threads") or default_threads(),
                adapter_dirs=settings.get("adapter_dirs", ()),
            )
    except MissingWeights as exc:
        replies.put(("missing", str(exc), exc.command))
        return
    except Exception as exc:
        replies.put(("load_failed", f"{type(exc).__name__}: {exc}"))
        return
    replies.put(("loaded", {"pid": os.getpid(), "sample_rate": mg.sample_rate,
                            "channels": mg.channels, "device": mg.device,
                            "max_seconds": (mg.max_frames - 2) / mg.frame_rate}))  # fmt: skip
    import queue

    while True:
        try:
            req = requests.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:
                return  # the daemon is gone
            continue
        if req is None:
            return
        try:
            replies.put(("started", req["index"]))
            figures = _render(mg, req, parent)
            replies.put(("done", req["index"], figures))
        except Exception as exc:
            kind = "late" if type(exc).__name__ == "LateClip" else "error"
            replies.put((kind, req["index"], f"{type(exc).__name__}: {exc}"))
            if kind == "error" and getattr(mg, "remote", False) and not mg.alive():
                return  # the cluster is gone: the parent restarts this worker, with backoff


def _remote(settings: dict[str, Any]) -> Any:
    """The deployment at ``ray_address`` (None: ``RAY_ADDRESS``, else the local cluster)."""
    from bassd.models.ray_client import RemoteMusicGen

    return RemoteMusicGen(settings.get("ray_address"), settings.get("ray_app") or "bassd-musicgen",
                          timeout_s=float(settings.get("ray_connect_seconds", 30.0)),
                          lost_s=float(settings.get("ray_lost_seconds", 10.0)))  # fmt: skip


def _attach(name: str) -> shared_memory.SharedMemory:
    # the parent created and owns the block; attaching registers it again with the
    # resource tracker the spawned worker shares with its parent, which is a no-op
    # (the tracker keeps a set), so the parent's unlink is the one that counts
    return shared_memory.SharedMemory(name=name, create=False)


def _render(mg: Any, req: dict[str, Any], parent: int) -> dict[str, Any]:
    """Stream one clip into its block; the figures of the render."""
    import soxr

    from bassd.dsp.loudness import SpectrumAccumulator
    from bassd.dsp.widen import MonoWidener

    t0 = time.perf_counter()
    try:
        shm = _attach(req["shm"])
    except FileNotFoundError:
        return {"frames": 0, "cancelled": True, "seconds": 0.0}
    header: Any = None
    audio: Any = None
    sums: Any = None
    try:
        capacity = int(req["capacity"])
        header, sums, audio = clip_views(shm.buf, capacity)
        rate = int(req["sample_rate"])
        channels = mg.channels
        resampler = soxr.ResampleStream(mg.sample_rate, rate, channels, dtype="float32",
                                        quality="VHQ")  # fmt: skip
        widen = MonoWidener(float(req.get("width", 0.7)), rate) if channels == 1 else None
        # the spectrum the parent decides the clip's gain from (kept off the audio loop)
        spectrum = SpectrumAccumulator(rate, SPECTRUM_FFT, sums=sums)
        loudness_frames = round(LOUDNESS_SECONDS * rate)
        stats: dict[str, Any] = {}
        written = 0
        first_audio: float | None = None
        remote = {"deadline": req.get("deadline")} if getattr(mg, "remote", False) else {}
        chunks = mg.stream(
            req["prompt"], float(req["seconds"]), seed=int(req["seed"]),
            adapters=req.get("adapters") or None, stats=stats, **req["sampling"], **remote,
        )  # fmt: skip
        cancelled = False

        def put(block: np.ndarray) -> None:
            nonlocal written, first_audio
            if len(block) == 0:
                return
            stereo = widen.process(block) if widen is not None else block.astype(np.float32)
            n = min(len(stereo), capacity - written)
            if n <= 0:
                return
            audio[written : written + n] = stereo[:n]
            if written < loudness_frames:
                spectrum.add(stereo[: min(n, loudness_frames - written)])
            written += n
            header[0] = written  # after the frames: the parent reads the count, then them
            if first_audio is None:
                first_audio = time.perf_counter() - t0

        for chunk in chunks:
            put(resampler.resample_chunk(chunk, last=False))
            if header[1] or os.getppid() != parent:
                cancelled = True
                break
        if not cancelled:
            put(resampler.resample_chunk(np.zeros((0, channels), np.float32), last=True))
        seconds = time.perf_counter() - t0
        return {
            "frames": written,
            "cancelled": cancelled,
            "seconds": seconds,
            "first_audio_s": first_audio,
            "rtf": seconds / max(1e-9, written / rate) if written else None,
            "decoder_s": stats.get("decoder_s"),
            "codec_s": stats.get("codec_s"),
        }
    finally:
        header = audio = sums = spectrum = None  # release the views before closing
        shm.close()
