"""MidiInput on real JACK MIDI ports (a dummy-backend server): notes reach the loop in
order on the sample clock, filters and the pedal apply, port loss ends held notes, and
missing ports are warned about once and opened when they appear."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import structlog

from bassd.control.midi_config import MidiConfig
from bassd.control.midi_input import MidiEvent, MidiInput
from tests.jack import JackServer

rtmidi = pytest.importorskip("rtmidi")
jack = pytest.importorskip("jack")

NOTE_ON, NOTE_OFF, CC = 0x90, 0x80, 0xB0


@pytest.fixture
def jack_env(jack_server: JackServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[JackServer]:
    """rtmidi's JACK clients of this test go to the session's dummy server."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    yield jack_server


@pytest.fixture
def frame_clock(jack_env: JackServer) -> Iterator[Callable[[], int]]:
    """The server's own sample clock (jack_frame_time), read from any thread."""
    client = jack.Client(f"clock-{uuid.uuid4().hex[:6]}", servername=jack_env.name,
                         no_start_server=True)  # fmt: skip
    client.activate()
    yield lambda: int(client.frame_time)
    client.deactivate()
    client.close()


class Keyboard:
    """A JACK MIDI output port of a client of its own: the test's keyboard. Unplugged,
    the client is gone from the server; plugged again, it comes back under its name."""

    def __init__(self, client: str, port: str = "keys") -> None:
        self.client, self.port = client, port
        self.out: Any = None
        self.plug()

    @property
    def name(self) -> str:
        return f"{self.client}:{self.port}"

    def plug(self) -> None:
        self.out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=self.client)
        self.out.open_virtual_port(self.port)

    def unplug(self) -> None:
        self.out.close_port()
        self.out.delete()
        self.out = None

    def send(self, *data: int) -> None:
        self.out.send_message(list(data))

    def close(self) -> None:
        if self.out is not None:
            self.unplug()


@pytest.fixture
def keyboards(jack_env: JackServer) -> Iterator[Callable[[str], Keyboard]]:
    """Factory of keyboards with unique client names; closed after the test."""
    made: list[Keyboard] = []

    def make(prefix: str = "kbd") -> Keyboard:
        kb = Keyboard(f"{prefix}-{uuid.uuid4().hex[:8]}")
        made.append(kb)
        return kb

    yield make
    for kb in made:
        kb.close()


async def until(cond: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Poll ``cond`` on the loop until it holds, failing after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def live(
    config: MidiConfig,
    clock: Callable[[], int],
    body: Callable[[MidiInput, list[MidiEvent]], Awaitable[None]],
) -> list[MidiEvent]:
    """Run ``body`` against a running MidiInput on a fresh loop; the events it emitted."""
    events: list[MidiEvent] = []

    async def main() -> None:
        midi = MidiInput(config, clock=clock, on_event=events.append)
        task = asyncio.create_task(midi.run())
        try:
            await body(midi, events)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    return events


def notes(events: list[MidiEvent]) -> list[tuple[str, int]]:
    return [(e.kind, e.note) for e in events]


def test_notes_on_a_named_port_arrive_in_order_on_the_sample_clock(
    keyboards: Callable[[str], Keyboard], frame_clock: Callable[[], int]
) -> None:
    """Notes sent to a port matched by substring (any case) arrive in order, frames non-decreasing."""
    kb = keyboards("kbd")
    cfg = MidiConfig(api="jack", ports=[kb.client.upper()], retry_seconds=0.05)
    played = [60, 62, 64, 65, 67]

    async def body(midi: MidiInput, events: list[MidiEvent]) -> None:
        await until(lambda: midi.figures()["midi_ports"] == kb.name, "the port to open")
        start = frame_clock()
        for n in played:
            kb.send(NOTE_ON, n, 100)
            kb.send(NOTE_OFF, n, 0)
        await until(lambda: len(events) == 2 * len(played), "the notes")
        frames = [e.frame for e in events]
        assert frames == sorted(frames) and frames[0] >= start
        assert midi.figures()["midi_events"] == 2 * len(played)

    events = live(cfg, frame_clock, body)
    assert notes(events) == [(k, n) for n in played for k in ("note_on", "note_off")]
    assert {e.port for e in events} == {kb.name} and {e.channel for e in events} == {1}


def test_virtual_port_receives_from_a_client_that_connects_to_it(
    jack_env: JackServer, frame_clock: Callable[[], int]
) -> None:
    """With no ports configured, a virtual input named virtual_name takes a sender's notes."""
    name = f"bassd-{uuid.uuid4().hex[:8]}"
    cfg = MidiConfig(api="jack", virtual_name=name, retry_seconds=0.05)
    sender = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"snd-{uuid.uuid4().hex[:6]}")

    async def body(midi: MidiInput, events: list[MidiEvent]) -> None:
        await until(lambda: midi.figures()["midi_ports"] == name, "the virtual port")
        await until(lambda: any(name in p for p in sender.get_ports()), "it to be listed")
        sender.open_port(next(i for i, p in enumerate(sender.get_ports()) if name in p))
        sender.send_message([NOTE_ON + 4, 48, 80])
        await until(lambda: len(events) == 1, "the note")

    try:
        events = live(cfg, frame_clock, body)
    finally:
        sender.delete()
    # the input's close ends the note that was still down
    assert notes(events) == [("note_on", 48), ("note_off", 48)]
    assert events[0].channel == 5 and events[0].velocity == 80 and events[0].port == name


def test_channel_filter_and_velocity_curve_apply(
    keyboards: Callable[[str], Keyboard], frame_clock: Callable[[], int]
) -> None:
    """Messages of other channels are rejected (counted, logged with a reason); velocity is curved."""
    kb = keyboards("kbd")
    cfg = MidiConfig(api="jack", ports=[kb.client], channels=[2], velocity_curve="fixed",
                     fixed_velocity=33, retry_seconds=0.05)  # fmt: skip

    async def body(midi: MidiInput, events: list[MidiEvent]) -> None:
        await until(lambda: bool(midi.figures()["midi_ports"]), "the port to open")
        kb.send(NOTE_ON + 0, 60, 100)  # channel 1: filtered
        kb.send(0xE1, 0, 64)  # pitch bend on channel 2: unsupported
        kb.send(NOTE_ON + 1, 61, 120)  # channel 2
        await until(lambda: len(events) == 1, "the note")
        await until(lambda: midi.figures()["midi_rejected"] == 2, "the rejections")

    with structlog.testing.capture_logs() as logs:
        events = live(cfg, frame_clock, body)
    assert (events[0].kind, events[0].note, events[0].velocity, events[0].channel) == (
        "note_on", 61, 33, 2
    )  # fmt: skip
    reasons = [e["reason"] for e in logs if e["event"] == "midi_rejected"]
    assert any("channel 1" in r for r in reasons) and any("pitchwheel" in r for r in reasons)


def test_sustain_pedal_holds_note_offs_until_release(
    keyboards: Callable[[str], Keyboard], frame_clock: Callable[[], int]
) -> None:
    """A key released under the pedal ends only when the pedal lifts."""
    kb = keyboards("kbd")
    cfg = MidiConfig(api="jack", ports=[kb.client], retry_seconds=0.05)

    async def body(midi: MidiInput, events: list[MidiEvent]) -> None:
        await until(lambda: bool(midi.figures()["midi_ports"]), "the port to open")
        kb.send(CC, 64, 127)
        kb.send(NOTE_ON, 60, 90)
        kb.send(NOTE_OFF, 60, 0)
        kb.send(NOTE_ON, 72, 90)  # a marker: everything before it has been processed
        await until(lambda: ("note_on", 72) in notes(events), "the marker")
        assert ("note_off", 60) not in notes(events)
        kb.send(CC, 64, 0)
        await until(lambda: ("note_off", 60) in notes(events), "the pedal's release")

    events = live(cfg, frame_clock, body)
    assert notes(events)[:5] == [
        ("sustain", 64), ("note_on", 60), ("note_on", 72), ("sustain", 64), ("note_off", 60)
    ]  # fmt: skip


def test_port_loss_ends_held_notes_and_the_port_is_reopened_on_return(
    keyboards: Callable[[str], Keyboard], frame_clock: Callable[[], int]
) -> None:
    """Unplugging mid-note emits its note_off and a port_lost log; replugged, notes flow again."""
    kb = keyboards("kbd")
    cfg = MidiConfig(api="jack", ports=[kb.client], retry_seconds=0.05)

    async def body(midi: MidiInput, events: list[MidiEvent]) -> None:
        await until(lambda: midi.figures()["midi_ports"] == kb.name, "the port to open")
        kb.send(NOTE_ON, 60, 100)
        await until(lambda: len(events) == 1, "the note")
        kb.unplug()
        await until(lambda: midi.figures()["midi_port_losses"] == 1, "the loss")
        await until(lambda: ("note_off", 60) in notes(events), "the held note's end")
        assert midi.figures()["midi_ports"] == ""
        kb.plug()
        await until(lambda: midi.figures()["midi_ports"] == kb.name, "the port to reopen")
        kb.send(NOTE_ON, 62, 100)
        kb.send(NOTE_OFF, 62, 0)
        await until(lambda: ("note_off", 62) in notes(events), "the notes after return")

    with structlog.testing.capture_logs() as logs:
        events = live(cfg, frame_clock, body)
    assert notes(events) == [("note_on", 60), ("note_off", 60), ("note_on", 62), ("note_off", 62)]
    lost = [e for e in logs if e["event"] == "midi_port_lost"]
    assert len(lost) == 1 and lost[0]["port"] == kb.name and lost[0]["notes_released"] == 1


def test_missing_port_is_warned_about_once_and_opened_when_it_appears(
    keyboards: Callable[[str], Keyboard], frame_clock: Callable[[], int]
) -> None:
    """One warning names the wanted pattern and lists what is there; the port opens on arrival."""
    decoy = keyboards("decoy")
    wanted = f"late-{uuid.uuid4().hex[:8]}"
    cfg = MidiConfig(api="jack", ports=[wanted], retry_seconds=0.02)
    late: list[Keyboard] = []

    async def body(midi: MidiInput, events: list[MidiEvent]) -> None:
        await until(lambda: midi.checks >= 1, "the first look")
        seen = midi.checks
        await until(lambda: midi.checks >= seen + 5, "more looks")  # retries that stay quiet
        assert midi.figures()["midi_ports"] == ""
        kb = Keyboard(wanted)
        late.append(kb)
        await until(lambda: midi.figures()["midi_ports"] == kb.name, "the late port to open")
        kb.send(NOTE_ON, 40, 64)
        await until(lambda: len(events) == 1, "its note")

    with structlog.testing.capture_logs() as logs:
        try:
            live(cfg, frame_clock, body)
        finally:
            for kb in late:
                kb.close()
    missing = [e for e in logs if e["event"] == "midi_port_missing"]
    assert len(missing) == 1
    assert missing[0]["wanted"] == wanted and decoy.name in missing[0]["available"]
    assert missing[0]["log_level"] == "warning"
    appeared = [e for e in logs if e["event"] == "midi_port_appeared"]
    assert len(appeared) == 1 and appeared[0]["log_level"] == "info"


def test_close_releases_held_notes_and_ends_events(
    keyboards: Callable[[str], Keyboard], frame_clock: Callable[[], int]
) -> None:
    """close() emits note_offs for held and sustained notes and ends the events() iterator."""
    kb = keyboards("kbd")
    cfg = MidiConfig(api="jack", ports=[kb.client], retry_seconds=0.05)
    got: list[MidiEvent] = []

    async def main() -> None:
        midi = MidiInput(cfg, clock=frame_clock)
        task = asyncio.create_task(midi.run())

        async def read() -> None:
            async for ev in midi.events():
                got.append(ev)

        reader = asyncio.create_task(read())
        await until(lambda: bool(midi.figures()["midi_ports"]), "the port to open")
        kb.send(CC, 64, 127)
        kb.send(NOTE_ON, 60, 100)
        kb.send(NOTE_OFF, 60, 0)
        kb.send(NOTE_ON, 64, 100)
        await until(lambda: len(got) == 3, "the events")
        midi.close()
        await asyncio.wait_for(reader, 5)  # the iterator ends
        await asyncio.wait_for(task, 5)  # and so does run()

    asyncio.run(main())
    assert sorted(notes(got)[3:]) == [("note_off", 60), ("note_off", 64), ("sustain", 64)]


def figures_keys() -> set[str]:
    return set(MidiInput(MidiConfig(), clock=lambda: 0).figures())


def test_figures_name_the_status_counters() -> None:
    """figures() has the /status keys the daemon publishes."""
    assert {"midi_ports", "midi_events", "midi_rejected", "midi_port_losses"} <= figures_keys()
