"""MIDI input for the keyboard jam: ports opened with mido (rtmidi), events on the loop.

Threads: rtmidi calls ``_on_message`` on its own thread; that stamps the message with
``clock()`` (the caller's thread-safe read of the engine's sample clock) and hands it to
the loop with ``loop.call_soon_threadsafe(queue.put_nowait, item)``; nothing else of the
loop's is touched there. Everything else (channel filter, velocity curve, sustain pedal,
port supervision) runs on the loop, in ``run()``.

Delivery: with ``on_event`` given, each ``MidiEvent`` is passed to it (on the loop);
otherwise events queue for ``events()``, an async iterator that ends after ``close()``.

Lifecycle: ``task = asyncio.create_task(midi.run())`` opens the ports (or the virtual
one) and then watches them every ``retry_seconds``; cancelling the task, or ``close()``,
ends every sounding note (note_offs are emitted) and closes the ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

import mido
import structlog

from bassd.control.midi_config import Api, MidiConfig, velocity_curve
from bassd.control.midi_notes import MidiEvent, NoteTracker, reject_reason

__all__ = ["MidiBackendError", "MidiEvent", "MidiInput", "NoteTracker", "list_ports"]

log = structlog.get_logger("bassd.midi")

# mido's names of rtmidi's APIs; "auto" is rtmidi's own choice
_RTMIDI_API = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE",
               "winmm": "WINDOWS_MM"}  # fmt: skip
_QUEUE_LIMIT = 4096  # events waiting for events(): far beyond what hands can play


class MidiBackendError(RuntimeError):
    """The MIDI backend cannot be opened (API not compiled in, no JACK server, ...)."""


def backend(api: Api) -> Any:
    """mido's rtmidi backend for ``api``; ``auto`` is JACK when a JACK server runs (as for
    the audio device), else rtmidi's own choice (ALSA on Linux, CoreMIDI, Windows MM)."""
    if api == "auto":
        api = "jack" if jack_server_running() else api
    if api == "auto":
        return mido.Backend("mido.backends.rtmidi", load=True)
    return mido.Backend(f"mido.backends.rtmidi/{_RTMIDI_API[api]}", load=True)


def jack_server_running() -> bool:
    """Whether a JACK server answers (a client opened and closed; never starts one). It
    blocks for a few ms: the MIDI process calls it, never the daemon's loop."""
    import os

    import rtmidi

    if rtmidi.API_UNIX_JACK not in rtmidi.get_compiled_api():
        return False
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    try:
        probe = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="bassd-probe")
    except Exception:  # rtmidi raises its own SystemError kinds without a server
        return False
    try:
        probe.get_port_count()  # a client without a server has no ports to count
        return True
    except Exception:
        return False
    finally:
        probe.delete()


def list_ports(api: Api = "auto") -> dict[str, list[str]]:
    """The backend's port names: ``{"inputs": [...], "outputs": [...]}``.

    Raises ``MidiBackendError`` with one readable line when the backend cannot be opened.
    """
    try:
        be = backend(api)
        return {"inputs": list(be.get_input_names()), "outputs": list(be.get_output_names())}
    except Exception as exc:  # rtmidi raises its own SystemError/RuntimeError kinds
        raise MidiBackendError(_backend_problem(api, exc)) from exc


def _backend_problem(api: Api, exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"cannot open the MIDI backend (api {api}): {text}"


def _close_quietly(port: Any) -> None:
    with contextlib.suppress(Exception):
        port.close()


def matches(pattern: str, name: str) -> bool:
    """Whether port ``name`` is one that ``pattern`` (a substring, any case) asks for."""
    return pattern.casefold() in name.casefold()


class MidiInput:
    def __init__(
        self,
        config: MidiConfig,
        *,
        clock: Callable[[], int],
        loop: asyncio.AbstractEventLoop | None = None,
        on_event: Callable[[MidiEvent], None] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._loop = loop
        self._on_event = on_event
        self._velocity = velocity_curve(config)
        self._channels = frozenset(config.channels)
        self._raw: asyncio.Queue[tuple[NoteTracker, int, mido.Message] | None] = asyncio.Queue()
        self._out: asyncio.Queue[MidiEvent | None] = asyncio.Queue()
        self._ports: dict[str, tuple[Any, NoteTracker]] = {}  # name -> (mido port, tracker)
        self._dead: weakref.WeakSet[NoteTracker] = weakref.WeakSet()  # of closed ports
        self._missing: set[str] = set()  # patterns warned about as missing
        self._open_failed: set[str] = set()  # ports warned about as failing to open
        self._backend: Any = None
        self._backend_down = False
        self._closed = False
        self._rejected_reasons: set[str] = set()
        self.events_emitted = 0
        self.rejected = 0
        self.dropped = 0
        self.port_losses = 0
        self.checks = 0  # looks at the ports taken

    # ------------------------------------------------------------- figures
    def figures(self) -> dict[str, Any]:
        """For /status: open ports (comma-joined), events emitted, messages rejected,
        port losses, and events dropped because nobody read ``events()``."""
        return {
            "midi_ports": ",".join(sorted(self._ports)),
            "midi_events": self.events_emitted,
            "midi_rejected": self.rejected,
            "midi_port_losses": self.port_losses,
            "midi_dropped": self.dropped,
        }

    @property
    def open_ports(self) -> list[str]:
        return sorted(self._ports)

    # ------------------------------------------------------------- the rtmidi thread
    def _callback(self, tracker: NoteTracker) -> Callable[[mido.Message], None]:
        loop = self._loop
        assert loop is not None
        clock, queue = self._clock, self._raw

        def on_message(msg: mido.Message) -> None:
            # RuntimeError: the loop is closed, the input is going away
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, (tracker, clock(), msg))

        return on_message

    # ------------------------------------------------------------- on the loop
    def _emit(self, events: list[MidiEvent]) -> None:
        for ev in events:
            self.events_emitted += 1
            if self._on_event is not None:
                try:
                    self._on_event(ev)
                except Exception:
                    log.exception("midi_on_event_failed", event=ev.kind, note=ev.note)
            elif self._out.qsize() < _QUEUE_LIMIT:
                self._out.put_nowait(ev)
            else:
                self.dropped += 1

    def _reject(self, port: str, reason: str) -> None:
        self.rejected += 1
        first = reason not in self._rejected_reasons
        self._rejected_reasons.add(reason)
        (log.info if first else log.debug)("midi_rejected", port=port, reason=reason)

    def _process(self, tracker: NoteTracker, frame: int, msg: mido.Message) -> None:
        if tracker in self._dead:
            return  # arrived after its port was closed and its notes ended
        try:
            reason = reject_reason(msg, self._channels)
            if reason is not None:
                self._reject(tracker.port, reason)
                return
            self._emit(tracker.feed(msg, frame))
        except Exception as exc:  # a message mido let through that the tracker cannot read
            self._reject(tracker.port, f"malformed: {exc}")

    async def _pump(self) -> None:
        while True:
            item = await self._raw.get()
            if item is None:
                return
            self._process(*item)

    def _drain(self) -> None:
        while not self._raw.empty():
            item = self._raw.get_nowait()
            if item is not None:
                self._process(*item)

    async def events(self) -> AsyncIterator[MidiEvent]:
        """The events, in arrival order, until ``close()`` (not with ``on_event``)."""
        if self._on_event is not None:
            raise RuntimeError("events are delivered to on_event")
        while True:
            ev = await self._out.get()
            if ev is None:
                self._out.put_nowait(None)  # for any other reader
                return
            yield ev

    # ------------------------------------------------------------- ports
    def _get_backend(self) -> Any:
        if self._backend is None:
            self._backend = backend(self.config.api)
        return self._backend

    def _input_names(self) -> list[str] | None:
        """The backend's input names, None when it cannot be asked (logged once)."""
        try:
            names = list(self._get_backend().get_input_names())
        except Exception as exc:
            if not self._backend_down:
                log.warning("midi_backend_unavailable", problem=_backend_problem(
                    self.config.api, exc), retry_seconds=self.config.retry_seconds)  # fmt: skip
            self._backend_down = True
            return None
        if self._backend_down:
            log.info("midi_backend_available", api=self.config.api)
        self._backend_down = False
        return names

    def _open(self, name: str, virtual: bool) -> tuple[Any, NoteTracker]:
        """Open one input (in a worker thread: opening a JACK or ALSA client can block for
        tens of milliseconds, which the loop, the audio pump's, must not)."""
        tracker = NoteTracker(name, self._velocity)
        be = self._get_backend()
        if virtual:
            port = be.open_input(name, client_name=name, callback=self._callback(tracker))
        else:
            port = be.open_input(name, callback=self._callback(tracker))
        return port, tracker

    async def _close_port(self, name: str) -> None:
        """Close ``name`` (off the loop) and end its notes after whatever it sent before."""
        port, tracker = self._ports.pop(name)
        await asyncio.to_thread(_close_quietly, port)
        self._release(tracker)

    def _release(self, tracker: NoteTracker) -> None:
        """End a closed port's notes: what it sent before comes first; a message still
        in flight from its thread is dropped (its tracker is dead)."""
        self._drain()
        self._dead.add(tracker)
        self._emit(tracker.release_all(self._clock()))

    async def _watch(self) -> None:
        """One look at the ports: open what is wanted and there, close what vanished. The
        backend's calls run in a worker thread; the bookkeeping stays on the loop."""
        cfg = self.config
        self.checks += 1
        if not cfg.ports:
            if not self._ports:
                try:
                    opened = await asyncio.to_thread(self._open, cfg.virtual_name, True)
                except Exception as exc:
                    if not self._backend_down:
                        log.warning("midi_backend_unavailable",
                                    problem=_backend_problem(cfg.api, exc))  # fmt: skip
                    self._backend_down = True
                    self._backend = None
                    return
                self._ports[cfg.virtual_name] = opened
                self._backend_down = False
                log.info("midi_virtual_port_opened", port=cfg.virtual_name, api=cfg.api)
            return
        names = await asyncio.to_thread(self._input_names)
        if names is None:
            return
        for name in [n for n in self._ports if n not in names]:
            self.port_losses += 1
            held = len(self._ports[name][1].sounding)
            log.warning("midi_port_lost", port=name, notes_released=held)
            await self._close_port(name)
        for pattern in cfg.ports:
            found = [n for n in names if matches(pattern, n)]
            if not found:
                if pattern not in self._missing:
                    self._missing.add(pattern)
                    log.warning("midi_port_missing", wanted=pattern, available=names,
                                retry_seconds=cfg.retry_seconds)  # fmt: skip
                continue
            if pattern in self._missing:
                self._missing.discard(pattern)
                log.info("midi_port_appeared", wanted=pattern, ports=found)
            for name in found:
                if name in self._ports:
                    continue
                try:
                    opened = await asyncio.to_thread(self._open, name, False)
                except Exception as exc:
                    if name not in self._open_failed:  # once, not every retry
                        log.warning("midi_port_open_failed", port=name, problem=str(exc))
                    self._open_failed.add(name)
                    continue
                self._ports[name] = opened
                self._open_failed.discard(name)
                log.info("midi_port_opened", port=name, wanted=pattern)

    async def run(self) -> None:
        """Open the ports and keep watching them until cancelled (then ``close()``)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        pump = asyncio.ensure_future(self._pump())
        try:
            while not self._closed:
                try:
                    await self._watch()
                except Exception:  # the input goes on without MIDI rather than end
                    log.exception("midi_watch_failed")
                await asyncio.sleep(self.config.retry_seconds)
        finally:
            self.close()
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    def close(self) -> None:
        """End every sounding note (note_offs emitted), close the ports; idempotent."""
        if self._closed:
            return
        self._closed = True
        trackers = []
        for port, tracker in self._ports.values():
            with contextlib.suppress(Exception):
                port.close()
            trackers.append(tracker)
        self._ports.clear()
        for tracker in trackers:
            self._release(tracker)
        self._raw.put_nowait(None)
        self._out.put_nowait(None)
        self._backend = None
        log.info("midi_closed", events=self.events_emitted, rejected=self.rejected)
