"""The audio device: a PortAudio output stream whose callback is the C core.

The stream is opened through sounddevice with ``wrap_callback=None``, so
PortAudio calls ``bassd_callback`` (engine/rtcore.c) directly on its real-time
thread: no Python, no GIL, no allocation, no locks in the audio path. The
callback reads the shared ring and writes its counters into a ``bassd_player``
struct that Python reads for status and the watchdog.

Arguments are validated and the device resolved before the stream starts; a
missing device is one clear line naming the available ones.

sounddevice is imported inside the functions: importing it initialises
PortAudio (and opens a JACK client), which only the device process should do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bassd.engine._rtcore import ffi, lib
from bassd.engine.ring import SharedRing


class DeviceError(RuntimeError):
    """The audio device is missing or cannot be opened (message is user-facing)."""


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    hostapi: str
    channels: int


def list_output_devices() -> list[OutputDevice]:
    import sounddevice as sd

    hostapis = sd.query_hostapis()
    out = []
    for i, d in enumerate(sd.query_devices()):
        if d["max_output_channels"] > 0:
            out.append(
                OutputDevice(i, d["name"], hostapis[d["hostapi"]]["name"], d["max_output_channels"])
            )
    return out


def _describe(devs: list[OutputDevice]) -> str:
    if not devs:
        return "none"
    return "; ".join(f"[{d.index}] {d.name} ({d.hostapi}, {d.channels} ch)" for d in devs)


def resolve_output_device(name: str | None, channels: int = 2) -> OutputDevice:
    """Pick the output device: by name substring, else JACK's, else PortAudio's default."""
    devs = [d for d in list_output_devices() if d.channels >= channels]
    if name:
        matches = [d for d in devs if name.lower() in d.name.lower()]
        if not matches:
            raise DeviceError(
                f"audio device {name!r} not found; available outputs: {_describe(devs)}; "
                "pick one with --set audio.device=NAME (see `bassd devices`)"
            )
        return matches[0]
    if not devs:
        raise DeviceError(
            "no audio output device found (PortAudio sees none); start a sound server "
            "(e.g. `jackd -d dummy -r 48000 -p 256` on a machine without a sound card) or use "
            "`bassd render` to render to a file without a device"
        )
    jack = [d for d in devs if "JACK" in d.hostapi]
    if jack:
        return jack[0]
    import sounddevice as sd

    default = sd.default.device[1]
    for d in devs:
        if d.index == default:
            return d
    return devs[0]


class DeviceStream:
    """An output stream playing ``ring`` through the C callback."""

    def __init__(
        self,
        ring: SharedRing,
        *,
        sample_rate: int,
        block_size: int,
        fade_frames: int,
        device: str | None = None,
        player: Any = None,
    ) -> None:
        if ring.channels != 2:
            raise ValueError("the device stream plays stereo rings")
        if block_size * 2 > ring.capacity:
            raise ValueError(f"block_size {block_size} too large for a {ring.capacity}-frame ring")
        self.ring = ring
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.device_name = device
        # the callback's state: private, or in shared memory when the daemon watches it
        self.player: Any = player if player is not None else ffi.new("bassd_player *")
        self.player.ring = ring.base
        self.player.channels = ring.channels
        self.player.fade_frames = fade_frames
        self.player.muted = 1  # start with a fade-in
        self._stream: Any = None
        self.device: OutputDevice | None = None

    # --------------------------------------------------------------- control
    def open(self) -> OutputDevice:
        """Resolve the device, open and start the stream."""
        import sounddevice as sd

        self.device = resolve_output_device(self.device_name, self.ring.channels)
        try:
            stream = sd._StreamBase(
                kind="output",
                wrap_callback=None,
                callback=ffi.addressof(lib, "bassd_callback"),
                userdata=self.player,
                samplerate=self.sample_rate,
                blocksize=self.block_size,
                device=self.device.index,
                channels=self.ring.channels,
                dtype="float32",
                latency="low",
            )
        except sd.PortAudioError as exc:
            raise DeviceError(
                f"cannot open audio device [{self.device.index}] {self.device.name} at "
                f"{self.sample_rate} Hz / {self.block_size} frames: {exc}"
            ) from None
        self.player.gain = 0.0
        self.player.muted = 1
        stream.start()
        self._stream = stream
        return self.device

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort(ignore_errors=True)
        finally:
            stream.close(ignore_errors=True)

    @property
    def latency(self) -> float:
        return float(self._stream.latency) if self._stream is not None else 0.0
