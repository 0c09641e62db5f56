"""The oscillator bank playing a sound (an analysis): its partials, snap, coupling, map moves."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.oscillator_set import BandInfo, OscillatorSet, SetPartial
from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.dsp.scales import hz_to_midi, scale_pitch_classes
from bassd.dsp.som import SomMap
from bassd.dsp.sound import Sound

SR = 48_000
FREQS = (196.0, 311.0, 523.25, 740.0, 1250.0)


def _set(freqs=FREQS, amps_db=(-10, -14, -18, -22, -26), std=1.0) -> OscillatorSet:
    parts = tuple(
        SetPartial(freq_hz=f, amp_db=a, peak_db=a, presence=1.0, onset_s=0.0, offset_s=9.0,
                   attack_s=0.1, decay_db_s=0.0, band="250-2000" if f >= 250 else "20-250",
                   freq_std_cents=std, amp_jitter_db=0.1, stable=True, tracks=1)
        for f, a in zip(freqs, amps_db, strict=True)
    )  # fmt: skip
    bands = (BandInfo("20-250", 20, 250, 1, 1.0, 2.0), BandInfo("250-2000", 250, 2000, 4, 1.0, 2.0))
    return OscillatorSet("t", ("a.wav",), 9.0, parts, bands)


def _map(oscset: OscillatorSet) -> SomMap:
    """A 2x2 map: each corner node sounds one partial (the fifth is silent everywhere)."""
    p = len(oscset)
    states = np.zeros((2, 2, p))
    for i, (r, c) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        states[r, c, i] = 0.3
    d = 3
    return SomMap(rows=2, cols=2, weights=np.zeros((2, 2, d)), mean=np.zeros(d), std=np.ones(d),
                  states=states, labels=np.zeros((2, 2), dtype=int),
                  hits=np.ones((2, 2), dtype=int), sigma=1.0)  # fmt: skip


def _peak_hz(y: np.ndarray) -> np.ndarray:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    f = np.fft.rfftfreq(len(y), 1 / SR)
    idx = [i for i in range(1, len(spec) - 1) if spec[i] > spec[i - 1] and spec[i] >= spec[i + 1]]
    strong = [i for i in idx if spec[i] > 0.05 * spec.max()]
    return np.array(f[strong])


def _level_at(y: np.ndarray, hz: float) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    f = np.fft.rfftfreq(len(y), 1 / SR)
    band = (f > hz * 0.98) & (f < hz * 1.02)
    return float(spec[band].max())


def test_the_bank_plays_the_sets_partials_at_their_levels() -> None:
    """One partial per set partial; the output's strong peaks sit on them (within 10 cents, the
    detune) with the set's balance: 10 dB louder in the set is louder in the output (the
    slow LFO swings a partial by at most 6 dB)."""
    oscset = _set(amps_db=(-6, -16, -26, -36, -46))
    bank = KuramotoBank(BankParams(coupling=3.0), SR, seed=1, sound=Sound(oscset))
    np.testing.assert_allclose(bank.partial_hz, FREQS)
    y = bank.render(4 * SR)[SR:, 0]
    for f in _peak_hz(y):
        assert np.min(np.abs(1200 * np.log2(f / np.array(FREQS)))) < 10.0, f
    levels = [_level_at(y, f) for f in FREQS]
    assert levels == sorted(levels, reverse=True)


def test_transpose_and_snap_to_the_key() -> None:
    """Transposition moves every partial by its semitones; snap=key puts each on the nearest
    note of the key and mode."""
    up = KuramotoBank(BankParams(partials_transpose=-12.0), SR, sound=Sound(_set()))
    np.testing.assert_allclose(up.partial_hz, np.array(FREQS) / 2)
    snap = KuramotoBank(BankParams(partials_snap="key", key="D", mode="dorian"), SR,
                        sound=Sound(_set()))  # fmt: skip
    midi = hz_to_midi(snap.partial_hz)
    np.testing.assert_allclose(midi, np.round(midi), atol=1e-9)
    assert set(np.round(midi).astype(int) % 12) <= set(scale_pitch_classes("D", "dorian"))
    assert np.all(np.abs(midi - hz_to_midi(np.array(FREQS))) <= 1.0)


def test_coupling_still_locks_a_sound() -> None:
    """With the sound's partials, r stays low at K = 0 and locks above K_c."""
    many = tuple(110.0 * 2 ** (k / 7) for k in range(40))
    oscset = _set(many, tuple(-20.0 for _ in many), std=8.0)
    r = {}
    for k in (0.0, 3.0):
        bank = KuramotoBank(BankParams(coupling=k), SR, seed=4, sound=Sound(oscset))
        bank.render(8 * SR)
        r[k] = bank.order_parameter()
    assert r[0.0] < 0.4 < 0.8 < r[3.0]


def test_moving_on_the_map_glides_to_the_nodes_state() -> None:
    """set_som_xy at a corner makes that corner's partial the loudest within ~0.1 s; a jump
    across the map produces no click (sample steps stay within the signal's own slope)."""
    oscset = _set()
    bank = KuramotoBank(BankParams(som_x=0.0, som_y=0.0), SR, seed=2,
                        sound=Sound(oscset, _map(oscset)))  # fmt: skip
    first = bank.render(SR)[SR // 2 :, 0]
    assert max(FREQS[:4], key=lambda f: _level_at(first, f)) == FREQS[0]
    bank.set_som_xy(1.0, 1.0)
    jump = bank.render(SR)
    later = jump[SR // 2 :, 0]
    assert max(FREQS[:4], key=lambda f: _level_at(later, f)) == FREQS[3]
    steady = KuramotoBank(BankParams(som_x=1.0, som_y=1.0), SR, seed=2,
                          sound=Sound(oscset, _map(oscset))).render(2 * SR)[:, 0]  # fmt: skip
    slope = max(np.abs(np.diff(first)).max(), np.abs(np.diff(steady)).max())
    assert np.abs(np.diff(jump[:, 0])).max() < 1.25 * slope


def test_no_map_is_a_clear_error() -> None:
    """set_som_xy on a bank without a map raises ValueError saying so."""
    bank = KuramotoBank(BankParams(), SR, sound=Sound(_set()))
    with pytest.raises(ValueError, match="no map"):
        bank.set_som_xy(0.5, 0.5)
