"""The device process: owns PortAudio and runs the C callback; nothing else.

The daemon starts it as ``python -m bassd.engine.device_host`` with the names of
the shared ring and the shared player state. It prints ``ready``, waits for
``start`` on stdin, opens the output stream, prints one JSON line (``opened``
or ``error``) and then only waits on stdin: ``stop`` (or the daemon's death,
which closes stdin) ends it.

Why a process of its own: when a sound server dies, PortAudio cannot be
reinitialised in the same process (PortAudio's JACK host API aborts on
``Pa_Terminate`` after its server vanished). The daemon instead kills this
process and starts a fresh one; the ring, the player counters and the engine's
timeline all live on in the daemon.
"""

from __future__ import annotations

import argparse
import json
import sys


def _say(**event: object) -> None:
    print(json.dumps(event), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bassd-device-host")
    ap.add_argument("--ring", required=True)
    ap.add_argument("--player", required=True)
    ap.add_argument("--sample-rate", type=int, required=True)
    ap.add_argument("--block-size", type=int, required=True)
    ap.add_argument("--fade-frames", type=int, required=True)
    ap.add_argument("--device", default=None)
    args = ap.parse_args(argv)

    from bassd.engine.device import DeviceError, DeviceStream
    from bassd.engine.player import SharedPlayer
    from bassd.engine.ring import SharedRing

    ring = SharedRing.attach(args.ring)
    player = SharedPlayer.attach(args.player)
    # Started early, while the daemon builds its engine: wait for "start", so the
    # callback never runs before the ring holds audio.
    _say(event="ready")
    line = sys.stdin.readline()
    if line.strip() != "start":
        return 0
    stream = DeviceStream(
        ring,
        sample_rate=args.sample_rate,
        block_size=args.block_size,
        fade_frames=args.fade_frames,
        device=args.device,
        player=player.p,
    )
    try:
        dev = stream.open()
    except DeviceError as exc:
        _say(event="error", message=str(exc))
        return 3
    except Exception as exc:  # PortAudio can fail in many ways while a server restarts
        _say(event="error", message=f"{type(exc).__name__}: {exc}")
        return 4
    _say(
        event="opened",
        device=dev.name,
        hostapi=dev.hostapi,
        index=dev.index,
        latency=stream.latency,
    )
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stream.close()
    _say(event="closed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
