"""Kuramoto-coupled additive oscillator bank: a tonal, slowly evolving pad.

Every partial sits on an equal-tempered pitch of the requested scale (octave
doublings of scale notes) plus a small detune of a few cents. The detune phases
φᵢ = θᵢ − Ωᵢ·t (θᵢ the partial's phase, Ωᵢ its nominal pitch) follow the
Kuramoto model in its O(N) mean-field form,

    dφᵢ/dt = Δωᵢ + K·r·sin(ψ − φᵢ),        r·e^{iψ} = (1/N) Σⱼ e^{iφⱼ},

which for voices sharing a pitch is exactly dθᵢ/dt = ωᵢ + (K/N) Σⱼ sin(θⱼ − θᵢ).
K is given in units of the critical coupling K_c = 2/(π·g(0)) of the detune
distribution: below 1 the detuned voices drift and beat (shimmer); above it
they lock and the chord stands still.

Synthesis is exact-phase and block based. Time is cut into control steps of L
samples. Within a step each partial's amplitude moves linearly and its phase
advances at Ωᵢ plus the step's coupled deviation δᵢ. Expanding to first order,

    a(n)·sin(θ + Ωn + δn) ≈ a·[sinθ·C0 + cosθ·S0]
                            + (n/L)·[(a'−a)·sinθ + a·δL·cosθ]·C0
                            + (n/L)·[(a'−a)·cosθ − a·δL·sinθ]·S0

with tables C0[i, n] = cos(Ωᵢn), S0[i, n] = sin(Ωᵢn) fixed for the bank. A
whole chunk of steps, both channels at once, is then one matrix product
(steps·channels × 4N) @ (4N × L): no per-sample sin(), and the phase is carried
exactly from step to step, so the output is continuous at every boundary and
identical however the caller slices it.

Amplitudes are pure functions of absolute time (chord progression, slow LFOs,
a gentle pulse at the tempo), which keeps the bank deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from bassd.dsp.scales import midi_to_hz, pitch_class, scale_midi_notes, scale_pitch_classes

TWO_PI = 2.0 * np.pi

#: chord roots as scale-degree indices, one progression chosen per seed
PROGRESSIONS: tuple[tuple[int, ...], ...] = (
    (0, 5, 3, 4),
    (0, 3, 0, 4),
    (0, 5, 2, 3),
    (0, 4, 5, 3),
)


def _wrap(x: np.ndarray) -> np.ndarray:
    """x reduced to [0, 2π) (a SIMD-friendly ``np.mod(x, 2π)``)."""
    wrapped: np.ndarray = x - TWO_PI * np.floor(x * (1.0 / TWO_PI))
    return wrapped


@dataclass(frozen=True)
class BankParams:
    """Musical parameters of the oscillator bank (all validated by the config layer)."""

    key: str = "D"
    mode: str = "dorian"
    tempo_bpm: float = 64.0
    brightness: float = 0.5  # 0 dark (steep tilt) .. 1 bright (flat)
    density: int = 96  # number of partials
    coupling: float = 0.6  # K / K_c
    width: float = 0.7  # stereo width 0..1
    chord_beats: int = 8  # beats per chord of the progression
    pulse_depth: float = 0.12  # depth of the swell on each beat
    level: float = 0.35  # nominal RMS of the bank before post-FX
    detune_cents: float = 4.0  # standard deviation of the voices' detune


@dataclass
class _Layout:
    midi: np.ndarray  # (N,) nominal MIDI pitch of each partial
    omega: np.ndarray  # (N,) nominal angular frequency, rad/sample
    detune: np.ndarray  # (N,) Δω, rad/s
    pan_pos: np.ndarray  # (N,) pan position −1..1 before the width
    rel_hz: np.ndarray  # (N,) nominal pitch / 220 Hz
    octave: np.ndarray  # (N,) octave doubling 0, 1, 2
    lfo_hz: np.ndarray  # (N,)
    lfo_phase: np.ndarray  # (N,)
    chord_pcs: list[frozenset[int]] = field(default_factory=list)


class KuramotoBank:
    """Streams stereo float32 audio from a coupled oscillator bank."""

    def __init__(
        self,
        params: BankParams,
        sample_rate: int,
        seed: int = 0,
        *,
        control_frames: int = 128,
        chunk_steps: int | None = None,
    ) -> None:
        self.params = params
        self.sample_rate = sample_rate
        self.seed = seed
        self.L = control_frames
        # a fixed chunk shape keeps the output independent of how callers slice time;
        # small banks render two steps (one 256-frame block) at a time so live controls
        # take effect at the next block, big ones eight (the matrix product is cheaper)
        self.chunk_steps = chunk_steps or (2 if params.density <= 1024 else 8)
        rng = np.random.default_rng(seed)
        self._layout = self._build_layout(params, rng)
        lay = self._layout
        n = len(lay.omega)
        # live parameters glide to their targets with this time constant
        self._glide = float(np.exp(-control_frames / (sample_rate * 0.03)))
        self._base = self._base_for(params.brightness)
        self._base_target = self._base
        self._pans = self._pans_for(params.width)
        self._pans_target = self._pans
        # phases: θ (full phase, rad) and φ (detune phase, rad)
        self._theta = rng.uniform(0.0, TWO_PI, n)
        self._phi = rng.uniform(0.0, TWO_PI, n)
        sigma = float(np.std(lay.detune)) if n > 1 else 1.0
        self.critical_coupling = 2.0 * sigma * np.sqrt(2.0 * np.pi) / np.pi  # 2/(π g(0)), Gaussian
        self.K = params.coupling * self.critical_coupling
        self._lfo_cycles = lay.lfo_phase / TWO_PI
        # tables (4N, L): [C0; S0; C1; S1]
        steps = np.arange(self.L, dtype=np.float64)
        arg = lay.omega[:, None] * steps[None, :]  # (N, L)
        ramp = steps / self.L
        c0, s0 = np.cos(arg), np.sin(arg)
        self._tables = np.concatenate([c0, s0, c0 * ramp, s0 * ramp]).astype(np.float32)
        pcs_of = np.round(lay.midi).astype(np.int64) % 12
        self._members = np.array(
            [[1.0 if pc in chord else 0.12 for pc in pcs_of] for chord in lay.chord_pcs]
        )  # (chords, N): chord weight of every partial
        self.frame = 0  # frames delivered
        self._step_frame = 0  # first frame of the next control step to synthesise
        self._pending = np.zeros((0, 2), dtype=np.float32)
        self._amp_prev = self._amplitudes(np.array([0.0]))[0]  # (N,)

    # ------------------------------------------------------------------ layout
    def _build_layout(self, p: BankParams, rng: np.random.Generator) -> _Layout:
        tonic = pitch_class(p.key)
        # fundamentals from the tonic in octave 2 (MIDI 36 + pc, ≥ ~65 Hz) over three
        # octaves; octave doublings up to two more octaves, all below 9 kHz
        low = 36 + tonic if 36 + tonic >= 40 else 48 + tonic
        notes = scale_midi_notes(p.key, p.mode, low, low + 35)
        n = int(p.density)
        idx = np.arange(n)
        note = notes[idx % len(notes)]
        octave = (idx // len(notes)) % 3  # 0, +1, +2 octaves
        midi = (note + 12 * octave).astype(np.float64)
        midi = np.where(midi > 122, midi - 24, midi)
        detune_cents = rng.normal(0.0, p.detune_cents, n)
        nominal_hz = midi_to_hz(midi)
        detune_hz = nominal_hz * (2.0 ** (detune_cents / 1200.0) - 1.0)
        pan = rng.uniform(-1.0, 1.0, n)
        pcs = scale_pitch_classes(p.key, p.mode)
        prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
        chords = []
        for degree in prog:
            tones = {pcs[(degree + k) % len(pcs)] for k in (0, 2, 4, 6)}
            chords.append(frozenset(tones))
        return _Layout(
            midi=midi,
            omega=TWO_PI * nominal_hz / self.sample_rate,
            detune=TWO_PI * detune_hz,
            pan_pos=pan,
            rel_hz=nominal_hz / 220.0,
            octave=octave.astype(np.float64),
            lfo_hz=rng.uniform(0.03, 0.25, n),
            lfo_phase=rng.uniform(0.0, TWO_PI, n),
            chord_pcs=chords,
        )

    def _base_for(self, brightness: float) -> np.ndarray:
        """Spectral-tilt amplitudes: ∝ (f / 220 Hz)^-tilt, RMS ≈ level at full chord weight."""
        lay = self._layout
        tilt = 1.6 - 1.3 * brightness
        base = lay.rel_hz ** (-tilt) / (1.0 + lay.octave)
        scaled: np.ndarray = base * (self.params.level / np.sqrt(0.5 * np.sum(base**2) + 1e-12))
        return scaled

    def _pans_for(self, width: float) -> np.ndarray:
        """Equal-power pan gains (2, N) for the stereo width."""
        angle = (self._layout.pan_pos * width + 1.0) * (np.pi / 4.0)
        return np.stack([np.cos(angle), np.sin(angle)])

    # ------------------------------------------------------------ live control
    def set_coupling(self, coupling: float) -> None:
        """K / K_c, from the next control step (the phases move continuously)."""
        self.params = replace(self.params, coupling=coupling)
        self.K = coupling * self.critical_coupling

    def set_brightness(self, brightness: float) -> None:
        """Spectral tilt; glides over ~30 ms from the next control step."""
        self.params = replace(self.params, brightness=brightness)
        self._base_target = self._base_for(brightness)

    def set_width(self, width: float) -> None:
        """Stereo width; glides over ~30 ms from the next control step."""
        self.params = replace(self.params, width=width)
        self._pans_target = self._pans_for(width)

    def _glide_steps(self, current: np.ndarray, target: np.ndarray, steps: int) -> np.ndarray:
        """Values at the end of each of ``steps`` steps gliding from current to target."""
        k = self._glide ** np.arange(1, steps + 1)
        shape = (steps,) + (1,) * current.ndim
        out: np.ndarray = target + (current - target) * k.reshape(shape)
        return out

    @property
    def partial_hz(self) -> np.ndarray:
        """Nominal pitch of every partial (before detune), Hz."""
        return np.asarray(midi_to_hz(self._layout.midi))

    def order_parameter(self) -> float:
        """Kuramoto order parameter r ∈ [0, 1] of the detune phases now."""
        return float(np.abs(np.mean(np.exp(1j * self._phi))))

    # -------------------------------------------------------------- amplitudes
    def _amplitudes(self, t: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """Amplitude of every partial at times t (seconds): (len(t), N)."""
        p, lay = self.params, self._layout
        beat = 60.0 / p.tempo_bpm
        period = beat * p.chord_beats
        glide = min(2.0 * beat, 0.5 * period)
        members = self._members
        k = np.floor(t / period).astype(np.int64)
        cur = members[k % len(members)]
        prev = members[(k - 1) % len(members)]
        x = np.clip((t - k * period) / glide, 0.0, 1.0)
        x = x * x * (3.0 - 2.0 * x)  # smoothstep
        chord_w = prev + (cur - prev) * x[:, None]
        chord_w = np.where((t < period)[:, None], cur, chord_w)  # no glide into the first chord
        # LFO phase reduced to one cycle in float64, so float32 sin() (SIMD, ~25× faster than
        # float64 here) stays accurate however long the bank runs
        cycles = lay.lfo_hz[None, :] * t[:, None] + self._lfo_cycles
        cycles -= np.floor(cycles)
        lfo = 0.65 + 0.35 * np.sin((TWO_PI * cycles).astype(np.float32)).astype(np.float64)
        pulse = 1.0 + p.pulse_depth * np.cos(TWO_PI * t / beat)
        if base is None:
            base = self._base[None, :]
        amps: np.ndarray = base * chord_w * lfo * pulse[:, None]
        return amps

    # --------------------------------------------------------------- synthesis
    def _kuramoto(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Advance φ and θ by ``steps`` control steps.

        Returns the coupled detune deviation δ of every step (rad/s) and the
        phase θ at the start of every step, reduced to [0, 2π). The state stays
        float64; the trigonometry of the mean field is float32 (its error, ~1e-7
        of the coupling term, is far below anything audible).
        """
        lay, L = self._layout, self.L
        dt = L / self.sample_rate
        n = len(lay.omega)
        delta = np.empty((steps, n))
        theta = np.empty((steps, n))
        phi32 = np.empty(n, dtype=np.float32)
        cphi = np.empty(n, dtype=np.float32)
        sphi = np.empty(n, dtype=np.float32)
        tmp = np.empty(n)
        advance = lay.omega * L
        phi, th, K, inv_n = self._phi, self._theta, self.K, 1.0 / max(n, 1)
        for j in range(steps):
            phi32[:] = phi
            np.cos(phi32, out=cphi)
            np.sin(phi32, out=sphi)
            # d = Δω + K·(⟨sin φ⟩·cos φ − ⟨cos φ⟩·sin φ), accumulated in float64
            k_s = np.float64(K * inv_n) * np.add.reduce(sphi, dtype=np.float64)
            k_c = np.float64(K * inv_n) * np.add.reduce(cphi, dtype=np.float64)
            d = delta[j]
            np.multiply(cphi, k_s, out=d)
            d -= np.multiply(sphi, k_c, out=tmp)
            d += lay.detune
            theta[j] = th
            step = d * dt
            phi = phi + step
            th = th + advance + step
        self._phi = _wrap(phi)
        self._theta = _wrap(th)
        return delta, _wrap(theta)

    def _synthesise(self, steps: int) -> np.ndarray:
        lay, L, sr = self._layout, self.L, self.sample_rate
        dt = L / sr
        n = len(lay.omega)
        delta, theta = self._kuramoto(steps)

        t = (self._step_frame + L * np.arange(1, steps + 1)) / sr
        base = None
        if self._base is not self._base_target:
            base = self._glide_steps(self._base, self._base_target, steps)
            self._base = base[-1]
            if np.allclose(self._base, self._base_target, rtol=1e-5, atol=0.0):
                self._base = self._base_target
        pans = self._pans
        if self._pans is not self._pans_target:
            glided = self._glide_steps(self._pans, self._pans_target, steps)  # (steps, 2, N)
            pans = glided.transpose(1, 0, 2)
            self._pans = glided[-1]
            if np.allclose(self._pans, self._pans_target, rtol=1e-5, atol=1e-9):
                self._pans = self._pans_target
        pan32 = pans.astype(np.float32)
        amp_next = self._amplitudes(t, base)  # (steps, N): amplitude at the end of each step
        amp64 = np.concatenate([self._amp_prev[None, :], amp_next[:-1]])
        self._amp_prev = amp_next[-1]
        amp = amp64.astype(np.float32)
        da = (amp_next - amp64).astype(np.float32)
        theta32 = theta.astype(np.float32)  # in [0, 2π): float32 sin/cos is accurate
        s, c = np.sin(theta32), np.cos(theta32)
        dphase = (delta * dt).astype(np.float32)
        # per step and channel: coefficients for [C0, S0, C1, S1], all float32 in place
        coef = np.empty((steps, 2, 4, n), dtype=np.float32)
        a = np.empty((steps, n), dtype=np.float32)
        a_d = np.empty_like(a)
        tmp = np.empty_like(a)
        for ch, pan in enumerate(pan32):
            np.multiply(amp, pan, out=a)
            np.multiply(da, pan, out=a_d)
            np.multiply(a, s, out=coef[:, ch, 0])
            np.multiply(a, c, out=coef[:, ch, 1])
            a *= dphase  # a·δL from here on
            np.multiply(a_d, s, out=coef[:, ch, 2])
            coef[:, ch, 2] += np.multiply(a, c, out=tmp)
            np.multiply(a_d, c, out=coef[:, ch, 3])
            coef[:, ch, 3] -= np.multiply(a, s, out=tmp)
        out = coef.reshape(steps * 2, 4 * n) @ self._tables  # (steps*2, L)
        self._step_frame += steps * L
        return np.ascontiguousarray(out.reshape(steps, 2, L).transpose(0, 2, 1).reshape(-1, 2))

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames, (frames, 2) float32."""
        parts = [self._pending]
        have = len(self._pending)
        while have < frames:
            # always the same chunk shape, so the floating-point work (and the
            # output) does not depend on how the caller slices time
            block = self._synthesise(self.chunk_steps)
            parts.append(block)
            have += len(block)
        buf = np.concatenate(parts) if len(parts) > 1 else self._pending
        self._pending = buf[frames:]
        self.frame += frames
        return buf[:frames]
