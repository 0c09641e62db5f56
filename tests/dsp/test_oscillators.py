"""The Kuramoto oscillator bank: continuity, determinism, scale, coupling."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.dsp.scales import hz_to_midi, scale_pitch_classes

SR = 48_000


def test_block_slicing_does_not_change_the_output() -> None:
    """Rendering in random block sizes gives exactly the samples of one big render."""
    whole = KuramotoBank(BankParams(), SR, seed=5).render(3 * SR)
    bank = KuramotoBank(BankParams(), SR, seed=5)
    rng = np.random.default_rng(0)
    parts, done = [], 0
    while done < 3 * SR:
        n = min(int(rng.integers(1, 5000)), 3 * SR - done)
        parts.append(bank.render(n))
        done += n
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_continuous_across_blocks() -> None:
    """No jump between consecutive samples larger than the signal's own slope allows."""
    y = KuramotoBank(BankParams(), SR, seed=1).render(5 * SR)
    jumps = np.abs(np.diff(y, axis=0))
    # a pad below ~9 kHz: the largest step is a small fraction of the peak
    assert jumps.max() < 0.15 * np.abs(y).max()
    # and the step at control-step boundaries (every 128 frames) is no larger than elsewhere
    at_edges = jumps[127::128].max()
    assert at_edges <= 1.2 * np.percentile(jumps, 99.99)


def test_deterministic_per_seed() -> None:
    """Same seed, same samples; another seed, other samples."""
    a = KuramotoBank(BankParams(), SR, seed=11).render(SR)
    b = KuramotoBank(BankParams(), SR, seed=11).render(SR)
    c = KuramotoBank(BankParams(), SR, seed=12).render(SR)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    ("key", "mode"), [("D", "dorian"), ("F#", "major"), ("A", "pentatonic_minor")]
)
def test_partials_on_the_requested_scale(key: str, mode: str) -> None:
    """Every partial's pitch, and every strong spectral peak of the output, is a scale note."""
    bank = KuramotoBank(BankParams(key=key, mode=mode, coupling=3.0), SR, seed=2)
    pcs = set(scale_pitch_classes(key, mode))
    midi = hz_to_midi(bank.partial_hz)
    assert set(np.round(midi).astype(int) % 12) <= pcs
    np.testing.assert_allclose(midi, np.round(midi), atol=1e-9)
    y = bank.render(4 * SR)[SR:, 0]  # 3 s after the start, coupled
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    peaks = [i for i in range(1, len(spec) - 1) if spec[i] > spec[i - 1] and spec[i] >= spec[i + 1]]
    strong = [i for i in peaks if spec[i] > 0.1 * spec.max() and freqs[i] > 50]
    assert len(strong) >= 3
    for i in strong:
        m = float(hz_to_midi(freqs[i]))
        assert abs(m - round(m)) < 0.15, f"peak at {freqs[i]:.1f} Hz is off the grid"
        assert round(m) % 12 in pcs, f"peak at {freqs[i]:.1f} Hz is not in {key} {mode}"


def test_coupling_raises_phase_coherence() -> None:
    """The order parameter r grows with K: incoherent below K_c, locked well above it."""
    r = {}
    for k in (0.0, 0.5, 2.0, 4.0):
        bank = KuramotoBank(BankParams(coupling=k, density=128), SR, seed=4)
        bank.render(10 * SR)
        r[k] = bank.order_parameter()
    assert r[0.0] < 0.35
    assert r[2.0] > 0.8 and r[4.0] > 0.9
    assert r[0.0] < r[2.0] < r[4.0] + 1e-9


def test_block_slicing_does_not_change_a_large_bank() -> None:
    """A 4096-partial bank (eight steps per chunk) also renders the same samples however sliced."""
    params = BankParams(density=4096)
    whole = KuramotoBank(params, SR, seed=3).render(SR // 2)
    bank = KuramotoBank(params, SR, seed=3)
    parts = [bank.render(n) for n in (1, 255, 1024, 777, SR // 2 - 2057)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_live_controls_glide_to_their_target() -> None:
    """Brightness and width move smoothly (no jump) and end exactly on the new setting's sound."""
    bank = KuramotoBank(BankParams(brightness=0.2, width=0.2), SR, seed=6)
    ref = KuramotoBank(BankParams(brightness=0.9, width=0.9), SR, seed=6)
    y = bank.render(SR)
    ref.render(SR)
    bank.set_brightness(0.9)
    bank.set_width(0.9)
    z = bank.render(SR)
    ref.render(SR)
    step = np.abs(np.diff(np.concatenate([y[-2000:], z[:2000]]), axis=0)).max()
    assert step < 0.15 * np.abs(z).max()
    # after the ~30 ms glide the bank sounds as if it had been built with the new settings
    np.testing.assert_allclose(bank.render(SR), ref.render(SR), atol=1e-5)


def test_coupling_change_keeps_the_phases_continuous() -> None:
    """Changing K mid-stream never makes a step at a block boundary larger than the signal allows."""
    bank = KuramotoBank(BankParams(coupling=0.0), SR, seed=7)
    y = [bank.render(256) for _ in range(40)]
    bank.set_coupling(4.0)
    y += [bank.render(256) for _ in range(400)]
    sig = np.concatenate(y)
    jumps = np.abs(np.diff(sig, axis=0)).max(axis=1)
    assert jumps[40 * 256 - 1] <= 1.2 * np.percentile(jumps, 99.99)
    assert bank.order_parameter() > 0.8
