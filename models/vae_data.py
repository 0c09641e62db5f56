"""Patches, normalisation and on-the-fly augmentation for the mel VAE (no I/O).

The data are per-file log-mel arrays ``(n_mels, T_i)`` (natural log of magnitude mel
energies, :func:`bassd.dsp.mel.log_mel`). Training draws patches of ``frames`` frames at
random start frames (:class:`PatchSampler`: the time-shift augmentation, every start of
every file equally likely); held-out evaluation and the PCA step use the fixed overlapping
patches of :func:`build_patches`.

Augmentation (:func:`augment`, per batch in torch, raw log-mel units, before normalising):

* gain: a uniform gain in ±``gain_db`` dB adds ``log(g)`` to every value (magnitudes scale
  by g), clamped below at the spectrogram's floor ``log(log_floor)``;
* pitch shift: a uniform shift in ±``pitch_semitones`` resamples each frame along the mel
  axis: the value at the band of centre f becomes the (linearly interpolated) value at
  ``f / 2 ** (s / 12)``, located on the bands' centre frequencies. Done on the mel axis
  rather than by resampling the audio beforehand because it costs one gather per batch, so
  every batch sees fresh shifts (a tiny dataset needs the variety) and the files are decoded
  and transformed once; the price is that a band's energy is not rescaled for its changed
  bandwidth (at most 2 ** (2/12) = 12 %, 0.11 in log units, far below the gain range) and
  harmonics finer than a band blur a little, which the mel resolution has already done;
* mixing: with probability ``mix_prob`` a patch is mixed with another of the batch in the
  linear domain, ``log(w * e^a + (1 - w) * e^b)`` with w uniform in [0, 1].

All random draws use torch's global generator (the trainer seeds it and saves its state).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

__all__ = [
    "AugmentConfig",
    "NormStats",
    "PatchSampler",
    "augment",
    "build_patches",
    "count_patches",
    "gain",
    "mix",
    "norm_stats",
    "pitch_shift",
]

F32 = npt.NDArray[np.float32]


def count_patches(n_frames: int, frames: int, hop_frames: int) -> int:
    """How many patches :func:`build_patches` cuts from a file of ``n_frames`` frames."""
    return 0 if n_frames < frames else (n_frames - frames) // hop_frames + 1


def build_patches(logmels: Sequence[np.ndarray], frames: int, hop_frames: int) -> F32:
    """Overlapping patches (N, n_mels, frames) float32, every ``hop_frames`` frames of every
    file in order; a file shorter than one patch contributes none."""
    if frames < 1 or hop_frames < 1:
        raise ValueError("need frames >= 1 and hop_frames >= 1")
    if not logmels:
        raise ValueError("no log-mel arrays")
    n_mels = logmels[0].shape[0]
    out: list[np.ndarray] = []
    for lm in logmels:
        if lm.ndim != 2 or lm.shape[0] != n_mels:
            raise ValueError(f"log-mels must all be (n_mels={n_mels}, T); got {lm.shape}")
        n = count_patches(lm.shape[1], frames, hop_frames)
        if n:
            # (n_mels, n_windows, frames) view -> every hop_frames-th window
            win = np.lib.stride_tricks.sliding_window_view(lm, frames, axis=1)[:, ::hop_frames]
            out.append(np.transpose(win[:, :n], (1, 0, 2)))  # (n, n_mels, frames)
    if not out:
        return np.zeros((0, n_mels, frames), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)


@dataclass(frozen=True)
class NormStats:
    """One mean and one standard deviation over every value of the training files."""

    mean: float
    std: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NormStats:
        return cls(mean=float(d["mean"]), std=float(d["std"]))


def norm_stats(logmels: Sequence[np.ndarray]) -> NormStats:
    """Mean and std (float64 sums) over all frames and bands of ``logmels``; std >= 1e-6."""
    n = sum(lm.size for lm in logmels)
    if n == 0:
        raise ValueError("no log-mel values to take statistics of")
    mean = sum(float(np.sum(lm, dtype=np.float64)) for lm in logmels) / n
    var = sum(float(np.sum((lm.astype(np.float64) - mean) ** 2)) for lm in logmels) / n
    return NormStats(mean=mean, std=max(math.sqrt(var), 1e-6))


class PatchSampler:
    """Random patches of ``frames`` frames: each draw picks one of every valid start frame
    of every file uniformly (so longer files give proportionally more), with its own seeded
    numpy generator (:meth:`state` / :meth:`set_state` for checkpoints)."""

    def __init__(self, logmels: Sequence[np.ndarray], frames: int, seed: int) -> None:
        self.frames = frames
        self.logmels = [lm for lm in logmels if lm.shape[1] >= frames]
        if not self.logmels:
            raise ValueError(f"no file is at least one patch ({frames} frames) long")
        starts = np.array([lm.shape[1] - frames + 1 for lm in self.logmels], dtype=np.int64)
        self._cum = np.cumsum(starts)  # (n_files,) valid starts up to and including file i
        self.rng = np.random.default_rng(seed)

    @property
    def n_starts(self) -> int:
        return int(self._cum[-1])

    def draw(self, n: int) -> F32:
        """(n, n_mels, frames) float32 patches."""
        flat = self.rng.integers(0, self.n_starts, size=n)  # (n,)
        files = np.searchsorted(self._cum, flat, side="right")  # (n,)
        offsets = flat - np.concatenate(([0], self._cum[:-1]))[files]  # (n,)
        out = np.stack(
            [self.logmels[f][:, o : o + self.frames] for f, o in zip(files, offsets, strict=True)]
        )
        return out.astype(np.float32, copy=False)

    def state(self) -> dict[str, Any]:
        return dict(self.rng.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state


@dataclass(frozen=True)
class AugmentConfig:
    gain_db: float = 6.0  # uniform in +-gain_db
    pitch_semitones: float = 2.0  # uniform in +-pitch_semitones
    mix_prob: float = 0.5  # chance a patch is mixed with another of its batch

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def gain(x: torch.Tensor, db: torch.Tensor, log_floor: float) -> torch.Tensor:
    """x (B, n_mels, T) raw log-mel, db (B,) -> x + log(10 ** (db / 20)), not below
    ``log(log_floor)``."""
    out = x + (db * (math.log(10.0) / 20.0))[:, None, None]  # (B, n_mels, T)
    return out.clamp_min(math.log(log_floor))


def pitch_shift(x: torch.Tensor, semitones: torch.Tensor, centres_hz: torch.Tensor) -> torch.Tensor:
    """x (B, n_mels, T) raw log-mel, semitones (B,), centres_hz (n_mels,) increasing -> each
    band takes the value at its centre / 2 ** (s / 12), linearly interpolated between the
    bands' centres (clamped to the edge bands outside them)."""
    n_mels = x.shape[1]
    ratio = torch.pow(2.0, semitones / 12.0)  # (B,)
    src_hz = centres_hz[None, :] / ratio[:, None]  # (B, n_mels)
    hi = torch.searchsorted(centres_hz, src_hz).clamp(1, n_mels - 1)  # (B, n_mels)
    lo = hi - 1
    f_lo, f_hi = centres_hz[lo], centres_hz[hi]  # (B, n_mels)
    w = ((src_hz - f_lo) / (f_hi - f_lo)).clamp(0.0, 1.0)  # (B, n_mels)
    t = x.shape[2]
    a = torch.gather(x, 1, lo[:, :, None].expand(-1, -1, t))  # (B, n_mels, T)
    b = torch.gather(x, 1, hi[:, :, None].expand(-1, -1, t))  # (B, n_mels, T)
    return a + w[:, :, None] * (b - a)


def mix(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """log(w e^a + (1 - w) e^b) of raw log-mels a, b (B, n_mels, T), weights w (B,) in [0, 1]."""
    wl = torch.log(w.clamp(1e-6, 1.0))[:, None, None]  # (B, 1, 1)
    wr = torch.log((1.0 - w).clamp(1e-6, 1.0))[:, None, None]
    return torch.logaddexp(a + wl, b + wr)


def augment(
    x: torch.Tensor, cfg: AugmentConfig, centres_hz: torch.Tensor, log_floor: float
) -> torch.Tensor:
    """Mixing, then pitch shift, then gain, each drawn per patch, of a batch x
    (B, n_mels, T) of raw log-mels; draws on the CPU generator, applied on x's device."""
    bsz, dev = x.shape[0], x.device
    if cfg.mix_prob > 0 and bsz > 1:
        partner = torch.randperm(bsz)
        w = torch.rand(bsz)
        chosen = (torch.rand(bsz) < cfg.mix_prob).to(dev)[:, None, None]  # (B, 1, 1)
        x = torch.where(chosen, mix(x, x[partner.to(dev)], w.to(dev)), x)
    if cfg.pitch_semitones > 0:
        s = (torch.rand(bsz) * 2.0 - 1.0) * cfg.pitch_semitones
        x = pitch_shift(x, s.to(dev), centres_hz.to(dev, x.dtype))
    if cfg.gain_db > 0:
        db = (torch.rand(bsz) * 2.0 - 1.0) * cfg.gain_db
        x = gain(x, db.to(dev), log_floor)
    return x
