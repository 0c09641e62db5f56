"""The harmonist: what the accompanist hears and which chord it decides to play next.

Pure logic on one time axis (seconds on the engine's sample clock), shared by the live
daemon and the offline renderer:

* it **listens**: every note the player plays (start, end, pitch, velocity) feeds a
  :class:`~bassd.dsp.key_finding.LiveKey` (a decaying pitch-class histogram with
  hysteresis) and a short memory of recent notes for the Ear;
* it **thinks ahead**: after each decision the caller asks it (:meth:`think_ahead`) to
  run the predictor (a callable ``history -> distribution over vocabulary(mode)``, e.g.
  the LSTM of ``models/chord_predictor.py``) for the next chord, so at the next chord
  change only the Ear and the fusion are left to do (the jam does it once the bar's
  notes are scheduled, outside the decision's own time);
* it **decides**: at a chord change the Ear's distribution over the key's chords (from
  the notes of the listening window just before) and the prediction are fused
  (:func:`bassd.dsp.chord_fusion.fuse`, weight ``fusion_weight`` on the predictor) and the
  most probable chord wins.

The key is the detected one, or a locked one (``lock_key``). History is in key-relative
Roman numerals, so it transposes; a change of key starts the history afresh.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bassd.dsp.chord_ear import Ear
from bassd.dsp.chord_fusion import DEFAULT_WEIGHT, fuse
from bassd.dsp.chords import Chord, symbol, vocabulary
from bassd.dsp.key_finding import DEFAULT_PROFILE, KeyCandidate, LiveKey, key_name

#: a predictor: (recent Roman numerals, mode) -> probabilities over vocabulary(mode)
Predictor = Callable[[Sequence[str], str], np.ndarray]

_PCS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_KEY_RE = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*(major|minor|maj|min|m)?\s*$")


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class (0 = C) and mode; what the Ear and the voicing need."""

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        return key_name(self.tonic, self.mode)


def parse_key(text: str) -> Key:
    """ "G major", "e minor", "F#m", "Bb" (major) -> Key; ValueError naming the text."""
    m = _KEY_RE.match(text)
    if m is None:
        raise ValueError(f"not a key: {text!r} (expected e.g. 'G major', 'E minor', 'F#m')")
    letter, acc, mode = m.groups()
    pc = _PCS[letter.upper()] + {"#": 1, "b": -1, "": 0}[acc]
    minor = mode in ("minor", "min", "m") or (mode is None and letter.islower())
    return Key(pc % 12, "minor" if minor else "major")


@dataclass(frozen=True)
class Decision:
    """One chord decision."""

    chord: Chord
    key: Key
    probability: float  # the fused probability of the chosen chord
    ear_top: str  # the Ear's own favourite (Roman numeral)
    predicted_top: str  # the predictor's own favourite
    heard_notes: int  # notes that sounded in the listening window

    @property
    def symbol(self) -> str:
        return symbol(self.chord, self.key.tonic)

    @property
    def roman(self) -> str:
        return self.chord.roman


class Harmonist:
    def __init__(
        self,
        predictor: Predictor | None,
        *,
        fusion_weight: float = DEFAULT_WEIGHT,
        profile: str = DEFAULT_PROFILE,
        context: int = 8,
        memory_s: float = 16.0,
        ear: Ear | None = None,
    ) -> None:
        if not 0.0 <= fusion_weight <= 1.0:
            raise ValueError(f"fusion_weight must be within 0..1, not {fusion_weight}")
        self.predictor = predictor
        self.fusion_weight = float(fusion_weight)
        self.context = context
        self.memory_s = memory_s
        self.ear = ear or Ear()
        self.live_key = LiveKey(profile)
        self.locked: Key | None = None
        self.history: list[str] = []
        self._history_key: Key | None = None
        self._ahead: tuple[Key, np.ndarray] | None = None  # the prediction made ahead
        self._notes: deque[list[float]] = deque()  # [start, end (inf while held), pitch, vel]
        self._held: dict[int, list[list[float]]] = {}
        self.notes_heard = 0
        self.last_note_s: float | None = None
        self._now = 0.0

    # -- listening ---------------------------------------------------------------------
    def note_on(self, pitch: int, velocity: int, t: float) -> None:
        if velocity <= 0:
            self.note_off(pitch, t)
            return
        t = self._at(t)
        note = [t, float("inf"), float(pitch), float(velocity)]
        self._notes.append(note)
        self._held.setdefault(pitch, []).append(note)
        self.live_key.note_on(pitch, t, velocity=velocity)
        self.notes_heard += 1
        self.last_note_s = t
        self._forget(t)

    def note_off(self, pitch: int, t: float) -> None:
        t = self._at(t)
        stack = self._held.get(pitch)
        if stack:
            stack.pop(0)[1] = t
            if not stack:
                del self._held[pitch]
        self.live_key.note_off(pitch, t)

    def all_notes_off(self, t: float) -> None:
        t = self._at(t)
        for stack in self._held.values():
            for note in stack:
                note[1] = t
        self._held.clear()
        self.live_key.all_notes_off(t)

    def _at(self, t: float) -> float:
        # events reach the harmonist in time order; a stamp from the past (a thread's clock
        # read a moment earlier) is taken as now, so the histogram never runs backwards
        self._now = max(self._now, float(t))
        return self._now

    def _forget(self, now: float) -> None:
        while self._notes and self._notes[0][1] < now - self.memory_s:
            self._notes.popleft()

    # -- the key -----------------------------------------------------------------------
    def lock_key(self, key: Key | None) -> None:
        """Play in ``key`` whatever is heard (None: back to the detected key)."""
        self.locked = key

    def key_at(self, t: float) -> Key | None:
        if self.locked is not None:
            return self.locked
        cand: KeyCandidate | None = self.live_key.key_at(self._at(t))
        return Key(cand.tonic, cand.mode) if cand is not None else None

    # -- thinking ahead and deciding ---------------------------------------------------
    def predicted(self, key: Key) -> np.ndarray:
        """The predictor's distribution for the next chord (made ahead when possible)."""
        if self._ahead is not None and self._ahead[0] == key:
            return self._ahead[1]
        return self._predict(key)

    def _predict(self, key: Key) -> np.ndarray:
        n = len(vocabulary(key.mode))
        if self.predictor is None:
            return np.full(n, 1.0 / n)
        history = self.history if self._history_key == key else []
        p = np.asarray(self.predictor(history[-self.context :], key.mode), dtype=float)
        if p.shape != (n,):
            raise ValueError(f"predictor gave shape {p.shape}, expected ({n},)")
        return p

    def think_ahead(self, key: Key) -> None:
        """Predict the next chord now, so the next decision only has to fuse."""
        self._ahead = (key, self._predict(key))

    def next_chord(self) -> str | None:
        """The predictor's favourite for the next chord change (the lead-sheet symbol)."""
        if self._ahead is None:
            return None
        key, p = self._ahead
        return symbol(vocabulary(key.mode)[int(np.argmax(p))], key.tonic)

    def decide(self, window: tuple[float, float]) -> Decision | None:
        """The chord for the change after ``window`` (seconds; its end is now), or None
        while no key is known."""
        t0, t1 = window
        key = self.key_at(t1)
        if key is None:
            return None
        chords = vocabulary(key.mode)
        notes = [(s, min(e, t1), p, v) for s, e, p, v in self._notes]  # held: sounding till t1
        heard = sum(1 for n in notes if n[1] > t0 and n[0] < t1)
        ear = self.ear.distribution(notes, key, window=(t0, t1))
        model = self.predicted(key)
        fused = fuse(model, ear, self.fusion_weight)
        i = int(np.argmax(fused))
        chord = chords[i]
        if self._history_key != key:
            self.history, self._history_key = [], key
        self.history.append(chord.roman)
        del self.history[: -4 * self.context]
        self._ahead = None  # made for the chord just decided; think_ahead() makes the next
        return Decision(
            chord=chord,
            key=key,
            probability=float(fused[i]),
            ear_top=chords[int(np.argmax(ear))].roman,
            predicted_top=chords[int(np.argmax(model))].roman,
            heard_notes=heard,
        )
