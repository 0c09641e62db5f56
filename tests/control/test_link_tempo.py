"""LinkTempo: the jam's tempo and an Ableton Link session's tempo follow each other."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from structlog.testing import capture_logs

from bassd.control.link_tempo import LinkTempo


class FakeClock:
    def __init__(self, bpm: float) -> None:
        self.bpm = bpm

    def tempo_at_beat(self, beat: int) -> float:
        return self.bpm


class FakeJam:
    """set_tempo is pending until land() (the jam's next bar); play() is a local change."""

    def __init__(self, bpm: float = 120.0) -> None:
        self.clock = FakeClock(bpm)
        self.beat = 0
        self.pending: float | None = None
        self.calls: list[tuple[float, str]] = []

    def set_tempo(self, bpm: float, *, source: str = "osc") -> None:
        self.calls.append((bpm, source))
        self.pending = bpm

    def land(self) -> None:
        if self.pending is not None:
            self.clock.bpm, self.pending = self.pending, None

    def play(self, bpm: float) -> None:
        self.clock.bpm, self.pending = bpm, None

    def frame_now(self) -> int:
        return 4800


class FakeLink:
    """Link's shared state; a tempo written reads back with Link's rounding."""

    def __init__(self, bpm: float) -> None:
        self._tempo = bpm
        self.enabled = False
        self.quantum = 0.0
        self.num_peers = 1
        self.writes: list[float] = []

    @property
    def tempo(self) -> float:
        return self._tempo

    @tempo.setter
    def tempo(self, bpm: float) -> None:
        self.writes.append(bpm)
        self._tempo = bpm - 0.00005

    def peer_sets(self, bpm: float) -> None:
        self._tempo = bpm


def make(bpm: float = 120.0) -> tuple[LinkTempo, FakeJam, FakeLink, list[tuple[Any, ...]]]:
    jam, link, rows = FakeJam(bpm), FakeLink(bpm), []
    lt = LinkTempo(jam, on_event=lambda *row: rows.append(row), quantum=4)
    lt.attach(link)
    return lt, jam, link, rows


def test_peer_tempo_goes_to_the_jam_above_the_threshold_only() -> None:
    """A peer's change of 0.005 bpm is ignored; one of 13 bpm is asked of the jam, from Link."""
    lt, jam, link, _ = make()
    link.peer_sets(120.005)
    lt.step()
    assert jam.calls == []
    link.peer_sets(133.0)
    lt.step()
    assert jam.calls == [(133.0, "link")]
    lt.step()
    assert jam.calls == [(133.0, "link")]
    assert lt.last_change == "link"


def test_a_tempo_from_link_landing_is_not_sent_back() -> None:
    """No ping-pong: when Link's tempo lands in the jam a bar later, nothing is written to Link."""
    lt, jam, link, _ = make()
    link.peer_sets(133.0)
    lt.step()
    lt.step()
    jam.land()
    lt.step()
    lt.step()
    assert link.writes == []
    assert jam.calls == [(133.0, "link")]


def test_a_local_change_is_published_once() -> None:
    """The jam's own change goes to Link once; its read-back (rounded) is not taken as a peer's."""
    lt, jam, link, rows = make()
    jam.play(100.0)
    lt.step()
    assert link.writes == [100.0]
    lt.step()
    lt.step()
    assert link.writes == [100.0] and jam.calls == []
    assert lt.last_change == "local"
    kind, value, detail, frame = rows[-1]
    assert (kind, value, frame) == ("link_publish", "100.00", 4800)
    assert json.loads(detail)["frame"] == 4800


def test_peer_back_and_forth_before_the_bar_leaves_nothing_stale() -> None:
    """A peer goes 120 -> 133 -> 120 within a bar: the jam is asked for 120 again, and a later
    local change to 133 is still published (not mistaken for Link's old request)."""
    lt, jam, link, _ = make()
    link.peer_sets(133.0)
    lt.step()
    link.peer_sets(120.0)
    lt.step()
    assert jam.calls == [(133.0, "link"), (120.0, "link")]
    jam.land()  # the last request (120) lands: the jam never left 120
    lt.step()
    jam.play(133.0)
    lt.step()
    assert link.writes == [133.0]


def test_intermediate_link_tempos_landing_are_not_sent_back() -> None:
    """Two peer changes a bar apart: both land in turn and neither is written back to Link."""
    lt, jam, link, _ = make()
    link.peer_sets(133.0)
    lt.step()
    jam.land()
    link.peer_sets(140.0)
    lt.step()
    lt.step()
    jam.land()
    lt.step()
    assert link.writes == []
    assert jam.clock.bpm == 140.0


def test_a_local_change_overrides_a_pending_link_request() -> None:
    """OSC sets 100 after a peer asked 133 but before it landed: 100 wins and goes to Link."""
    lt, jam, link, _ = make()
    link.peer_sets(133.0)
    lt.step()
    jam.play(100.0)  # the OSC request replaced the pending one and landed
    lt.step()
    assert link.writes == [100.0]


def test_figures_and_peer_rows() -> None:
    """figures() reports Link's state; a change in the number of peers is recorded."""
    lt, _, link, rows = make()
    assert lt.figures() == {"link_enabled": True, "link_peers": 1, "link_tempo_bpm": 120.0,
                            "link_phase_ms": None}  # fmt: skip
    assert link.enabled is True and link.quantum == 4
    lt.step()
    link.num_peers = 2
    lt.step()
    assert [r[:2] for r in rows] == [("link_peers", 1), ("link_peers", 2)]
    assert lt.figures() == {"link_enabled": True, "link_peers": 2, "link_tempo_bpm": 120.0,
                            "link_phase_ms": None}  # fmt: skip
    lt.close()
    assert lt.figures() == {"link_enabled": False, "link_peers": 0, "link_tempo_bpm": None,
                            "link_phase_ms": None}  # fmt: skip


def test_missing_aalink_warns_once_and_run_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without aalink, run() logs one warning naming the extra to install and returns."""
    monkeypatch.setitem(sys.modules, "aalink", None)  # import aalink raises ImportError
    lt = LinkTempo(FakeJam())
    with capture_logs() as logs:
        asyncio.run(asyncio.wait_for(lt.run(), 5.0))
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1
    assert "pip install 'bassd[link]'" in warnings[0]["error"]
    assert lt.figures()["link_enabled"] is False


async def _until(cond: Any, lt: LinkTempo, polls: int) -> bool:
    """Wait up to ``polls`` more polls of ``lt`` for ``cond()``."""
    end = lt.polls + polls
    while not cond():
        if lt.polls >= end:
            return False
        await asyncio.sleep(0.01)
    return True


def test_real_link_peers_follow_each_other() -> None:
    """Two real Link peers on this machine: the peer's 133 reaches our jam (from Link), and
    our local change to 100 reaches the peer, with no echo back to the jam."""
    aalink = pytest.importorskip("aalink")
    jam = FakeJam(120.0)
    lt = LinkTempo(jam, poll_s=0.02)

    async def scenario() -> str | None:
        task = asyncio.create_task(lt.run())
        peer = aalink.Link(120.0)
        peer.enabled = True
        try:
            found = await _until(lambda: lt.peers >= 1 and peer.num_peers >= 1, lt, 250)
            if not found:
                return (
                    f"Link peers did not discover each other in {lt.polls} polls of 20 ms "
                    f"(ours saw {lt.peers} peers, the test's peer {peer.num_peers})"
                )
            peer.tempo = 133.0
            assert await _until(lambda: bool(jam.calls), lt, 250)
            assert jam.calls[0][0] == pytest.approx(133.0, abs=0.01)
            assert jam.calls[0][1] == "link"
            jam.land()
            jam.play(100.0)
            assert await _until(lambda: abs(peer.tempo - 100.0) < 0.01, lt, 250)
            await _until(lambda: False, lt, 5)  # a few more polls: nothing comes back
            assert len(jam.calls) == 1
            assert lt.figures()["link_tempo_bpm"] == pytest.approx(100.0, abs=0.01)
            return None
        finally:
            peer.enabled = False
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    skip = asyncio.run(scenario())
    if skip is not None:
        pytest.skip(skip)
    assert lt.link is None  # closed when the task was cancelled


def test_a_local_request_keeping_the_tempo_resyncs_link_once_overdue() -> None:
    """OSC asks the jam's own tempo (120) after a peer's 133: the jam never moves, so once
    Link's request is 3 bars overdue (by poll count) the session is set back to 120."""
    lt, jam, link, _ = make()
    lt.poll_s = 0.25  # 3 bars of 4 at 120 bpm = 6 s = 24 polls
    link.peer_sets(133.0)
    lt.step()
    jam.play(120.0)  # the OSC request replaced Link's pending one
    for _ in range(24):
        lt.step()
    assert link.writes == []
    lt.step()
    assert link.writes == [120.0]
    lt.step()
    assert link.writes == [120.0] and jam.calls == [(133.0, "link")]


class PhaseJam(FakeJam):
    """A FakeJam with a bar phase: ``phase`` beats into its bar at any frame asked."""

    sample_rate = 48000

    def __init__(self, phase: float) -> None:
        super().__init__(120.0)
        self.phase = phase
        self.shifts: list[int] = []
        self.clock.meter_at_beat = lambda beat: 4  # type: ignore[attr-defined]

    def bar_phase_at(self, frame: int) -> float:
        return self.phase

    def phase_settled(self, frame: int) -> bool:
        return True

    def shift_phase(self, frames: int) -> bool:
        self.shifts.append(frames)
        return True


def phase_make(jam_phase: float, link_beat: float, peers: int = 1) -> tuple[LinkTempo, PhaseJam]:
    jam, link = PhaseJam(jam_phase), FakeLink(120.0)
    link.beat = link_beat  # type: ignore[attr-defined]
    link.num_peers = peers
    lt = LinkTempo(jam, quantum=4, playing_frame=lambda: 96000)
    lt.attach(link)
    return lt, jam


@pytest.mark.parametrize(
    ("jam_phase", "link_beat", "frames"),
    [(1.25, 9.0, 6000), (0.0, 7.5, 12000), (3.9, 16.1, -4800), (2.0, 13.0, 24000)],
)
def test_the_jam_moves_its_grid_to_the_sessions_bar_phase(
    jam_phase: float, link_beat: float, frames: int
) -> None:
    """The jam's place in its bar minus the session's (Link beat modulo the bar), wrapped to
    the nearer side, becomes a shift of that many beats' frames at the jam's tempo;
    link_phase_ms reports it."""
    lt, jam = phase_make(jam_phase, link_beat)
    lt.step()
    assert jam.shifts == [frames]
    assert lt.figures()["link_phase_ms"] == pytest.approx(1e3 * frames / 48000, abs=0.01)


def test_no_shift_alone_within_the_jitter_or_while_a_tempo_is_pending() -> None:
    """No peer, a difference within PHASE_EPS_BEATS, or a Link tempo not landed in the jam
    yet: the phase is measured but the grid is left alone."""
    for lt, jam in (phase_make(1.0, 0.0, peers=0), phase_make(1.0, 1.02)):
        lt.step()
        assert jam.shifts == []
    lt, jam = phase_make(1.0, 0.0)
    assert lt.link is not None
    lt.link.peer_sets(133.0)  # type: ignore[attr-defined]
    lt.step()  # asks the jam for 133: the tempos differ until it lands
    assert jam.calls == [(133.0, "link")] and jam.shifts == []
