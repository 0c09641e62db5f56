"""Beat positions on the engine's sample clock (issue 8: metronome).

Beat ``k``'s frame is always computed from an exact rational anchor as
``round_half_up(anchor_frame + (k - anchor_beat) * 60 * sample_rate / bpm)`` using
:class:`fractions.Fraction`, never by accumulating rounded periods, so the grid is exact
and drift-free over arbitrarily long runs.  Beat indices count from 0 at ``start_frame``.

Tempo changes re-anchor at the next beat at or after the requested frame (that beat keeps
its frame, later beats follow the new period).  Meter changes take effect at the next bar
line at or after the requested frame.  Beat indices continue across both, so the bar
position is never reset.  Pure: no I/O, no clocks.

A clock that runs for weeks under tempo following or Link changes tempo up to once a bar:
each change drops the segments superseded more than ``history_beats`` before it, so the
schedule (and the cost of every query) stays bounded; beats that far back are not asked
for (the jam looks back a grid step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

MIN_BPM = 20.0
MAX_BPM = 300.0
MIN_METER = 1
MAX_METER = 16


def _round_half_up(x: Fraction) -> int:
    """floor(x + 1/2): deterministic rounding of an exact frame position."""
    return math.floor(x + Fraction(1, 2))


def _ceil(x: Fraction) -> int:
    return -math.floor(-x)


def _check_bpm(bpm: float) -> Fraction:
    if isinstance(bpm, bool) or not isinstance(bpm, int | float):
        raise ValueError(f"tempo_bpm must be a number, got {bpm!r}")
    if not math.isfinite(bpm) or not MIN_BPM <= bpm <= MAX_BPM:
        raise ValueError(f"tempo_bpm {bpm!r} out of range {MIN_BPM:g}..{MAX_BPM:g} bpm")
    return Fraction(bpm)


def _check_meter(beats_per_bar: int) -> int:
    if isinstance(beats_per_bar, bool) or not isinstance(beats_per_bar, int):
        raise ValueError(f"beats_per_bar must be an int, got {beats_per_bar!r}")
    if not MIN_METER <= beats_per_bar <= MAX_METER:
        raise ValueError(f"beats_per_bar {beats_per_bar!r} out of range {MIN_METER}..{MAX_METER}")
    return beats_per_bar


@dataclass(frozen=True)
class _TempoSeg:
    start_beat: int
    anchor_frame: Fraction  # exact frame of start_beat
    period: Fraction  # frames per beat, exact
    bpm: float


@dataclass(frozen=True)
class _MeterSeg:
    start_beat: int  # a bar line
    beats_per_bar: int


_S = TypeVar("_S", _TempoSeg, _MeterSeg)


class BeatClock:
    """Exact beat grid on the sample clock with tempo and meter changes."""

    def __init__(
        self,
        sample_rate: int,
        tempo_bpm: float,
        beats_per_bar: int,
        start_frame: int = 0,
        history_beats: int | None = 64,
    ) -> None:
        """Beat 0 (a downbeat) falls on ``start_frame``; ``history_beats`` (None: all) is how
        far before a change the schedule stays exact."""
        if history_beats is not None and history_beats < 1:
            raise ValueError(f"history_beats must be >= 1 or None, got {history_beats!r}")
        self.history_beats = history_beats
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
        if isinstance(start_frame, bool) or not isinstance(start_frame, int):
            raise ValueError(f"start_frame must be an int, got {start_frame!r}")
        self.sample_rate = sample_rate
        self.start_frame = start_frame
        bpm = _check_bpm(tempo_bpm)
        self._tempo: list[_TempoSeg] = [
            _TempoSeg(0, Fraction(start_frame), Fraction(60 * sample_rate) / bpm, tempo_bpm)
        ]
        self._meter: list[_MeterSeg] = [_MeterSeg(0, _check_meter(beats_per_bar))]

    # -- queries -------------------------------------------------------------------------

    def _tempo_seg(self, beat: int) -> _TempoSeg:
        seg = self._tempo[0]
        for s in self._tempo:
            if s.start_beat <= beat:
                seg = s
            else:
                break
        return seg

    def _meter_seg(self, beat: int) -> _MeterSeg:
        seg = self._meter[0]
        for s in self._meter:
            if s.start_beat <= beat:
                seg = s
            else:
                break
        return seg

    def beat_frame(self, beat: int) -> int:
        """Absolute frame of beat ``beat`` (>= 0) under the current schedule."""
        if beat < 0:
            raise ValueError(f"beat index {beat!r} must be >= 0")
        seg = self._tempo_seg(beat)
        return _round_half_up(seg.anchor_frame + (beat - seg.start_beat) * seg.period)

    def is_downbeat(self, beat: int) -> bool:
        """True when ``beat`` is the first beat of a bar."""
        seg = self._meter_seg(beat)
        return (beat - seg.start_beat) % seg.beats_per_bar == 0

    def tempo_at_beat(self, beat: int) -> float:
        """Tempo (bpm) in force for ``beat``."""
        return self._tempo_seg(beat).bpm

    def meter_at_beat(self, beat: int) -> int:
        """Beats per bar in force for ``beat``."""
        return self._meter_seg(beat).beats_per_bar

    def _beat_range(self, lo: int, hi: int) -> list[int]:
        """Beat indices whose frames lie in [lo, hi), ascending."""
        out: list[int] = []
        half = Fraction(1, 2)
        for i, seg in enumerate(self._tempo):
            nxt = self._tempo[i + 1] if i + 1 < len(self._tempo) else None
            if nxt is not None and nxt.anchor_frame < lo - 1:
                continue  # ends before the range
            if seg.anchor_frame > hi + 1:
                break  # this one and the later ones start after it
            end_beat = nxt.start_beat if nxt is not None else None
            j0 = max(0, _ceil((lo - half - seg.anchor_frame) / seg.period))
            j1 = _ceil((hi - half - seg.anchor_frame) / seg.period)  # exclusive
            k0 = seg.start_beat + j0
            k1 = seg.start_beat + j1
            if end_beat is not None:
                k1 = min(k1, end_beat)
            out.extend(range(k0, k1))
        return out

    def next_beat_at_or_after(self, frame: int) -> int:
        """Index of the first beat whose frame is >= ``frame``."""
        lo = frame
        span = max(1, math.ceil(self._tempo[-1].period)) * 2
        while True:
            # Beats are never sparser than the largest period; widen until one is found.
            ks = self._beat_range(lo, lo + span)
            if ks:
                return ks[0]
            lo += span

    def beats_in(self, frame0: int, frames: int) -> list[tuple[int, int, bool]]:
        """(frame, beat index, is_downbeat) for every beat in [frame0, frame0 + frames)."""
        if frames < 0:
            raise ValueError(f"frames {frames!r} must be >= 0")
        return [
            (self.beat_frame(k), k, self.is_downbeat(k))
            for k in self._beat_range(frame0, frame0 + frames)
        ]

    def beat_at(self, frame: int) -> float:
        """The beat position (fractional) at ``frame`` (>= start_frame)."""
        if frame < self.start_frame:
            raise ValueError(f"frame {frame!r} is before the clock's start {self.start_frame}")
        k1 = self.next_beat_at_or_after(frame)
        f1 = self.beat_frame(k1)
        if f1 == frame or k1 == 0:
            return float(k1)
        f0 = self.beat_frame(k1 - 1)
        return k1 - 1 + (frame - f0) / (f1 - f0)

    def bar_phase(self, beat: float) -> float:
        """Where ``beat`` lies in its bar, in beats: 0 on a bar line, up to the meter."""
        seg = self._meter_seg(math.floor(beat))
        return (beat - seg.start_beat) % seg.beats_per_bar

    # -- changes -------------------------------------------------------------------------

    def shift(self, beat: int, frames: int) -> None:
        """From ``beat`` on, every beat lands ``frames`` later (earlier if negative): the
        beat before keeps its frame, so the gap to ``beat`` grows (or shrinks) by that
        much. A phase correction (Ableton Link); at most half a period either way."""
        seg = self._tempo_seg(beat)
        if beat < 1 or abs(frames) * 2 > seg.period:
            raise ValueError(
                f"a shift of {frames} frames at beat {beat} (period {float(seg.period):.1f}) "
                "must be under half a period, after beat 0"
            )
        anchor = Fraction(self.beat_frame(beat) + frames)
        self._tempo = [s for s in self._tempo if s.start_beat < beat]
        self._tempo.append(_TempoSeg(beat, anchor, seg.period, seg.bpm))
        self._tempo = self._pruned(self._tempo, beat)

    def set_tempo(self, bpm: float, at_frame: int) -> int:
        """Change tempo from the first beat at or after ``at_frame``; return that beat.

        That beat keeps its frame; later beats follow the new period exactly.  Any pending
        change scheduled at or after that beat is replaced.
        """
        new = _check_bpm(bpm)
        k = self.next_beat_at_or_after(at_frame)
        anchor = Fraction(self.beat_frame(k))
        self._tempo = [s for s in self._tempo if s.start_beat < k]
        self._tempo.append(_TempoSeg(k, anchor, Fraction(60 * self.sample_rate) / new, bpm))
        self._tempo = self._pruned(self._tempo, k)
        return k

    def set_meter(self, beats_per_bar: int, at_frame: int) -> int:
        """Change meter from the first bar line at or after ``at_frame``; return its beat.

        Any pending meter change at or after that bar line is replaced.
        """
        bpb = _check_meter(beats_per_bar)
        k = self.next_beat_at_or_after(at_frame)
        seg = self._meter_seg(k)
        off = (k - seg.start_beat) % seg.beats_per_bar
        if off:
            k += seg.beats_per_bar - off
        # A later pending meter segment may start before k; bar lines follow it then.
        for s in self._meter:
            if s.start_beat > seg.start_beat and s.start_beat <= k:
                k = s.start_beat
                break
        self._meter = [s for s in self._meter if s.start_beat < k]
        self._meter.append(_MeterSeg(k, bpb))
        self._meter = self._pruned(self._meter, k)
        return k

    def _pruned(self, segs: list[_S], k: int) -> list[_S]:
        """``segs`` without those superseded before beat ``k - history_beats`` (the one in
        force there stays)."""
        if self.history_beats is None:
            return segs
        horizon = k - self.history_beats
        i = 0
        while i + 1 < len(segs) and segs[i + 1].start_beat <= horizon:
            i += 1
        return segs[i:]
