"""``bassd generate`` and ``bassd models``: the commands a musician runs before a show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bassd.engine.wavfile import read_wav
from bassd.models.musicgen import MusicGen


def bassd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bassd", *args], capture_output=True,
                          text=True, timeout=240, env={**os.environ, **(env or {})})  # fmt: skip


def test_generate_writes_the_clip_and_its_codes(tiny_model_dir: Path, tmp_path: Path) -> None:
    """One clip at the engine's rate, stereo (a mono model widened), through the post-FX
    (peak under the limiter's), and the codes MusicGen.generate gives for the same request."""
    out, codes = tmp_path / "clip.wav", tmp_path / "clip.npy"
    r = bassd("generate", "--model", str(tiny_model_dir), "--prompt", "calm piano",
              "--seconds", "1.5", "--greedy", "--quiet", "--out", str(out),
              "--codes-out", str(codes))  # fmt: skip
    assert r.returncode == 0, r.stderr
    audio, sr = read_wav(out)
    assert sr == 48000 and audio.shape == (72000, 2)
    assert np.max(np.abs(audio)) <= 0.9 + 1e-3
    assert not np.allclose(audio[:, 0], audio[:, 1])  # spread, not duplicated
    expected = MusicGen.load(tiny_model_dir, "cpu").generate("calm piano", 1.5, greedy=True)
    np.testing.assert_array_equal(np.load(codes), expected.codes)


def test_generate_without_weights_says_how_to_fetch_them(tmp_path: Path) -> None:
    """A model that is not on the machine: exit 2 and one line with the download command."""
    r = bassd("generate", "--model", "someone/absent-model", "--prompt", "x", "--out",
              str(tmp_path / "x.wav"), env={"HF_HUB_CACHE": str(tmp_path / "cache")})  # fmt: skip
    assert r.returncode == 2
    assert "bassd models download someone/absent-model" in r.stderr
    assert "Traceback" not in r.stderr


def test_models_download_offline_is_one_clear_line(tmp_path: Path) -> None:
    """Where the hub cannot be reached the download fails with one line, not a traceback."""
    r = bassd("models", "download", "someone/absent-model",
              env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "cache")})  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.startswith("bassd: could not download someone/absent-model")
    assert "Traceback" not in r.stderr
