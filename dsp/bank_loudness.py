"""The mean power of a KuramotoBank's partials, per pitch, predicted from its state.

Partials on different pitches add in power (they are orthogonal over a
segment). Partials that share a pitch (a bank denser than its scale's
positions doubles voices) add as phasors, and how depends on the coupling:

* voices that drift (detune beyond the locking range) beat, so on average
  their powers add;
* voices that lock settle at φᵢ = ψ − βᵢ with sin βᵢ = (Δωᵢ − ⟨Δω⟩)/(K·r), r the
  self-consistent order parameter. Since the bank advances θᵢ and φᵢ by the
  same coupled deviation, θᵢ(t) − φᵢ(t) = θᵢ(0) − φᵢ(0) + Ωᵢt, so a locked
  voice's phase is θᵢ(0) − φᵢ(0) − βᵢ + ψ(t) + Ωᵢt: the relative phases of
  locked voices are known from the start, without simulating the locking.

Amplitudes are base · chord weight · LFO (0.65 + 0.35 sin, independent per
voice) · pulse (1 + d cos), as the bank synthesises them; over a segment the
chord weights are averaged over the progression.

This reads the bank's state (``_theta``, ``_phi``, ``_layout``, ``_members``, ``_kweight``,
``_base_target``, ``_pans_target``, ``K``; the targets, so a live change still
gliding counts at the level it settles at): it belongs with the bank, which should expose it.
"""

from __future__ import annotations

import numpy as np

from bassd.dsp.oscillators import KuramotoBank

LFO_MEAN, LFO_SWING = 0.65, 0.35  # the bank's per-voice LFO: 0.65 + 0.35·sin


def locked_offsets(
    detune: np.ndarray, k: float, kweight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Steady-state βᵢ (φᵢ = ψ − βᵢ) and which voices lock, for detunes Δω (rad/s), K
    (times each voice's coupling share ``kweight``, 1 by default)."""
    w = detune - detune.mean()
    kw = np.ones_like(w) if kweight is None else np.asarray(kweight, dtype=np.float64)
    n = max(len(w), 1)
    r = 1.0
    for _ in range(60):  # r = (1/N) Σ_locked cos βᵢ, solved by iteration
        x = w / np.maximum(k * kw * r, 1e-12)
        lock = np.abs(x) <= 1.0
        r_new = float(np.sum(np.sqrt(1.0 - x[lock] ** 2))) / n
        if r_new <= 1e-9:
            return np.zeros_like(w), np.zeros(len(w), dtype=bool)
        if abs(r_new - r) < 1e-7:
            r = r_new
            break
        r = r_new
    x = w / np.maximum(k * kw * r, 1e-12)
    lock = np.abs(x) <= 1.0
    return np.where(lock, np.arcsin(np.clip(x, -1.0, 1.0)), 0.0), lock


def pitch_powers(bank: KuramotoBank) -> tuple[np.ndarray, np.ndarray]:
    """(Hz, mean square summed over both channels) of every distinct pitch of the bank."""
    lay = bank._layout
    chord = np.sqrt(np.mean(bank._members**2, axis=0))  # RMS chord weight per partial
    lfo_ms = LFO_MEAN**2 + 0.5 * LFO_SWING**2
    pulse_ms = 1.0 + 0.5 * bank.params.pulse_depth**2
    detune = np.asarray(lay.detune, dtype=np.float64)
    beta, lock = locked_offsets(detune, float(bank.K), bank._kweight)
    phase = np.exp(1j * (bank._theta - bank._phi - beta))
    # voices share a pitch when their nominal frequencies are equal (a sound's partials
    # are all distinct unless snapped to one note)
    pitches, inverse = np.unique(lay.omega, return_inverse=True)
    power = np.zeros(len(pitches))
    hz = np.zeros(len(pitches))
    np.put(hz, inverse, bank.partial_hz)
    for ch in range(2):
        amp = bank._base_target * chord * bank._pans_target[ch]  # where live glides settle
        incoherent = np.bincount(inverse, weights=amp**2 * lfo_ms, minlength=len(pitches))
        a_lock = np.where(lock, amp * LFO_MEAN, 0.0)
        re = np.bincount(inverse, weights=a_lock * phase.real, minlength=len(pitches))
        im = np.bincount(inverse, weights=a_lock * phase.imag, minlength=len(pitches))
        self_terms = np.bincount(inverse, weights=a_lock**2, minlength=len(pitches))
        power += 0.5 * pulse_ms * (incoherent + re**2 + im**2 - self_terms)
    return hz, np.maximum(power, 0.0)
