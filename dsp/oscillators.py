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

**A sound of the user's** (``sound``: an analysis, see ``dsp/oscillator_set.py``)
replaces the scale: one partial per partial of the set, at its frequency (times
``2^(transpose/12)``, or snapped to the nearest note of the key and mode with
``partials_snap="key"``, where partials that land on one note become voices of
it), with its measured amplitude, a detune as wide as its measured wobble (at
least ``detune_cents``) and its band's suggested share of the coupling. Snapped to
the key, the partials follow the chord progression (non-chord tones at 0.3);
unsnapped, they all sound all the time. Brightness tilts the recorded balance
(0.5 leaves it as it was). With a map, ``set_som_xy`` glides the amplitudes to
the map's interpolated state at that point (over ~30 ms from the next control
step, linear within a step: no clicks and no zipper noise, however fast).

The control-rate work of a step (mean field, amplitudes, coefficients) is one C
call (``dsp/bank.c``) over buffers allocated here at construction; the product
with the tables is one BLAS call per chunk. A chunk thus costs a handful of
calls whatever the size of the bank.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bassd.dsp._dspcore import ffi, lib
from bassd.dsp.scales import (
    hz_to_midi,
    midi_to_hz,
    pitch_class,
    scale_midi_notes,
    scale_pitch_classes,
)
from bassd.dsp.sound import Sound

TWO_PI = 2.0 * np.pi

#: chord roots as scale-degree indices, one progression chosen per seed
PROGRESSIONS: tuple[tuple[int, ...], ...] = (
    (0, 5, 3, 4),
    (0, 3, 0, 4),
    (0, 5, 2, 3),
    (0, 4, 5, 3),
)


def _ptr(array: np.ndarray) -> Any:
    """A C pointer into a C-contiguous float64 array (the array must outlive it)."""
    assert array.dtype == np.float64 and array.flags.c_contiguous
    return ffi.cast("double *", ffi.from_buffer(array))


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
    low_note: int = 40  # register: the lowest tonic is the first at or above this MIDI note
    # a sound of the user's (an analysis) instead of the scale: its name or folder, resolved
    # by the renderer; the bank itself takes the loaded ``Sound``
    partials: str | None = None
    partials_snap: str = "off"  # off | key: snap the partials to the key and mode
    partials_transpose: float = 0.0  # semitones
    som_x: float | None = None  # the map position (with the sound's map), 0..1 each
    som_y: float | None = None


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
    kweight: np.ndarray | None = None  # (N,) coupling share (None: all 1)
    audible: np.ndarray | None = None  # (N,) bool: within 20 Hz .. 0.45·rate (a sound's)


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
        sound: Sound | None = None,
    ) -> None:
        self.params = params
        self.sound = sound
        self.sample_rate = sample_rate
        self.seed = seed
        self.L = control_frames
        # a fixed chunk shape keeps the output independent of how callers slice time;
        # small banks render two steps (one 256-frame block) at a time so live controls
        # take effect at the next block, big ones eight (the matrix product is cheaper)
        self.chunk_steps = chunk_steps or (2 if params.density <= 1024 else 8)
        rng = np.random.default_rng(seed)
        self._layout = (
            self._build_layout(params, rng) if sound is None else self._sound_layout(params, rng)
        )
        lay = self._layout
        self._kweight = np.ones(len(lay.omega)) if lay.kweight is None else lay.kweight
        n = len(lay.omega)
        # live parameters glide to their targets with this time constant
        self._glide = float(np.exp(-control_frames / (sample_rate * 0.03)))
        # every buffer the C kernel reads or updates, allocated once here
        self._base = self._base_for(params.brightness)
        self._base_target = self._base.copy()
        self._pans = np.ascontiguousarray(self._pans_for(params.width))
        self._pans_target = self._pans.copy()
        # phases: θ (full phase, rad) and φ (detune phase, rad)
        self._theta = rng.uniform(0.0, TWO_PI, n)
        self._phi = rng.uniform(0.0, TWO_PI, n)
        sigma = float(np.std(lay.detune)) if n > 1 else 1.0
        self.critical_coupling = 2.0 * sigma * np.sqrt(2.0 * np.pi) / np.pi  # 2/(π g(0)), Gaussian
        self._advance = lay.omega * self.L
        self._lfo_cycles = lay.lfo_phase / TWO_PI
        # tables (4N, L): [C0; S0; C1; S1]
        steps = np.arange(self.L, dtype=np.float64)
        arg = lay.omega[:, None] * steps[None, :]  # (N, L)
        ramp = steps / self.L
        c0, s0 = np.cos(arg), np.sin(arg)
        self._tables = np.concatenate([c0, s0, c0 * ramp, s0 * ramp]).astype(np.float32)
        pcs_of = np.round(lay.midi).astype(np.int64) % 12
        off = 0.12 if sound is None else 0.3
        self._members = (
            np.array([[1.0 if pc in chord else off for pc in pcs_of] for chord in lay.chord_pcs])
            if lay.chord_pcs
            else np.ones((1, n))
        )  # (chords, N): chord weight of every partial
        self._amp_prev = np.empty(n)  # amplitude at the start of the next step
        self._scratch = np.empty((2, n))
        self._coef = np.empty((self.chunk_steps * 2, 4 * n), dtype=np.float32)
        self._coef_ptr = ffi.cast("float *", ffi.from_buffer(self._coef))
        self._product = np.empty((self.chunk_steps * 2, self.L), dtype=np.float32)
        self._chunk = np.empty((self.chunk_steps * self.L, 2), dtype=np.float32)
        self._chunk_pos = len(self._chunk)  # frames of the chunk already delivered
        self._state = self._c_state(params)
        self.K = params.coupling * self.critical_coupling
        self.frame = 0  # frames delivered
        lib.bassd_bank_amplitudes(self._state, 0.0, _ptr(self._amp_prev))

    def _c_state(self, p: BankParams) -> Any:
        st = ffi.new("bassd_bank *")
        beat = 60.0 / p.tempo_bpm
        period = beat * p.chord_beats
        st.n, st.L, st.chords = len(self._phi), self.L, len(self._members)
        st.base_gliding = st.pans_gliding = 0
        st.step_frame = 0
        st.sample_rate = float(self.sample_rate)
        st.beat, st.period = beat, period
        st.chord_glide = min(2.0 * beat, 0.5 * period)
        st.pulse_depth = p.pulse_depth
        st.glide = self._glide
        lay = self._layout
        for name, array in (
            ("phi", self._phi),
            ("theta", self._theta),
            ("detune", lay.detune),
            ("kweight", self._kweight),
            ("advance", self._advance),
            ("members", self._members),
            ("base", self._base),
            ("base_target", self._base_target),
            ("pans", self._pans),
            ("pans_target", self._pans_target),
            ("lfo_hz", lay.lfo_hz),
            ("lfo_cycles", self._lfo_cycles),
            ("amp_prev", self._amp_prev),
            ("scratch", self._scratch),
        ):
            setattr(st, name, _ptr(array))
        return st

    @property
    def K(self) -> float:
        """The coupling, rad/s."""
        return float(self._state.K)

    @K.setter
    def K(self, value: float) -> None:
        self._state.K = value

    # ------------------------------------------------------------------ layout
    def _build_layout(self, p: BankParams, rng: np.random.Generator) -> _Layout:
        tonic = pitch_class(p.key)
        # fundamentals from the first tonic at or above low_note (by default E2..D#3,
        # 82..156 Hz) over three octaves; octave doublings up to two more octaves
        low = p.low_note + (tonic - p.low_note) % 12
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

    def _sound_layout(self, p: BankParams, rng: np.random.Generator) -> _Layout:
        """One partial per partial of the sound's set (see the module)."""
        assert self.sound is not None
        oscset = self.sound.oscset
        n = len(oscset)
        midi = hz_to_midi(oscset.freqs) + p.partials_transpose  # (N,)
        chords: list[frozenset[int]] = []
        if p.partials_snap == "key":
            notes = scale_midi_notes(p.key, p.mode, 0, 127)
            midi = notes[np.argmin(np.abs(midi[:, None] - notes[None, :]), axis=1)].astype(float)
            pcs = scale_pitch_classes(p.key, p.mode)
            prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
            chords = [frozenset(pcs[(d + k) % len(pcs)] for k in (0, 2, 4, 6)) for d in prog]
        elif p.partials_snap != "off":
            raise ValueError(f"partials_snap must be off or key, not {p.partials_snap!r}")
        hz = midi_to_hz(midi)
        audible = (hz >= 20.0) & (hz < 0.45 * self.sample_rate)
        hz = np.where(audible, hz, 440.0)  # silent partials keep a harmless pitch
        spread = np.array([max(p.detune_cents, min(q.freq_std_cents, 15.0))
                           for q in oscset.partials])  # fmt: skip
        detune_cents = rng.normal(0.0, 1.0, n) * spread
        detune_hz = hz * (2.0 ** (detune_cents / 1200.0) - 1.0)
        return _Layout(
            midi=hz_to_midi(hz),
            omega=TWO_PI * hz / self.sample_rate,
            detune=TWO_PI * detune_hz,
            pan_pos=rng.uniform(-1.0, 1.0, n),
            rel_hz=hz / 220.0,
            octave=np.zeros(n),
            lfo_hz=rng.uniform(0.03, 0.25, n),
            lfo_phase=rng.uniform(0.0, TWO_PI, n),
            chord_pcs=chords,
            kweight=np.ascontiguousarray(oscset.coupling_weights(), dtype=np.float64),
            audible=audible,
        )

    def _som_xy(self) -> tuple[float, float] | None:
        x, y = self.params.som_x, self.params.som_y
        return None if x is None or y is None else (x, y)

    def _base_for(self, brightness: float) -> np.ndarray:
        """Spectral-tilt amplitudes: ∝ (f / 220 Hz)^-tilt, RMS ≈ level at full chord weight;
        a sound's recorded (or mapped) amplitudes, tilted about brightness 0.5."""
        lay = self._layout
        if self.sound is not None:
            amps = self.sound.amplitudes(self._som_xy())  # (N,)
            assert lay.audible is not None
            base = np.where(lay.audible, amps, 0.0) * lay.rel_hz ** (-1.3 * (0.5 - brightness))
            if not np.any(base > 0):  # a silent spot of the map: keep the set's balance quiet
                base = np.where(lay.audible, 1e-3, 0.0) * np.ones_like(amps)
        else:
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
        self._base_target[:] = self._base_for(brightness)
        self._state.base_gliding = 1

    def set_width(self, width: float) -> None:
        """Stereo width; glides over ~30 ms from the next control step."""
        self.params = replace(self.params, width=width)
        self._pans_target[:] = self._pans_for(width)
        self._state.pans_gliding = 1

    def set_som_xy(self, x: float, y: float) -> None:
        """Move on the sound's map: the amplitudes glide to its state at (x, y) (0..1 each)
        over ~30 ms from the next control step. ValueError without a map."""
        if self.sound is None or self.sound.som is None:
            raise ValueError("this bank plays no map (renderer.params.partials: an analysis "
                             "with a map)")  # fmt: skip
        self.params = replace(self.params, som_x=float(x), som_y=float(y))
        self._base_target[:] = self._base_for(self.params.brightness)
        self._state.base_gliding = 1

    @property
    def partial_hz(self) -> np.ndarray:
        """Nominal pitch of every partial (before detune), Hz."""
        return np.asarray(midi_to_hz(self._layout.midi))

    def order_parameter(self) -> float:
        """Kuramoto order parameter r ∈ [0, 1] of the detune phases now."""
        return float(np.abs(np.mean(np.exp(1j * self._phi))))

    # --------------------------------------------------------------- synthesis
    def _synthesise(self) -> None:
        """The next chunk of control steps into ``self._chunk``."""
        steps, L, st = self.chunk_steps, self.L, self._state
        lib.bassd_bank_coefs(st, steps, self._coef_ptr)
        np.matmul(self._coef, self._tables, out=self._product)  # (steps·2, L)
        np.copyto(
            self._chunk.reshape(steps, L, 2),
            self._product.reshape(steps, 2, L).transpose(0, 2, 1),
        )
        # a glide ends when it is within rounding of its target
        if st.base_gliding and np.allclose(self._base, self._base_target, rtol=1e-5, atol=0.0):
            self._base[:] = self._base_target
            st.base_gliding = 0
        if st.pans_gliding and np.allclose(self._pans, self._pans_target, rtol=1e-5, atol=1e-9):
            self._pans[:] = self._pans_target
            st.pans_gliding = 0
        self._chunk_pos = 0

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames, (frames, 2) float32."""
        out = np.empty((frames, 2), dtype=np.float32)
        chunk, done = self._chunk, 0
        while done < frames:
            # always the same chunk shape, so the floating-point work (and the
            # output) does not depend on how the caller slices time
            if self._chunk_pos == len(chunk):
                self._synthesise()
            n = min(frames - done, len(chunk) - self._chunk_pos)
            out[done : done + n] = chunk[self._chunk_pos : self._chunk_pos + n]
            self._chunk_pos += n
            done += n
        self.frame += frames
        return out
