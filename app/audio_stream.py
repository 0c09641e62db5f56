"""Streaming audio decode for ``bassd analyse``: probe a file, then read it as mono float64
chunks at the analysis rate, in bounded memory whatever its length.

libsndfile (through soundfile) reads WAV, FLAC, OGG and MP3; each block of
``block_frames`` frames is mixed to mono (the channels' mean) and resampled by a
``soxr.ResampleStream`` ("HQ"), which keeps its filter state between blocks, so the
chunks join seamlessly. Every failure is an :class:`AudioFileError` naming the file.

MP3 is the exception to bounded memory: libsndfile 1.2's mpg123 decoder loses data
when an MP3 is read in blocks (every block after the first decodes with
"part2_3_length" errors: a 440 Hz sine at rms 0.354 reads 0.339 in 64k-frame blocks
and all but silent in 576-frame ones, at 22.05 and 44.1 kHz), while one read of the
whole file is exact. An MP3 is therefore decoded whole, as int16 (2 bytes a sample:
an hour of 44.1 kHz stereo is 635 MB), then streamed on like any other file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

FloatArray = npt.NDArray[np.float64]


class AudioFileError(ValueError):
    """A file that cannot be analysed; the message starts with the file's path."""


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` found."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    format: str  # libsndfile's major format, e.g. "WAV", "FLAC", "OGG", "MP3"


def _lib_error(path: Path, err: Exception) -> AudioFileError:
    return AudioFileError(f"{path}: not a readable audio file (libsndfile: {err})")


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """The file's rate, channels, length and format; :class:`AudioFileError` for a missing
    file, a directory, one that cannot be read, is not audio, or has no frames."""
    p = Path(path)
    if not p.exists():
        raise AudioFileError(f"{p}: no such file")
    if p.is_dir():
        raise AudioFileError(f"{p}: is a directory, not an audio file")
    if not os.access(p, os.R_OK):
        raise AudioFileError(f"{p}: permission denied")
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise _lib_error(p, err) from err
    if info.frames <= 0 or info.samplerate <= 0 or info.channels <= 0:
        raise AudioFileError(f"{p}: no audio frames")
    return AudioInfo(
        path=p,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration_s=info.frames / info.samplerate,
        format=str(info.format),
    )


def iter_mono(
    path: str | os.PathLike[str], sample_rate: int, *, block_frames: int = 65536
) -> Iterator[FloatArray]:
    """Mono float64 chunks (the channels' mean) at ``sample_rate``; the file is probed
    now (raising :class:`AudioFileError` at once), read lazily as the chunks are taken."""
    if sample_rate <= 0 or block_frames <= 0:
        raise ValueError("need sample_rate > 0 and block_frames > 0")
    info = probe(path)
    return _chunks(info, int(sample_rate), int(block_frames))


def _chunks(info: AudioInfo, sample_rate: int, block_frames: int) -> Iterator[FloatArray]:
    p = info.path
    rs = (
        None
        if sample_rate == info.sample_rate
        else soxr.ResampleStream(info.sample_rate, sample_rate, 1, dtype="float64", quality="HQ")
    )
    try:
        f = sf.SoundFile(str(p))
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise _lib_error(p, err) from err
    whole = None
    if info.format == "MP3":  # decoded in one read (see the module)
        try:
            with f:
                whole = f.read(dtype="int16", always_2d=True)  # (frames, ch)
        except (sf.LibsndfileError, RuntimeError, OSError) as err:
            raise AudioFileError(f"{p}: decoding failed ({err})") from err
    with f:
        read = 0  # frames read so far
        while True:
            try:
                if whole is not None:
                    block = whole[read : read + block_frames].astype(np.float64) / 32768.0
                else:
                    block = f.read(block_frames, dtype="float64", always_2d=True)  # (n, ch)
            except (sf.LibsndfileError, RuntimeError, OSError) as err:
                raise AudioFileError(
                    f"{p}: decoding failed at {read / info.sample_rate:.2f} s ({err})"
                ) from err
            n = block.shape[0]
            last = n < block_frames
            x = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]  # (n,)
            if not np.isfinite(x).all():
                bad = read + int(np.flatnonzero(~np.isfinite(x))[0])
                raise AudioFileError(
                    f"{p}: non-finite samples (NaN or inf) at {bad / info.sample_rate:.3f} s"
                )
            read += n
            y = x if rs is None else rs.resample_chunk(x, last=last)
            if y.shape[0]:
                yield np.ascontiguousarray(y, dtype=np.float64)
            if last:
                return
