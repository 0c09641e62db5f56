"""A bank's loudness predicted from its state, and normalised to a target."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyloudnorm
import pytest

from bassd.dsp.bank_loudness import locked_offsets, pitch_powers
from bassd.dsp.loudness import MasterChain, gain_for_target
from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.dsp.postfx import PostFX

SR = 48000


def _lufs_after_chain(bank: KuramotoBank, seconds: float, gain_db: float) -> float:
    fx = PostFX(SR, gain_db=gain_db)
    x = bank.render(round(seconds * SR))
    y = np.concatenate([fx.process(x[i : i + 256]) for i in range(0, len(x), 256)])
    return float(pyloudnorm.Meter(SR).integrated_loudness(y.astype(np.float64)))


def test_locked_offsets_solve_the_fixed_point() -> None:
    """Locked voices satisfy Δω − ⟨Δω⟩ = K·r·sin β with r their own order parameter."""
    rng = np.random.default_rng(1)
    dw = rng.normal(0.0, 1.0, 400)
    k = 3.0
    beta, lock = locked_offsets(dw, k)
    r = np.sum(np.cos(beta[lock])) / len(dw)
    assert lock.mean() > 0.9
    np.testing.assert_allclose((dw - dw.mean())[lock], k * r * np.sin(beta[lock]), atol=1e-5)
    assert not locked_offsets(dw, 0.01)[1].any()  # far below K_c nothing locks


#: (key, mode, density, coupling, brightness, seed): sparse and dense, drifting and locked;
#: the last two are the quietest and loudest of the shipped prompts before normalisation
BANKS: list[Any] = [
    ("A", "dorian", 24, 0.4, 0.4, 0),
    ("D", "dorian", 96, 0.6, 0.5, 1),
    ("F#", "minor", 512, 1.1, 0.4, 0),
    ("Eb", "major", 448, 2.35, 0.3, 2),
    pytest.param(
        ("E", "dorian", 85, 1.1, 0.575, 0),
        marks=pytest.mark.xfail(
            strict=True,
            reason="known gap, measured -1.18 LU: near K_c the voices lock slowly and the "
            "unlocked transient is not modelled",
        ),
    ),
    ("C", "pentatonic_minor", 157, 2.333, 0.083, 0),
]


def _bank(spec: tuple[str, str, int, float, float, int]) -> KuramotoBank:
    key, mode, density, coupling, brightness, seed = spec
    params = BankParams(
        key=key, mode=mode, density=density, coupling=coupling, brightness=brightness
    )
    return KuramotoBank(params, SR, seed=seed)


@pytest.mark.parametrize("spec", BANKS)
def test_normalised_banks_land_within_one_lu_of_the_target(
    spec: tuple[str, str, int, float, float, int],
) -> None:
    """A 24 s segment of each bank, at the gain chosen from its state, is −16 ± 1 LUFS."""
    bank = _bank(spec)
    hz, power = pitch_powers(bank)
    gain = gain_for_target(hz, power, MasterChain(), -16.0)
    assert abs(_lufs_after_chain(bank, 24.0, gain) + 16.0) <= 1.0


def test_without_normalisation_the_banks_differ_by_more_than_two_lu() -> None:
    """The spread the normalisation removes is real: unnormalised, > 2 LU apart."""
    quiet, loud = _bank(("E", "dorian", 85, 1.1, 0.575, 0)), _bank(BANKS[-1])
    assert _lufs_after_chain(loud, 24.0, 0.0) - _lufs_after_chain(quiet, 24.0, 0.0) > 2.0
