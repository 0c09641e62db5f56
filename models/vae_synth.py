"""Continuous texture from a mel VAE: a latent path, decoded and vocoded chunk by chunk.

Every chunk (``hop_frames`` mel frames, 85 ms at the defaults):

1. the **latent path** moves: the slider values glide towards their targets
   (``glide_s``), and a seeded Ornstein-Uhlenbeck drift (``drift`` standard
   deviations along every slider direction, time constant ``drift_s``) keeps the
   texture alive around them;
2. the **decoder** turns the latent point into a log-mel patch (``frames`` wide); a
   blend partner (a second model) decodes its own point for the same slider *names*
   and the two patches are mixed in the log-mel domain: the models share the mel
   grid but nothing else (independently trained latents and weights have no
   common coordinates, so interpolating either would be meaningless);
3. patches are **overlap-added** in the (linear) mel domain with a periodic Hann
   window at a hop of ``hop_frames`` (a quarter patch: the windows sum to a
   constant), so consecutive decodes, whose latent points differ slightly, join
   without seams; the first ``hop_frames`` frames of the sum are complete;
4. the complete frames are turned into a linear magnitude
   (``dsp/mel.mel_to_magnitude``) and **vocoded** by ``dsp/phase_recovery.ChunkVocoder``
   (Fast Griffin-Lim whose phase carries from chunk to chunk: seamless joins);
5. the model-rate audio is **resampled** to the output rate by a streaming soxr
   resampler and **widened** to stereo: the right channel is the left through a
   chain of allpass filters (a decorrelated copy), mixed in by ``width``; with
   ``azimuth`` set, a binaural placement instead: the interaural time difference of
   a spherical head (Woodworth) and a first-order head shadow on the far ear.

Deterministic per seed and independent of how the output is sliced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from bassd.dsp.mel import MelSpec, mel_to_magnitude
from bassd.dsp.phase_recovery import ChunkVocoder
from bassd.models.vae import MelVae
from bassd.models.vae_sliders import SliderSet

FloatArray = npt.NDArray[np.float64]

HEAD_RADIUS_M = 0.0875
SPEED_OF_SOUND = 343.0


@dataclass
class Voice:
    """One model as the synth plays it."""

    model: MelVae
    spec: MelSpec
    sliders: SliderSet


def decode_patch(model: MelVae, z: FloatArray) -> FloatArray:
    """Raw log-mel patch (n_mels, frames) of latent z."""
    with torch.no_grad():
        t = torch.from_numpy(np.asarray(z, dtype=np.float32))[None]  # (1, latent)
        x = model.denormalise(model.decode(t))  # (1, 1, n_mels, frames)
    return np.asarray(x[0, 0].numpy(), dtype=np.float64)


def render_latent(
    model: MelVae, spec: MelSpec, z: FloatArray, *, n_iter: int = 32, repeats: int = 2
) -> tuple[FloatArray, int]:
    """A short static render of latent z (its patch repeated): (audio, model rate)."""
    from bassd.dsp.phase_recovery import griffin_lim

    patch = decode_patch(model, z)
    mag = mel_to_magnitude(np.tile(patch, (1, repeats)), spec, iters=16)
    audio = griffin_lim(mag, spec, n_iter=n_iter, momentum=0.99, seed=0)
    return audio, spec.sample_rate


class _Stereo:
    """Mono -> stereo: decorrelated width, or a binaural placement (see the module)."""

    def __init__(self, sample_rate: int, width: float, azimuth: float | None) -> None:
        self.sr = sample_rate
        self.width = float(width)
        self.azimuth = azimuth
        # allpass chain coefficients (prime delays, in samples) for the decorrelated copy
        self._delays = (113, 241, 367)
        self._g = 0.6
        self._hist = [np.zeros(d) for d in self._delays]  # input history per stage
        self._yhist = [np.zeros(d) for d in self._delays]
        if azimuth is not None:
            th = math.radians(max(-90.0, min(90.0, azimuth)))
            itd = HEAD_RADIUS_M / SPEED_OF_SOUND * (abs(th) + math.sin(abs(th)))  # s
            self._itd = round(itd * sample_rate)
            self._far_left = th > 0  # a source to the right: the left ear is far
            # head shadow: one-pole low-pass on the far ear, down to ~1.5 kHz at 90 deg
            fc = 20000.0 - (20000.0 - 1500.0) * abs(math.sin(th))
            self._a = math.exp(-2 * math.pi * fc / sample_rate)
            self._lp = 0.0
            self._delay_buf = np.zeros(self._itd)

    def _allpass(self, x: FloatArray) -> FloatArray:
        y = x
        for k, d in enumerate(self._delays):
            xin = np.concatenate([self._hist[k], y])
            out = np.empty(len(y))
            yh = self._yhist[k]
            ybuf = np.concatenate([yh, np.zeros(len(y))])
            g = self._g
            for start in range(0, len(y), d):  # blocks of d: y[n] depends on y[n - d]
                stop = min(start + d, len(y))
                n = np.arange(start, stop)
                ybuf[n + d] = -g * xin[n + d] + xin[n] + g * ybuf[n]
                out[start:stop] = ybuf[n + d]
            self._hist[k] = xin[-d:]
            self._yhist[k] = ybuf[-d:]
            y = out
        return y

    def process(self, x: FloatArray) -> FloatArray:
        if self.azimuth is None:
            wet = self._allpass(x)
            right = (1.0 - 0.5 * self.width) * x + 0.5 * self.width * wet
            left = (1.0 - 0.5 * self.width) * x - 0.5 * self.width * wet
            return np.stack([left, right], axis=1)
        delayed = np.concatenate([self._delay_buf, x])
        far = delayed[: len(x)]
        self._delay_buf = delayed[len(x) :] if self._itd else self._delay_buf
        shadow = np.empty(len(far))
        a, s = self._a, self._lp
        for i, v in enumerate(far):  # one-pole: a few thousand samples a chunk
            s = (1.0 - a) * v + a * s
            shadow[i] = s
        self._lp = s
        near = x
        return np.stack([shadow, near] if self._far_left else [near, shadow], axis=1)


class TextureSynth:
    """Streams stereo float32 texture at ``sample_rate`` (see the module)."""

    def __init__(
        self,
        voice: Voice,
        *,
        sample_rate: int = 48_000,
        seed: int = 0,
        sliders: Sequence[float] | None = None,
        drift: float = 0.25,
        drift_s: float = 6.0,
        glide_s: float = 0.25,
        hop_frames: int = 8,
        n_iter: int = 16,
        width: float = 0.6,
        azimuth: float | None = None,
        gain: float = 1.0,
    ) -> None:
        import soxr

        self.voice = voice
        self.sample_rate = sample_rate
        spec = voice.spec
        frames = voice.model.config.frames
        if frames % hop_frames:
            raise ValueError(f"hop_frames ({hop_frames}) must divide the patch ({frames})")
        self.hop_frames = hop_frames
        self._window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frames) / frames)  # (frames,)
        self._ola_gain = 1.0 / (0.5 * frames / hop_frames)  # periodic Hann sums to N/(2 hop)
        self._acc = np.zeros((spec.n_mels, frames))  # (n_mels, frames) linear mel, pending
        self._warm = frames // hop_frames - 1  # chunks until the sum is complete
        k = len(voice.sliders)
        self.targets = np.full(k, 0.5) if sliders is None else np.asarray(sliders, dtype=float)
        self.values = self.targets.copy()
        self._rng = np.random.default_rng(seed)
        self._drift = np.zeros(k)
        self.drift = drift
        dt = hop_frames * spec.hop / spec.sample_rate
        self._a = math.exp(-dt / drift_s) if drift_s > 0 else 0.0
        self._g = 1.0 - math.exp(-dt / glide_s) if glide_s > 0 else 1.0
        self._vocoder = ChunkVocoder(spec, n_iter=n_iter, seed=seed)
        self._resample = (
            None
            if spec.sample_rate == sample_rate
            else soxr.ResampleStream(spec.sample_rate, sample_rate, 1, dtype="float64")
        )
        self._stereo = _Stereo(sample_rate, width, azimuth)
        self.gain = gain
        self._blend: tuple[Voice, float] | None = None
        self._pending = np.zeros((0, 2), dtype=np.float32)
        self.frames_out = 0

    # ------------------------------------------------------------- controls
    def set_slider(self, index: int, value: float) -> None:
        """Slider ``index`` (0-based) towards ``value`` (0..1) from the next chunk."""
        if not 0 <= index < len(self.targets):
            raise IndexError(f"slider {index + 1} of {len(self.targets)}")
        self.targets[index] = min(1.0, max(0.0, float(value)))

    def set_sliders(self, values: Sequence[float]) -> None:
        v = np.asarray(values, dtype=float)
        if v.shape != self.targets.shape:
            raise ValueError(f"expected {len(self.targets)} slider values, got {len(v)}")
        self.targets = np.clip(v, 0.0, 1.0)

    def set_blend(self, other: Voice | None, weight: float = 0.0) -> None:
        """Blend with ``other`` (weight 0..1 of it) from the next chunk; None: off."""
        if other is not None and other.spec != self.voice.spec:
            raise ValueError("the blend partner has another mel grid (MelSpec)")
        self._blend = None if other is None or weight <= 0 else (other, min(1.0, weight))

    # ----------------------------------------------------------- synthesis
    def _latent(self, voice: Voice, values: FloatArray, drift: FloatArray) -> FloatArray:
        ss = voice.sliders
        # the partner's sliders matched by name; unmatched ones stay at the middle
        if voice is not self.voice:
            own = {s.name: values[i] for i, s in enumerate(self.voice.sliders.sliders)}
            values = np.array([own.get(s.name, 0.5) for s in ss.sliders])
            drift = np.zeros(len(ss))
        z = ss.latent(np.clip(values, 0.0, 1.0))
        sig = np.array([s.sigma for s in ss.sliders])
        return z + (drift * sig) @ ss.directions

    def _patch(self) -> FloatArray:
        self.values += (self.targets - self.values) * self._g
        noise = self._rng.standard_normal(len(self.values))
        self._drift = self._drift * self._a + math.sqrt(1.0 - self._a**2) * noise * self.drift
        patch = decode_patch(self.voice.model, self._latent(self.voice, self.values, self._drift))
        if self._blend is not None:
            other, w = self._blend
            theirs = decode_patch(other.model, self._latent(other, self.values, self._drift))
            patch = (1.0 - w) * patch + w * theirs
        return patch

    def _chunk(self) -> FloatArray:
        """The next hop_frames of model-rate mono audio (may be empty while warming up)."""
        h = self.hop_frames
        self._acc += np.exp(self._patch()) * self._window[None, :] * self._ola_gain
        done = self._acc[:, :h].copy()  # (n_mels, h) complete frames
        self._acc = np.concatenate([self._acc[:, h:], np.zeros((self._acc.shape[0], h))], 1)
        if self._warm > 0:
            self._warm -= 1
            return np.zeros(0)
        logmel = np.log(np.maximum(done, self.voice.spec.log_floor))
        mag = mel_to_magnitude(logmel, self.voice.spec, iters=16)
        return self._vocoder.synthesise(mag)

    def render(self, frames: int) -> npt.NDArray[np.float32]:
        """The next ``frames`` stereo frames at the output rate, (frames, 2) float32."""
        parts = [self._pending]
        have = len(self._pending)
        while have < frames:
            x = self._chunk()
            if x.size == 0:
                continue
            if self._resample is not None:
                x = self._resample.resample_chunk(x)
            st = (self._stereo.process(x) * self.gain).astype(np.float32)
            parts.append(st)
            have += len(st)
        out = np.concatenate(parts)
        self._pending = out[frames:]
        self.frames_out += frames
        return np.ascontiguousarray(out[:frames])


def load_voice(folder: Any) -> Voice:
    """The model (``model.pt``) and sliders (``sliders.json``) of a model folder."""
    import json
    from pathlib import Path

    from bassd.models.vae_train import load_model

    model, meta = load_model(folder)
    path = Path(folder) / "sliders.json"
    try:
        sliders = SliderSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no sliders (bassd vae sliders computes them)") from None
    return Voice(model, MelSpec.from_dict(meta["spec"]), sliders)
