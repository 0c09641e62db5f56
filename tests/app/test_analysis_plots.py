"""The analysis PNGs: valid files of the figure's size, non-uniform, the tone where it is."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bassd.app.analysis_plots import (
    draw_som,
    draw_spectrogram,
    log_freq_image,
    short_label,
)
from bassd.dsp.som import train_map

SR, N_FFT, HOP = 22050, 4096, 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _pixels(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    return np.asarray(imread(path))  # (h, w, 4) floats


def _tone_spectrogram(n_frames: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    times = (np.arange(n_frames) * HOP + N_FFT / 2) / SR
    freqs = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    mag_db = np.full((n_frames, freqs.size), -90.0)
    k = round(1000.0 * N_FFT / SR)
    mag_db[:, k] = -6.0
    return times, freqs, mag_db


def test_spectrogram_png_is_valid_sized_and_non_uniform(tmp_path: Path) -> None:
    """draw_spectrogram writes a 1000x500 PNG with varied pixels, tracks drawn over it."""
    times, freqs, mag_db = _tone_spectrogram()
    tracks = [(times, np.full(times.size, 1000.0)), (times[:50], np.full(50, 2000.0))]
    out = tmp_path / "spec.png"
    draw_spectrogram(out, times, freqs, mag_db, tracks, title="tone", fmax=8000.0)
    assert _png_size(out) == (1000, 500)
    px = _pixels(out)
    assert px.shape[:2] == (500, 1000) and px[..., :3].std() > 0.05


def test_tracks_change_the_image(tmp_path: Path) -> None:
    """Drawing a track over the spectrogram changes pixels (the line is visible)."""
    times, freqs, mag_db = _tone_spectrogram()
    bare, lined = tmp_path / "bare.png", tmp_path / "lined.png"
    draw_spectrogram(bare, times, freqs, mag_db, [], title="t")
    track = (times, np.full(times.size, 300.0))
    draw_spectrogram(lined, times, freqs, mag_db, [track], title="t")
    assert np.abs(_pixels(bare) - _pixels(lined)).sum() > 100


def test_log_freq_image_puts_the_tone_on_its_row() -> None:
    """The resampled image is brightest in the row containing the tone's frequency."""
    _, freqs, mag_db = _tone_spectrogram(10)
    img, edges = log_freq_image(freqs, mag_db, 20.0, 10000.0, n_rows=300)
    assert img.shape == (300, 10) and edges.shape == (301,)
    row = int(np.argmax(img[:, 0]))
    assert edges[row] <= np.log2(1000.0) <= edges[row + 1] + 0.01
    assert np.all(img[:, 0][np.arange(300) != row] < -50)


def test_long_spectrogram_is_pooled(tmp_path: Path) -> None:
    """An hour of frames renders (pooled in time) to the same figure size."""
    times = np.arange(77_000) * HOP / SR  # 3576 s
    freqs = np.arange(257) * SR / 512
    mag_db = np.full((times.size, freqs.size), -80.0)
    mag_db[:, 40] = 0.0
    out = tmp_path / "long.png"
    draw_spectrogram(out, times, freqs, mag_db, [(times, np.full(times.size, 1700.0))], title="h")
    assert _png_size(out) == (1000, 500)


def test_spectrogram_rejects_mismatched_shapes(tmp_path: Path) -> None:
    """mag_db not (n_frames, n_bins) raises ValueError naming the expected shape."""
    times, freqs, mag_db = _tone_spectrogram(5)
    with pytest.raises(ValueError, match="n_frames, n_bins"):
        draw_spectrogram(tmp_path / "x.png", times[:-1], freqs, mag_db, [], title="t")


def test_som_png_is_valid_sized_and_non_uniform(tmp_path: Path) -> None:
    """draw_som writes a 1000x500 PNG of the U-matrix with varied pixels."""
    rng = np.random.default_rng(0)
    lab = np.repeat(np.arange(2), 30)
    x = np.array([[0.0, 0.0], [5.0, 5.0]])[lab] + rng.normal(size=(60, 2)) * 0.2
    som = train_map(x, np.eye(2)[lab], lab, rows=5, cols=6, iterations=600)
    out = tmp_path / "som.png"
    draw_som(out, som, ["/music/first_recording.wav", "second.flac"], title="map")
    assert _png_size(out) == (1000, 500)
    assert _pixels(out)[..., :3].std() > 0.05


def test_short_label_strips_folder_and_extension() -> None:
    """Labels lose folder and extension and are cut with an ellipsis."""
    assert short_label("/a/b/bass.wav") == "bass"
    assert short_label("a_very_long_recording_name.flac", width=8) == "a_very_…"


def test_drawing_does_not_import_pyplot(tmp_path: Path) -> None:
    """Drawing both figures in a fresh interpreter never imports pyplot (no global figure
    registry keeping figures alive)."""
    code = f"""
import sys
import numpy as np
from bassd.app.analysis_plots import draw_som, draw_spectrogram
from bassd.dsp.som import train_map
f = np.arange(65) * 100.0
draw_spectrogram({str(tmp_path / "s.png")!r}, np.arange(4.0), f, np.zeros((4, 65)), [], title="t")
x = np.random.default_rng(0).normal(size=(20, 2))
lab = np.zeros(20, dtype=int)
draw_som({str(tmp_path / "m.png")!r}, train_map(x, x**2, lab, rows=3, cols=3), ["a"], title="m")
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _png_size(tmp_path / "m.png") == (1000, 500)
