"""A performance on the map, offline: /som/xy bundles timetagged on the simulated clock sweep the
shipped sound's map through ``bassd render --osc``; the audio has no clicks or gaps and its
spectrum follows the nodes."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bassd.engine.sound_library import SoundLibrary

SR = 48_000
DWELL_A = (0.0, 0.0)  # held 1..4 s
DWELL_B = (1.0, 1.0)  # held 9..12 s


def bassd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bassd", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def script_lines() -> list[str]:
    """A pad at 50 messages a second: A held, a serpentine sweep over the whole map (4..8 s),
    two jumps corner to corner in 20 ms, then B held."""
    lines = ["0.0 /renderer/partials glass", f"0.5 /som/xy {DWELL_A[0]} {DWELL_A[1]}"]
    ts = np.arange(4.0, 8.0, 0.02)
    for t in ts:
        u = (t - 4.0) / 4.0
        y = u
        x = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * u)  # three passes across while y climbs
        lines.append(f"{t:.3f} /som/xy {x:.4f} {y:.4f}")
    lines += ["8.30 /som/xy 0 1", "8.32 /som/xy 1 0", "8.60 /som/xy 1 1"]
    return lines


def levels_at(y: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Spectral magnitude at each frequency (max within +-1 %)."""
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    f = np.fft.rfftfreq(len(y), 1 / SR)
    return np.array([spec[(f > g * 0.99) & (f < g * 1.01)].max() for g in freqs])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, Path, str]:
    tmp = tmp_path_factory.mktemp("som")
    (tmp / "perf.txt").write_text("\n".join(script_lines()) + "\n")
    r = bassd("render", "--osc", str(tmp / "perf.txt"), "--seconds", "12", "--out",
              str(tmp / "o.wav"), "--set", f"outputs.dir={tmp}",
              "--set", f"outputs.sessions_dir={tmp}/sessions",
              "--set", f"outputs.metrics_csv={tmp}/m.csv", "--set", "outputs.keep_audio=false",
              "--set", "timeline.segment_seconds=120", cwd=tmp)  # fmt: skip
    assert r.returncode == 0, r.stderr
    import soundfile as sf

    audio, sr = sf.read(tmp / "o.wav", dtype="float64")
    assert sr == SR
    return audio, tmp, r.stdout


def test_every_bundle_was_scheduled_and_handled(rendered: tuple[np.ndarray, Path, str]) -> None:
    """Every message was handled, none dropped, all but the first (at 0 s, due when sent)
    scheduled ahead on the sample clock; the nearest node's changes are in events.csv."""
    _, tmp, out = rendered
    n = len(script_lines())
    assert f"OSC: {n} messages, {n - 1} timetagged, {n} handled, 0 dropped" in out
    (events,) = (tmp / "sessions").glob("*/events.csv")
    with events.open() as f:
        kinds = [row["kind"] for row in csv.DictReader(f)]
    assert kinds.count("partials") == 1
    assert kinds.count("som_node") >= 10


def test_no_clicks_and_no_gaps(rendered: tuple[np.ndarray, Path, str]) -> None:
    """Through the sweep and the jumps the largest sample step stays within 1.5x the largest
    of the held passages; no 50 ms window falls below -60 dBFS once the sound has faded in."""
    audio, _, _ = rendered
    steps = np.abs(np.diff(audio, axis=0)).max(axis=1)  # (n - 1,)
    held = max(steps[1 * SR : 4 * SR].max(), steps[9 * SR : 12 * SR - 1].max())
    assert steps[4 * SR : 9 * SR].max() < 1.5 * held
    win = SR // 20
    body = audio[SR : (len(audio) // win) * win]
    rms = np.sqrt(np.mean(body.reshape(-1, win, 2) ** 2, axis=(1, 2)))
    assert 20 * np.log10(rms.min()) > -60.0


def test_the_spectrum_follows_the_nodes(rendered: tuple[np.ndarray, Path, str]) -> None:
    """Held at A, the partials' measured levels match A's node state better than B's, and the
    other way round at B (correlation of levels over the set's partials)."""
    audio, _, _ = rendered
    sound = SoundLibrary().load("glass")
    assert sound.som is not None
    freqs = sound.oscset.freqs
    ok = freqs < 9000.0  # under the low-pass
    state_a, state_b = sound.som.state_at(*DWELL_A)[ok], sound.som.state_at(*DWELL_B)[ok]
    mono = audio.mean(axis=1)
    at_a = levels_at(mono[2 * SR : 4 * SR], freqs[ok])
    at_b = levels_at(mono[10 * SR : 12 * SR], freqs[ok])

    def corr(u: np.ndarray, v: np.ndarray) -> float:
        return float(np.corrcoef(u, v)[0, 1])

    assert corr(at_a, state_a) > corr(at_a, state_b) + 0.2
    assert corr(at_b, state_b) > corr(at_b, state_a) + 0.2
