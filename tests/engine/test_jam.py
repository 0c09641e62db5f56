"""The jam on the engine's sample clock: chords on beat frames, clicks in the audio on the
beats, deterministic renders, tempo and meter changes at bar lines, panic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bassd.dsp.chords import vocabulary
from bassd.dsp.harmonist import parse_key
from bassd.engine.fluid_synth import FluidVoice, find_soundfont
from bassd.engine.jam import Jam
from bassd.engine.jam_config import JamConfig
from bassd.models.chord_bigram import BigramModel
from bassd.models.chord_corpus import SHIPPED_CORPUS, read_corpus

SR = 48000
BLOCK = 256


def _sf() -> Path:
    try:
        return find_soundfont()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def bigram() -> BigramModel:
    return BigramModel().fit(read_corpus(SHIPPED_CORPUS))


def melody_g_major(bpm: float = 120.0) -> list[tuple[int, int, int]]:
    """(on frame, off frame, pitch): a G major tune in quarter notes, 8 bars of 4/4."""
    tune = [67, 71, 74, 71, 72, 76, 74, 72, 71, 67, 69, 71, 72, 69, 66, 62] * 2
    beat = 60.0 / bpm * SR
    return [(round(i * beat), round((i + 0.9) * beat), p) for i, p in enumerate(tune)]


def run(jam: Jam, notes: list[tuple[int, int, int]], seconds: float) -> np.ndarray:
    """Render like the engine does: each note reaches the jam before the block it falls in."""
    events = sorted([(a, 1, p) for a, _, p in notes] + [(b, 0, p) for _, b, p in notes])
    out, i, frame = [], 0, 0
    total = round(seconds * SR)
    while frame < total:
        while i < len(events) and events[i][0] < frame + BLOCK:
            f, on, p = events[i]
            jam.note_on(p, 90, f) if on else jam.note_off(p, f)
            i += 1
        out.append(jam.render(frame, BLOCK))
        frame += BLOCK
    return np.concatenate(out)


def make(bigram: BigramModel | None, rows: list, **cfg: object) -> Jam:
    config = JamConfig.model_validate({"enabled": True, "tempo_bpm": 120.0, **cfg})
    synth = FluidVoice(SR, _sf())
    predict = bigram.predict if bigram is not None else None
    return Jam(config, SR, synth=synth, predictor=predict, on_event=lambda *r: rows.append(r))


def test_every_chord_onset_is_a_downbeat_frame_and_fits_the_key(bigram: BigramModel) -> None:
    """Each chord decision's frame is a downbeat's frame from the beat grid; the chord is in
    the vocabulary of the key reported, and the key heard is G major."""
    rows: list = []
    jam = make(bigram, rows, metronome={"enabled": False})
    run(jam, melody_g_major(), 16.0)
    downbeats = {f for k, v, d, f in rows if k == "beat" and json.loads(d)["downbeat"]}
    # (a bar decided just before the render's end starts after it)
    chords = [(v, json.loads(d), f) for k, v, d, f in rows if k == "chord" and f < 16 * SR]
    assert len(chords) >= 5
    keys = [v for k, v, d, f in rows if k == "key"]
    assert keys and keys[-1] == "G major"
    for _symbol, detail, frame in chords:
        assert frame == detail["frame"] and frame in downbeats
        key = parse_key(detail["key"])
        assert detail["roman"] in {c.roman for c in vocabulary(key.mode)}
    diatonic = {c.roman for c in vocabulary("major") if c.kind == "diatonic"}
    share = sum(d["roman"] in diatonic for _, d, _ in chords) / len(chords)
    assert share >= 0.6, [d["roman"] for _, d, _ in chords]


@pytest.mark.parametrize("bpm", [120.0, 107.0])  # 107: beats fall between FluidSynth blocks
def test_the_chord_sounds_from_its_frame_in_the_audio(bigram: BigramModel, bpm: float) -> None:
    """Metronome off, no thru: the audio is exactly silent before the first chord and sounds
    from its frame (its attack's first sample is 0, so within 2 samples), at a tempo whose
    beats fall between FluidSynth's 64-frame blocks too: the jam puts every onset on that
    grid (FluidSynth starts an event at its next block)."""
    rows: list = []
    jam = make(bigram, rows, metronome={"enabled": False}, style="block", tempo_bpm=bpm)
    audio = run(jam, melody_g_major(bpm), 12.0)
    chords = [f for k, v, d, f in rows if k == "chord" and f < len(audio)]
    assert len(chords) >= 3 and not np.any(audio[: chords[0]])
    assert all(f % FluidVoice.block == 0 for f in chords)
    first_sound = np.flatnonzero(audio[:, 0])[0]
    assert 0 <= first_sound - chords[0] <= 2  # a note's attack starts from 0


def test_metronome_clicks_start_on_the_beat_frames_in_the_audio() -> None:
    """Accompaniment off: the click onsets found in the audio are the beat frames, exactly."""
    rows: list = []
    jam = make(None, rows, accompaniment=False)
    audio = run(jam, [], 6.0)
    beats = [f for k, v, d, f in rows if k == "beat"]
    sounding = np.flatnonzero(audio[:, 0])
    # an onset: a sounding sample after at least 10 ms of exact silence (a click lasts 30 ms)
    gap = np.diff(sounding, prepend=-SR) > SR // 100
    onsets = [int(i) for i in sounding[gap]]
    assert onsets == beats
    assert len(beats) == 12  # 120 bpm, 6 s


def test_two_renders_of_one_performance_are_sample_identical(bigram: BigramModel) -> None:
    """The same notes at the same frames give the same samples (offline == live)."""
    a = run(make(bigram, []), melody_g_major(), 8.0)
    b = run(make(bigram, []), melody_g_major(), 8.0)
    assert np.any(a) and np.array_equal(a, b)


def test_tempo_change_takes_effect_at_the_next_undecided_bar(bigram: BigramModel) -> None:
    """/jam/tempo mid-bar: the bar already decided keeps its grid; from the next bar line
    the beats follow the new period exactly."""
    rows: list = []
    jam = make(bigram, rows, metronome={"enabled": False})
    jam.render(0, SR)  # 1 s: bar 0 (beats 0-3 at 120 bpm, 0.5 s each) is decided
    jam.set_tempo(60.0)
    for f in range(SR, 12 * SR, BLOCK):
        jam.render(f, BLOCK)
    beats = [f for k, v, d, f in rows if k == "beat"]
    gaps = np.diff(beats)
    assert set(gaps[:3]) == {SR // 2}  # bar 0 at 120 bpm
    assert set(gaps[4:]) == {SR}  # from beat 4 (bar 1) at 60 bpm
    tempo = [(v, f) for k, v, d, f in rows if k == "tempo"]
    assert [(v, f) for v, f in tempo] == [("60.00", beats[4])]


def test_meter_change_moves_the_bar_lines(bigram: BigramModel) -> None:
    """From the next bar line, bars have the new number of beats."""
    rows: list = []
    jam = make(bigram, rows, metronome={"enabled": False})
    jam.render(0, SR)  # bar 0 (4 beats) is decided
    jam.set_meter(3)
    for f in range(SR, 10 * SR, BLOCK):
        jam.render(f, BLOCK)
    downs = [int(v) for k, v, d, f in rows if k == "beat" and json.loads(d)["downbeat"]]
    assert downs[:4] == [0, 4, 7, 10]


def test_panic_silences_the_accompaniment(bigram: BigramModel) -> None:
    """all_notes_off: the chord rings out through its release and is silent a second later;
    the note-offs still scheduled for it are harmless."""
    rows: list = []
    jam = make(bigram, rows, metronome={"enabled": False}, style="pad", idle_bars=0)
    notes = melody_g_major()
    run(jam, notes, 6.0)
    frame = 6 * SR
    jam.all_notes_off(frame)
    tail = np.concatenate([jam.render(frame + i * BLOCK, BLOCK) for i in range(SR // BLOCK)])
    assert np.abs(tail[-BLOCK:]).max() < 1e-4
    assert ("all_notes_off", "", json.dumps({"frame": frame}), frame) in rows


def test_the_player_resting_for_idle_bars_rests_the_accompaniment(bigram: BigramModel) -> None:
    """No note for jam.idle_bars bars: the next bar is a rest (and it is recorded)."""
    rows: list = []
    jam = make(bigram, rows, metronome={"enabled": False}, idle_bars=2)
    notes = [n for n in melody_g_major() if n[0] < 6 * SR]
    run(jam, notes, 14.0)
    rests = [f for k, v, d, f in rows if k == "chord_rest"]
    last_note = max(n[1] for n in notes)
    assert rests and rests[0] > last_note + 2 * 4 * SR // 2 - SR
    assert not [f for k, v, d, f in rows if k == "chord" and f > rests[0]]


def test_key_lock_plays_in_the_locked_key(bigram: BigramModel) -> None:
    """With the key locked to Eb major, a G major tune is accompanied in Eb major."""
    rows: list = []
    jam = make(bigram, rows, key_lock="Eb major", metronome={"enabled": False})
    run(jam, melody_g_major(), 8.0)
    keys = {json.loads(d)["key"] for k, v, d, f in rows if k == "chord"}
    assert keys == {"Eb major"}


def test_bad_config_is_an_error_that_names_the_key() -> None:
    """An unknown key, a bad style, a bad key lock and a collapsed range are rejected."""
    from pydantic import ValidationError

    for bad in ({"colour": 1}, {"style": "waltz"}, {"key_lock": "H major"},
                {"low_note": 60, "high_note": 64}):  # fmt: skip
        with pytest.raises(ValidationError):
            JamConfig.model_validate(bad)


def test_tempo_following_moves_the_beat_to_the_players_tempo(bigram: BigramModel) -> None:
    """With tempo following on, a player steady at 110 bpm against a 100 bpm jam moves the
    grid to ~110 bpm from a bar line, with the change recorded; a steady player at the jam's
    own tempo changes nothing."""
    for player_bpm, moves in ((110.0, True), (100.0, False)):
        rows: list = []
        jam = make(bigram, rows, tempo_bpm=100.0, tempo_follow={"enabled": True},
                   metronome={"enabled": False})  # fmt: skip
        beat = 60.0 / player_bpm * SR
        notes = [(round(i * beat), round((i + 0.5) * beat), 60 + (i % 5)) for i in range(24)]
        run(jam, notes, 15.0)
        tempo = [float(v) for k, v, d, f in rows if k == "tempo"]
        if moves:
            assert tempo and abs(tempo[-1] - 110.0) < 2.0, tempo
            downbeats = {f for k, v, d, f in rows if k == "beat" and json.loads(d)["downbeat"]}
            assert all(f in downbeats for k, v, d, f in rows if k == "tempo")
        else:
            assert tempo == []


def test_a_phase_shift_lands_on_the_next_undecided_bar_line(bigram: BigramModel) -> None:
    """shift_phase(-6000) while bar 0 plays: bar 1's downbeat and every beat after come
    6000 frames early, bar 0's frames stay, a phase_shift row says so, and the jam is
    settled only from the moved bar line on; a move that would put the next bar line
    before what is rendered is cut to what still lies ahead."""
    rows: list = []
    jam = make(bigram, rows, metronome={"enabled": True})
    planned = [jam.clock.beat_frame(k) for k in range(12)]  # the grid (notes snap to 64)
    jam.render(0, BLOCK)
    assert jam.shift_phase(-6000)
    assert not jam.phase_settled(BLOCK)
    run_from = BLOCK
    while run_from < 4 * SR:
        jam.render(run_from, BLOCK)
        run_from += BLOCK
    assert [jam.clock.beat_frame(k) for k in range(4)] == planned[:4]
    assert [jam.clock.beat_frame(k) for k in range(4, 12)] == [f - 6000 for f in planned[4:]]
    shift = [r for r in rows if r[0] == "phase_shift"]
    assert len(shift) == 1 and json.loads(shift[0][2])["beat"] == 4
    assert jam.figures()["jam_phase_shifts"] == 1
    assert not jam.phase_settled(planned[4] - 6001) and jam.phase_settled(planned[4] - 6000)
    assert jam.bar_phase_at(planned[5] - 6000) == pytest.approx(1.0)
    bar = jam._next_bar
    while (
        jam._render_end < jam.clock.beat_frame(bar) - 2400 - 1000
    ):  # 1000 frames before its decision
        jam.render(jam._render_end, BLOCK)
    f = jam.clock.beat_frame(bar)
    assert jam.shift_phase(-6000)
    assert f - 1000 <= jam.clock.beat_frame(bar) < f  # cut: its decision must still lie ahead
