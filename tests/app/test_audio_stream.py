"""Streaming decode: formats, mono mixing, resampling, errors naming the file, memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bassd.app.audio_stream import AudioFileError, AudioInfo, iter_mono, probe


def _sine(freq: float, sr: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(sr * seconds)) / sr)


def _can_write(fmt: str, subtype: str) -> bool:
    return sf.check_format(fmt, subtype)


def _peak_hz(x: np.ndarray, sr: int) -> float:
    w = np.hanning(x.size)
    return float(np.argmax(np.abs(np.fft.rfft(x * w))) * sr / x.size)


@pytest.mark.parametrize(
    ("ext", "fmt", "subtype", "tol"),
    [
        ("wav", "WAV", "PCM_16", 1e-4),
        ("wav", "WAV", "FLOAT", 1e-7),
        ("flac", "FLAC", "PCM_16", 1e-4),
        ("ogg", "OGG", "VORBIS", None),
        pytest.param(
            "mp3",
            "MP3",
            "MPEG_LAYER_III",
            None,
            marks=pytest.mark.skipif(
                not _can_write("MP3", "MPEG_LAYER_III"),
                reason=f"libsndfile {sf.__libsndfile_version__} here cannot write MP3",
            ),
        ),
    ],
)
def test_formats_decode_to_the_same_tone(
    tmp_path: Path, ext: str, fmt: str, subtype: str, tol: float | None
) -> None:
    """Each format probes right and decodes a 440 Hz tone at 440 Hz (lossless formats
    to the written samples within their quantisation)."""
    sr = 44100
    x = _sine(440, sr, 2.0)
    path = tmp_path / f"tone_{subtype}.{ext}"
    sf.write(path, x, sr, format=fmt, subtype=subtype)
    info = probe(path)
    assert isinstance(info, AudioInfo)
    assert (info.sample_rate, info.channels, info.format) == (sr, 1, fmt)
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    y = np.concatenate(list(iter_mono(path, sr, block_frames=4096)))
    assert y.dtype == np.float64
    if tol is not None:
        assert y.size == x.size
        np.testing.assert_allclose(y, x, atol=tol)
    else:  # lossy: the codec's delay and padding change the length a little
        assert abs(y.size - x.size) < 0.1 * sr
        assert _peak_hz(y[sr // 4 : sr // 4 + 16384], sr) == pytest.approx(440, abs=2)


@pytest.mark.skipif(not _can_write("MP3", "MPEG_LAYER_III"), reason="no MP3 writer here")
@pytest.mark.parametrize("sr", [22050, 44100])
def test_mp3_keeps_its_level_to_the_end(tmp_path: Path, sr: int) -> None:
    """A 20 s MP3 sine reads at its level in every second (libsndfile's block reads of MP3
    lose data after the first block; the MP3 path decodes the file whole)."""
    x = _sine(440, sr, 20.0, amp=0.5)
    path = tmp_path / "tone.mp3"
    sf.write(path, x, sr, format="MP3", subtype="MPEG_LAYER_III")
    y = np.concatenate(list(iter_mono(path, sr, block_frames=4096)))
    rms = [float(np.sqrt(np.mean(y[i : i + sr] ** 2))) for i in range(sr, 19 * sr, sr)]
    np.testing.assert_allclose(rms, 0.5 / np.sqrt(2), rtol=0.01)


def test_stereo_is_the_channel_mean(tmp_path: Path) -> None:
    """Two channels are mixed to their mean."""
    sr = 8000
    left, right = _sine(300, sr, 1.0), _sine(700, sr, 1.0, amp=0.25)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), sr, subtype="FLOAT")
    assert probe(path).channels == 2
    y = np.concatenate(list(iter_mono(path, sr, block_frames=1000)))
    np.testing.assert_allclose(y, 0.5 * (left + right), atol=1e-7)


def test_resampling_keeps_the_pitch_and_length(tmp_path: Path) -> None:
    """44.1 kHz -> 22.05 kHz: a 1 kHz sine stays at 1 kHz, the amplitude is kept, and
    the length halves within a few samples, whatever the block size."""
    x = _sine(1000, 44100, 3.0)
    path = tmp_path / "hi.wav"
    sf.write(path, x, 44100, subtype="FLOAT")
    for block in (65536, 1000, 44100):
        chunks = list(iter_mono(path, 22050, block_frames=block))
        y = np.concatenate(chunks)
        assert abs(y.size - x.size // 2) <= 4
        mid = y[11025 : 11025 + 16384]
        assert _peak_hz(mid, 22050) == pytest.approx(1000, abs=1.5)
        assert np.max(np.abs(mid)) == pytest.approx(0.5, abs=0.01)


def test_errors_name_the_file(tmp_path: Path) -> None:
    """A missing file, a directory, a text file renamed .wav and an empty WAV each raise
    AudioFileError whose message names the file and the reason; iter_mono raises at once."""
    missing = tmp_path / "song.mp3"
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n" * 20)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1)), 8000)
    cases = (
        (missing, "no such file"),
        (tmp_path, "directory"),
        (text, "not a readable audio file (libsndfile:"),
        (empty, "no audio frames"),
    )
    for path, reason in cases:
        for call in (lambda p: probe(p), lambda p: iter_mono(p, 22050)):
            with pytest.raises(AudioFileError) as exc:
                call(path)
            assert str(exc.value).startswith(str(path))
            assert reason in str(exc.value)
    assert issubclass(AudioFileError, ValueError)


def test_non_finite_samples_name_file_and_time(tmp_path: Path) -> None:
    """A NaN in a float WAV stops the stream with the file and the time."""
    sr = 8000
    x = _sine(200, sr, 2.0)
    x[12000] = np.nan  # 1.5 s
    path = tmp_path / "nan.wav"
    sf.write(path, x, sr, subtype="FLOAT")
    with pytest.raises(AudioFileError, match=r"nan\.wav: non-finite .* at 1\.500 s"):
        list(iter_mono(path, sr, block_frames=5000))


def test_a_long_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    """20 minutes at 8 kHz (9.6 M samples; 77 MB as float64, 169 MB resampled to
    22.05 kHz): the traced peak while streaming stays far below either."""
    sr, minutes = 8000, 20
    path = tmp_path / "long.wav"
    block = _sine(250, sr, 60.0, amp=0.3)
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for _ in range(minutes):
            f.write(block)
    total = minutes * 60 * sr
    assert probe(path).frames == total
    n = 0
    tracemalloc.start()
    try:
        for chunk in iter_mono(path, 22050):
            n += chunk.size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert abs(n - total * 22050 // sr) <= 8
    assert peak < 8_000_000  # vs 77 MB decoded
