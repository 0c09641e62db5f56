"""Ableton Link: the jam's tempo and the Link session's tempo follow each other.

:class:`LinkTempo` joins the Link session (the ``link`` extra: aalink) with the jam's
tempo and polls it on the loop every ``poll_s``; every aalink call it makes is a
non-blocking read or write of Link's shared state (measured: tens of µs; making the
Link object ~0.3 ms, dropping it ~0.3-1 ms as its threads are joined, at the start and
the end only). No callback is registered, so Link's own threads never take the GIL.

* A peer changed the session tempo (it differs from the last one seen by more than
  0.01 bpm): the jam gets it with ``set_tempo(bpm, source="link")``, from its next bar
  (the jam records that ``tempo_request`` row itself).
* The jam's tempo changed here (OSC /jam/tempo, tempo following): the session gets it,
  so the peers follow.

The jam's tempo is read where it takes effect (the clock's tempo at the beat last
rendered), so a request from Link lands a bar later; the tempo asked of the jam on
Link's behalf is remembered until it lands, and is not sent back to Link when it does
(no ping-pong). A local request after it replaces it in the jam and goes to Link (when
it leaves the tempo as it was, once Link's request is overdue: OVERDUE_BARS bars).
Whoever changed last wins.

**Beat phase.** Link keeps its peers' beat *phase* together (where each is in its bar);
with ``playing_frame`` (the engine frame the device plays now) each poll compares where
the jam is in its bar with where the session is (``link.beat`` modulo the bar), read at
the same moment. While the tempos agree and a peer is there, a difference over
PHASE_EPS_BEATS moves the jam's beat grid from its next undecided bar by that much
(``Jam.shift_phase``, at most half a beat a bar), so every daemon's bar lines fall
together; each correction is a ``phase_shift`` row, the last measured difference is
``link_phase_ms`` in /status.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Protocol

import structlog

log = structlog.get_logger("bassd.link")

TEMPO_EPS = 0.01  # bpm: smaller differences are Link's own rounding, not a change
OVERDUE_BARS = 3  # a tempo asked of the jam lands within this many bars (decided ahead)
# beats: a smaller phase difference is the measurement's own jitter (the playing frame
# moves a period at a time: 256 frames, 0.01 beat at 120 bpm)
PHASE_EPS_BEATS = 0.03
INSTALL_HINT = "pip install 'bassd[link]'"

EventSink = Callable[[str, object, str, int], None]


class JamLike(Protocol):
    def set_tempo(self, bpm: float, *, source: str = ...) -> None: ...


class LinkLike(Protocol):
    tempo: float
    enabled: bool
    quantum: float

    @property
    def num_peers(self) -> int: ...

    @property
    def beat(self) -> float: ...


def jam_tempo(jam: Any) -> float:
    """The tempo the jam plays now (its clock at the beat last rendered)."""
    return float(jam.clock.tempo_at_beat(max(0, jam.beat)))


class LinkTempo:
    def __init__(
        self,
        jam: JamLike | Callable[[], JamLike | None],
        *,
        on_event: EventSink | None = None,
        quantum: int = 4,
        poll_s: float = 0.25,
        default_bpm: float = 120.0,
        playing_frame: Callable[[], int] | None = None,
    ) -> None:
        if hasattr(jam, "set_tempo"):
            fixed = jam
            self._get_jam: Callable[[], Any] = lambda: fixed
        else:
            self._get_jam = jam
        self.on_event = on_event
        self.quantum = quantum
        self.poll_s = poll_s
        self.default_bpm = default_bpm
        self.link: LinkLike | None = None
        self.peers = 0
        self.polls = 0
        self.last_change = ""  # "link" (a peer) or "local" (the jam here): who changed last
        self._link_seen = 0.0  # the session tempo last seen (or written by us)
        self._jam_seen: float | None = None  # the jam's tempo last seen
        self._asked: float | None = None  # asked of the jam for Link, not landed yet
        self._asked_poll = 0
        self.playing_frame = playing_frame
        self.phase_ms: float | None = None  # the jam's bar phase minus the session's (ms)

    # ------------------------------------------------------------ lifetime
    def start(self) -> bool:
        """Join the Link session with the jam's tempo (on the loop: aalink needs it).
        False, with one warning, when aalink is not installed."""
        try:
            import aalink  # the link extra
        except ImportError:
            log.warning("link_unavailable", error=f"Ableton Link needs aalink: {INSTALL_HINT}")
            return False
        jam = self._get_jam()
        bpm = jam_tempo(jam) if jam is not None else self.default_bpm
        self.attach(aalink.Link(bpm))
        log.info("link_joined", bpm=round(bpm, 3), quantum=self.quantum)
        return True

    def attach(self, link: LinkLike) -> None:
        """Use ``link`` (an aalink.Link or a stand-in) and enable it."""
        link.quantum = self.quantum
        link.enabled = True
        self.link = link
        self._link_seen = float(link.tempo)
        jam = self._get_jam()
        self._jam_seen = jam_tempo(jam) if jam is not None else None

    async def run(self) -> None:
        """Poll the session every ``poll_s`` until cancelled; returns at once without aalink."""
        if not self.start():
            return
        try:
            while True:
                self.step()
                await asyncio.sleep(self.poll_s)
        finally:
            self.close()

    def close(self) -> None:
        if self.link is not None:
            self.link.enabled = False
            self.link = None

    # ----------------------------------------------------------------- poll
    def step(self) -> None:
        """One poll: a peer's tempo to the jam, or the jam's to the session."""
        link = self.link
        if link is None:
            return
        self.polls += 1
        jam = self._get_jam()
        peers = int(link.num_peers)
        if peers != self.peers:
            self.peers = peers
            self._emit("link_peers", peers, {}, jam)
        lt = float(link.tempo)
        if jam is None:
            self._link_seen, self._jam_seen, self._asked = lt, None, None
            return
        jt = jam_tempo(jam)
        if self._asked is None and abs(lt - jt) <= TEMPO_EPS:
            self._align_phase(link, jam, jt, peers)
        if self._asked is not None and abs(jt - self._asked) <= TEMPO_EPS:
            self._asked = None  # the jam plays the tempo Link asked for: not sent back
            self._jam_seen = jt
        elif self._asked is not None and self._overdue(jam, jt):
            # a local request replaced Link's before it landed and left the tempo as it was
            self._asked = None
            self._publish(link, jt, peers, jam)
            return
        if self._jam_seen is None:  # a jam that came after Link: it takes the session's
            self._jam_seen = jt
            self._link_seen = jt
        if abs(lt - self._link_seen) > TEMPO_EPS:  # a peer changed the session tempo
            self._link_seen = lt
            target = self._asked if self._asked is not None else jt
            if abs(lt - target) > TEMPO_EPS:
                bpm = round(lt, 3)
                jam.set_tempo(bpm, source="link")
                self._asked = bpm  # replaces an earlier one still pending in the jam
                self._asked_poll = self.polls
                self.last_change = "link"
            self._jam_seen = jt
            return
        if abs(jt - self._jam_seen) > TEMPO_EPS:
            self._jam_seen = jt
            self._asked = None  # changed here (it replaced Link's request): the session follows
            self._publish(link, jt, peers, jam)

    def _align_phase(self, link: LinkLike, jam: Any, jt: float, peers: int) -> None:
        """Measure the jam's bar phase against the session's; ask the jam to move its grid
        when they differ (a peer there, no correction pending)."""
        if self.playing_frame is None or not hasattr(jam, "bar_phase_at"):
            return
        frame, beat = int(self.playing_frame()), float(link.beat)  # the same moment
        mine = jam.bar_phase_at(frame)
        if mine is None:
            return
        bar = float(jam.clock.meter_at_beat(max(0, jam.beat)))
        diff = (mine - beat % bar + bar / 2) % bar - bar / 2  # beats, in [-bar/2, bar/2)
        self.phase_ms = round(diff * 60e3 / jt, 2)
        if peers < 1 or not jam.phase_settled(frame) or abs(diff) <= PHASE_EPS_BEATS:
            return
        jam.shift_phase(round(diff * 60.0 * jam.sample_rate / jt))  # ahead: move later

    def _overdue(self, jam: Any, jt: float) -> bool:
        """Link's request has waited longer than OVERDUE_BARS bars to land."""
        clock = jam.clock
        meter = clock.meter_at_beat(max(0, jam.beat)) if hasattr(clock, "meter_at_beat") else 0
        waited_s = (self.polls - self._asked_poll) * self.poll_s
        return waited_s > OVERDUE_BARS * max(meter, self.quantum) * 60.0 / jt

    def _publish(self, link: LinkLike, jt: float, peers: int, jam: Any) -> None:
        link.tempo = jt
        self._link_seen = jt
        self._jam_seen = jt
        self.last_change = "local"
        self._emit("link_publish", f"{jt:.2f}", {"peers": peers}, jam)

    def _emit(self, kind: str, value: object, fields: dict[str, Any], jam: Any) -> None:
        if self.on_event is None:
            return
        frame = int(jam.frame_now()) if jam is not None and hasattr(jam, "frame_now") else 0
        detail = json.dumps({"frame": frame, **fields}, sort_keys=True)
        self.on_event(kind, value, detail, frame)

    # -------------------------------------------------------------- figures
    def figures(self) -> dict[str, Any]:
        """What /status reports of Link."""
        link = self.link
        return {
            "link_enabled": bool(link.enabled) if link is not None else False,
            "link_peers": int(link.num_peers) if link is not None else 0,
            "link_tempo_bpm": round(float(link.tempo), 3) if link is not None else None,
            "link_phase_ms": self.phase_ms if link is not None else None,
        }
