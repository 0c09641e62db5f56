"""The VAE renderer's worker process: texture streams generated into shared-memory rings.

Spawned by :class:`bassd.models.vae_renderer.VaeRenderer`; it ignores SIGINT and
SIGTERM (its lifetime is the daemon's) and stops when asked or when its parent is
gone. It holds one :class:`~bassd.models.vae_synth.TextureSynth` per open stream
(one per planned segment: two overlap during a crossfade), each writing into its
own :class:`~bassd.engine.ring.SharedRing`, and generates a stream only up to the
frame the daemon asked for (``want``): so a control sent before a ``want`` is
applied to exactly the frames after it, live and offline alike.

Requests (tuples on a queue): ``("open", sid, ring, seed, sliders, start)``,
``("want", sid, frames)``, ``("close", sid)``, ``("sliders", values)``,
``("slider", index, value)``, ``("blend", folder | None, weight)``, ``("stop",)``.
Replies: ``("loaded", info)``, ``("error", message)``.
"""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass
from typing import Any

from bassd.engine.child_process import leave_lifetime_to_parent

CHUNK_FRAMES = 4096  # output frames generated per step of a stream


@dataclass
class _Stream:
    synth: Any
    ring: Any
    want: int = 0


def worker_main(requests: Any, replies: Any, settings: dict[str, Any]) -> None:
    leave_lifetime_to_parent()
    parent = os.getppid()
    try:
        import torch

        torch.set_num_threads(int(settings.get("threads") or 1))
        from bassd.engine.ring import SharedRing
        from bassd.models.vae_synth import TextureSynth, load_voice

        voice = load_voice(settings["model"])
    except Exception as exc:
        replies.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    replies.put(("loaded", {"sliders": [s.name for s in voice.sliders.sliders],
                            "pid": os.getpid()}))  # fmt: skip
    voices: dict[str, Any] = {}
    streams: dict[int, _Stream] = {}
    sliders: list[float] | None = settings.get("sliders")
    blend: tuple[Any, float] | None = None
    synth_kw = {k: settings[k] for k in ("drift", "drift_s", "glide_s", "hop_frames", "n_iter",
                                         "width", "azimuth", "gain", "sample_rate")
                if k in settings}  # fmt: skip

    def handle(msg: tuple[Any, ...]) -> bool:
        nonlocal sliders, blend
        kind = msg[0]
        if kind == "stop":
            return False
        if kind == "open":
            _, sid, ring_name, seed, values, start = msg
            synth = TextureSynth(voice, seed=int(seed), sliders=values or sliders, **synth_kw)
            synth.frames_out = int(start)  # frames the stream's ring has had already
            if blend is not None:
                synth.set_blend(*blend)
            streams[sid] = _Stream(synth, SharedRing.attach(ring_name, own_tracker=False))
        elif kind == "want":
            st = streams.get(msg[1])
            if st is not None:
                st.want = max(st.want, int(msg[2]))
        elif kind == "close":
            st = streams.pop(msg[1], None)
            if st is not None:
                st.ring.close()
        elif kind == "sliders":
            sliders = list(msg[1])
            for st in streams.values():
                st.synth.set_sliders(sliders)
        elif kind == "slider":
            if sliders is None:
                sliders = [0.5] * len(voice.sliders)
            sliders[int(msg[1])] = float(msg[2])
            for st in streams.values():
                st.synth.set_slider(int(msg[1]), float(msg[2]))
        elif kind == "blend":
            folder, weight = msg[1], float(msg[2])
            if folder is None or weight <= 0:
                blend = None
            else:
                if folder not in voices:
                    try:
                        voices[folder] = load_voice(folder)
                    except Exception as exc:
                        replies.put(("error", f"blend {folder}: {type(exc).__name__}: {exc}"))
                        return True
                blend = (voices[folder], weight)
            for st in streams.values():
                st.synth.set_blend(*(blend or (None, 0.0)))
        return True

    running = True
    while running:
        busy = [s for s in streams.values()
                if s.synth.frames_out < s.want and s.ring.free() >= CHUNK_FRAMES]  # fmt: skip
        try:
            msg = requests.get(timeout=0.0 if busy else 0.02)
        except queue.Empty:
            msg = None
        except (EOFError, OSError):
            break
        if msg is not None:
            try:
                running = handle(msg)
            except Exception as exc:  # a bad request must not end the streams
                replies.put(("error", f"{msg[0]}: {type(exc).__name__}: {exc}"))
            continue  # drain requests before generating: controls land first
        for st in busy:
            n = min(CHUNK_FRAMES, st.want - st.synth.frames_out)
            st.ring.write(st.synth.render(n))
        if not busy and os.getppid() != parent:
            break  # the daemon is gone
        if not busy:
            time.sleep(0)
    for st in streams.values():
        st.ring.close()
