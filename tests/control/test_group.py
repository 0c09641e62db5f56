"""The group: the target beat, Link beats to wall time, receiving, late and refused changes,
and the controller's fan-out over a real OSC socket."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bassd.control.group import (
    APPLY_ADDRESS,
    LINK,
    WALL,
    Change,
    GroupRejected,
    GroupSync,
    Target,
    beat_to_time,
    local_beat,
    target_beat,
)
from bassd.control.group_config import GroupConfig
from bassd.control.osc_codec import Double, Message, encode_message, parse_packet
from tests.control.harness import Harness


class FakeLink:
    """An aalink.Link's readings, fixed until the test moves them."""

    def __init__(self, beat: float, tempo: float = 120.0, quantum: float = 4.0) -> None:
        self.beat, self.tempo, self.quantum = beat, tempo, quantum


class Room:
    """One GroupSync with everything it touches recorded."""

    def __init__(
        self,
        *,
        link: FakeLink | None = None,
        peers: tuple[str, ...] = ("127.0.0.1:9001",),
        now: float = 1000.0,
        accept: bool = True,
        check: Callable[[str, str | None], None] | None = None,
        apply: Callable[[str, str | None, str], None] | None = None,
        self_id: str = "room-a",
    ) -> None:
        self.link = link
        self.now = now
        self.accept = accept
        self.sent: list[tuple[tuple[str, int], str, tuple[Any, ...]]] = []
        self.scheduled: list[tuple[float, Callable[[], None]]] = []
        self.applied: list[tuple[str, str | None, str]] = []
        self.rows: list[tuple[str, object, dict[str, Any]]] = []
        self.group = GroupSync(
            GroupConfig(peers=list(peers), quantum=4.0, lead_seconds=0.2),
            self_id=self_id,
            link=lambda: self.link,
            send=lambda dest, address, args: self.sent.append((dest, address, args)),
            schedule=self._schedule,
            apply=apply or (lambda a, v, how: self.applied.append((a, v, how))),
            check=check or (lambda a, v: None),
            record=lambda kind, value, detail: self.rows.append((kind, value, json.loads(detail))),
            heard=lambda: (48_000, self.now + 0.001),
            clock=lambda: self.now,
        )
        self.group.use_addresses({p: (p.host, p.port) for p in self.group.wanted})

    def _schedule(self, when: float, action: Callable[[], None]) -> bool:
        if not self.accept:
            return False
        self.scheduled.append((when, action))
        return True

    def run_due(self) -> None:
        for _, action in self.scheduled:
            action()
        self.scheduled.clear()

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.rows]


def values(change: Change) -> tuple[Any, ...]:
    """What the OSC server hands the handler: the arguments as parsed from the wire."""
    msg = parse_packet(encode_message(APPLY_ADDRESS, *change.args()))
    assert isinstance(msg, Message)
    return msg.args


# ------------------------------------------------------------------ pure parts
@pytest.mark.parametrize(
    ("beat", "quantum", "lead_s", "expected"),
    [
        (10.3, 4.0, 0.2, 12.0),  # 0.4 beats of lead still before the bar line
        (11.7, 4.0, 0.2, 16.0),  # 11.7 + 0.4 passes 12: the bar after
        (11.6, 4.0, 0.2, 12.0),  # exactly the lead: that bar line still counts
        (11.7, 1.0, 0.2, 13.0),  # quantum 1: the next beat at least 0.4 beats on
        (0.0, 1.5, 1.0, 3.0),  # a quantum of 1.5 beats: 2 beats of lead → 3.0
    ],
)
def test_the_target_is_the_next_quantum_at_least_the_lead_ahead(
    beat: float, quantum: float, lead_s: float, expected: float
) -> None:
    """At 120 bpm the target is the first multiple of the quantum that lies at least
    lead_seconds after the beat now."""
    assert target_beat(beat, 120.0, quantum, lead_s) == pytest.approx(expected)


def test_a_beat_converts_to_wall_time_at_the_link_tempo() -> None:
    """Two beats ahead at 120 bpm is one second after now; a past beat is before now."""
    assert beat_to_time(14.0, 12.0, 120.0, 1000.0) == pytest.approx(1001.0)
    assert beat_to_time(11.0, 12.0, 60.0, 1000.0) == pytest.approx(999.0)


def test_a_target_moves_to_the_receivers_timeline_by_whole_link_quanta() -> None:
    """Link aligns phase, not beat numbers: a receiver 8 beats (two bars) ahead of the
    origin, reading its beat a few ms after the origin sent, lands on its own beat 8 later;
    a transit time under half a quantum never moves it."""
    assert local_beat(104.0, 100.2, 108.2 + 0.01, 4.0) == 112.0
    assert local_beat(104.0, 100.2, 100.2 + 1.9, 4.0) == 104.0
    assert local_beat(104.0, 100.2, 92.2 - 1.9, 4.0) == 96.0


# -------------------------------------------------------------------- origin
def test_a_change_goes_to_every_peer_and_lands_here_at_the_same_beat() -> None:
    """With Link, the origin sends each peer the target beat and its beat now, and
    schedules the change here at that beat's wall time; nothing applies before it."""
    room = Room(link=FakeLink(beat=10.3), peers=("127.0.0.1:9001", "127.0.0.1:9002"))
    target = room.group.originate("/scene", "focus", "recalled (group)")
    assert target == Target(LINK, pytest.approx(1000.0 + (12.0 - 10.3) * 0.5), 12.0, 10.3)
    assert [dest for dest, _, _ in room.sent] == [("127.0.0.1", 9001), ("127.0.0.1", 9002)]
    (_, address, args) = room.sent[0]
    assert address == APPLY_ADDRESS
    assert args == ("room-a", LINK, target.at, 12.0, 10.3, "/scene", "focus")
    assert all(isinstance(a, Double) for a in args[2:5])
    assert room.applied == [] and [when for when, _ in room.scheduled] == [target.at]
    room.run_due()
    assert room.applied == [("/scene", "focus", "recalled (group)")]
    assert room.kinds() == ["group_sent", "group_applied"]
    sent = room.rows[0][2]
    assert sent["to"] == ["127.0.0.1:9001", "127.0.0.1:9002"] and sent["beat"] == 12.0
    applied = room.rows[1][2]
    assert applied["beat"] == applied["local_beat"] == 12.0 and not applied["late"]
    assert (room.group.sent, room.group.datagrams, room.group.applied) == (1, 2, 1)


def test_without_link_the_target_is_a_wall_clock_moment() -> None:
    """No Link session (jam or link off): the change lands lead_seconds ahead on the wall
    clock, carried in the message for the peers."""
    room = Room(link=None)
    target = room.group.originate("/state/auto", None)
    assert target == Target(WALL, pytest.approx(1000.2))
    (_, _, args) = room.sent[0]
    assert args[:2] == ("room-a", WALL) and args[2] == pytest.approx(1000.2)
    assert len(args) == 6  # /state/auto carries no value
    assert room.group.figures()["group_clock"] == WALL


# ------------------------------------------------------------------ receiver
def test_a_received_change_lands_on_the_receivers_own_beat_and_is_not_sent_on() -> None:
    """The receiver's Link is two bars ahead in beat numbers: it schedules the change at
    its own beat 20 (the origin's 12), at the same wall moment, and sends nothing on."""
    origin = Room(link=FakeLink(beat=10.3))
    target = origin.group.originate("/scene", "focus")
    change = Change("room-a", target, "/scene", "focus")
    receiver = Room(link=FakeLink(beat=18.3 + 0.004), self_id="room-b", now=1000.002)
    receiver.group.receive(values(change), ("127.0.0.1", 9000))
    assert receiver.sent == []  # no re-forwarding, whatever the peers
    ((when, _),) = receiver.scheduled
    assert when == pytest.approx(1000.002 + (20.0 - 18.304) * 0.5)
    assert when == pytest.approx(target.at + 0.002 - 0.004 * 0.5)
    receiver.run_due()
    assert receiver.applied == [("/scene", "focus", "group: from room-a")]
    received = receiver.rows[0][2]
    assert receiver.rows[0][0] == "group_received" and received["from"] == "room-a"
    assert received["beat"] == 12.0 and received["local_beat"] == 20.0
    assert received["early_s"] > 0 and not received["late"]
    assert receiver.rows[1][2]["local_beat"] == 20.0
    assert receiver.group.figures()["group_received"] == 1


def test_a_receiver_without_link_uses_the_wall_moment_carried() -> None:
    """An origin on Link, a receiver without: the receiver takes the origin's wall time
    for the beat (NTP-synchronised machines)."""
    target = Target(LINK, 1000.85, 12.0, 10.3)
    receiver = Room(link=None, self_id="room-b")
    receiver.group.receive(values(Change("room-a", target, "/state/force", "stress")), ("h", 1))
    assert [when for when, _ in receiver.scheduled] == [pytest.approx(1000.85)]


def test_a_target_already_past_is_applied_at_once_and_counted_late() -> None:
    """A moment that has passed when the change arrives, or whose block the engine has
    rendered already (schedule refuses it), is applied at once and counted late."""
    receiver = Room(link=None, self_id="room-b", now=1001.0)
    receiver.group.receive(
        values(Change("room-a", Target(WALL, 1000.5), "/scene", "zen")), ("h", 1)
    )
    assert receiver.scheduled == [] and receiver.applied == [
        ("/scene", "zen", "group: from room-a")
    ]
    assert receiver.rows[0][2]["late"] and receiver.rows[1][2]["late"]
    refused = Room(link=None, self_id="room-b", accept=False)
    refused.group.receive(values(Change("room-a", Target(WALL, 1000.1), "/scene", "zen")), ("h", 1))
    assert len(refused.applied) == 1
    assert (receiver.group.late, refused.group.late) == (1, 1)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("room-a", "link", 1000.5, 12.0, 10.3, "/renderer/key", "C"), "unknown_address"),
        (("room-a", "ntp", 1000.5, 12.0, 10.3, "/scene", "zen"), "malformed"),
        (("room-a", "wall", 1000.5, 0.0, 0.0, "/scene"), "malformed"),
        (("room-a", "wall", 1000.5, 0.0, 0.0, "/state/auto", "now"), "malformed"),
        (("room-a", "wall", float("nan"), 0.0, 0.0, "/scene", "zen"), "malformed"),
        (("room-a", "wall", 1000.5), "malformed"),
        (("room-a", "wall", 1000.5, 0.0, 0.0, "/scene", "nowhere"), "refused"),
        (("room-b", "wall", 1000.5, 0.0, 0.0, "/scene", "zen"), "own_change"),
        (("room-a", "wall", 5000.0, 0.0, 0.0, "/scene", "zen"), "too_far_ahead"),
    ],
)
def test_a_bad_change_from_a_peer_is_refused_counted_and_recorded(
    args: tuple[Any, ...], reason: str
) -> None:
    """A change that does not fan out, a malformed one, an unknown scene (the controller's
    check refuses it), one from this daemon itself, one far ahead: refused with its reason,
    counted, recorded, and nothing is scheduled, applied or sent."""

    def check(address: str, value: str | None) -> None:
        if value == "nowhere":
            raise ValueError("unknown scene 'nowhere'")

    receiver = Room(link=None, self_id="room-b", check=check)
    with pytest.raises(GroupRejected) as err:
        receiver.group.receive(args, ("127.0.0.1", 9000))
    assert err.value.reason == reason
    assert (receiver.scheduled, receiver.applied, receiver.sent) == ([], [], [])
    assert receiver.group.rejected == 1 and receiver.group.received == 0
    assert receiver.rows[0][:2] == ("group_rejected", reason)
    assert receiver.rows[0][2]["peer"] == "127.0.0.1:9000"


def test_an_apply_that_fails_is_counted_and_never_reaches_the_pump() -> None:
    """The scheduled action catches whatever the change raises (the pump runs it between
    blocks): logged, counted as failed and rejected, and the next change still applies."""
    calls: list[str | None] = []

    def apply(address: str, value: str | None, how: str) -> None:
        calls.append(value)
        if value == "zen":
            raise RuntimeError("boom")

    room = Room(link=None, apply=apply)
    room.group.originate("/scene", "zen")
    room.group.originate("/scene", "focus")
    room.run_due()  # raises nothing
    assert calls == ["zen", "focus"]
    assert (room.group.failed, room.group.rejected, room.group.applied) == (1, 1, 1)


def test_a_flood_of_rejections_is_counted_but_logged_once_a_second() -> None:
    """Every refused change counts; the log and events.csv get one row per reason per
    second, the next one saying how many were held back."""
    room = Room(self_id="room-b")
    bad = ("room-a", "wall", 1000.5, 0.0, 0.0, "/renderer/key", "C")
    for _ in range(50):
        with pytest.raises(GroupRejected):
            room.group.receive(bad, ("127.0.0.1", 9000))
    with pytest.raises(GroupRejected):
        own = ("room-b", "wall", 1000.5, 0.0, 0.0, "/scene", "zen")  # another reason
        room.group.receive(own, ("127.0.0.1", 9000))
    assert room.group.rejected == 51
    assert [v for k, v, _ in room.rows] == ["unknown_address", "own_change"]
    room.group._reject_next.clear()  # a second later
    with pytest.raises(GroupRejected):
        room.group.receive(bad, ("127.0.0.1", 9000))
    assert room.rows[-1][2]["suppressed"] == 49


def test_the_wire_rejections_of_group_apply_are_counted_once() -> None:
    """The OSC server's refusals of /group/apply (arity, types ...) count as the group's
    rejections; a handler error (the group's own, counted already) and other addresses
    do not."""
    room = Room()
    room.group.wire_rejected(APPLY_ADDRESS, "bad_arity")
    room.group.wire_rejected(APPLY_ADDRESS, "handler_error")
    room.group.wire_rejected("/scene", "bad_type")
    assert room.group.rejected == 1


def test_peer_names_resolve_once_at_start() -> None:
    """Peers' names are resolved by getaddrinfo once (localhost → 127.0.0.1); sends go to the
    resolved address."""
    group = GroupSync(
        GroupConfig(peers=["localhost:9001"]), self_id="a", link=lambda: None,
        send=lambda *a: None, schedule=lambda w, a: True, apply=lambda *a: None,
        check=lambda *a: None, record=lambda *a: None,
    )  # fmt: skip
    asyncio.run(asyncio.wait_for(group.resolve(socket.AF_INET), 10))
    assert list(group.peers.values()) == [("127.0.0.1", 9001)]
    assert group.figures()["group_peers"] == 1


# --------------------------------------------------- the controller, over OSC
@pytest.fixture
def harness(tmp_path: Path) -> Any:
    h = Harness(tmp_path)
    yield h
    h.close()


def attach_group(h: Harness, peer: socket.socket, **cfg: Any) -> GroupSync:
    import time

    assert h.server is not None
    server = h.server
    port = peer.getsockname()[1]
    group = GroupSync(
        GroupConfig(peers=[f"127.0.0.1:{port}"], **cfg), self_id="room-a", link=lambda: None,
        send=lambda dest, address, args: server.send_to(dest, address, *args),
        schedule=h._schedule, apply=h.controller.apply_change, check=h.controller.check_change,
        record=h.controller.record, heard=lambda: (h.engine.frame, time.time()),
    )  # fmt: skip
    group.use_addresses({p: (p.host, p.port) for p in group.wanted})
    h.controller.group = group
    server.on_reject = group.wire_rejected
    return group


def peer_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    return s


def events(h: Harness) -> list[dict[str, str]]:
    import csv

    assert h.events is not None
    with h.events.path.open() as f:
        return list(csv.DictReader(f))


def test_a_performers_scene_fans_out_and_applies_at_the_beat(harness: Harness) -> None:
    """/scene focus from a controller: the peer gets one /group/apply; the scene is not
    recalled here until the engine reaches the target moment, then it is, recorded."""

    async def run() -> None:
        await harness.start()
        harness.render(0.1)
        with peer_socket() as peer:
            group = attach_group(harness, peer, lead_seconds=0.5)
            harness.send(encode_message("/scene", "focus"))
            await harness.settle()
            msg = parse_packet(peer.recv(65536))
            assert isinstance(msg, Message) and msg.address == APPLY_ADDRESS
            assert msg.typetags == "ssdddss" and msg.args[1] == WALL
            assert msg.args[5:] == ("/scene", "focus")
            steering = harness.controller.planner.steering
            assert steering is not None and steering.scene is None  # not yet
            harness.render(1.0)  # past the 0.5 s lead
            assert steering.scene == "focus"
            assert group.figures()["group_sent"] == 1 and group.applied == 1
        kinds = [r["kind"] for r in events(harness)]
        assert kinds.index("group_sent") < kinds.index("scene") < kinds.index("group_applied")
        harness.transport.close()

    asyncio.run(run())


def test_state_changes_fan_out_and_apply_at_the_moment(harness: Harness) -> None:
    """/state/force stress and /state/auto go to the peer (auto with no value) and change
    the state here only once the engine reaches the target moment."""

    async def run() -> None:
        await harness.start()
        with peer_socket() as peer:
            attach_group(harness, peer, lead_seconds=0.3)
            harness.send(encode_message("/state/force", "stress"))
            await harness.settle()
            msg = parse_packet(peer.recv(65536))
            assert isinstance(msg, Message) and msg.args[5:] == ("/state/force", "stress")
            assert not harness.controller.hr.forced
            harness.render(0.6)
            assert harness.controller.hr.state == "stress" and harness.controller.hr.forced
            harness.send(encode_message("/state/auto"))
            await harness.settle()
            msg = parse_packet(peer.recv(65536))
            assert isinstance(msg, Message) and msg.args[5:] == ("/state/auto",)
            assert harness.controller.hr.forced
            harness.render(0.6)
            assert not harness.controller.hr.forced
        harness.transport.close()

    asyncio.run(run())


def test_a_surprise_is_drawn_here_and_sent_as_a_concrete_scene(harness: Harness) -> None:
    """/scene/surprise picks the scene at the origin: the peers are sent /scene NAME."""

    async def run() -> None:
        await harness.start()
        with peer_socket() as peer:
            attach_group(harness, peer)
            harness.send(encode_message("/scene/surprise"))
            await harness.settle()
            msg = parse_packet(peer.recv(65536))
            assert isinstance(msg, Message)
            steering = harness.controller.planner.steering
            assert steering is not None
            assert msg.args[5] == "/scene" and msg.args[6] in steering.scenes
        harness.transport.close()

    asyncio.run(run())


def test_an_unknown_scene_is_refused_before_anything_is_sent(harness: Harness) -> None:
    """/scene nowhere with a group: /error to the controller, no datagram to the peers."""

    async def run() -> None:
        await harness.start()
        with peer_socket() as peer:
            group = attach_group(harness, peer)
            harness.send(encode_message("/scene", "nowhere"))
            await harness.settle()
            assert [m.address for m in harness.replies()] == ["/error"]
            peer.settimeout(0.1)
            with pytest.raises(TimeoutError):
                peer.recv(65536)
            assert group.sent == 0
        harness.transport.close()

    asyncio.run(run())


def test_malformed_group_apply_datagrams_are_counted_and_the_engine_plays_on(
    harness: Harness,
) -> None:
    """A /group/apply with too few arguments, a wrong type, and an unknown scene: each is
    answered /error, counted by the server and in group_rejected; a good one then applies."""

    async def run() -> None:
        import time

        await harness.start()
        with peer_socket() as peer:
            group = attach_group(harness, peer)
            soon = Double(time.time() + 0.2)
            harness.send(encode_message(APPLY_ADDRESS, "room-b", "wall"))
            harness.send(encode_message(APPLY_ADDRESS, "room-b", "wall", "x", 0.0, 0.0, "/scene"))
            harness.send(encode_message(APPLY_ADDRESS, "room-b", "wall", soon, Double(0), Double(0),
                                        "/scene", "nowhere"))  # fmt: skip
            await harness.settle()
            assert group.rejected == 3
            assert harness.server is not None and harness.server.counters.dropped == 3
            harness.send(encode_message(APPLY_ADDRESS, "room-b", "wall", soon, Double(0), Double(0),
                                        "/scene", "zen"))  # fmt: skip
            await harness.settle()
            harness.render(0.5)
            steering = harness.controller.planner.steering
            assert steering is not None and steering.scene == "zen"
            assert (group.received, group.applied, group.rejected) == (1, 1, 3)
        rows = [r for r in events(harness) if r["kind"] == "group_rejected"]
        assert len(rows) == 3
        harness.transport.close()

    asyncio.run(run())
