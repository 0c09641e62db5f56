"""``bassd jam render``: a corpus melody played into the jam offline, through the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bassd.dsp.chords import vocabulary
from bassd.dsp.harmonist import parse_key
from bassd.dsp.key_finding import find_key_of_notes
from tests.jam_midi import corpus_melody, write_notes_midi

pytest.importorskip("music21")
SR = 48000


def bassd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bassd", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def rows(session: Path) -> list[dict[str, str]]:
    with (session / "events.csv").open() as f:
        return list(csv.DictReader(f))


def read_wav(path: Path) -> np.ndarray:
    import soundfile as sf

    audio, sr = sf.read(path, dtype="float64")
    assert sr == SR
    return audio


@pytest.fixture(scope="module")
def melody(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folk melody from music21's corpus as a MIDI file, and music21's own key for it."""
    notes, beats = corpus_melody("essenFolksong/altdeu10")
    path = tmp_path_factory.mktemp("mel") / "altdeu10.mid"
    write_notes_midi(path, notes, bpm=120.0, beats_per_bar=beats)
    key = find_key_of_notes([(s, s + d, p) for s, d, p, _ in notes]).name
    return path, key


def test_chords_land_on_beats_and_fit_the_key(tmp_path: Path, melody: tuple[Path, str]) -> None:
    """Every chord's onset frame is a downbeat's frame; every chord belongs to the key the jam
    reports, mostly the melody's own key; beats are exactly one period apart."""
    mid, key = melody
    r = bassd("jam", "render", "--midi", str(mid), "--out", str(tmp_path / "o.wav"), "--no-bed",
              "--session", "s", "--set", f"outputs.sessions_dir={tmp_path}", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "120 bpm" in r.stdout
    ev = rows(tmp_path / "s")
    beats = [json.loads(e["detail"]) for e in ev if e["kind"] == "beat"]
    assert set(np.diff([b["frame"] for b in beats])) == {SR // 2}  # 120 bpm, drift-free
    downbeats = {b["frame"] for b in beats if b["downbeat"]}
    end = max(b["frame"] for b in beats)
    chords = [json.loads(e["detail"]) for e in ev if e["kind"] == "chord"]
    chords = [c for c in chords if c["frame"] <= end]
    assert len(chords) >= 10
    for c in chords:
        assert c["frame"] in downbeats
        assert c["roman"] in {x.roman for x in vocabulary(parse_key(c["key"]).mode)}
    # the key most chords were played in is the one of the whole melody (music21's profile);
    # the live key follows the last bars (an 8 s half-life), so it may wander
    played = Counter(c["key"] for c in chords)
    assert played.most_common(1)[0][0] == key, played
    notes_in = sum(e["kind"] == "note_on" for e in ev)
    assert notes_in == len(corpus_melody("essenFolksong/altdeu10")[0])


def test_metronome_clicks_start_on_the_beat_frames_in_the_audio(
    tmp_path: Path, melody: tuple[Path, str]
) -> None:
    """The click onsets found in the rendered WAV (accompaniment, melody and bed off; through
    the master chain) are the beat frames of events.csv, to the sample."""
    mid, _ = melody
    r = bassd("jam", "render", "--midi", str(mid), "--out", str(tmp_path / "c.wav"), "--no-bed",
              "--no-melody", "--metronome", "--session", "c", "--set", "jam.accompaniment=false",
              "--set", f"outputs.sessions_dir={tmp_path}", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    audio = read_wav(tmp_path / "c.wav")[:, 0]
    beats = [json.loads(e["detail"])["frame"] for e in rows(tmp_path / "c") if e["kind"] == "beat"]
    loud = np.flatnonzero(np.abs(audio) > 1e-4)
    onsets = loud[np.diff(loud, prepend=-SR) > SR // 100]  # after >= 10 ms of quiet
    # beat 0 falls in the session's 20 ms master fade-in (gain 0 at frame 0)
    assert len(onsets) == len(beats) and onsets[0] - beats[0] <= 1
    assert list(onsets[1:]) == beats[1:]


def test_render_is_sample_identical_run_to_run(tmp_path: Path, melody: tuple[Path, str]) -> None:
    """Two renders of the same performance with the bed are the same samples."""
    mid, _ = melody
    outs = []
    for name in ("a", "b"):
        r = bassd("jam", "render", "--midi", str(mid), "--out", str(tmp_path / f"{name}.wav"),
                  "--session", name, "--set", f"outputs.sessions_dir={tmp_path}",
                  "--set", "timeline.segment_seconds=8", cwd=tmp_path)  # fmt: skip
        assert r.returncode == 0, r.stderr
        outs.append(read_wav(tmp_path / f"{name}.wav"))
    assert np.abs(outs[0]).max() > 0.05 and np.array_equal(outs[0], outs[1])


def test_bad_midi_file_is_one_clear_line(tmp_path: Path) -> None:
    """A file that is not MIDI: exit 2, one line naming it, no traceback."""
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    r = bassd("jam", "render", "--midi", str(bad), "--out", str(tmp_path / "x.wav"), cwd=tmp_path)
    assert r.returncode == 2
    assert "bad.mid" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
