"""``bassd analyse``: files in, a sound folder out (set, map, PNGs); bad files named; an hour
of audio in bounded memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bassd.engine.sound_library import SoundLibrary, read_sound, write_sound
from tests.dsp.analysis_signals import bell, harmonic, tone


def bassd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bassd", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def analysed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    tmp = tmp_path_factory.mktemp("an")
    sr = 48_000
    stereo = np.stack([harmonic(110.0, 8, sr, 10.0), harmonic(110.0, 8, sr, 10.0, seed=5)], 1)
    sf.write(tmp / "drone.wav", stereo, sr)
    sf.write(tmp / "bell.flac", bell(440.0, 32_000, 10.0), 32_000)
    sf.write(tmp / "voice.ogg", tone([600.0, 1000.0], [0.2, 0.1], 44_100, 10.0,
                                     vibrato_cents=15.0), 44_100)  # fmt: skip
    r = bassd("analyse", "drone.wav", "bell.flac", "voice.ogg", "--out", "sounds/mix", cwd=tmp)
    return tmp, r


def test_a_sound_folder_is_written(analysed: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Three files (stereo WAV at 48 kHz, FLAC at 32 kHz, OGG at 44.1 kHz) give one set with the
    partials of all three (within 1 cent), a map whose errors fell, a PNG per file and the
    U-matrix; the summary says so."""
    tmp, r = analysed
    assert r.returncode == 0, r.stderr
    folder = tmp / "sounds" / "mix"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["oscset.json", "som.npz", "som.png", "spectrogram-bell.png",
                     "spectrogram-drone.png", "spectrogram-voice.png"]  # fmt: skip
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sound = read_sound(folder)
    assert sound.name == "mix" and sound.oscset.sources == ("drone.wav", "bell.flac", "voice.ogg")
    expected = [110.0 * k for k in range(1, 9)] + [440.0 * r for r in (1.0, 2.756, 5.404, 8.933)]
    expected += [600.0, 1000.0]
    freqs = sound.oscset.freqs
    for f in expected:
        assert np.min(np.abs(1200 * np.log2(freqs / f))) < 1.0, f
    assert len(freqs) == len(set(expected))  # 440 Hz is in two files: one partial
    assert sound.som is not None
    (_, qe0, te0), (_, qe1, te1) = sound.som.history[0], sound.som.history[-1]
    assert qe1 < 0.5 * qe0 and te1 <= te0
    assert set(sound.som.labels.ravel()) >= {0, 1, 2}  # every file owns nodes
    assert "13 partials" in r.stdout and "quantisation error" in r.stdout
    assert "per minute of audio" in r.stdout
    settings = json.loads((folder / "oscset.json").read_text())["settings"]
    assert settings["map"]["rows"] == sound.som.rows


def test_the_saved_map_reloads_to_the_same_states(
    analysed: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """Read, written elsewhere and read again, the sound has identical node states and gives
    the same state at any point; the library finds it by name in its folder."""
    tmp, _ = analysed
    first = read_sound(tmp / "sounds" / "mix")
    write_sound(tmp_path / "copy", first)
    again = read_sound(tmp_path / "copy")
    assert first.som is not None and again.som is not None
    np.testing.assert_array_equal(first.som.states, again.som.states)
    np.testing.assert_array_equal(first.som.state_at(0.3, 0.7), again.som.state_at(0.3, 0.7))
    assert again.oscset == first.oscset
    lib = SoundLibrary([tmp / "sounds"])
    assert "mix" in lib.names() and lib.load("mix").oscset == first.oscset


def test_bad_files_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    """A text file named .wav, a missing file and a silent file each fail with exit 2 and a
    message naming the file; no folder is left behind."""
    (tmp_path / "fake.wav").write_text("not audio")
    sf.write(tmp_path / "quiet.wav", np.zeros(44_100 * 3), 44_100)
    sf.write(tmp_path / "ok.wav", harmonic(220.0, 4, 44_100, 3.0), 44_100)
    for bad, why in (("fake.wav", "not a readable audio file"), ("gone.mp3", "no such file"),
                     ("quiet.wav", "silent")):  # fmt: skip
        r = bassd("analyse", "ok.wav", bad, "--out", "out", cwd=tmp_path)
        assert r.returncode == 2
        assert bad in r.stderr and why in r.stderr.lower(), r.stderr
        assert not (tmp_path / "out").exists()


def test_an_hour_is_analysed_in_bounded_memory(tmp_path: Path) -> None:
    """A 1-hour file (11.025 kHz 16-bit, resampled to 22.05 kHz: 635 MB as float64) is analysed
    by the CLI with a peak resident size under 400 MB, the interpreter and its libraries
    included; the set has its partials and the map one row per half second."""
    sr, seconds = 11_025, 3600
    with sf.SoundFile(tmp_path / "hour.wav", "w", sr, 1, "PCM_16") as f:
        base = harmonic(131.0, 6, sr, 60.0)
        for minute in range(seconds // 60):
            f.write(base * (0.4 + 0.3 * np.sin(minute / 3.0)))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = bassd("analyse", "hour.wav", "--out", "hour", "--no-png", cwd=tmp_path)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB, max over children
    assert r.returncode == 0, r.stderr
    assert after < 400 * 1024 or before >= after, f"peak RSS {after / 1024:.0f} MB"
    sound = read_sound(tmp_path / "hour")
    assert len(sound.oscset) == 6
    assert sound.som is not None and sound.som.hits.sum() == pytest.approx(
        seconds / 0.511, rel=0.01
    )
