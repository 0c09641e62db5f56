"""The jam: a keyboard player's accompanist and metronome, a layer of the engine's mix.

Everything here runs on the engine's one sample clock (``Engine.frame``), inside
``Engine.render``: the live pump and the offline renderer call the same code, so an
offline render is sample-identical to what would have been played, and nothing drifts.

Per block ``[frame0, frame0 + n)``:

1. the player's notes stamped before the block's end are heard (``note_on``/``note_off``
   queue them with their frames; the harmonist and the tempo follower take them in order);
2. for every bar whose decision point (``decide_before_s`` ahead of its downbeat) falls in
   the block, the harmonist decides the chord (Ear over the last ``ear_window_beats``,
   fused with the prediction made ahead), the voicing moves to it with the least motion,
   and the style's pattern for that bar is scheduled, note by note, on exact frames
   (a chord's onset *is* its downbeat's frame);
3. FluidSynth renders the block in pieces split at those frames (``get_samples``, never
   its own audio driver), so each note starts on its sample; the metronome's clicks start
   on the beat frames of the :class:`~bassd.dsp.beat_clock.BeatClock`.

Tempo and meter changes (OSC, tempo following, Ableton Link) take effect at the next bar
that is not decided yet, so a scheduled bar is never torn. Every note, key change, chord
decision and beat goes to ``on_event`` (the session's events.csv), its detail a JSON object
with the row's ``frame`` on the engine clock (chords also: Roman numeral, key, probability,
the Ear's and the predictor's favourites, the notes voiced).
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import numpy as np
import structlog

from bassd.dsp.accomp_styles import pattern
from bassd.dsp.beat_clock import BeatClock
from bassd.dsp.chords import absolute
from bassd.dsp.click import Click
from bassd.dsp.harmonist import Decision, Harmonist, Key, Predictor, parse_key
from bassd.dsp.tempo_follow import TempoFollower
from bassd.dsp.voicing import bass_note, voice_lead
from bassd.engine.jam_config import JamConfig

log = structlog.get_logger("bassd.jam")

CHORD_CH, THRU_CH = 0, 1
#: (kind, value, detail, frame): a row for events.csv
EventSink = Callable[[str, object, str, int], None]


class Synth(Protocol):
    """What the jam needs of a synthesiser (``engine/fluid_synth.FluidVoice``)."""

    def program(self, channel: int, program: int, bank: int = 0) -> None: ...
    def note_on(self, channel: int, note: int, velocity: int) -> None: ...
    def note_off(self, channel: int, note: int) -> None: ...
    def all_notes_off(self, channel: int | None = None) -> None: ...
    def render(self, frames: int) -> np.ndarray: ...
    def close(self) -> None: ...


@dataclass(order=True)
class _Scheduled:
    frame: int
    order: int  # note-offs before note-ons at the same frame; then FIFO
    seq: int
    channel: int = field(compare=False)
    note: int = field(compare=False)
    velocity: int = field(compare=False)  # 0: note-off


@dataclass(frozen=True)
class PlayerNote:
    on: bool
    note: int
    velocity: int
    frame: int


class Jam:
    def __init__(
        self,
        config: JamConfig,
        sample_rate: int,
        *,
        synth: Synth | None,
        predictor: Predictor | None,
        on_event: EventSink | None = None,
        start_frame: int = 0,
    ) -> None:
        self.config = config
        self.sample_rate = sample_rate
        self.synth = synth
        self.on_event = on_event
        self.clock = BeatClock(sample_rate, config.tempo_bpm, config.beats_per_bar, start_frame)
        self.click = Click(sample_rate, config.metronome.level_db, config.metronome.accent_db)
        self.click.enabled = config.metronome.enabled
        self.harmonist = Harmonist(
            predictor,
            fusion_weight=config.fusion_weight,
            profile=config.key_profile,
            context=config.context,
        )
        if config.key_lock:
            self.harmonist.lock_key(parse_key(config.key_lock))
        tf = config.tempo_follow
        self.follower = TempoFollower(
            config.tempo_bpm, min_bpm=tf.min_bpm, max_bpm=tf.max_bpm, window=tf.window,
            threshold=tf.threshold, hold=tf.hold,
        )  # fmt: skip
        self.tempo_follow = tf.enabled
        self.accompaniment = config.accompaniment
        self.style = config.style
        self.level_db = config.level_db
        self._program = config.program
        if synth is not None:
            synth.program(CHORD_CH, config.program)
            synth.program(THRU_CH, config.thru_program)
        self._inbox: list[PlayerNote] = []  # the player's notes, in arrival order
        self._queue: list[_Scheduled] = []  # the accompaniment's notes (a heap by frame)
        self._seq = 0
        self._sounding: set[tuple[int, int]] = set()  # (channel, note) on in the synth
        self._next_bar = 0  # beat index of the next downbeat to decide
        self._voicing: tuple[int, ...] | None = None
        self._pending_tempo: float | None = None
        self._pending_meter: int | None = None
        self._render_end = start_frame
        self._shifted_from = start_frame  # the frame of the last correction's bar line
        self.phase_shifts = 0
        self.key: Key | None = None
        self.chord: Decision | None = None
        self.decisions = 0
        self.notes = 0
        self.beat = -1
        # the last decision's own time: Ear, fusion, voicing, the bar's pattern (the
        # prediction it fuses was made ahead, after the previous decision)
        self.decision_us: float | None = None
        self._decision_us: list[float] = []
        self._frame = start_frame  # the end of the last block rendered
        # FluidSynth starts a note at its next internal block (64 frames): every frame the
        # jam plays on is put on that grid, counted from start_frame, so onsets are exact
        self.grid = int(getattr(synth, "block", 1)) if synth is not None else 1

    def frame_now(self) -> int:
        """The engine frame the jam has rendered up to."""
        return self._frame

    # -- the player (from MIDI or a file), stamped on the engine clock ---------------------
    def note_on(self, note: int, velocity: int, frame: int) -> None:
        self._inbox.append(PlayerNote(velocity > 0, note, velocity, frame))

    def note_off(self, note: int, frame: int) -> None:
        self._inbox.append(PlayerNote(False, note, 0, frame))

    def all_notes_off(self, frame: int | None = None) -> None:
        """Panic: silence everything the jam plays and forget the held notes."""
        f = self.clock.start_frame if frame is None else frame
        self.harmonist.all_notes_off(f / self.sample_rate)
        self._queue = [s for s in self._queue if s.velocity == 0 and s.channel == CHORD_CH]
        heapq.heapify(self._queue)
        if self.synth is not None:
            self.synth.all_notes_off(None)
        self._sounding.clear()
        self._emit("all_notes_off", "", {}, f)

    def _hear(self, n: PlayerNote) -> None:
        t = n.frame / self.sample_rate
        if n.on:
            self.harmonist.note_on(n.note, n.velocity, t)
            self.notes += 1
            if self.tempo_follow:
                bpm = self.follower.onset(t)
                if bpm is not None:
                    self.set_tempo(bpm, source="follow")
        else:
            self.harmonist.note_off(n.note, t)
        if self.config.thru and self.synth is not None:
            self._push(self._snap(n.frame), THRU_CH, n.note, n.velocity if n.on else 0)
        self._emit("note_on" if n.on else "note_off", n.note, {"velocity": n.velocity}, n.frame)

    # -- controls ----------------------------------------------------------------------
    def set_tempo(self, bpm: float, *, source: str = "osc") -> None:
        """From the next bar not decided yet."""
        self._pending_tempo = float(bpm)
        self._emit("tempo_request", f"{bpm:.2f}", {"source": source},
                   self.beat_frame(self._next_bar))  # fmt: skip

    def set_meter(self, beats_per_bar: int) -> None:
        self._pending_meter = int(beats_per_bar)

    def shift_phase(self, frames: int) -> bool:
        """Move the beat grid ``frames`` later (earlier if negative) from the next bar not
        decided yet: at most half a beat, and no earlier than its decision can still be
        made (a larger correction takes several bars). False if nothing could move."""
        k = self._next_bar
        if k < 1 or frames == 0:
            return False
        half = round(30 * self.sample_rate / self.clock.tempo_at_beat(k)) - 1
        lead = round(self.config.decide_before_s * self.sample_rate)
        d = max(-half, min(half, int(frames)))
        d = max(d, self._render_end + lead - self.clock.beat_frame(k) + 1)  # still ahead
        if d * frames <= 0:
            return False
        self.clock.shift(k, d)
        self.phase_shifts += 1
        self._shifted_from = self.clock.beat_frame(k)
        self._emit("phase_shift", round(1e3 * d / self.sample_rate, 2),
                   {"beat": k, "frames": d}, self._shifted_from)  # fmt: skip
        return True

    def phase_settled(self, frame: int) -> bool:
        """The engine frame ``frame`` is past the last correction's bar line (before it,
        the grid played is the old one)."""
        return frame >= self._shifted_from

    def bar_phase_at(self, frame: int) -> float | None:
        """Where the engine frame ``frame`` lies in the jam's bar, in beats (None before
        the jam started)."""
        if frame < self.clock.start_frame:
            return None
        return self.clock.bar_phase(self.clock.beat_at(frame))

    def set_program(self, program: int) -> None:
        self._program = program
        if self.synth is not None:
            self.synth.program(CHORD_CH, program)

    @property
    def program(self) -> int:
        return self._program

    def set_metronome(self, on: bool) -> None:
        self.click.enabled = on

    def set_key_lock(self, key: str | None) -> None:
        self.harmonist.lock_key(parse_key(key) if key else None)

    def set_fusion_weight(self, w: float) -> None:
        if not 0.0 <= w <= 1.0:
            raise ValueError(f"fusion weight must be within 0..1, not {w}")
        self.harmonist.fusion_weight = float(w)

    # -- the sample clock ----------------------------------------------------------------
    def _push(self, frame: int, channel: int, note: int, velocity: int) -> None:
        self._seq += 1
        heapq.heappush(
            self._queue,
            _Scheduled(frame, 0 if velocity == 0 else 1, self._seq, channel, note, velocity),
        )

    def _snap(self, frame: int) -> int:
        """The nearest frame of the synth's grid (no drift: each frame is snapped on its
        own, at most half a grid step, 0.67 ms at 48 kHz, from the exact beat)."""
        g, s0 = self.grid, self.clock.start_frame
        return s0 + ((frame - s0 + g // 2) // g) * g if g > 1 else frame

    def beat_frame(self, beat: int) -> int:
        """Where beat ``beat`` sounds: the beat grid's frame on the synth's grid."""
        return self._snap(self.clock.beat_frame(beat))

    def _beats_in(self, frame0: int, frames: int) -> list[tuple[int, int, bool]]:
        """(frame, beat, downbeat) of the beats that sound in [frame0, frame0 + frames)."""
        g = self.grid
        lo = max(self.clock.start_frame, frame0 - g)
        raw = self.clock.beats_in(lo, frame0 + frames + g - lo)
        out = [(self._snap(f), k, down) for f, k, down in raw]
        return [b for b in out if frame0 <= b[0] < frame0 + frames]

    def _frame_of(self, beat: int, offset: Fraction) -> int:
        whole = int(offset)
        frac = offset - whole
        f0 = self.clock.beat_frame(beat + whole)
        if frac == 0:
            return self._snap(f0)
        f1 = self.clock.beat_frame(beat + whole + 1)
        return self._snap(f0 + round(frac * (f1 - f0)))

    def _decision_frame(self, bar_beat: int) -> int:
        lead = round(self.config.decide_before_s * self.sample_rate)
        return max(self.clock.start_frame, self.clock.beat_frame(bar_beat) - lead)

    def _apply_pending(self) -> None:
        at = self.clock.beat_frame(self._next_bar)
        if self._pending_tempo is not None:
            bpm, self._pending_tempo = self._pending_tempo, None
            k = self.clock.set_tempo(bpm, at)
            self.follower.reset(bpm)
            self._emit("tempo", f"{bpm:.2f}", {"beat": k}, self.beat_frame(k))
        if self._pending_meter is not None:
            m, self._pending_meter = self._pending_meter, None
            k = self.clock.set_meter(m, at)
            self._next_bar = k
            self._emit("meter", m, {"beat": k}, self.beat_frame(k))

    def _decide_bar(self, bar_beat: int) -> None:
        cfg = self.config
        downbeat = self.beat_frame(bar_beat)
        meter = self.clock.meter_at_beat(bar_beat)
        t1 = self._decision_frame(bar_beat) / self.sample_rate
        beat_s = 60.0 / self.clock.tempo_at_beat(bar_beat)
        t0 = t1 - cfg.ear_window_beats * beat_s
        key = self.harmonist.key_at(t1)
        if key != self.key and key is not None:
            self.key = key
            est = self.harmonist.live_key.estimate()
            info: dict[str, Any] = {"locked": self.harmonist.locked is not None}
            if est is not None and not info["locked"]:
                info["r"] = round(est.r, 3)
            self._emit("key", key.name, info, downbeat)
        idle = (
            cfg.idle_bars > 0
            and (self.harmonist.last_note_s is None or
                 t1 - self.harmonist.last_note_s > cfg.idle_bars * meter * beat_s)
        )  # fmt: skip
        if not self.accompaniment or idle or key is None:
            if self.chord is not None:
                self._emit("chord_rest", "", {"why": "idle" if idle else "off"}, downbeat)
            self.chord = None
            return
        started = time.perf_counter()
        decision = self.harmonist.decide((t0, t1))
        if decision is None:
            return
        pcs = absolute(decision.chord, decision.key.tonic)
        notes = voice_lead(
            pcs, self._voicing, low=cfg.low_note, high=cfg.high_note, voices=cfg.voices
        )
        bass = bass_note(pcs[0], low=cfg.bass_low, high=cfg.bass_high) if cfg.bass else None
        events = pattern(self.style, notes, bass, meter, cfg.velocity)
        self._record_decision_time(time.perf_counter() - started)
        self._voicing = notes
        for ev in events:  # (its frames: Fraction arithmetic on the beat grid, ~10 µs each)
            on = self._frame_of(bar_beat, ev.beat)
            off = self._frame_of(bar_beat, ev.beat + ev.length)
            self._push(on, CHORD_CH, ev.note, ev.velocity)
            self._push(max(on + 1, off), CHORD_CH, ev.note, 0)
        self.harmonist.think_ahead(decision.key)  # the next bar's prediction, now
        self.chord = decision
        self.decisions += 1
        detail = {
            "roman": decision.roman,
            "key": decision.key.name,
            "p": round(decision.probability, 4),
            "ear": decision.ear_top,
            "predicted": decision.predicted_top,
            "heard": decision.heard_notes,
            "style": self.style,
            "notes": list(notes) + ([bass] if bass is not None else []),
        }
        self._emit("chord", decision.symbol, detail, downbeat)

    def _record_decision_time(self, seconds: float) -> None:
        self.decision_us = seconds * 1e6
        self._decision_us.append(self.decision_us)
        del self._decision_us[:-1000]

    def render(self, frame0: int, frames: int) -> np.ndarray:
        """The jam's (frames, 2) float32 contribution to the mix for [frame0, frame0 + n)."""
        end = frame0 + frames
        self._render_end = end
        self._inbox.sort(key=lambda n: n.frame)  # stable: arrival order within a frame
        inbox, self._inbox = self._inbox, []
        late = [n for n in inbox if n.frame >= end]
        self._inbox = late
        heard = [n for n in inbox if n.frame < end]
        hi = 0
        while True:
            bar = self._next_bar
            decide_at = self._decision_frame(bar)
            if decide_at >= end:
                break
            # hear the notes up to the decision point first
            while hi < len(heard) and heard[hi].frame <= decide_at:
                self._hear(heard[hi])
                hi += 1
            self._apply_pending()
            bar = self._next_bar
            if self.beat_frame(bar) >= frame0:
                self._decide_bar(bar)
            # else: a downbeat already past (the transport was paused): not played late
            self._next_bar = bar + self.clock.meter_at_beat(bar)
        for n in heard[hi:]:
            self._hear(n)
        beats = self._beats_in(frame0, frames)
        for frame, k, down in beats:
            self.beat = k
            self._emit("beat", k, {"downbeat": down}, frame)
        out = self._render_synth(frame0, frames)
        clicks = self.click.render(frame0, frames, beats)
        out += clicks
        self._frame = end
        return out

    def _render_synth(self, frame0: int, frames: int) -> np.ndarray:
        out = np.zeros((frames, 2), dtype=np.float32)
        synth = self.synth
        if synth is not None and frame0 != self._frame and self.grid > 1:
            # blocks were not rendered (a paused transport): keep the synth on the grid
            skip = (frame0 - self._frame) % self.grid
            if skip:
                synth.render(skip)
        if synth is None:
            self._queue = [s for s in self._queue if s.frame >= frame0 + frames]
            heapq.heapify(self._queue)
            return out
        end = frame0 + frames
        pos = frame0
        while self._queue and self._queue[0].frame < end:
            ev = heapq.heappop(self._queue)
            at = max(ev.frame, frame0)
            if at > pos:
                out[pos - frame0 : at - frame0] = synth.render(at - pos)
                pos = at
            if ev.velocity > 0:
                synth.note_on(ev.channel, ev.note, ev.velocity)
                self._sounding.add((ev.channel, ev.note))
            else:
                synth.note_off(ev.channel, ev.note)
                self._sounding.discard((ev.channel, ev.note))
        if end > pos:
            out[pos - frame0 :] = synth.render(end - pos)
        gain = 10.0 ** (self.level_db / 20.0)
        if gain != 1.0:
            out *= np.float32(gain)
        return out

    def _emit(self, kind: str, value: object, fields: dict[str, Any], frame: int) -> None:
        """A row: its detail is a JSON object that always carries the row's ``frame``."""
        if self.on_event is not None:
            detail = json.dumps({"frame": frame, **fields}, sort_keys=True)
            self.on_event(kind, value, detail, frame)

    # -- figures -----------------------------------------------------------------------
    def figures(self) -> dict[str, Any]:
        """What /status reports of the jam."""
        d = self.chord
        p99 = float(np.percentile(self._decision_us, 99)) if self._decision_us else None
        return {
            "jam_state": "playing",
            "jam_tempo_follow": self.tempo_follow,
            "jam_key": self.key.name if self.key is not None else "",
            "jam_key_locked": self.harmonist.locked is not None,
            "jam_chord": d.symbol if d is not None else "",
            "jam_chord_roman": d.roman if d is not None else "",
            "jam_next_chord": self.harmonist.next_chord() or "",
            "jam_tempo_bpm": round(self.clock.tempo_at_beat(max(0, self.beat)), 3),
            "jam_phase_shifts": self.phase_shifts,
            "jam_meter": self.clock.meter_at_beat(max(0, self.beat)),
            "jam_beat": self.beat,
            "jam_style": self.style,
            "jam_program": self._program,
            "jam_accompaniment": self.accompaniment,
            "jam_metronome": self.click.enabled,
            "jam_fusion_weight": self.harmonist.fusion_weight,
            "jam_notes": self.notes,
            "jam_chords": self.decisions,
            "jam_decision_us": round(self.decision_us, 1) if self.decision_us else None,
            "jam_decision_p99_us": round(p99, 1) if p99 is not None else None,
        }

    def close(self) -> None:
        if self.synth is not None:
            self.synth.all_notes_off(None)
            self.synth.close()
            self.synth = None
