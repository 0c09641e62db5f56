"""Python callback versus the C callback, under an OSC flood parsed in the asyncio loop.

The question the engine's design had to answer: can the PortAudio callback be
Python (sounddevice's usual way), or must it be C? In one process, an asyncio
loop renders the engine into the shared ring (the pump) and parses an OSC
flood from another process, while PortAudio plays the ring through

* ``python``: a sounddevice callback in Python copying from the ring (it needs
  the GIL, which the loop holds while it parses and renders);
* ``c``: the C callback of engine/rtcore.c in the same process (no GIL);
* ``c-process``: the daemon's real arrangement, the C callback in a separate
  device process.

Counts dry callbacks (the ring could not fill the buffer in time, or the
Python callback ran late) and PortAudio's underflow flags.

    python benchmarks/bench_callbacks.py --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.jack import JackServer
from tests.osc_client import free_udp_port

RESULTS = Path(__file__).resolve().parent / "results"


def _flood(port: int, seconds: float, rate: int) -> None:
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder("/status")  # a real handler: parse, JSON, reply
    dgram = b.build().dgram
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stop = time.monotonic() + seconds
    burst = max(1, rate // 200)
    while time.monotonic() < stop:
        for _ in range(burst):
            s.sendto(dgram, ("127.0.0.1", port))
        time.sleep(0.005)


async def _run(mode: str, seconds: float, rate: int) -> dict[str, Any]:
    import numpy as np

    from bassd.app.config import load_config
    from bassd.control.osc_server import OscSettings, start_osc_server
    from bassd.engine.core import Engine
    from bassd.engine.player import SharedPlayer
    from bassd.engine.ring import SharedRing

    cfg = load_config()
    engine = Engine(cfg)
    ring = SharedRing(8192, 2)
    player = SharedPlayer()
    target = cfg.audio.target_fill_frames

    def top_up() -> None:
        while ring.fill() < target:
            ring.write(engine.render(256))

    top_up()
    counts = {"dry": 0, "callbacks": 0, "flags": 0}
    stream: Any = None
    device_proc: Any = None
    if mode == "python":
        import sounddevice as sd

        buf = np.zeros((256, 2), dtype=np.float32)

        def callback(outdata: Any, frames: int, t: Any, status: Any) -> None:
            counts["callbacks"] += 1
            if status.output_underflow:
                counts["flags"] += 1
            view = buf[:frames]
            got = ring.read_into(view)
            if got < frames:
                counts["dry"] += 1
                view[got:] = 0.0
            outdata[:] = view.tobytes()

        stream = sd.RawOutputStream(
            samplerate=48000, blocksize=256, channels=2, dtype="float32",
            callback=callback, latency="low",
        )  # fmt: skip
        stream.start()
    elif mode == "c":
        from bassd.engine.device import DeviceStream

        stream = DeviceStream(
            ring, sample_rate=48000, block_size=256, fade_frames=64, player=player.p
        )
        stream.open()
    else:
        from bassd.engine.device_process import DeviceProcess

        device_proc = DeviceProcess(
            ring, player, sample_rate=48000, block_size=256, fade_frames=64, device=None
        )
        await device_proc.start()

    port = free_udp_port()

    class Surface:  # /status only: parse, JSON, reply, like the daemon's
        def dispatch(self, entry: Any, values: Any, request: Any) -> None:
            request.reply("/status/json", json.dumps({"frame": engine.frame, "fill": ring.fill()}))

    transport, proto = await start_osc_server(
        "127.0.0.1", port, Surface(), OscSettings(reply_port=free_udp_port())
    )
    flood = mp.Process(target=_flood, args=(port, seconds, rate))
    await asyncio.sleep(0.5)
    base = player.stats()
    flood.start()
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        top_up()
        await asyncio.sleep(256 / 48000 / 2)
    flood.join()
    stats = player.stats()
    if mode == "python":
        stream.stop()
        stream.close()
        dry, flags = counts["dry"], counts["flags"]
    else:
        if device_proc is not None:
            await device_proc.stop()
        else:
            stream.close()
        dry = stats["dry_callbacks"] - base["dry_callbacks"]
        flags = stats["pa_output_underflows"] - base["pa_output_underflows"]
    transport.close()
    engine.close()
    ring.close()
    player.close()
    return {
        "mode": mode,
        "seconds": seconds,
        "flood_rate": rate,
        "osc_handled": proto.counters.handled,
        "dry_callbacks": dry,
        "pa_underflows": flags,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rate", type=int, default=20000, help="flood datagrams per second")
    ap.add_argument("--modes", default="python,c,c-process")
    args = ap.parse_args()
    jack = JackServer(f"cb-{uuid.uuid4().hex[:6]}")
    jack.start()
    os.environ["JACK_DEFAULT_SERVER"] = jack.name
    os.environ["JACK_NO_START_SERVER"] = "1"
    rows = []
    try:
        for mode in args.modes.split(","):
            rows.append(asyncio.run(_run(mode, args.seconds, args.rate)))
    finally:
        if "sounddevice" in sys.modules:  # PortAudio aborts if terminated after its server
            sys.modules["sounddevice"]._terminate()
        jack.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "callbacks.json").write_text(json.dumps(rows, indent=2))
    print(
        f"{'callback':<12}{'seconds':>9}{'osc handled':>13}{'dry callbacks':>15}{'PA underflows':>15}"
    )
    for r in rows:
        print(
            f"{r['mode']:<12}{r['seconds']:>9.0f}{r['osc_handled']:>13}"
            f"{r['dry_callbacks']:>15}{r['pa_underflows']:>15}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
