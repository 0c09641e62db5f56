"""One bar of accompaniment as note events, per style (the accompanist's "hands").

:func:`pattern` turns a voiced chord (``notes``, e.g. from :func:`bassd.dsp.voicing.voice_lead`)
and an optional ``bass`` note into the :class:`NoteEvent` list of one bar, in beats from the
bar's downbeat (exact :class:`~fractions.Fraction` positions, so a scheduler can place them
on the beat grid without rounding). Every event lies inside the bar: ``beat + length <=
beats_per_bar``. Styles:

* ``pad``: every note and the bass at beat 0, held the whole bar, at ``velocity``;
* ``block``: the chord on every beat, ``velocity`` on the downbeat and :data:`SOFT` times it
  on the other beats; the bass on beat 0 (and on the half-bar beat when the bar has an even
  number of beats, 4 or more: beat 2 of 4/4); each event :data:`BLOCK_LENGTH` beats long;
* ``arpeggio``: the bass at beat 0 held the whole bar, and the chord notes rising then
  falling (``c e g c' g e c e ...``) in eighth notes filling the bar, on-beat eighths at
  ``velocity`` and off-beat ones at :data:`SOFT` times it.

Pure: no I/O, no clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

STYLES: tuple[str, ...] = ("pad", "block", "arpeggio")
BLOCK_LENGTH = Fraction(9, 10)
EIGHTH = Fraction(1, 2)
SOFT = 0.7
MAX_BEATS = 16


@dataclass(frozen=True)
class NoteEvent:
    """A note of the bar: start ``beat`` from the downbeat and ``length``, both in beats."""

    beat: Fraction
    note: int
    velocity: int
    length: Fraction


def _check_note(name: str, v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 127:
        raise ValueError(f"{name} must be a MIDI note 0..127, got {v!r}")
    return v


def _soft(velocity: int) -> int:
    return max(1, round(velocity * SOFT))


def _up_down(notes: Sequence[int], count: int) -> list[int]:
    """``count`` notes going up the chord and back down, the turning notes not repeated."""
    cycle = list(notes) + list(notes[-2:0:-1]) if len(notes) > 1 else list(notes)
    return [cycle[i % len(cycle)] for i in range(count)]


def pattern(
    style: str,
    notes: Sequence[int],
    bass: int | None,
    beats_per_bar: int,
    velocity: int = 80,
) -> list[NoteEvent]:
    """The events of one bar of ``style`` (see module), sorted by beat then note."""
    if style not in STYLES:
        raise ValueError(f"unknown accompaniment style {style!r}; styles: {', '.join(STYLES)}")
    chord = sorted(_check_note("note", n) for n in notes)
    if bass is not None:
        _check_note("bass", bass)
    if (
        isinstance(beats_per_bar, bool)
        or not isinstance(beats_per_bar, int)
        or not 1 <= beats_per_bar <= MAX_BEATS
    ):
        raise ValueError(f"beats_per_bar must be an int 1..{MAX_BEATS}, got {beats_per_bar!r}")
    if isinstance(velocity, bool) or not isinstance(velocity, int) or not 1 <= velocity <= 127:
        raise ValueError(f"velocity must be an int 1..127, got {velocity!r}")
    bar = Fraction(beats_per_bar)
    zero = Fraction(0)
    events: list[NoteEvent] = []
    if style == "pad":
        voices = chord if bass is None else [bass, *chord]
        events = [NoteEvent(zero, n, velocity, bar) for n in voices]
    elif style == "block":
        soft = _soft(velocity)
        for beat in range(beats_per_bar):
            vel = velocity if beat == 0 else soft
            events += [NoteEvent(Fraction(beat), n, vel, BLOCK_LENGTH) for n in chord]
        if bass is not None:
            bass_beats = [0]
            if beats_per_bar >= 4 and beats_per_bar % 2 == 0:
                bass_beats.append(beats_per_bar // 2)
            events += [NoteEvent(Fraction(b), bass, velocity, BLOCK_LENGTH) for b in bass_beats]
    else:  # arpeggio
        if bass is not None:
            events.append(NoteEvent(zero, bass, velocity, bar))
        if chord:
            soft = _soft(velocity)
            for i, n in enumerate(_up_down(chord, 2 * beats_per_bar)):
                vel = velocity if i % 2 == 0 else soft
                events.append(NoteEvent(i * EIGHTH, n, vel, EIGHTH))
    events.sort(key=lambda e: (e.beat, e.note))
    return events
