"""``bassd jam render``: a MIDI file played into the jam on the simulated clock, to a WAV.

The same session as the live daemon's (``build_session``), on the offline renderer's
clock: each note of the file reaches the jam at its own frame (the live daemon stamps a
MIDI event with the frame playing when it arrived), so the chords, the metronome and the
events.csv rows are what the daemon would have played for that performance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bassd.app.config import Config
from bassd.app.offline import RenderResult, render_offline
from bassd.app.session import Session
from bassd.dsp.midi_notes import MidiNote, read_midi_notes


@dataclass(frozen=True)
class MidiFileTiming:
    tempo_bpm: float | None  # the file's first tempo, None when it sets none
    beats_per_bar: int | None  # its first time signature's numerator


def midi_file_timing(path: str | Path) -> MidiFileTiming:
    """The first tempo and meter a MIDI file declares (ValueError naming a bad file)."""
    import mido

    try:
        mid = mido.MidiFile(Path(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable MIDI file ({exc})") from None
    tempo: float | None = None
    meter: int | None = None
    for track in mid.tracks:
        for msg in track:
            if msg.type == "set_tempo" and tempo is None:
                tempo = mido.tempo2bpm(msg.tempo)
            elif msg.type == "time_signature" and meter is None:
                meter = int(msg.numerator)
    return MidiFileTiming(tempo, meter)


class NoteFeeder:
    """Hands a file's notes to the session's jam block by block, each at its frame."""

    def __init__(self, notes: list[MidiNote], sample_rate: int, offset_s: float = 0.0) -> None:
        events: list[tuple[int, int, int, int]] = []  # (frame, 0 off / 1 on, pitch, velocity)
        for start, end, pitch, vel in notes:
            events.append((round((start + offset_s) * sample_rate), 1, pitch, vel))
            events.append((round((end + offset_s) * sample_rate), 0, pitch, 0))
        events.sort(key=lambda e: (e[0], e[1]))  # at one frame, offs before ons
        self.events = events
        self._i = 0

    @property
    def end_frame(self) -> int:
        return self.events[-1][0] if self.events else 0

    def __call__(self, session: Session, frame0: int, frames: int) -> None:
        jam = session.controller.jam
        assert jam is not None
        end = frame0 + frames
        while self._i < len(self.events) and self.events[self._i][0] < end:
            frame, on, pitch, vel = self.events[self._i]
            if on:
                jam.note_on(pitch, vel, frame)
            else:
                jam.note_off(pitch, frame)
            self._i += 1


def render_jam(
    config: Config,
    midi: str | Path,
    out: str | Path,
    *,
    bed: bool = True,
    tail_s: float = 4.0,
    session: str | None = None,
) -> RenderResult:
    """Render the file's performance (plus ``tail_s``) with the jam of ``config``."""
    if not config.jam.enabled:
        raise ValueError("the jam is off: set jam.enabled (bassd jam render does)")
    notes = read_midi_notes(midi)
    if not notes:
        raise ValueError(f"{midi}: no notes")
    sr = config.audio.sample_rate
    feeder = NoteFeeder(notes, sr)
    seconds = feeder.end_frame / sr + tail_s
    return render_offline(config, seconds, out, session=session, bed=bed, feed=feeder)
