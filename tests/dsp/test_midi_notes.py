"""MIDI files into (start_s, end_s, pitch, velocity) notes, and the key of a whole file."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from bassd.dsp.midi_notes import key_of_midi_file, read_midi_notes

MELODY = (67, 71, 74, 78, 79, 74, 71, 69)  # G B D F# G D B A: G major


def write_g_major_file(path: Path) -> None:
    """Type 1, 480 ticks/beat: tempo 120 then 60 bpm from beat 4; a G major tune, bass, drums."""
    tempo_track = mido.MidiTrack()
    tempo_track.append(mido.MetaMessage("set_tempo", tempo=500_000, time=0))
    tempo_track.append(mido.MetaMessage("set_tempo", tempo=1_000_000, time=4 * 480))
    melody = mido.MidiTrack()
    for i, p in enumerate(MELODY):
        melody.append(mido.Message("note_on", note=p, velocity=80 + i, time=0))
        if i % 2:  # a note-on of velocity 0 is a note-off
            melody.append(mido.Message("note_on", note=p, velocity=0, time=480))
        else:
            melody.append(mido.Message("note_off", note=p, velocity=0, time=480))
    bass = mido.MidiTrack()
    bass.append(mido.Message("note_on", channel=1, note=43, velocity=70, time=0))
    bass.append(mido.Message("note_off", channel=1, note=43, time=8 * 480))
    drums = mido.MidiTrack()  # channel 10: left out (a C# would pull the key)
    for _ in range(8):
        drums.append(mido.Message("note_on", channel=9, note=37, velocity=100, time=0))
        drums.append(mido.Message("note_off", channel=9, note=37, time=480))
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.extend([tempo_track, melody, bass, drums])
    mid.save(path)


def test_notes_read_back_in_seconds_with_tempo_change(tmp_path: Path) -> None:
    """Notes come back across tracks in seconds (tempo change honoured), velocity-0 ends a note, drums out."""
    path = tmp_path / "g.mid"
    write_g_major_file(path)
    notes = read_midi_notes(path)
    starts = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0]  # 0.5 s beats, then 1 s from beat 4
    expected = [(s, s + (0.5 if s < 2 else 1.0), p, 80 + i)
                for i, (s, p) in enumerate(zip(starts, MELODY, strict=True))]  # fmt: skip
    expected.append((0.0, 6.0, 43, 70))
    rounded = [(round(s, 9), round(e, 9), p, v) for s, e, p, v in notes]
    assert rounded == sorted(expected)
    assert len(read_midi_notes(path, include_drums=True)) == len(expected) + 8


def test_key_of_midi_file(tmp_path: Path) -> None:
    """The G major file is G major; the estimate carries r and a runner-up."""
    path = tmp_path / "g.mid"
    write_g_major_file(path)
    est = key_of_midi_file(path)
    assert est.name == "G major"
    assert 0 < est.runner_up.r < est.r <= 1


def test_unclosed_note_ends_with_the_file(tmp_path: Path) -> None:
    """A note never switched off lasts until the file's last event."""
    track = mido.MidiTrack(
        [mido.Message("note_on", note=60, velocity=90, time=0),
         mido.Message("note_on", note=64, velocity=90, time=480),
         mido.Message("note_off", note=64, time=480)]
    )  # fmt: skip
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(track)
    mid.save(tmp_path / "open.mid")
    assert read_midi_notes(tmp_path / "open.mid") == [(0.0, 1.0, 60, 90), (0.5, 1.0, 64, 90)]


@pytest.mark.parametrize(
    "content", [b"", b"this is not a MIDI file at all", b"MThd\x00\x00\x00\x06\x00"]
)
def test_garbage_file_is_a_value_error_naming_it(tmp_path: Path, content: bytes) -> None:
    """An empty, non-MIDI or truncated file is a ValueError whose message names the file."""
    path = tmp_path / "garbage.mid"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"garbage\.mid"):
        read_midi_notes(path)


def test_missing_file_and_no_notes(tmp_path: Path) -> None:
    """A missing file and a file with no pitched notes are ValueErrors naming the file."""
    with pytest.raises(ValueError, match=r"nothere\.mid: no such file"):
        read_midi_notes(tmp_path / "nothere.mid")
    mid = mido.MidiFile(type=0)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("end_of_track", time=0)]))
    mid.save(tmp_path / "empty.mid")
    with pytest.raises(ValueError, match=r"empty\.mid: no pitched notes"):
        key_of_midi_file(tmp_path / "empty.mid")
