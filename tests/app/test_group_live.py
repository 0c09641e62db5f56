"""The group live: two daemons on one JACK server, one Link session, a scene at one beat."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_jam_live import jam_args
from tests.daemon import DaemonProcess
from tests.health import assert_engine_healthy, machine_stalled
from tests.jack import JackServer
from tests.osc_client import free_udp_port, oscsend, query_status, wait_status

pytestmark = pytest.mark.live
#: the jam with Link (its sets as jam_args gives them), no MIDI
JAM_LINK = [s for s in jam_args("midi.enabled=false", "jam.link=true") if s != "--set"]


@pytest.fixture
def two_rooms(
    jack_server: JackServer, tmp_path: Path
) -> Iterator[Callable[..., tuple[DaemonProcess, DaemonProcess]]]:
    """Factory: daemons A and B, each in a folder of its own (own events.csv), each listing
    the other as its group's peer, with the settings given; stopped after the test."""
    rooms: list[DaemonProcess] = []

    def start(*extra: str) -> tuple[DaemonProcess, DaemonProcess]:
        ports = {name: (free_udp_port(), free_udp_port()) for name in ("a", "b")}
        for name, other in (("a", "b"), ("b", "a")):
            folder = tmp_path / name
            folder.mkdir()
            sets = [*extra, f"group.peers=[127.0.0.1:{ports[other][0]}]", f"group.id=room-{name}"]
            args = [x for s in sets for x in ("--set", s)]
            d = DaemonProcess(folder, jack_server, *ports[name], args)
            rooms.append(d)
            d.wait_for_log("osc_listening")
        return rooms[0], rooms[1]

    try:
        yield start
    finally:
        for d in rooms:
            d.stop()


def rows(d: DaemonProcess, st: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    path = d.workdir / "outputs" / "sessions" / st["session"] / "events.csv"
    with path.open() as f:
        return [r for r in csv.DictReader(f) if r["kind"] == kind]


def detail(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(row["detail"])
    return out


def test_a_scene_sent_to_one_room_lands_in_both_at_the_same_link_beat(
    jack_server: JackServer, two_rooms: Callable[..., Any], need_liblo: None
) -> None:
    """`/scene focus` from an independent OSC client to room A: A sends it to B; both
    recall focus (a scene row each) at the same Link beat, chosen by A: a bar line at least
    lead_seconds ahead, which B maps to its own beat count; each heard it within a block
    and a period of the beat's moment, and the two within that plus a period of each other
    (the ring's read position moves a period at a time); neither engine ran dry."""
    pytest.importorskip("aalink")
    a, b = two_rooms(*JAM_LINK)
    deadline = time.monotonic() + 10.0  # discovery: a few hundred ms on one machine
    while True:
        sa, sb = query_status(a.osc_port, a.reply_port), query_status(b.osc_port, b.reply_port)
        if sa["link_peers"] >= 1 and sb["link_peers"] >= 1:
            break
        if time.monotonic() > deadline:
            pytest.skip("Link peers do not discover each other here (no multicast)")
        time.sleep(0.2)
    assert sa["group_clock"] == sb["group_clock"] == "link"
    assert sa["group_peers"] == sb["group_peers"] == 1
    mark = jack_server.mark()
    oscsend(a.osc_port, "/scene", "s", "focus")
    sa = wait_status(a, lambda s: s["scene"] == "focus" and s["group_applied"] == 1)
    sb = wait_status(b, lambda s: s["scene"] == "focus" and s["group_applied"] == 1)
    assert (sa["group_sent"], sa["group_received"]) == (1, 0)
    assert (sb["group_sent"], sb["group_received"]) == (0, 1)  # B sent nothing on
    assert sa["group_rejected"] == sb["group_rejected"] == 0
    assert sa["group_late"] == sb["group_late"] == 0

    (sent,) = [detail(r) for r in rows(a, sa, "group_sent")]
    (received,) = [detail(r) for r in rows(b, sb, "group_received")]
    (applied_a,) = [detail(r) for r in rows(a, sa, "group_applied")]
    (applied_b,) = [detail(r) for r in rows(b, sb, "group_applied")]
    assert [r["value"] for r in rows(a, sa, "scene")] == ["focus"]
    assert [r["value"] for r in rows(b, sb, "scene")] == ["focus"]
    assert sent["to"] == [f"127.0.0.1:{b.osc_port}"] and received["from"] == "room-a"
    # one target beat, A's choice: a bar line (quantum 4) at least 0.2 s (0.4 beats) ahead
    beat = sent["beat"]
    assert beat % 4 == 0 and beat - sent["sent_beat"] >= 0.4
    assert received["beat"] == applied_a["beat"] == applied_b["beat"] == beat
    # B counts its beats from its own start: the same moment is a whole number of bars away
    assert (applied_b["local_beat"] - beat) % 4 == 0 and applied_a["local_beat"] == beat
    assert received["early_s"] > 0 and not applied_a["late"] and not applied_b["late"]
    # the moment heard: applied at the block boundary at or before the target frame (up to
    # one block early), estimated from a read position that moves one period at a time
    block, period, rate = sa["block_size"], jack_server.period, jack_server.rate
    each = (block + period) / rate
    both = (block + 2 * period) / rate
    stalled = machine_stalled(jack_server, mark)  # a late cycle moves the read position
    for applied in (applied_a, applied_b):
        assert abs(applied["lag_s"]) <= each or stalled, (applied, each)
        assert abs(applied["lag_beats"]) <= each * sa["link_tempo_bpm"] / 60 or stalled
    gap = abs(applied_a["heard_t"] - applied_b["heard_t"])
    assert gap <= both or stalled, (applied_a, applied_b, both)
    assert_engine_healthy(sa, jack_server, mark)
    assert_engine_healthy(sb, jack_server, mark)


def test_without_link_a_state_change_lands_in_both_at_the_wall_clock_moment(
    jack_server: JackServer, two_rooms: Callable[..., Any], need_liblo: None
) -> None:
    """No jam, no Link: `/state/force stress` to room A lands in both rooms at the wall-clock
    moment A chose (lead_seconds ahead, carried in the datagram: one machine, one clock),
    each heard within a block and a period of it; a malformed /group/apply to B is counted
    and B plays on."""
    a, b = two_rooms()
    wait_status(a, lambda s: s["group_peers"] == 1 and s["group_clock"] == "wall")
    wait_status(b, lambda s: s["group_peers"] == 1)
    mark = jack_server.mark()
    oscsend(a.osc_port, "/state/force", "s", "stress")
    sa = wait_status(a, lambda s: s["state"] == "stress" and s["group_applied"] == 1)
    sb = wait_status(b, lambda s: s["state"] == "stress" and s["group_applied"] == 1)
    assert sb["state_forced"] and sb["group_received"] == 1 and sb["group_sent"] == 0
    (sent,) = [detail(r) for r in rows(a, sa, "group_sent")]
    (applied_a,) = [detail(r) for r in rows(a, sa, "group_applied")]
    (applied_b,) = [detail(r) for r in rows(b, sb, "group_applied")]
    assert sent["clock"] == applied_a["clock"] == applied_b["clock"] == "wall"
    assert applied_a["at"] == applied_b["at"] == sent["at"]
    each = (sa["block_size"] + jack_server.period) / jack_server.rate
    stalled = machine_stalled(jack_server, mark)
    assert all(abs(x["lag_s"]) <= each for x in (applied_a, applied_b)) or stalled
    oscsend(b.osc_port, "/group/apply", "ss", "room-a", "wall")  # too few arguments
    sb = wait_status(b, lambda s: s["group_rejected"] == 1)
    assert sb["osc_rejections"].get("bad_arity") == 1
    assert_engine_healthy(sa, jack_server, mark)
    assert_engine_healthy(sb, jack_server, mark)
