"""The jam live: a keyboard on the JACK dummy server plays into the daemon's JACK MIDI port."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.control.test_midi_input import Keyboard
from tests.health import assert_engine_healthy
from tests.jack import JackServer
from tests.jack_capture import Capture
from tests.osc_client import oscsend, wait_status

pytestmark = pytest.mark.live
NOTE_ON, NOTE_OFF = 0x90, 0x80
C_MAJOR = [60, 64, 67, 72, 65, 69, 67, 71, 60, 64, 67, 60, 62, 65, 71, 67]


def jam_args(*extra: str) -> list[str]:
    sets = ["jam.enabled=true", "midi.enabled=true", "midi.api=jack", "midi.retry_seconds=0.2",
            "jam.tempo_bpm=120", "jam.metronome.enabled=false", "jam.bed=false",
            "jam.style=pad", *extra]  # fmt: skip
    return [x for s in sets for x in ("--set", s)]


@pytest.fixture
def keyboard(jack_server: JackServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Keyboard]:
    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    kb = Keyboard(f"kbd-{uuid.uuid4().hex[:8]}")
    yield kb
    kb.close()


def session_rows(d: Any, st: dict[str, Any]) -> list[dict[str, str]]:
    import csv

    path = d.workdir / "outputs" / "sessions" / st["session"] / "events.csv"
    with path.open() as f:
        return list(csv.DictReader(f))


def play(kb: Keyboard, notes: list[int], beat_s: float = 0.5) -> None:
    for p in notes:
        kb.send(NOTE_ON, p, 90)
        time.sleep(beat_s * 0.9)
        kb.send(NOTE_OFF, p, 0)
        time.sleep(beat_s * 0.1)


def test_notes_into_the_midi_port_bring_chords_and_the_key(
    jack_server: JackServer, start_daemon: Any, keyboard: Keyboard, need_liblo: None
) -> None:
    """A C major tune sent into bassd's JACK MIDI port (the test connects its keyboard to it):
    /status shows C major and the chords; the output is silent before the first chord and
    sounds after it (bed and metronome off); the engine never ran dry."""
    name = f"bassd-{uuid.uuid4().hex[:6]}"
    d = start_daemon(jack_server, *jam_args(f"midi.virtual_name={name}"))
    wait_status(d, lambda s: s["midi_ports"] == name)
    mark = jack_server.mark()
    cap = Capture(jack_server.name)
    try:
        client = cap.client
        dest = next(p for p in client.get_ports(is_input=True, is_midi=True) if name in p.name)
        client.connect(keyboard.name, dest)
        time.sleep(0.5)
        before = cap.take()
        play(keyboard, C_MAJOR)
        st = wait_status(d, lambda s: s["jam_key"] == "C major" and s["jam_chords"] >= 2)
        time.sleep(1.0)
        after = cap.take()
    finally:
        cap.close()
    assert before.size > 0 and np.abs(before).max() == 0.0  # nothing plays before a chord
    assert np.abs(after).max() > 0.01
    assert st["jam_chord"] and st["jam_next_chord"] and st["jam_notes"] >= len(C_MAJOR)
    assert st["midi_events"] >= 2 * len(C_MAJOR)
    rows = session_rows(d, st)
    chords = [json.loads(r["detail"]) for r in rows if r["kind"] == "chord"]
    downbeats = {json.loads(r["detail"])["frame"] for r in rows
                 if r["kind"] == "beat" and json.loads(r["detail"])["downbeat"]}  # fmt: skip
    assert chords and all(c["frame"] in downbeats for c in chords)
    assert sum(r["kind"] == "note_on" for r in rows) == len(C_MAJOR)
    assert_engine_healthy(st, jack_server, mark)


def test_osc_controls_reach_the_jam(
    jack_server: JackServer, start_daemon: Any, need_liblo: None
) -> None:
    """/jam/* from an independent OSC client: key lock, style, tempo and metronome show in
    /status; a bad key is answered with an error and changes nothing."""
    d = start_daemon(jack_server, *jam_args("midi.enabled=false"))
    oscsend(d.osc_port, "/jam/key_lock", "s", "Eb major")
    oscsend(d.osc_port, "/jam/style", "s", "arpeggio")
    oscsend(d.osc_port, "/jam/tempo", "f", 90.0)
    oscsend(d.osc_port, "/jam/metronome", "i", 1)
    oscsend(d.osc_port, "/jam/key_lock", "s", "H major")
    st = wait_status(d, lambda s: s["jam_key"] == "Eb major" and s["jam_tempo_bpm"] == 90.0)
    assert st["jam_style"] == "arpeggio" and st["jam_metronome"] and st["jam_key_locked"]
    assert st["osc_dropped"] >= 1


def test_port_loss_releases_held_notes_and_the_port_returns(
    jack_server: JackServer, start_daemon: Any, keyboard: Keyboard, need_liblo: None
) -> None:
    """The keyboard (a named port) disappears with a note held: the daemon ends that note
    (a note_off in events.csv), counts the loss, keeps playing, and takes notes again when
    the keyboard returns."""
    d = start_daemon(jack_server, *jam_args(f"midi.ports=[{keyboard.client}]"))
    mark = jack_server.mark()
    wait_status(d, lambda s: keyboard.client in s["midi_ports"])
    keyboard.send(NOTE_ON, 64, 100)
    wait_status(d, lambda s: s["jam_notes"] >= 1)
    keyboard.unplug()
    st = wait_status(d, lambda s: s["midi_port_losses"] >= 1 and s["midi_ports"] == "")
    offs = [r for r in session_rows(d, st) if r["kind"] == "note_off" and r["value"] == "64"]
    assert len(offs) == 1
    keyboard.plug()
    wait_status(d, lambda s: keyboard.client in s["midi_ports"])
    keyboard.send(NOTE_ON, 67, 100)
    keyboard.send(NOTE_OFF, 67, 0)
    st = wait_status(d, lambda s: s["jam_notes"] >= 2)
    assert d.proc.poll() is None
    assert_engine_healthy(st, jack_server, mark)


def test_a_dead_midi_process_is_replaced_and_its_notes_released(
    jack_server: JackServer, start_daemon: Any, keyboard: Keyboard, need_liblo: None
) -> None:
    """The MIDI process is killed with a note held: the daemon ends that note, starts a new
    MIDI process, which reopens the port, and the engine never ran dry."""
    import os
    import signal

    d = start_daemon(jack_server, *jam_args(f"midi.ports=[{keyboard.client}]"))
    mark = jack_server.mark()
    wait_status(d, lambda s: keyboard.client in s["midi_ports"])
    keyboard.send(NOTE_ON, 62, 100)
    wait_status(d, lambda s: s["jam_notes"] >= 1)
    (pid,) = [p for p, cmd in d.children() if "bassd.control.midi_host" in cmd]
    os.kill(pid, signal.SIGKILL)
    st = wait_status(d, lambda s: s["midi_restarts"] >= 1 and keyboard.client in s["midi_ports"])
    offs = [r for r in session_rows(d, st) if r["kind"] == "note_off" and r["value"] == "62"]
    assert len(offs) == 1
    assert [p for p, cmd in d.children() if "bassd.control.midi_host" in cmd] != [pid]
    keyboard.send(NOTE_ON, 65, 100)
    st = wait_status(d, lambda s: s["jam_notes"] >= 2)
    assert_engine_healthy(st, jack_server, mark)


def test_a_missing_soundfont_is_one_clear_error(jack_server: JackServer, tmp_path: Any) -> None:
    """`bassd run` with the jam on and a SoundFont that is not there exits 3 with one line
    naming the file and the package to install, and leaves no process or shared memory."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.daemon import TAG_VARIABLE, tagged_processes

    tag = uuid.uuid4().hex
    env = dict(os.environ, JACK_DEFAULT_SERVER=jack_server.name, JACK_NO_START_SERVER="1")
    env[TAG_VARIABLE] = tag  # this daemon's MIDI process inherits it (not another test's)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bassd", "run", "--set", "jam.enabled=true", "--set",
         "jam.soundfont=/nowhere/piano.sf2", "--set", "midi.enabled=true", "--set",
         "midi.api=jack", "--set", "logging.level=error"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    lines = [ln for ln in err.splitlines() if ln.startswith("bassd:")]
    assert len(lines) == 1 and "/nowhere/piano.sf2" in lines[0], err
    assert "timgm6mb-soundfont" in lines[0] and "Traceback" not in err
    assert not list(Path("/dev/shm").glob(f"bassd_{proc.pid}_*"))
    assert tagged_processes(tag) == [], "a MIDI process outlived the daemon"


def test_the_jam_follows_an_ableton_link_peer(
    jack_server: JackServer, start_daemon: Any, need_liblo: None
) -> None:
    """With jam.link, a Link peer of the test's own (aalink, on this machine) that sets 133
    bpm moves the daemon's jam to 133 bpm from a bar line; /status counts the peer."""
    import asyncio

    aalink = pytest.importorskip("aalink")
    d = start_daemon(jack_server, *jam_args("midi.enabled=false", "jam.link=true"))
    wait_status(d, lambda s: s["link_enabled"])

    async def peer_sets_tempo() -> dict[str, Any]:
        peer = aalink.Link(120.0)
        peer.enabled = True
        try:
            for _ in range(100):  # discovery: a few hundred ms on one machine
                if peer.num_peers >= 1:
                    break
                await asyncio.sleep(0.1)
            if peer.num_peers < 1:
                pytest.skip("Link peers do not discover each other here (no multicast)")
            peer.tempo = 133.0
            return await asyncio.to_thread(
                wait_status, d, lambda s: s["jam_tempo_bpm"] == 133.0 and s["link_peers"] >= 1
            )
        finally:
            peer.enabled = False

    st = asyncio.run(peer_sets_tempo())
    assert st["link_tempo_bpm"] == pytest.approx(133.0, abs=0.01)
    rows = session_rows(d, st)
    assert any(r["kind"] == "tempo_request" and json.loads(r["detail"]).get("source") == "link"
               for r in rows)  # fmt: skip


def test_the_jams_bar_lines_follow_the_link_sessions_phase(
    jack_server: JackServer, start_daemon: Any, need_liblo: None
) -> None:
    """With a Link peer there, the daemon moves its jam's beat grid until its bar lines fall
    on the session's (its measured phase difference within 0.05 beat); when the peer
    forces the session's beat 1.5 beats on, the jam follows by corrections of at most half
    a beat a bar, each one a phase_shift row, and the engine stays healthy."""
    import asyncio

    aalink = pytest.importorskip("aalink")
    d = start_daemon(jack_server, *jam_args("midi.enabled=false", "jam.link=true"))
    wait_status(d, lambda s: s["link_enabled"])
    mark = jack_server.mark()
    close = 0.05 * 60e3 / 120  # ms: 0.05 beat at 120 bpm

    async def peer_moves_the_phase() -> tuple[dict[str, Any], dict[str, Any]]:
        peer = aalink.Link(120.0)
        peer.quantum = 4
        peer.enabled = True
        try:
            for _ in range(100):
                if peer.num_peers >= 1:
                    break
                await asyncio.sleep(0.1)
            if peer.num_peers < 1:
                pytest.skip("Link peers do not discover each other here (no multicast)")
            aligned = await asyncio.to_thread(
                wait_status, d, lambda s: s["link_peers"] >= 1
                and s["link_phase_ms"] is not None and abs(s["link_phase_ms"]) <= close,
            )  # fmt: skip
            peer.force_beat(peer.beat + 1.5)
            moved = await asyncio.to_thread(
                wait_status, d, lambda s: s["jam_phase_shifts"] >= aligned["jam_phase_shifts"] + 3
                and abs(s["link_phase_ms"]) <= close, 60.0,
            )  # fmt: skip
            return aligned, moved
        finally:
            peer.enabled = False

    _, moved = asyncio.run(peer_moves_the_phase())
    shifts = [json.loads(r["detail"]) for r in session_rows(d, moved) if r["kind"] == "phase_shift"]
    assert len(shifts) == moved["jam_phase_shifts"]
    assert all(abs(s["frames"]) < 12000 for s in shifts)  # under half a beat (24000 frames)
    assert_engine_healthy(moved, jack_server, mark)
