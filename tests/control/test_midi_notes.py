"""NoteTracker (sustain pedal, retriggers, all-notes-off, release_all), the rejection
rules, the velocity curves and the midi config section."""

from __future__ import annotations

import mido
import pytest
from pydantic import ValidationError

from bassd.control.midi_config import MidiConfig, curve_velocity, velocity_curve
from bassd.control.midi_notes import MidiEvent, NoteTracker, reject_reason


def on(note: int, vel: int = 100, ch: int = 0) -> mido.Message:
    return mido.Message("note_on", note=note, velocity=vel, channel=ch)


def off(note: int, ch: int = 0) -> mido.Message:
    return mido.Message("note_off", note=note, velocity=64, channel=ch)


def cc(control: int, value: int, ch: int = 0) -> mido.Message:
    return mido.Message("control_change", control=control, value=value, channel=ch)


def kinds(events: list[MidiEvent]) -> list[tuple[str, int]]:
    return [(e.kind, e.note) for e in events]


def test_note_on_and_off_pass_through_with_frame_port_and_one_based_channel() -> None:
    """A plain note becomes note_on/note_off stamped with the given frame, port and channel 1..16."""
    t = NoteTracker("kbd")
    assert t.feed(on(60, 90, ch=2), 100) == [MidiEvent("note_on", 60, 90, 3, 100, "kbd")]
    assert t.feed(off(60, ch=2), 200) == [MidiEvent("note_off", 60, 0, 3, 200, "kbd")]
    assert t.sounding == []


def test_note_on_velocity_zero_is_a_note_off() -> None:
    """note_on with velocity 0 ends the note, as running-status keyboards send it."""
    t = NoteTracker("kbd")
    t.feed(on(64), 0)
    assert kinds(t.feed(on(64, 0), 10)) == [("note_off", 64)]


def test_velocity_function_applies_to_note_on_only() -> None:
    """The tracker's velocity function shapes note_on velocities; note_offs carry 0."""
    t = NoteTracker("kbd", velocity=lambda v: v // 2)
    assert t.feed(on(60, 100), 0)[0].velocity == 50
    assert t.feed(off(60), 1)[0].velocity == 0


def test_sustain_holds_note_offs_until_the_pedal_lifts() -> None:
    """With CC64 >= 64 a released key sounds on; lifting the pedal emits its note_off."""
    t = NoteTracker("kbd")
    assert kinds(t.feed(cc(64, 127), 0)) == [("sustain", 64)]
    t.feed(on(60), 1)
    assert t.feed(off(60), 2) == []
    assert t.sounding == [(1, 60)]
    assert t.feed(cc(64, 100), 3) == []  # still down: no new event
    lift = t.feed(cc(64, 0), 4)
    assert kinds(lift) == [("sustain", 64), ("note_off", 60)]
    assert lift[1].frame == 4 and lift[0].velocity == 0
    assert t.sounding == []


def test_a_key_still_down_when_the_pedal_lifts_keeps_sounding() -> None:
    """Lifting the pedal ends only the notes whose keys were released."""
    t = NoteTracker("kbd")
    t.feed(cc(64, 127), 0)
    t.feed(on(60), 1)
    t.feed(on(62), 2)
    t.feed(off(60), 3)
    assert kinds(t.feed(cc(64, 0), 4)) == [("sustain", 64), ("note_off", 60)]
    assert kinds(t.feed(off(62), 5)) == [("note_off", 62)]


def test_pedal_is_per_channel() -> None:
    """The pedal of channel 1 does not hold the notes of channel 2."""
    t = NoteTracker("kbd")
    t.feed(cc(64, 127, ch=0), 0)
    t.feed(on(60, ch=1), 1)
    assert kinds(t.feed(off(60, ch=1), 2)) == [("note_off", 60)]


def test_restriking_a_sounding_note_ends_it_first() -> None:
    """A key struck again while its note sounds (held or sustained) gets note_off then note_on."""
    t = NoteTracker("kbd")
    t.feed(cc(64, 127), 0)
    t.feed(on(60), 1)
    t.feed(off(60), 2)  # sustained
    assert kinds(t.feed(on(60), 3)) == [("note_off", 60), ("note_on", 60)]
    assert kinds(t.feed(on(60), 4)) == [("note_off", 60), ("note_on", 60)]
    assert t.sounding == [(1, 60)]


def test_note_off_for_a_silent_note_emits_nothing() -> None:
    """A note_off without its note_on (or a second one) is not passed on."""
    t = NoteTracker("kbd")
    assert t.feed(off(60), 0) == []
    t.feed(on(60), 1)
    t.feed(off(60), 2)
    assert t.feed(off(60), 3) == []


@pytest.mark.parametrize("control", [123, 120])
def test_all_notes_off_ends_the_channels_notes_sustained_or_held(control: int) -> None:
    """CC123 and CC120 end every note of their channel, then say all_notes_off."""
    t = NoteTracker("kbd")
    t.feed(cc(64, 127), 0)
    t.feed(on(60), 1)
    t.feed(off(60), 2)
    t.feed(on(64), 3)
    t.feed(on(67, ch=1), 4)
    assert kinds(t.feed(cc(control, 0), 5)) == [
        ("note_off", 64), ("note_off", 60), ("all_notes_off", 0)
    ]  # fmt: skip
    assert t.sounding == [(2, 67)]


def test_release_all_ends_every_note_and_pedal() -> None:
    """release_all returns a note_off for each sounding note and lifts the pedals."""
    t = NoteTracker("kbd")
    t.feed(cc(64, 127, ch=3), 0)
    t.feed(on(60), 1)
    t.feed(on(50, ch=3), 2)
    t.feed(off(50, ch=3), 3)
    out = t.release_all(9)
    assert sorted(kinds(out)) == [("note_off", 50), ("note_off", 60), ("sustain", 64)]
    assert all(e.frame == 9 for e in out)
    assert t.sounding == [] and t.release_all(10) == []


def test_reject_reason_names_what_is_not_played() -> None:
    """Unsupported types, unhandled controls and filtered channels get a reason; notes none."""
    assert reject_reason(on(60)) is None
    assert reject_reason(cc(64, 0)) is None
    assert "sysex" in str(reject_reason(mido.Message("sysex", data=[1, 2])))
    assert "pitchwheel" in str(reject_reason(mido.Message("pitchwheel", pitch=10)))
    assert "control change 1" in str(reject_reason(cc(1, 20)))
    assert "channel 2" in str(reject_reason(on(60, ch=1), {1, 3}))
    assert reject_reason(on(60, ch=2), {1, 3}) is None


def test_velocity_curves() -> None:
    """linear keeps, soft lifts, hard lowers, fixed replaces; all stay within 1..127."""
    assert [curve_velocity("linear", v) for v in (1, 64, 127)] == [1, 64, 127]
    assert curve_velocity("soft", 32) > 32 and curve_velocity("soft", 127) == 127
    assert curve_velocity("hard", 96) < 96 and curve_velocity("hard", 127) == 127
    assert curve_velocity("hard", 1) == 1
    assert curve_velocity("fixed", 12, fixed=77) == 77
    for curve in ("linear", "soft", "hard"):
        vals = [curve_velocity(curve, v) for v in range(1, 128)]  # type: ignore[arg-type]
        assert vals == sorted(vals) and min(vals) >= 1 and max(vals) == 127
    assert velocity_curve(MidiConfig(velocity_curve="fixed", fixed_velocity=5))(120) == 5


def test_midi_config_rejects_unknown_keys_and_bad_values() -> None:
    """An unknown key is named in the error; channels, velocity and retry are range-checked."""
    with pytest.raises(ValidationError, match="chanels"):
        MidiConfig.model_validate({"chanels": [1]})
    with pytest.raises(ValidationError, match=r"1\.\.16"):
        MidiConfig(channels=[0, 3])
    with pytest.raises(ValidationError):
        MidiConfig(fixed_velocity=128)
    with pytest.raises(ValidationError):
        MidiConfig(retry_seconds=0)
    with pytest.raises(ValidationError):
        MidiConfig(api="oss")  # type: ignore[arg-type]
    cfg = MidiConfig()
    assert (cfg.enabled, cfg.api, cfg.ports, cfg.virtual_name, cfg.channels) == (
        False, "auto", [], "bassd", []
    )  # fmt: skip
