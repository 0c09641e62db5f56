"""``bassd library``: the commands end to end, a SIGKILL mid-index, two indexers at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from bassd.cli import main
from bassd.dsp.library_features import EMBEDDING_DIM, WAVEFORM_POINTS
from tests.library_sounds import corrupt_files, labelled_set, noise, tone, write


def _folder(root: Path, n: int, secs: float = 3.0, prefix: str = "f") -> Path:
    """``n`` distinct short WAVs (a tone or a noise each) in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        x = tone(100 + 7 * i, secs, 22050, 0.2) if i % 2 else noise("pink", secs, 22050, seed=i)
        write(root / f"{prefix}{i:03d}.wav", x, 22050)
    return root


def _add(db: Path, *paths: Path, extra: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "bassd", "library", "add", *map(str, paths), "--db", str(db),
           "--no-text", "--json", *extra]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _count(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:  # not created yet
        return 0


def _check_whole(db: Path) -> int:
    """The file opens, passes integrity_check, and every row is a whole entry."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT length(audio_vec), length(waveform), content_hash, duration_s "
                           "FROM entries").fetchall()  # fmt: skip
    finally:
        con.close()
    for vec, wave, digest, secs in rows:
        assert vec == 4 * EMBEDDING_DIM and wave == 4 * WAVEFORM_POINTS
        assert len(digest) == 32 and secs > 0
    return len(rows)


def test_commands_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """add (an MP3 among them; corrupt files named on stderr, the run completes), list
    --json (with the waveform), similar, search (words only), tag, remove: each over the
    same file."""
    src = tmp_path / "sounds"
    labelled_set(src, per_class=3)
    corrupt_files(src / "bad")
    sf.write(str(src / "tone_drone.mp3"), tone(220, 3.0, 44100, 0.3), 44100, format="MP3")
    db = tmp_path / "lib.sqlite"
    assert main(["library", "add", str(src), "--db", str(db), "--no-text", "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert (report["added"], len(report["failed"]), report["entries"]) == (10, 4, 10)
    assert "garbage.wav" in err and "truncated.flac" in err
    assert main(["library", "list", "--db", str(db), "--json", "--waveform"]) == 0
    rows = json.loads(capsys.readouterr().out)
    mp3 = next(r for r in rows if r["name"] == "tone_drone.mp3")
    assert mp3["format"] == "MP3" and mp3["duration_s"] == pytest.approx(3.0, abs=0.1)
    assert len(rows) == 10 and len(rows[0]["waveform"]) == WAVEFORM_POINTS
    assert {"loudness_lufs", "centroid_hz", "flatness", "tempo_bpm", "key"} <= set(rows[0])
    tone_id = next(r["id"] for r in rows if r["name"].startswith("tone"))
    assert main(["library", "similar", str(tone_id), "--db", str(db), "--json", "--top", "2"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [Path(h["path"]).name.startswith("tone") for h in hits] == [True, True]
    assert main(["library", "tag", str(tone_id), "sunrise", "--db", str(db), "--no-text"]) == 0
    capsys.readouterr()
    assert main(["library", "search", "sunrise", "--db", str(db), "--no-text", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == tone_id
    assert main(["library", "list", "--db", str(db), "--tag", "sunrise", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [tone_id]
    assert main(["library", "remove", str(tone_id), "nowhere.wav", "--db", str(db)]) == 1
    out, err = capsys.readouterr()
    assert "1 removed" in out and "nowhere.wav" in err
    assert _check_whole(db) == 9


def test_a_kill_mid_index_leaves_a_valid_index(tmp_path: Path) -> None:
    """A real ``bassd library add`` SIGKILLed part-way: the file opens, passes
    integrity_check, holds only whole entries; a re-run adds the rest and decodes only
    those (the ones indexed before the kill are unchanged)."""
    n = 150
    src = _folder(tmp_path / "many", n)
    db = tmp_path / "lib.sqlite"
    proc = _add(db, src)
    deadline = time.monotonic() + 120
    while _count(db) < 10 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = _check_whole(db)
    assert 10 <= done < n, done
    rerun = _add(db, src)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    report = json.loads(out)
    assert report["unchanged"] == done
    assert report["added"] == report["decodes"] == n - done
    assert _check_whole(db) == n


def test_two_indexers_at_once(tmp_path: Path) -> None:
    """Two ``bassd library add`` processes writing one library at the same time (one over
    folder A, one over A and B) both succeed; the file is whole and holds each file once."""
    a = _folder(tmp_path / "a", 30, secs=2.0, prefix="a")
    b = _folder(tmp_path / "b", 30, secs=2.0, prefix="b")
    db = tmp_path / "lib.sqlite"
    p1, p2 = _add(db, a), _add(db, a, b)
    (o1, e1), (o2, e2) = p1.communicate(timeout=300), p2.communicate(timeout=300)
    assert p1.returncode == 0, e1
    assert p2.returncode == 0, e2
    r1, r2 = json.loads(o1), json.loads(o2)
    assert r1["failed"] == [] and r2["failed"] == []
    assert _check_whole(db) == 60
    con = sqlite3.connect(db)
    paths = [r[0] for r in con.execute("SELECT path FROM entries")]
    con.close()
    assert len(set(paths)) == 60
    # each file was added by exactly one of them: the other found it indexed (before or,
    # when both analysed it at once, inside its own write's transaction)
    assert r1["added"] + r2["added"] == 60
    assert r1["updated"] + r2["updated"] == 0
