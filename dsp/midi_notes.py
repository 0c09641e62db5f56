"""Notes of a standard MIDI file, in seconds, and the key of the whole file.

Reads with mido (a core dependency): all tracks, tempo changes honoured, a note-on of
velocity 0 is a note-off, drums (channel 10, i.e. mido channel 9) are left out. A note
still sounding at the end of the file ends with the file.
"""

from __future__ import annotations

from collections import defaultdict, deque
from os import PathLike
from pathlib import Path

from bassd.dsp.key_finding import DEFAULT_PROFILE, KeyEstimate, find_key, pitch_class_histogram

DRUM_CHANNEL = 9
"""mido's channel number of General MIDI channel 10 (percussion)."""

MidiNote = tuple[float, float, int, int]
"""(start_s, end_s, midi_pitch, velocity)."""

_DEFAULT_TEMPO = 500_000  # microseconds per beat: 120 bpm, the MIDI default


def read_midi_notes(path: str | PathLike[str], *, include_drums: bool = False
                    ) -> list[MidiNote]:  # fmt: skip
    """The notes of a MIDI file as ``(start_s, end_s, pitch, velocity)``, sorted by start.

    Raises ValueError naming the file when it is missing or is not a readable MIDI file.
    """
    import mido  # here, so importing this module stays light

    p = Path(path)
    try:
        mid = mido.MidiFile(p)
    except FileNotFoundError:
        raise ValueError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{p}: is a directory, not a MIDI file") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{p}: not a readable MIDI file ({exc or type(exc).__name__})") from None
    if mid.ticks_per_beat <= 0:
        raise ValueError(f"{p}: not a readable MIDI file (SMPTE time division unsupported)")
    # Types 0 and 1 share one tempo map (the merged tracks); type 2 tracks are independent.
    sequences = [mido.merge_tracks(mid.tracks)] if mid.type != 2 else list(mid.tracks)
    notes: list[MidiNote] = []
    for track in sequences:
        notes.extend(_track_notes(track, mid.ticks_per_beat, include_drums))
    notes.sort()
    return notes


def _track_notes(track: list, ticks_per_beat: int, include_drums: bool) -> list[MidiNote]:
    import mido

    tempo = _DEFAULT_TEMPO
    now = 0.0
    open_notes: defaultdict[tuple[int, int], deque[tuple[float, int]]] = defaultdict(deque)
    out: list[MidiNote] = []
    for msg in track:
        if msg.time:
            now += mido.tick2second(msg.time, ticks_per_beat, tempo)
        if msg.type == "set_tempo":
            tempo = msg.tempo
        elif msg.type in ("note_on", "note_off"):
            if msg.channel == DRUM_CHANNEL and not include_drums:
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes[key].append((now, msg.velocity))
            elif open_notes[key]:  # first on, first off
                start, vel = open_notes[key].popleft()
                out.append((start, now, msg.note, vel))
    for (_, pitch), starts in open_notes.items():
        for start, vel in starts:
            out.append((start, now, pitch, vel))
    return out


def key_of_midi_file(path: str | PathLike[str], profile: str = DEFAULT_PROFILE) -> KeyEstimate:
    """The key of a whole MIDI file (its pitched notes, duration-weighted).

    Raises ValueError naming the file when it is unreadable or has no pitched notes to
    judge, and for an unknown profile.
    """
    notes = read_midi_notes(path)
    if not notes:
        raise ValueError(f"{Path(path)}: no pitched notes to find a key in")
    try:
        return find_key(pitch_class_histogram(notes), profile)
    except ValueError as exc:
        if "profile" in str(exc):
            raise
        raise ValueError(f"{Path(path)}: {exc}") from None
