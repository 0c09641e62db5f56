"""What a keyboard's MIDI means for the jam: note events after the sustain pedal.

Pure (no ports, no loop): ``NoteTracker`` turns one port's raw mido messages into
``MidiEvent``s in which every ``note_on`` is matched by exactly one ``note_off``: a
key released while the pedal is down sounds on until the pedal lifts, a key struck
again while it sounds is first ended, and ``release_all`` ends everything (port lost,
input closed), so no note stays stuck.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

import mido

Kind = Literal["note_on", "note_off", "sustain", "all_notes_off"]

SUSTAIN = 64  # damper pedal: value >= 64 is down
ALL_SOUND_OFF = 120
ALL_NOTES_OFF = 123
_HANDLED_CONTROLS = (SUSTAIN, ALL_SOUND_OFF, ALL_NOTES_OFF)


@dataclass(frozen=True, slots=True)
class MidiEvent:
    """One event for the jam.

    ``note``/``velocity``: the key and its curved velocity (1..127) for ``note_on``;
    ``note_off`` has velocity 0. ``sustain`` has note 64 and velocity 127 (down) or
    0 (up). ``all_notes_off`` has note 0 and velocity 0 (it follows the note_offs it
    caused). ``channel`` is 1..16; ``frame`` the engine's sample clock when the
    message arrived; ``port`` the input port's name.
    """

    kind: Kind
    note: int
    velocity: int
    channel: int
    frame: int
    port: str


def reject_reason(msg: mido.Message, channels: Collection[int] = ()) -> str | None:
    """Why ``msg`` is not for the tracker (None: it is), ``channels`` 1..16, empty = all."""
    if msg.type not in ("note_on", "note_off", "control_change"):
        return f"unsupported message type {msg.type}"
    if msg.type == "control_change" and msg.control not in _HANDLED_CONTROLS:
        return f"unsupported control change {msg.control}"
    if channels and msg.channel + 1 not in channels:
        return f"channel {msg.channel + 1} not in {sorted(channels)}"
    return None


def _identity(v: int) -> int:
    return v


class NoteTracker:
    """One port's sounding notes and sustain pedals (per channel, as MIDI has it)."""

    def __init__(self, port: str, velocity: Callable[[int], int] = _identity) -> None:
        self.port = port
        self._velocity = velocity
        self._held: dict[tuple[int, int], None] = {}  # keys down (ordered sets)
        self._sustained: dict[tuple[int, int], None] = {}  # released under the pedal
        self._pedal: set[int] = set()  # channels (1..16) with the pedal down

    @property
    def sounding(self) -> list[tuple[int, int]]:
        """(channel, note) of every note that sounds, held or sustained."""
        return [*self._held, *(k for k in self._sustained if k not in self._held)]

    def _event(self, kind: Kind, note: int, velocity: int, channel: int, frame: int) -> MidiEvent:
        return MidiEvent(kind, note, velocity, channel, frame, self.port)

    def feed(self, msg: mido.Message, frame: int) -> list[MidiEvent]:
        """The events ``msg`` (one ``reject_reason`` lets through) causes at ``frame``."""
        if msg.type == "control_change":
            return self._control(msg.channel + 1, msg.control, msg.value, frame)
        ch, key = msg.channel + 1, (msg.channel + 1, msg.note)
        if msg.type == "note_on" and msg.velocity > 0:
            out = []
            if key in self._held or key in self._sustained:  # struck again: end it first
                self._held.pop(key, None)
                self._sustained.pop(key, None)
                out.append(self._event("note_off", msg.note, 0, ch, frame))
            self._held[key] = None
            out.append(self._event("note_on", msg.note, self._velocity(msg.velocity), ch, frame))
            return out
        # note_off, or note_on with velocity 0
        if key not in self._held:
            return []  # not sounding from a key (never struck, or already sustained)
        del self._held[key]
        if ch in self._pedal:
            self._sustained[key] = None
            return []
        return [self._event("note_off", msg.note, 0, ch, frame)]

    def _control(self, ch: int, control: int, value: int, frame: int) -> list[MidiEvent]:
        if control == SUSTAIN:
            down = value >= 64
            if down == (ch in self._pedal):
                return []  # half-pedal values within the same state
            if down:
                self._pedal.add(ch)
                return [self._event("sustain", SUSTAIN, 127, ch, frame)]
            self._pedal.discard(ch)
            out = [self._event("sustain", SUSTAIN, 0, ch, frame)]
            for key in [k for k in self._sustained if k[0] == ch]:
                del self._sustained[key]
                out.append(self._event("note_off", key[1], 0, ch, frame))
            return out
        # all notes off / all sound off: end every note of the channel, pedal or not
        out = self._end(lambda k: k[0] == ch, frame)
        out.append(self._event("all_notes_off", 0, 0, ch, frame))
        return out

    def _end(self, which: Callable[[tuple[int, int]], bool], frame: int) -> list[MidiEvent]:
        keys = [k for k in self.sounding if which(k)]
        for k in keys:
            self._held.pop(k, None)
            self._sustained.pop(k, None)
        return [self._event("note_off", n, 0, ch, frame) for ch, n in keys]

    def release_all(self, frame: int) -> list[MidiEvent]:
        """note_offs for every sounding note (and pedal-ups): the port is gone."""
        out = self._end(lambda k: True, frame)
        out += [self._event("sustain", SUSTAIN, 0, ch, frame) for ch in sorted(self._pedal)]
        self._pedal.clear()
        return out
