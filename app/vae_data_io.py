"""A folder of a musician's own audio files -> one log-mel array per file, for the mel VAE
trainer (:func:`bassd.models.vae_train.train_vae`). No torch here.

Every file of the folder (not its subfolders) whose suffix is one of :data:`AUDIO_SUFFIXES`
(any case) is decoded by :func:`bassd.app.audio_stream.iter_mono` (channels' mean,
resampled to ``spec.sample_rate``), at most ``max_seconds`` of it, and the concatenated
signal goes through :func:`bassd.dsp.mel.log_mel` in one piece (a few minutes of 24 kHz
float64 is tens of MB). A file that cannot be decoded is skipped with the
:class:`~bassd.app.audio_stream.AudioFileError` message (which names it); the others
are still returned.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bassd.app.audio_stream import AudioFileError, iter_mono
from bassd.dsp.mel import MelSpec, log_mel

__all__ = ["AUDIO_SUFFIXES", "load_audio_dir"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")


def _decode(path: Path, sample_rate: int, max_samples: int) -> npt.NDArray[np.float64]:
    chunks: list[np.ndarray] = []
    n = 0
    for chunk in iter_mono(path, sample_rate):
        chunks.append(chunk[: max_samples - n])
        n += chunks[-1].shape[0]
        if n >= max_samples:
            break
    if n == 0:
        raise AudioFileError(f"{path}: no audio frames")
    return np.concatenate(chunks)


def load_audio_dir(
    folder: str | os.PathLike[str], spec: MelSpec, *, max_seconds: float = 600.0
) -> tuple[list[np.ndarray], list[str], list[tuple[Path, str]], float]:
    """(logmels, names, skipped, seconds): one float32 (n_mels, T) log-mel per decoded file
    (in name order), the files' names, the ``(path, reason)`` of every skipped file, and the
    seconds of audio decoded (each file counted up to ``max_seconds``)."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder")
    paths = sorted(
        (p for p in root.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and not p.is_dir()),
        key=lambda p: p.name,
    )
    max_samples = max(1, round(max_seconds * spec.sample_rate))
    logmels: list[np.ndarray] = []
    names: list[str] = []
    skipped: list[tuple[Path, str]] = []
    seconds = 0.0
    for p in paths:
        try:
            x = _decode(p, spec.sample_rate, max_samples)
        except AudioFileError as err:
            skipped.append((p, str(err)))
            continue
        logmels.append(log_mel(x, spec).astype(np.float32))
        names.append(p.name)
        seconds += x.shape[0] / spec.sample_rate
    return logmels, names, skipped, seconds
