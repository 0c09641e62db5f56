"""``bassd jam key FILE.mid``: prints the key with r and the runner-up; bad input exits 2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bassd.app.jam_cli import add_commands, cmd_jam
from bassd.cli import _add_config_args as add_config_args
from tests.dsp.test_midi_notes import write_g_major_file


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bassd")
    add_commands(parser.add_subparsers(dest="command", required=True), add_config_args)
    args = parser.parse_args(argv)
    assert args.func is cmd_jam
    return int(args.func(args))


def test_jam_key_prints_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A G major file prints 'G major (r = 0.xx; next: <key> 0.xx)' and exits 0, for any profile."""
    path = tmp_path / "g.mid"
    write_g_major_file(path)
    for extra in ([], ["--profile", "krumhansl_kessler"], ["--profile", "simple"]):
        assert run(["jam", "key", str(path), *extra]) == 0
        out = capsys.readouterr().out.strip()
        assert out.startswith("G major (r = 0.")
        assert "; next: " in out and out.endswith(")")


def test_jam_key_bad_file_and_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A garbage file or an unknown profile exits 2 with one line on stderr naming the problem."""
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi")
    assert run(["jam", "key", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.mid" in err
    good = tmp_path / "g.mid"
    write_g_major_file(good)
    assert run(["jam", "key", str(good), "--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key profile 'nope'" in err


def test_bassd_jam_key_runs_from_the_command_line(tmp_path: Path) -> None:
    """`bassd jam key FILE.mid` is wired into the command line: the key of a G-major melody."""
    import subprocess
    import sys

    from mido import Message, MidiFile, MidiTrack

    mid = MidiFile()
    track = MidiTrack()
    mid.tracks.append(track)
    for pitch in (67, 71, 74, 67, 72, 76, 74, 71, 66, 67):
        track.append(Message("note_on", note=pitch, velocity=80, time=0))
        track.append(Message("note_off", note=pitch, velocity=0, time=240))
    path = tmp_path / "g.mid"
    mid.save(path)
    r = subprocess.run([sys.executable, "-m", "bassd", "jam", "key", str(path)],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("G major (r = ")
