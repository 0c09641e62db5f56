"""Sliders: PCA of the latents, names measured from renders, flips, the latent of a setting."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.models.vae_sliders import SliderSet, fit_sliders, principal_directions, spearman

SR = 16_000


def _render(z: np.ndarray) -> tuple[np.ndarray, int]:
    """A tone: pitch rises with z[0]; level FALLS with z[1] (to test the flip); z[2:] unused."""
    t = np.arange(SR) / SR
    f0 = 200.0 * 2 ** (0.5 * z[0])
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 4))
    return 0.2 * 10 ** (-6.0 * z[1] / 20) * x, SR


def _latents() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.column_stack([rng.normal(0, 1.0, 300), rng.normal(0, 0.5, 300),
                            rng.normal(0, 0.01, 300), rng.normal(0, 0.01, 300)])  # fmt: skip


def test_pca_orders_directions_by_variance() -> None:
    """The first direction is the widest axis of the data, the shares sum to 1."""
    _, vt, share = principal_directions(_latents())
    assert abs(vt[0, 0]) > 0.99 and abs(vt[1, 1]) > 0.99
    assert share[0] > share[1] > share[2] and share.sum() == pytest.approx(1.0)


def test_names_come_from_the_renders_and_directions_flip() -> None:
    """The level axis is named loudness (its direction flipped so the slider raises it), the
    pitch axis after pitch or brightness (both rise with it), the unused axes 'texture N';
    each descriptor names one slider at most."""
    ss = fit_sliders(_latents(), _render, steps=5, bases=2)
    names = [s.name for s in ss.sliders]
    assert len(ss) == 4 and names[2:] == ["texture 3", "texture 4"]
    assert names[0] in ("pitch", "brightness") and names[1] == "loudness"
    assert len(set(names)) == 4
    loud = ss.by_name("loudness")
    assert loud.rho == pytest.approx(1.0) and loud.correlations["loudness"] > 0
    assert ss.directions[1, 1] < 0  # flipped: up the slider, down z[1], up the level
    lo, _ = _render(ss.latent([0.5, 0.0, 0.5, 0.5]))
    hi, _ = _render(ss.latent([0.5, 1.0, 0.5, 0.5]))
    assert np.sqrt(np.mean(hi**2)) > np.sqrt(np.mean(lo**2))


def test_latent_of_a_setting_and_round_trip() -> None:
    """0.5 everywhere is the mean; 1.0 is span sigmas along the direction; to_dict/from_dict
    round-trips; a wrong number of values is refused."""
    ss = fit_sliders(_latents(), _render, steps=3, bases=1)
    np.testing.assert_allclose(ss.latent([0.5] * 4), ss.mean)
    up = ss.latent([1.0, 0.5, 0.5, 0.5]) - ss.mean
    assert np.linalg.norm(up) == pytest.approx(ss.span * ss.sliders[0].sigma)
    again = SliderSet.from_dict(ss.to_dict())
    np.testing.assert_array_equal(
        again.latent([0.2, 0.4, 0.6, 0.8]), ss.latent([0.2, 0.4, 0.6, 0.8])
    )
    with pytest.raises(ValueError, match="expected 4 slider values"):
        ss.latent([0.5])


def test_spearman() -> None:
    """Ranks with ties averaged; constant input gives 0."""
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [5, 5, 5]) == 0.0
