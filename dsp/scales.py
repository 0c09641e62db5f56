"""Keys, modes and equal-tempered pitches."""

from __future__ import annotations

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}

#: semitone steps from the tonic for each mode
MODES: dict[str, tuple[int, ...]] = {
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "pentatonic_major": (0, 2, 4, 7, 9),
    "pentatonic_minor": (0, 3, 5, 7, 10),
}

KEYS = NOTE_NAMES + tuple(_FLATS)


def pitch_class(key: str) -> int:
    """Pitch class (0 = C) of a key name such as 'D', 'F#' or 'Bb'."""
    name = _FLATS.get(key, key)
    if name not in NOTE_NAMES:
        raise ValueError(f"unknown key {key!r}; allowed: {', '.join(KEYS)}")
    return NOTE_NAMES.index(name)


def scale_pitch_classes(key: str, mode: str) -> tuple[int, ...]:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; allowed: {', '.join(MODES)}")
    tonic = pitch_class(key)
    return tuple((tonic + step) % 12 for step in MODES[mode])


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def hz_to_midi(hz: np.ndarray | float) -> np.ndarray:
    return 69.0 + 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / 440.0)


def scale_midi_notes(key: str, mode: str, low: int, high: int) -> np.ndarray:
    """All MIDI notes of the scale within [low, high]."""
    pcs = set(scale_pitch_classes(key, mode))
    return np.array([m for m in range(low, high + 1) if m % 12 in pcs], dtype=np.int64)
