"""The audio device: a PortAudio output stream whose callback is the C core.

PortAudio (engine/portaudio.py, our own declarations) calls ``bassd_callback``
(engine/rtcore.c) directly on its real-time thread: no Python, no GIL, no
allocation, no locks in the audio path. The callback reads the shared ring and
writes its counters into a ``bassd_player`` struct that Python reads for
status and the watchdog.

Arguments are validated and the device resolved before the stream starts; a
missing device is one clear line naming the available ones. Once a device has
been opened, the device process asks for exactly that one again (name and host
API) and fails until it is back, rather than settling for another host API.

PortAudio is initialised only inside these functions: that opens a JACK
client, which only the device process (or a short ``bassd devices``) should do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bassd.engine._rtcore import ffi, lib
from bassd.engine.portaudio import OutputStream, PortAudio, PortAudioError
from bassd.engine.ring import SharedRing


class DeviceError(RuntimeError):
    """The audio device is missing or cannot be opened (message is user-facing)."""


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    hostapi: str
    channels: int


def output_devices(pa: PortAudio) -> tuple[list[OutputDevice], int | None]:
    """The output devices PortAudio sees, and the index of its default output."""
    apis = {h.index: h.name for h in pa.host_apis()}
    devs = [
        OutputDevice(
            d.index, d.name, apis.get(d.hostapi, f"host API {d.hostapi}"), d.max_output_channels
        )
        for d in pa.devices()
        if d.max_output_channels > 0
    ]
    return devs, pa.default_output_device()


def _portaudio() -> PortAudio:
    try:
        return PortAudio()
    except PortAudioError as exc:
        raise DeviceError(str(exc)) from None


def list_output_devices() -> list[OutputDevice]:
    """Every output device (initialises PortAudio for the call)."""
    with _portaudio() as pa:
        return output_devices(pa)[0]


def _describe(devs: Sequence[OutputDevice]) -> str:
    if not devs:
        return "none"
    return "; ".join(f"[{d.index}] {d.name} ({d.hostapi}, {d.channels} ch)" for d in devs)


def choose_output_device(
    devices: Sequence[OutputDevice],
    default: int | None,
    *,
    name: str | None,
    channels: int = 2,
    hostapi: str | None = None,
) -> OutputDevice:
    """Pick the output device from ``devices``.

    With ``hostapi``: exactly the device called ``name`` on that host API (the
    one opened before), or DeviceError. Else by name substring, else JACK's,
    else PortAudio's ``default``, else the first.
    """
    devs = [d for d in devices if d.channels >= channels]
    if hostapi is not None:
        for d in devs:
            if d.name == name and d.hostapi == hostapi:
                return d
        raise DeviceError(
            f"audio device {name!r} ({hostapi}), the one opened before, is not available now; "
            f"available outputs: {_describe(devs)}"
        )
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
    for d in devs:
        if d.index == default:
            return d
    return devs[0]


def resolve_output_device(
    name: str | None, channels: int = 2, hostapi: str | None = None
) -> OutputDevice:
    """``choose_output_device`` over what PortAudio sees now."""
    with _portaudio() as pa:
        devs, default = output_devices(pa)
    return choose_output_device(devs, default, name=name, channels=channels, hostapi=hostapi)


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
        hostapi: str | None = None,
        player: Any = None,
        portaudio: PortAudio | None = None,
    ) -> None:
        if ring.channels != 2:
            raise ValueError("the device stream plays stereo rings")
        if block_size * 2 > ring.capacity:
            raise ValueError(f"block_size {block_size} too large for a {ring.capacity}-frame ring")
        if hostapi is not None and not device:
            raise ValueError("an exact host API needs the device's name too")
        self.ring = ring
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.device_name = device
        self.hostapi = hostapi
        # the callback's state: private, or in shared memory when the daemon watches it
        self.player: Any = player if player is not None else ffi.new("bassd_player *")
        self.player.ring = ring.base
        self.player.channels = ring.channels
        self.player.fade_frames = fade_frames
        self.player.muted = 1  # start with a fade-in
        self._pa: PortAudio | None = portaudio  # initialised already, or by open()
        self._stream: OutputStream | None = None
        self.device: OutputDevice | None = None

    # --------------------------------------------------------------- control
    def open_portaudio(self) -> None:
        """Initialise PortAudio now (``open`` does it otherwise); DeviceError if missing."""
        if self._pa is None:
            self._pa = _portaudio()

    def open(self) -> OutputDevice:
        """Resolve the device, open and start the stream."""
        self.open_portaudio()
        pa = self._pa
        assert pa is not None
        devs, default = output_devices(pa)
        self.device = dev = choose_output_device(
            devs, default, name=self.device_name, channels=self.ring.channels, hostapi=self.hostapi
        )
        try:
            stream = pa.open_output(
                dev.index,
                channels=self.ring.channels,
                sample_rate=self.sample_rate,
                block_size=self.block_size,
                callback=ffi.addressof(lib, "bassd_callback"),
                userdata=self.player,
            )
        except PortAudioError as exc:
            raise DeviceError(
                f"cannot open audio device [{dev.index}] {dev.name} ({dev.hostapi}) at "
                f"{self.sample_rate} Hz / {self.block_size} frames: {exc}"
            ) from None
        self.player.gain = 0.0
        self.player.muted = 1
        try:
            stream.start()
        except PortAudioError as exc:
            stream.close()
            raise DeviceError(
                f"cannot start audio device {dev.name} ({dev.hostapi}): {exc}"
            ) from None
        self._stream = stream
        return dev

    def close(self, drain: bool = True) -> None:
        """Stop the stream (``drain``: after what is buffered has played, else at once)."""
        stream, self._stream = self._stream, None
        pa, self._pa = self._pa, None
        try:
            if stream is not None:
                try:
                    stream.stop() if drain else stream.abort()
                finally:
                    stream.close()
        finally:
            if pa is not None:
                pa.terminate()

    @property
    def latency(self) -> float:
        return self._stream.output_latency if self._stream is not None else 0.0
