"""MIDI files for the jam's tests: a folk melody from music21's corpus, written with mido."""

from __future__ import annotations

from pathlib import Path


def write_notes_midi(path: Path, notes: list[tuple[float, float, int, int]], bpm: float,
                     beats_per_bar: int = 4) -> None:  # fmt: skip
    """(start_beat, length_beats, pitch, velocity) notes to a one-track MIDI file."""
    import mido

    tpb = 480
    mid = mido.MidiFile(ticks_per_beat=tpb)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=beats_per_bar, denominator=4))
    events = []
    for start, length, pitch, vel in notes:
        events.append((round(start * tpb), 1, pitch, vel))
        events.append((round((start + length) * tpb), 0, pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for tick, on, pitch, vel in events:
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=vel, time=tick - now))
        now = tick
    mid.save(str(path))


def corpus_melody(name: str = "essenFolksong/altdeu10", piece: int = 0
                  ) -> tuple[list[tuple[float, float, int, int]], int]:  # fmt: skip
    """(notes in beats, beats per bar) of a music21 corpus melody (the first part)."""
    from music21 import corpus

    score = corpus.parse(name, number=piece + 1) if "essen" in name else corpus.parse(name)
    part = score.parts[0] if score.parts else score
    ts = part.recurse().getElementsByClass("TimeSignature")
    beats = int(ts[0].numerator) if ts else 4
    notes = []
    for n in part.flatten().notes:
        if n.isChord:
            continue
        notes.append((float(n.offset), float(n.quarterLength), int(n.pitch.midi), 90))
    return notes, beats
