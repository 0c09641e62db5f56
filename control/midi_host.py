"""The MIDI process: the daemon's MIDI input runs in a process of its own.

Why a process: opening, listing or closing a JACK (or ALSA) MIDI client holds the
interpreter for ~30 ms (python-rtmidi keeps the GIL while libjack talks to the server),
longer than the ~21 ms the audio pump renders ahead; a thread of the daemon would stall
the pump and the callback would run dry. In its own process the same work costs the
daemon nothing.

The child (``python -P -m bassd.control.midi_host``) reads one JSON line on stdin,
``{"config": <MidiConfig>, "ring": <ring name>}``, attaches the device ring read-only
(so its rtmidi thread stamps every event with the frame the device is playing: the
engine's sample clock), runs :class:`~bassd.control.midi_input.MidiInput` (port
matching, watching, port loss, the note tracker), and writes one JSON line per event
(``{"e": [kind, note, velocity, channel, frame, port]}``) and its figures every
``FIGURES_S`` seconds (``{"f": {...}}``) on stdout. Its structlog lines go to stderr,
which the daemon logs. Its lifetime is the daemon's: SIGINT/SIGTERM are ignored, and
when stdin closes (the daemon stopped it, or died) it releases every held note (the
note-offs go out first) and exits.

The parent side, :class:`MidiHost`, spawns it without blocking the loop, hands each event
to ``on_event`` on the loop, keeps the figures, and releases the notes a dead child left
sounding (it tracks what is held from the events themselves) before starting a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import structlog

from bassd.control.midi_config import MidiConfig
from bassd.control.midi_notes import MidiEvent
from bassd.engine.child_process import leave_lifetime_to_parent

log = structlog.get_logger("bassd.midi")

FIGURES_S = 0.25
_COUNTERS = ("midi_events", "midi_rejected", "midi_port_losses", "midi_dropped")
RESTART_S = 1.0


def spawn_midi_process() -> subprocess.Popen[bytes]:
    """Start a MIDI process; it imports its libraries, then waits for its hello line.

    ``bassd run`` starts the first one right after reading its config and waits for its
    ``ready`` (:func:`wait_ready`) before it opens the audio device, so the child's
    start-up work (about 0.3 s of a core) overlaps the daemon's own, not the music.
    ``subprocess.Popen`` spawns with vfork on Linux (0.6-0.9 ms whatever the daemon's size;
    uvloop's subprocess spawn, a fork from the running loop, stalled it by ~25 ms, longer
    than the ring's lead).
    """
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    args = [sys.executable, "-P", "-m", "bassd.control.midi_host"]
    nice = shutil.which("nice")
    # niced: its start-up and its main loop yield the cores to the daemon's threads (a
    # daemon thread preempted while it holds the GIL would stall the real-time loop); its
    # rtmidi thread, the one that stamps events, is JACK's real-time thread regardless
    pipe = subprocess.PIPE
    return subprocess.Popen([nice, "-n", "10", *args] if nice else args, stdin=pipe,
                            stdout=pipe, stderr=pipe, env=env)  # fmt: skip


class MidiHost:
    """The daemon's end of the MIDI process."""

    def __init__(
        self,
        config: MidiConfig,
        *,
        ring_name: str,
        on_event: Callable[[MidiEvent], None],
        clock: Callable[[], int],
        early: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.config = config
        self.ring_name = ring_name
        self.on_event = on_event
        self.clock = clock  # for the note-offs of a child that died
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._figures: dict[str, Any] = {
            "midi_ports": "",
            "midi_events": 0,
            "midi_rejected": 0,
            "midi_port_losses": 0,
            "midi_dropped": 0,
        }
        self._held: dict[tuple[str, int, int], MidiEvent] = {}  # (port, channel, note)
        self._closing = False
        self._running = False
        self._finished = asyncio.Event()
        self._before: dict[str, int] = {}  # counters of the children that ended
        self._early = early  # a child started before the daemon (spawn_midi_process)

    def figures(self) -> dict[str, Any]:
        """The child's figures; its counters plus those of the children before it."""
        out = {k: v + self._before.get(k, 0) if k in _COUNTERS else v
               for k, v in self._figures.items()}  # fmt: skip
        return {**out, "midi_restarts": self.restarts}

    def _child_ended(self) -> None:
        for k in _COUNTERS:
            self._before[k] = self._before.get(k, 0) + int(self._figures.get(k, 0))
            self._figures[k] = 0
        self._figures["midi_ports"] = ""  # a dead child's ports are not open

    async def run(self) -> None:
        """Keep a MIDI process running until :meth:`stop` or cancellation; a child that dies
        is replaced (after its held notes are released)."""
        self._running = True
        try:
            while not self._closing:
                try:
                    await self._run_once()
                except Exception:  # cannot start it: the daemon plays on without MIDI
                    log.exception("midi_process_failed")
                self._child_ended()
                self._release_held("midi_process_ended")
                if self._closing:
                    break
                self.restarts += 1
                await asyncio.sleep(RESTART_S)
        finally:
            self.kill()
            self._running = False
            self._finished.set()

    async def _run_once(self) -> None:
        # no thread of the daemon touches it: a Python thread holding the GIL while the
        # busy cores keep it waiting stalls the real-time loop (priority inversion); its
        # pipes are read by the loop itself
        proc, self._early = self._early, None
        if proc is None:
            proc = spawn_midi_process()
        self.proc = proc
        hello = {"config": self.config.model_dump(mode="json"), "ring": self.ring_name}
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write((json.dumps(hello) + "\n").encode())
        proc.stdin.flush()
        log.info("midi_process_started", pid=proc.pid)
        loop = asyncio.get_running_loop()
        out_done, err_done = loop.create_future(), loop.create_future()
        _read_lines(loop, proc.stdout, self._line, out_done)
        _read_lines(loop, proc.stderr, lambda raw: _log_child_line(raw, proc.pid), err_done)
        try:
            await asyncio.wait([out_done, err_done])
        finally:
            for f in (proc.stdout, proc.stderr):
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_reader(f.fileno())
                    f.close()
            while proc.poll() is None:  # its pipes closed: it is exiting
                await asyncio.sleep(0.02)
            (log.info if self._closing else log.warning)(
                "midi_process_exited", pid=proc.pid, code=proc.returncode
            )
            self.proc = None

    def _line(self, raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            msg = json.loads(raw)
            if "f" in msg:
                self._figures.update(msg["f"])
                return
            if "ready" in msg:  # a child started here (not early) says it too
                return
            kind, note, velocity, channel, frame, port = msg["e"]
            ev = MidiEvent(kind, int(note), int(velocity), int(channel), int(frame), str(port))
        except (ValueError, KeyError, TypeError):
            log.warning("midi_process_bad_line", line=raw[:200].decode("utf-8", "replace"))
            return
        key = (ev.port, ev.channel, ev.note)
        if ev.kind == "note_on":
            self._held[key] = ev
        elif ev.kind == "note_off":
            self._held.pop(key, None)
        self._deliver(ev)

    def _deliver(self, ev: MidiEvent) -> None:
        try:
            self.on_event(ev)
        except Exception:
            log.exception("midi_on_event_failed", kind=ev.kind, note=ev.note)

    def _release_held(self, why: str) -> None:
        """Note-offs for what a child that ended left sounding: no stuck note."""
        if not self._held:
            return
        frame = self.clock()
        held, self._held = list(self._held.values()), {}
        log.warning("midi_notes_released", reason=why, notes=len(held))
        for ev in held:
            self._deliver(MidiEvent("note_off", ev.note, 0, ev.channel, frame, ev.port))

    async def stop(self, timeout: float = 2.0) -> None:
        """Close the child's stdin: it releases its notes (their note-offs reach
        ``on_event``) and exits; :meth:`run` then returns. Killed if it hangs."""
        self._closing = True
        proc = self.proc
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()  # (a pipe close never blocks)
        if not self._running:
            return
        try:
            await asyncio.wait_for(self._finished.wait(), timeout)
        except TimeoutError:
            self.kill()

    def kill(self) -> None:
        """End the child now (a forced stop, or :meth:`run` ending)."""
        self._closing = True
        if self._early is not None:
            self._early.kill()
            if self._early.stdin is not None:
                self._early.stdin.close()
            self._early = None
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()


def wait_ready(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Block until the child's first line (``{"ready": 1}``, after its imports) or
    ``timeout`` seconds; reads the pipe unbuffered, so nothing after it is taken."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        byte = os.read(fd, 1)
        if not byte:
            return False
        line += byte
    return b"ready" in line


def _read_lines(loop: asyncio.AbstractEventLoop, pipe: IO[bytes],
                on_line: Callable[[bytes], None], done: asyncio.Future[None]) -> None:  # fmt: skip
    """Call ``on_line`` for each line the pipe brings, on the loop (non-blocking reads when
    the fd is readable); ``done`` is set at its end."""
    fd = pipe.fileno()
    os.set_blocking(fd, False)
    buf = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            loop.remove_reader(fd)
            if buf:
                on_line(bytes(buf))
            if not done.done():
                done.set_result(None)
            return
        buf.extend(chunk)
        *lines, rest = buf.split(b"\n")
        buf[:] = rest
        for raw in lines:
            on_line(bytes(raw))

    loop.add_reader(fd, readable)


def _log_child_line(raw: bytes, pid: int) -> None:
    """One of the child's log lines (JSON from structlog, or a traceback) into ours."""
    line = raw.decode("utf-8", "replace").rstrip()
    if not line:
        return
    try:
        ev = json.loads(line)
    except ValueError:
        ev = None
    if not isinstance(ev, dict) or "event" not in ev:
        log.info("midi_stderr", pid=pid, line=line)
        return
    level = str(ev.pop("level", "info"))
    name = str(ev.pop("event"))
    ev.pop("timestamp", None)
    ev.pop("logger", None)
    level = level if level in ("debug", "info", "warning", "error") else "info"
    getattr(log, level)(name, midi_pid=pid, **ev)


# ------------------------------------------------------------------- the child


def _child() -> int:
    leave_lifetime_to_parent()
    import logging

    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    from bassd.control.midi_input import MidiInput  # mido, python-rtmidi: before the hello
    from bassd.engine.ring import SharedRing

    sys.stdout.write(json.dumps({"ready": 1}) + "\n")  # imports done: the daemon may play
    sys.stdout.flush()

    hello = json.loads(sys.stdin.readline() or "null")
    if not isinstance(hello, dict):
        return 0  # the daemon went away before it said anything

    config = MidiConfig.model_validate(hello["config"])
    ring = SharedRing.attach(hello["ring"])
    out = sys.stdout

    def emit(ev: MidiEvent) -> None:
        e = [ev.kind, ev.note, ev.velocity, ev.channel, ev.frame, ev.port]
        out.write(json.dumps({"e": e}) + "\n")
        out.flush()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        midi = MidiInput(config, clock=lambda: ring.read_pos, loop=loop, on_event=emit)
        task = asyncio.ensure_future(midi.run())
        stdin_closed = loop.create_future()
        loop.add_reader(sys.stdin.fileno(), _on_stdin, stdin_closed)
        last: dict[str, Any] = {}
        try:
            while not stdin_closed.done():
                figures = midi.figures()
                if figures != last:
                    out.write(json.dumps({"f": figures}) + "\n")
                    out.flush()
                    last = figures
                await asyncio.wait([stdin_closed], timeout=FIGURES_S)
        finally:
            loop.remove_reader(sys.stdin.fileno())
            midi.close()  # note-offs for every held note, before the end
            out.write(json.dumps({"f": midi.figures()}) + "\n")
            out.flush()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(main())
    ring.close()
    return 0


def _on_stdin(done: asyncio.Future[None]) -> None:
    if not os.read(sys.stdin.fileno(), 4096) and not done.done():  # EOF: the daemon is done
        done.set_result(None)


if __name__ == "__main__":
    raise SystemExit(_child())
