"""The mel VAE's module and loss, and its data side: patches, stats, sampler, augmentation."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bassd.models.vae import MelVae, VaeConfig, kl_beta, vae_loss  # noqa: E402
from bassd.models.vae_data import (  # noqa: E402
    AugmentConfig,
    PatchSampler,
    augment,
    build_patches,
    count_patches,
    gain,
    mix,
    norm_stats,
    pitch_shift,
)

torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("n_mels", "frames", "channels"), [(80, 32, (32, 64, 128)), (37, 13, (4, 8)), (80, 32, (8,))]
)
def test_shapes_round_trip(n_mels: int, frames: int, channels: tuple[int, ...]) -> None:
    """encode gives (B, latent) x 2 and decode/forward give back (B, 1, n_mels, frames), strides dividing or not."""
    torch.manual_seed(0)
    cfg = VaeConfig(n_mels=n_mels, frames=frames, latent=5, channels=channels)
    model = MelVae(cfg)
    x = torch.randn(3, 1, n_mels, frames)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 5)
    assert model.decode(mu).shape == (3, 1, n_mels, frames)
    x_hat, mu2, _ = model(x)
    assert x_hat.shape == x.shape and mu2.shape == (3, 5)


def test_eval_forward_is_deterministic_and_train_samples() -> None:
    """In eval mode forward decodes mu (same output twice); in training mode z is sampled."""
    torch.manual_seed(0)
    model = MelVae(VaeConfig(channels=(4, 8)))
    x = torch.randn(2, 1, 80, 32)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    assert torch.equal(model(x)[0], model.decode(model.encode(x)[0]))
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])


def test_normalise_round_trips_through_buffers() -> None:
    """normalise/denormalise use the stats buffers, which are part of the state_dict."""
    model = MelVae(VaeConfig(channels=(4,)))
    model.norm_mean.fill_(-3.0)
    model.norm_std.fill_(2.0)
    x = torch.tensor([-3.0, -1.0, 1.0])
    assert torch.allclose(model.normalise(x), torch.tensor([0.0, 1.0, 2.0]))
    assert torch.allclose(model.denormalise(model.normalise(x)), x)
    assert {"norm_mean", "norm_std"} <= set(model.state_dict())


def test_loss_terms() -> None:
    """recon is the per-element MSE, kl the per-patch KL / elements (0 at the prior), total = recon + beta kl."""
    torch.manual_seed(0)
    x = torch.randn(4, 1, 10, 6)
    x_hat = torch.randn(4, 1, 10, 6)
    zero = torch.zeros(4, 3)
    total, recon, kl = vae_loss(x, x_hat, zero, zero, beta=0.5)
    assert math.isclose(float(recon), float(((x - x_hat) ** 2).mean()), rel_tol=1e-6)
    assert float(kl) == 0.0 and math.isclose(float(total), float(recon), rel_tol=1e-6)
    mu = torch.ones(4, 3)
    total, recon, kl = vae_loss(x, x_hat, mu, zero, beta=0.5)
    assert math.isclose(float(kl), 0.5 * 3 / 60, rel_tol=1e-6)  # 0.5 mu^2 per dim, 60 elements
    assert math.isclose(float(total), float(recon) + 0.5 * float(kl), rel_tol=1e-6)
    assert all(math.isfinite(float(t)) for t in (total, recon, kl))


def test_kl_warmup_ramps_to_beta() -> None:
    """beta rises linearly over kl_warmup_epochs and stays at beta after (at once with no warm-up)."""
    cfg = VaeConfig(beta=0.5, kl_warmup_epochs=4)
    assert [kl_beta(cfg, e) for e in range(6)] == [0.125, 0.25, 0.375, 0.5, 0.5, 0.5]
    assert kl_beta(VaeConfig(beta=0.3, kl_warmup_epochs=0), 0) == 0.3


def test_build_patches_overlap_and_short_files() -> None:
    """Patches are every hop_frames frames of each file in order; a file shorter than a patch adds none."""
    a = np.arange(2 * 20, dtype=np.float64).reshape(2, 20)
    short = np.zeros((2, 5))
    p = build_patches([a, short, a + 1000], frames=8, hop_frames=4)
    n = count_patches(20, 8, 4)
    assert n == 4 and p.shape == (2 * n, 2, 8) and p.dtype == np.float32
    np.testing.assert_array_equal(p[1], a[:, 4:12])
    np.testing.assert_array_equal(p[n], a[:, 0:8] + 1000)
    assert build_patches([short], 8, 4).shape == (0, 2, 8)


def test_norm_stats_over_all_values() -> None:
    """One mean and std over every value of every file."""
    a, b = np.full((3, 4), 1.0), np.full((3, 12), 3.0)
    s = norm_stats([a, b])
    assert math.isclose(s.mean, 2.5) and math.isclose(s.std, math.sqrt(0.75))
    assert type(s).from_dict(s.to_dict()) == s


def test_patch_sampler_windows_seeded_and_restorable() -> None:
    """Draws are windows of the files at random starts, the same per seed, and resume from a saved state."""
    rng = np.random.default_rng(1)
    files = [
        rng.standard_normal((3, 40)),
        rng.standard_normal((3, 6)),
        rng.standard_normal((3, 25)),
    ]
    s1, s2 = PatchSampler(files, 8, seed=5), PatchSampler(files, 8, seed=5)
    assert s1.n_starts == 33 + 18  # the 6-frame file has no start
    d = s1.draw(50)
    np.testing.assert_array_equal(d, s2.draw(50))
    windows = {w.tobytes() for f in (files[0], files[2]) for w in build_patches([f], 8, 1)}
    assert all(p.tobytes() in windows for p in d)
    assert len({p.tobytes() for p in d}) > 20  # random offsets, not one patch
    state = s1.state()
    nxt = s1.draw(7)
    s2.set_state(state)
    np.testing.assert_array_equal(s2.draw(7), nxt)


def test_gain_adds_log_gain_above_floor() -> None:
    """+6 dB adds log(10^(6/20)); values never go below log(log_floor)."""
    x = torch.tensor([[[0.0, -11.0]]])  # (1, 1, 2)
    out = gain(x, torch.tensor([6.0]), log_floor=1e-5)
    assert math.isclose(float(out[0, 0, 0]), 6.0 * math.log(10) / 20, rel_tol=1e-6)
    low = gain(x, torch.tensor([-6.0]), log_floor=1e-5)
    assert math.isclose(float(low[0, 0, 1]), math.log(1e-5), rel_tol=1e-6)


def test_pitch_shift_moves_a_peak_by_the_ratio() -> None:
    """A peak at the band of f moves to the band nearest f * 2^(s/12); s = 0 is the identity."""
    centres = torch.logspace(math.log10(50.0), math.log10(10000.0), 80)  # (80,) increasing
    x = torch.full((1, 80, 3), -5.0)
    x[0, 40] = 0.0
    up = pitch_shift(x, torch.tensor([12.0]), centres)  # an octave
    target = int(torch.argmin(torch.abs(centres - centres[40] * 2)))
    assert int(torch.argmax(up[0, :, 0])) == target
    assert torch.allclose(pitch_shift(x, torch.tensor([0.0]), centres), x)


def test_mix_is_linear_domain_mixup() -> None:
    """mix gives log(w e^a + (1 - w) e^b): w = 1 keeps a, equal patches stay put."""
    a, b = torch.tensor([[[0.0, 1.0]]]), torch.tensor([[[2.0, -1.0]]])
    w = torch.tensor([0.25])
    expect = torch.log(0.25 * torch.exp(a) + 0.75 * torch.exp(b))
    assert torch.allclose(mix(a, b, w), expect)
    assert torch.allclose(mix(a, b, torch.tensor([1.0])), a, atol=1e-5)
    assert torch.allclose(mix(a, a, w), a, atol=1e-6)  # log(e^a) is a to float32 rounding


def test_augment_is_seeded_and_off_when_disabled() -> None:
    """The augmentation draws from torch's generator (same seed, same batch) and is the identity when all off."""
    centres = torch.linspace(30.0, 11000.0, 80)
    x = torch.randn(6, 80, 32) - 3.0
    torch.manual_seed(3)
    a = augment(x, AugmentConfig(), centres, 1e-5)
    torch.manual_seed(3)
    b = augment(x, AugmentConfig(), centres, 1e-5)
    assert torch.equal(a, b) and a.shape == x.shape and not torch.equal(a, x)
    off = AugmentConfig(gain_db=0.0, pitch_semitones=0.0, mix_prob=0.0)
    assert torch.equal(augment(x, off, centres, 1e-5), x)
