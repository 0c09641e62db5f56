"""The device process: owns PortAudio and runs the C callback; nothing else.

The daemon starts it as ``python -P -m bassd.engine.device_host`` with the
names of the shared ring and the shared player state. It initialises
PortAudio, prints ``ready``, waits for ``start`` on stdin, opens the output
stream, prints one JSON line (``opened`` or ``error``) and then only waits on
stdin. ``stop`` stops the stream after what is buffered has played (the
daemon's fade-out) and exits 0; the daemon's death closes stdin, and then the
stream is aborted.

Its lifetime is the daemon's: SIGINT and SIGTERM are ignored (Ctrl-C and
``systemctl stop`` signal the whole process group; the daemon fades out and
then says ``stop``). Its stderr (PortAudio's and libjack's messages, a Python
traceback) is read by the daemon and logged.

Why a process of its own: when a sound server dies, PortAudio cannot be
reinitialised in the same process (PortAudio's JACK host API aborts on
``Pa_Terminate`` after its server vanished). The daemon instead kills this
process and starts a fresh one; the ring, the player counters and the engine's
timeline all live on in the daemon.
"""

from __future__ import annotations

import signal


def _say(**event: object) -> None:
    import json

    print(json.dumps(event), flush=True)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="bassd-device-host")
    ap.add_argument("--ring", required=True)
    ap.add_argument("--player", required=True)
    ap.add_argument("--sample-rate", type=int, required=True)
    ap.add_argument("--block-size", type=int, required=True)
    ap.add_argument("--fade-frames", type=int, required=True)
    ap.add_argument("--device", default=None, help="a name substring, or the exact name")
    ap.add_argument("--hostapi", default=None, help="exactly this device on this host API")
    args = ap.parse_args(argv)

    from bassd.engine.device import DeviceError, DeviceStream
    from bassd.engine.player import SharedPlayer
    from bassd.engine.portaudio import PortAudioError
    from bassd.engine.ring import SharedRing

    ring = SharedRing.attach(args.ring)
    player = SharedPlayer.attach(args.player)
    stream = DeviceStream(
        ring,
        sample_rate=args.sample_rate,
        block_size=args.block_size,
        fade_frames=args.fade_frames,
        device=args.device,
        hostapi=args.hostapi,
        player=player.p,
    )
    try:
        stream.open_portaudio()  # the slow part, while the daemon builds its engine
    except DeviceError as exc:
        _say(event="error", message=str(exc))
        return 3
    # Started early: wait for "start", so the callback never runs before the ring
    # holds audio.
    _say(event="ready")
    line = sys.stdin.readline()
    if line.strip() != "start":
        return 0
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
    drain = False  # stdin closed: the daemon is gone, nobody is fading out
    for line in sys.stdin:
        if line.strip() == "stop":
            drain = True
            break
    try:
        stream.close(drain=drain)
    except PortAudioError as exc:
        if drain:
            _say(event="error", message=f"closing the stream: {exc}")
        return 5
    if drain:  # else nobody reads stdout any more
        _say(event="closed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
