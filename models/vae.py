"""A small convolutional VAE over log-mel patches, for models trained on 5-500 of a
musician's own files (the trainer is :mod:`bassd.models.vae_train`).

Input: a patch of ``frames`` log-mel frames, normalised by the training set's mean and
standard deviation (one scalar each, held in the module's buffers ``norm_mean`` and
``norm_std`` so they travel with the weights): ``(B, 1, n_mels, frames)``.

Encoder: ``len(channels)`` blocks of Conv2d (kernel 4, stride 2, padding 1: each halves
both axes) + SiLU -> flatten -> two linear heads, ``mu`` and ``logvar`` (``latent`` each).
Decoder: linear -> the encoder's last feature map -> ConvTranspose2d blocks (kernel 4,
stride 2, padding 1: each doubles both axes) with SiLU between, no activation on the last
(the output is in normalised log-mel units, unbounded). Where ``n_mels`` or ``frames`` is
not a multiple of ``2 ** len(channels)`` the input is padded at the top/right with the
patch's edge values (replicate) and the decoder's output is cropped back.

torch is imported by this module and the trainer only, never by the daemon. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MelVae", "VaeConfig", "kl_beta", "vae_loss"]


@dataclass
class VaeConfig:
    n_mels: int = 80
    frames: int = 32  # patch length in mel frames (32 x 256 / 24000 = 0.34 s)
    latent: int = 16
    channels: tuple[int, ...] = field(default=(32, 64, 128))
    beta: float = 0.5  # KL weight after warm-up (see vae_loss)
    kl_warmup_epochs: int = 10  # beta ramps linearly from beta / warmup to beta

    def __post_init__(self) -> None:
        self.channels = tuple(int(c) for c in self.channels)
        if self.n_mels < 1 or self.frames < 1 or self.latent < 1 or not self.channels:
            raise ValueError("need n_mels, frames, latent >= 1 and at least one channel")
        if self.beta < 0 or self.kl_warmup_epochs < 0:
            raise ValueError("need beta >= 0 and kl_warmup_epochs >= 0")


def kl_beta(config: VaeConfig, epoch: int) -> float:
    """The KL weight in 0-based ``epoch``: ``beta * (epoch + 1) / kl_warmup_epochs`` during
    the warm-up, ``beta`` after it (and at once when the warm-up is 0)."""
    if config.kl_warmup_epochs <= 0:
        return config.beta
    return config.beta * min(1.0, (epoch + 1) / config.kl_warmup_epochs)


def _padded(n: int, factor: int) -> int:
    return -(-n // factor) * factor


class MelVae(nn.Module):
    norm_mean: torch.Tensor  # () buffer: the training set's log-mel mean (raw units)
    norm_std: torch.Tensor  # () buffer: its standard deviation

    def __init__(self, config: VaeConfig) -> None:
        super().__init__()
        self.config = config
        depth = len(config.channels)
        factor = 2**depth
        self.pad_mels = _padded(config.n_mels, factor)
        self.pad_frames = _padded(config.frames, factor)
        self.feat_shape = (config.channels[-1], self.pad_mels // factor, self.pad_frames // factor)
        flat = config.channels[-1] * self.feat_shape[1] * self.feat_shape[2]

        enc: list[nn.Module] = []
        c_in = 1
        for c in config.channels:
            enc += [nn.Conv2d(c_in, c, kernel_size=4, stride=2, padding=1), nn.SiLU()]
            c_in = c
        self.encoder = nn.Sequential(*enc)
        self.to_mu = nn.Linear(flat, config.latent)
        self.to_logvar = nn.Linear(flat, config.latent)

        self.from_z = nn.Linear(config.latent, flat)
        dec: list[nn.Module] = []
        outs = [*reversed(config.channels[:-1]), 1]
        for i, c in enumerate(outs):
            dec.append(nn.ConvTranspose2d(c_in, c, kernel_size=4, stride=2, padding=1))
            if i < len(outs) - 1:
                dec.append(nn.SiLU())
            c_in = c
        self.decoder = nn.Sequential(*dec)

        # the training set's log-mel statistics (raw units); set by the trainer
        self.register_buffer("norm_mean", torch.zeros(()))
        self.register_buffer("norm_std", torch.ones(()))

    def normalise(self, logmel: torch.Tensor) -> torch.Tensor:
        """Raw natural-log mel values -> the model's units (any shape)."""
        return (logmel - self.norm_mean) / self.norm_std

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        """The model's units -> raw natural-log mel values (any shape)."""
        return x * self.norm_std + self.norm_mean

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), each (B, latent), of normalised patches x (B, 1, n_mels, frames)."""
        cfg = self.config
        pad = (0, self.pad_frames - cfg.frames, 0, self.pad_mels - cfg.n_mels)
        if any(pad):
            x = F.pad(x, pad, mode="replicate")  # (B, 1, pad_mels, pad_frames)
        h = self.encoder(x)  # (B, C, pad_mels / 2^d, pad_frames / 2^d)
        h = h.flatten(1)  # (B, flat)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised patches (B, 1, n_mels, frames) of latents z (B, latent)."""
        h = self.from_z(z).view(z.shape[0], *self.feat_shape)  # (B, C, m, f)
        x = self.decoder(h)  # (B, 1, pad_mels, pad_frames)
        return x[:, :, : self.config.n_mels, : self.config.frames]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_hat, mu, logvar): in training mode z is sampled (reparameterised, torch's
        global RNG), in eval mode z = mu."""
        mu, logvar = self.encode(x)  # (B, latent) each
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        return self.decode(z), mu, logvar


def vae_loss(
    x: torch.Tensor, x_hat: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, recon, kl) with ``total = recon + beta * kl``.

    ``recon``: mean squared error per element of x (B, 1, n_mels, frames), normalised units.
    ``kl``: KL(q(z|x) || N(0, I)) summed over the latent dimensions, averaged over the batch,
    then divided by the number of elements of one patch (n_mels * frames), so that both
    terms are per element. ``total`` is then the negative ELBO per element (up to a
    constant) of a Gaussian decoder whose variance is ``beta / 2`` in normalised units:
    beta = 0.5 assumes a reconstruction noise of std 0.5 (half the data's std); larger beta
    trades detail for a smoother, more regular latent space (better sliders).
    """
    recon = F.mse_loss(x_hat, x)
    per_patch = x[0].numel()
    kl_sum = -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp(), dim=1)  # (B,)
    kl = kl_sum.mean() / per_patch
    return recon + beta * kl, recon, kl
