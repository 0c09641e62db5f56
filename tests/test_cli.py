"""The command line, run as a user would: ``bassd render`` from any directory, errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bassd.engine.wavfile import read_wav

SR = 48_000


def _bassd(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bassd", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env or dict(os.environ),
    )


def test_render_120_s_is_gapless_clickless_and_band_limited(tmp_path: Path) -> None:
    """`bassd render --seconds 120` (from a foreign directory): 24-bit 48 kHz WAV, no gap,
    no click, peak ≤ 0.90, energy below 60 Hz and above 14 kHz strongly attenuated,
    and one metrics row per segment."""
    r = _bassd("render", "--seconds", "120", "--out", "session.wav", "--seed", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    y, sr = read_wav(tmp_path / "session.wav")
    assert sr == SR and y.shape == (120 * SR, 2)

    # no gap: no 50 ms window below -60 dBFS (after the 20 ms start fade)
    win = SR // 20
    mono = y.mean(axis=1)
    rms = np.sqrt(np.mean(mono[: len(mono) // win * win].reshape(-1, win) ** 2, axis=1))
    assert np.all(20 * np.log10(rms[1:] + 1e-12) > -60)

    # no click: a discontinuity shows as a spike in the second difference. Around every
    # crossfade (and its edges) it stays within what the music does away from them.
    d2 = np.abs(np.diff(y, n=2, axis=0)).max(axis=1)
    near = np.zeros(len(d2), dtype=bool)
    for boundary in range(24, 120, 24):
        f = boundary * SR
        near[f - SR // 2 : f + 2 * SR] = True  # the whole 1.5 s crossfade and its edges
    assert d2[near].max() <= 1.2 * d2[~near].max()
    assert np.abs(np.diff(y, axis=0)).max() < 0.1  # and no sample jumps by more than -20 dBFS

    assert np.abs(y).max() <= 0.9 + 1e-6

    spec = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / SR)
    total = spec.sum()
    assert spec[freqs < 60].sum() / total < 1e-4  # below 60 Hz: < −40 dB of the total
    assert spec[freqs > 14_000].sum() / total < 1e-5  # above 14 kHz: < −50 dB

    rows = list(csv.DictReader((tmp_path / "outputs" / "metrics.csv").open()))
    assert [int(row["segment_index"]) for row in rows] == [0, 1, 2, 3, 4]
    for row in rows:
        assert row["renderer"] == "kuramoto" and row["fallback"] == "0"
        assert -40 < float(row["lufs"]) < -6 and float(row["peak_dbfs"]) <= -0.9
        assert float(row["rtf"]) < 1.0 and 100 < float(row["centroid_hz"]) < 5000
        assert (tmp_path / row["clip"]).exists()


def test_render_is_deterministic_per_seed(tmp_path: Path) -> None:
    """The same seed renders the same file; another seed another one."""
    for name, seed in (("a.wav", "1"), ("b.wav", "1"), ("c.wav", "2")):
        r = _bassd(
            "render",
            "--seconds",
            "3",
            "--out",
            name,
            "--seed",
            seed,
            "--set",
            "outputs.keep_audio=false",
            cwd=tmp_path,
        )
        assert r.returncode == 0, r.stderr
    a, b, c = (read_wav(tmp_path / n)[0] for n in ("a.wav", "b.wav", "c.wav"))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_config_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A bad --set stops before anything starts, with exit code 2 and the key named."""
    r = _bassd("render", "--seconds", "1", "--out", "x.wav", "--set", "fx.peak=3", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "bassd: config: fx.peak: Input should be less than or equal to 1 (got 3)"
    ]
    assert not (tmp_path / "x.wav").exists()


def test_missing_device_names_the_available_ones(tmp_path: Path) -> None:
    """`bassd run` with an unknown device says so in one line listing devices and how to pick."""
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    r = _bassd(
        "run", "--set", "audio.device=NoSuchCard", "--set", "osc.port=0", cwd=tmp_path, env=env
    )
    assert r.returncode == 3
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("bassd:")]
    assert len(line) == 1
    assert "audio device 'NoSuchCard' not found; available outputs:" in line[0]
    assert "--set audio.device=NAME" in line[0]


def test_bad_prompt_bank_is_a_clear_error(tmp_path: Path) -> None:
    """A user prompt bank with a bad row stops `bassd render` with file, row and field named."""
    bank = tmp_path / "bank.csv"
    bank.write_text(
        "id,category,genre,mood,instruments,tempo_bpm,key,mode,text\n"
        "a,calm,ambient,calm,strings,60,D,dorian,slow strings\n"
        "b,neutral,ambient,steady,piano,fast,D,dorian,piano\n"
    )
    r = _bassd(
        "render", "--seconds", "1", "--out", "x.wav", "--set", f"prompts.bank={bank}", cwd=tmp_path
    )
    assert r.returncode == 2
    assert "bank.csv: row 3: field 'tempo_bpm'" in r.stderr
    assert "Traceback" not in r.stderr
