"""Key finding: Krumhansl-Schmuckler correlation over a duration-weighted pitch-class histogram.

The histogram (how long each of the 12 pitch classes sounded) is correlated (Pearson) with a
major and a minor key profile rotated to each of the 12 tonics; the best of the 24 keys is
the estimate and its correlation ``r`` the confidence. The profiles are in
:mod:`bassd.dsp.key_profiles`.

Default profile: **aarden_essen**, chosen by measurement (``benchmarks/bench_key.py``,
``benchmarks/results/key.json``, music21 10.5): agreement with music21's ``analyze('key')``
(same tonic and mode) on the first 40 tunes of the Essen ``altdeu10`` file / all 313 of it /
the first 100 Bach chorales of ``corpus.chorales.Iterator()``:

    profile                 folk40  altdeu10  chorales
    aarden_essen             40/40   313/313   100/100
    temperley_kostka_payne   36/40   265/313    89/100
    bellman_budge            36/40   259/313    89/100
    krumhansl_kessler        30/40   206/313    81/100
    simple                   30/40   225/313    90/100

The goal (issue 8) is >= 90 % agreement; only Aarden-Essen reaches it everywhere. That is
by construction -- music21's default analysis *is* this algorithm with the Aarden-Essen
profile, and each of our five profiles matches music21 run with the same profile on every
piece but 3 exact ties (simple profile) -- so the agreement says we reproduce the reference,
not that Aarden-Essen is right where music21 is wrong. The largest share of
Krumhansl-Kessler's misses are a fifth away (its "dominant as tonic" tendency); of
Temperley-Kostka-Payne's and Bellman-Budge's, the relative major/minor.
``find_key`` takes ~25 µs a call.

:class:`LiveKey` follows a performance: a time-decaying histogram (half-life in seconds) fed
with note-on/off events, with hysteresis (a new key must beat the current one by a margin
in correlation, continuously for a minimum time) so the key does not flicker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np

from bassd.dsp.key_profiles import PROFILES

DEFAULT_PROFILE: Final[str] = "aarden_essen"

MODES: Final[tuple[str, str]] = ("major", "minor")

# The tonic spellings music21 gives a key (``KeyWeightKeyAnalysis._bestKeyEnharmonic``: the
# pitch class's default name, flipped where that key is not a usual one), with "b" for flat.
_MAJOR_NAMES: Final = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES: Final = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

Note = Sequence[float]
"""(start, end, midi_pitch) or (start, end, midi_pitch, velocity); times in any one unit."""


def key_name(tonic: int, mode: str) -> str:
    """The key's name as music21 spells it, with "b" for flat: ``key_name(3, "major")`` is
    ``"Eb major"``, ``key_name(8, "minor")`` is ``"G# minor"``."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'major' or 'minor', not {mode!r}")
    names = _MAJOR_NAMES if mode == "major" else _MINOR_NAMES
    return f"{names[tonic % 12]} {mode}"


@dataclass(frozen=True)
class KeyCandidate:
    """One of the 24 keys with its correlation against the histogram."""

    tonic: int
    """Pitch class of the tonic, 0 = C ... 11 = B."""
    mode: str
    """"major" or "minor"."""
    r: float
    """Pearson correlation of the histogram with the profile of this key."""

    @property
    def name(self) -> str:
        """E.g. ``"G major"``, ``"Eb minor"``."""
        return key_name(self.tonic, self.mode)


@dataclass(frozen=True)
class KeyEstimate(KeyCandidate):
    """The best key, the runner-up and the correlations of all 24 keys."""

    runner_up: KeyCandidate
    """The second best of the 24 keys."""
    profile: str
    """The profile the correlations were computed with."""
    correlations: tuple[float, ...]
    """r of every key: index ``tonic`` for major, ``12 + tonic`` for minor."""

    def r_of(self, tonic: int, mode: str) -> float:
        """The correlation of any key, e.g. the current key in a hysteresis test."""
        return self.correlations[(12 if mode == "minor" else 0) + tonic % 12]

    def __str__(self) -> str:
        nxt = self.runner_up
        return f"{self.name} (r = {self.r:.2f}; next: {nxt.name} {nxt.r:.2f})"


def pitch_class_histogram(notes: Iterable[Note]) -> np.ndarray:
    """Duration-weighted pitch-class histogram of ``(start, end, pitch[, velocity])`` notes.

    Entry ``pc`` is the total duration of the notes whose MIDI pitch is ``pc`` mod 12
    (chords count each note; velocity is ignored). A note with ``end < start`` is an error.
    """
    hist = np.zeros(12)
    for note in notes:
        start, end, pitch = float(note[0]), float(note[1]), int(note[2])
        if end < start:
            raise ValueError(f"note ends before it starts: {tuple(note)!r}")
        hist[pitch % 12] += end - start
    return hist


@cache
def _profile_matrix(profile: str) -> np.ndarray:
    """24 x 12: row k is key k's rotated profile, centred and scaled to unit norm."""
    try:
        major, minor = PROFILES[profile]
    except KeyError:
        raise ValueError(
            f"unknown key profile {profile!r} (known: {', '.join(sorted(PROFILES))})"
        ) from None
    rows = []
    for weights in (major, minor):
        w = np.asarray(weights, dtype=float)
        for tonic in range(12):
            rows.append(np.roll(w, tonic))  # weight of pc j is w[(j - tonic) % 12]
    m = np.array(rows)
    m -= m.mean(axis=1, keepdims=True)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    m.setflags(write=False)
    return m


def key_correlations(histogram: Sequence[float] | np.ndarray, profile: str = DEFAULT_PROFILE
                     ) -> np.ndarray:  # fmt: skip
    """Pearson r of the histogram with each of the 24 keys (12 major from C, then 12 minor).

    Raises ValueError for an unknown profile, a histogram that is not 12 finite non-negative
    numbers, or one with no contrast (empty, or every pitch class equally long).
    """
    m = _profile_matrix(profile)
    h = np.asarray(histogram, dtype=float)
    if h.shape != (12,) or not np.all(np.isfinite(h)) or np.any(h < 0):
        raise ValueError("a pitch-class histogram is 12 finite non-negative numbers")
    h = h - h.mean()
    norm = float(np.linalg.norm(h))
    if norm <= 1e-12 * max(1.0, float(np.abs(histogram).max())):
        raise ValueError("the histogram has no pitch-class contrast (no notes, or all equal)")
    r: np.ndarray = m @ (h / norm)
    return r


def find_key(histogram: Sequence[float] | np.ndarray, profile: str = DEFAULT_PROFILE
             ) -> KeyEstimate:  # fmt: skip
    """The best of the 24 major and minor keys for a pitch-class histogram, with runner-up.

    Ties go to the key music21 would choose among equals (higher index in its sort: minor
    before major, then the higher tonic) -- only exact ties, which are rare in real music.
    """
    r = key_correlations(histogram, profile)
    # music21 sorts (r, pitch, mode) descending; among equal r, "minor" > "major".
    order = sorted(range(24), key=lambda k: (r[k], k >= 12, k % 12), reverse=True)
    best, second = order[0], order[1]
    runner = KeyCandidate(second % 12, MODES[second // 12], float(r[second]))
    return KeyEstimate(
        tonic=best % 12,
        mode=MODES[best // 12],
        r=float(r[best]),
        runner_up=runner,
        profile=profile,
        correlations=tuple(float(x) for x in r),
    )


def find_key_of_notes(notes: Iterable[Note], profile: str = DEFAULT_PROFILE) -> KeyEstimate:
    """``find_key(pitch_class_histogram(notes), profile)``."""
    return find_key(pitch_class_histogram(notes), profile)


class LiveKey:
    """The key of a performance as it goes: a decaying histogram with hysteresis.

    Feed note-on/off events stamped in seconds (``t=``) or in frames (``frame=``, with
    ``sample_rate`` given); ask :meth:`key_at` for the key now. Each sounding note adds
    weight at 1 per second to its pitch class; all weight decays by half every
    ``half_life_s``. The reported key changes only when another key's correlation has beaten
    the current key's by at least ``margin`` continuously for ``hold_s`` seconds (checked at
    each event and query), so a passing chord or an ambiguous bar does not flip it. The
    first key is reported once ``min_weight_s`` seconds of notes have been heard and one key
    has been the best for ``hold_s``.
    """

    def __init__(
        self,
        profile: str = DEFAULT_PROFILE,
        *,
        half_life_s: float = 8.0,
        margin: float = 0.05,
        hold_s: float = 2.0,
        min_weight_s: float = 1.0,
        sample_rate: float | None = None,
    ) -> None:
        _profile_matrix(profile)  # an unknown profile fails here, not at the first note
        if half_life_s <= 0 or margin < 0 or hold_s < 0 or min_weight_s < 0:
            raise ValueError("half_life_s must be > 0; margin, hold_s, min_weight_s >= 0")
        if sample_rate is not None and sample_rate <= 0:
            raise ValueError("sample_rate must be > 0")
        self.profile = profile
        self.half_life_s = float(half_life_s)
        self.margin = float(margin)
        self.hold_s = float(hold_s)
        self.min_weight_s = float(min_weight_s)
        self.sample_rate = sample_rate
        self._hist = np.zeros(12)
        self._sounding = np.zeros(12)  # notes now sounding, per pitch class
        self._held: dict[int, int] = {}  # MIDI pitch -> how many note-ons are open
        self._t: float | None = None
        self._key: KeyCandidate | None = None
        self._challenger: tuple[int, str] | None = None
        self._challenger_since = 0.0

    # -- time -------------------------------------------------------------------------
    def _time(self, t: float | None, frame: int | None) -> float:
        if (t is None) == (frame is None):
            raise ValueError("give exactly one of t (seconds) or frame")
        if frame is not None:
            if self.sample_rate is None:
                raise ValueError("frame stamps need LiveKey(sample_rate=...)")
            return frame / self.sample_rate
        assert t is not None
        return float(t)

    def _advance(self, now: float) -> None:
        if self._t is None:
            self._t = now
            return
        dt = now - self._t
        if dt < 0:
            raise ValueError(f"events must come in time order ({now} after {self._t})")
        if dt > 0:
            lam = math.log(2.0) / self.half_life_s
            decay = math.exp(-lam * dt)
            # weight added at rate 1 while sounding, decayed to now: integral of e^-lam(now-s)
            self._hist = self._hist * decay + self._sounding * ((1.0 - decay) / lam)
            self._t = now

    # -- events -----------------------------------------------------------------------
    def note_on(self, pitch: int, t: float | None = None, *, frame: int | None = None,
                velocity: int = 64) -> None:  # fmt: skip
        """A note starts (a velocity of 0 is a note-off, as in MIDI)."""
        if velocity <= 0:
            self.note_off(pitch, t, frame=frame)
            return
        now = self._time(t, frame)
        self._advance(now)
        self._held[pitch] = self._held.get(pitch, 0) + 1
        self._sounding[pitch % 12] += 1
        self._update(now)

    def note_off(self, pitch: int, t: float | None = None, *, frame: int | None = None) -> None:
        """A note ends (a note-off for a pitch not sounding is ignored)."""
        now = self._time(t, frame)
        self._advance(now)
        if self._held.get(pitch, 0) > 0:
            self._held[pitch] -= 1
            self._sounding[pitch % 12] -= 1
        self._update(now)

    def all_notes_off(self, t: float | None = None, *, frame: int | None = None) -> None:
        """Every sounding note ends (MIDI all-notes-off, a panic, a transport stop)."""
        now = self._time(t, frame)
        self._advance(now)
        self._held.clear()
        self._sounding[:] = 0
        self._update(now)

    def reset(self) -> None:
        """Forget everything heard and the current key."""
        self.__init__(  # type: ignore[misc]
            self.profile, half_life_s=self.half_life_s, margin=self.margin,
            hold_s=self.hold_s, min_weight_s=self.min_weight_s, sample_rate=self.sample_rate,
        )  # fmt: skip

    # -- queries ----------------------------------------------------------------------
    def key_at(self, t: float | None = None, *, frame: int | None = None) -> KeyCandidate | None:
        """The key now (None until enough has been heard), after letting time run to ``t``."""
        now = self._time(t, frame)
        self._advance(now)
        self._update(now)
        return self._key

    @property
    def key(self) -> KeyCandidate | None:
        """The key as of the last event or query."""
        return self._key

    @property
    def histogram(self) -> np.ndarray:
        """The decayed histogram as of the last event or query (a copy)."""
        return self._hist.copy()

    def estimate(self) -> KeyEstimate | None:
        """The instantaneous best key of the decayed histogram, without hysteresis."""
        if self._hist.sum() <= 0:
            return None
        try:
            return find_key(self._hist, self.profile)
        except ValueError:  # no contrast yet
            return None

    def _update(self, now: float) -> None:
        if self._key is None and self._hist.sum() < self.min_weight_s:
            return
        est = self.estimate()
        if est is None:
            return
        if self._key is None:  # the first key too must stay the best for hold_s
            if self._challenger != (est.tonic, est.mode):
                self._challenger = (est.tonic, est.mode)
                self._challenger_since = now
            if now - self._challenger_since >= self.hold_s:
                self._key = KeyCandidate(est.tonic, est.mode, est.r)
                self._challenger = None
            return
        cur = self._key
        r_cur = est.r_of(cur.tonic, cur.mode)
        if (est.tonic, est.mode) == (cur.tonic, cur.mode) or est.r - r_cur < self.margin:
            self._key = KeyCandidate(cur.tonic, cur.mode, r_cur)
            self._challenger = None
            return
        if self._challenger != (est.tonic, est.mode):
            self._challenger = (est.tonic, est.mode)
            self._challenger_since = now
        if now - self._challenger_since >= self.hold_s:
            self._key = KeyCandidate(est.tonic, est.mode, est.r)
            self._challenger = None
        else:
            self._key = KeyCandidate(cur.tonic, cur.mode, r_cur)
