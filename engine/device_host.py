"""The device process: owns PortAudio and runs the C callback; nothing else.

The daemon starts it as ``python -P -m bassd.engine.device_host`` first
thing, before it has even read its configuration. It initialises PortAudio,
prints ``ready`` and waits for one JSON line on stdin, ``{"cmd": "start", ...}``
with the stream's parameters (the names of the shared ring and player state,
rate, block size, fade, device and host API); it opens the output stream,
prints one JSON line (``opened`` or ``error``) and then only waits on stdin.
``stop`` stops the stream after what is buffered has played (the daemon's
fade-out) and exits 0; the daemon's death closes stdin, and then the stream is
aborted.

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

from bassd.engine.child_process import leave_lifetime_to_parent


def _say(**event: object) -> None:
    import json

    print(json.dumps(event), flush=True)


def main(argv: list[str] | None = None) -> int:
    leave_lifetime_to_parent()  # first, before PortAudio is loaded

    import json
    import sys

    from bassd.engine.device import DeviceError, DeviceStream, _portaudio
    from bassd.engine.player import SharedPlayer
    from bassd.engine.portaudio import PortAudioError
    from bassd.engine.ring import SharedRing

    try:
        pa = _portaudio()  # the slow part, while the daemon loads its config and engine
    except DeviceError as exc:
        _say(event="error", message=str(exc))
        return 3
    _say(event="ready")
    # "start" brings the stream's parameters; anything else (stdin closed) ends it
    line = sys.stdin.readline()
    try:
        start = json.loads(line)
        if start.get("cmd") != "start":
            raise ValueError(line)
    except ValueError:
        pa.terminate()
        return 0
    ring = SharedRing.attach(start["ring"])
    player = SharedPlayer.attach(start["player"])
    stream = DeviceStream(
        ring,
        sample_rate=int(start["sample_rate"]),
        block_size=int(start["block_size"]),
        fade_frames=int(start["fade_frames"]),
        device=start.get("device"),
        hostapi=start.get("hostapi"),
        player=player.p,
        portaudio=pa,
    )
    try:
        dev = stream.open()
    except DeviceError as exc:
        _say(event="error", message=str(exc))
        stream.close(drain=False)
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
