"""The K-SOM seed's pipeline, re-implemented for timing (seed 001_146c8c82ab63ba7a).

Written afresh from the seed's description, keeping every costly step of its
algorithm as the seed does it, because that cost is what is measured:

1. analysis: magnitude STFT (n_fft 2048, hop 512, 22050 Hz; scipy instead of
   librosa, which is not installed, scaled to librosa's magnitudes and centred
   the same way), dB relative to the maximum with librosa's floor (amin 1e-5,
   top_db 80), ``find_peaks(prominence=10, distance=5)`` on every frame, one
   Python dict per peak;
2. oscillators: peaks grouped into five bands, one oscillator (object) per
   band holding more than three peaks, at the band's mean frequency, with
   coupling ``min(0.1 · mean energy, 0.5)``;
3. SOM grid: the 32×16 spectrogram-region statistics mapped to symbols;
4. evolution: ``int(duration / 0.001)`` steps; every step, every oscillator
   builds the list of the others and sums ``c_j · sin(θ_j − θ_i)`` over it in
   a pure-Python loop (O(N²) per step, scalar ``np.sin``), and the state of
   the step (phases, frequencies, amplitudes) is recorded as a dict of lists;
5. synthesis: one output sample per 1 ms step, ``tanh(Σ 0.1 · a_i · sin θ_i)``,
   then written to a WAV at 22050 Hz.

Step 5 is the seed's bug, kept on purpose: 30 s of evolution gives 30,000
samples, which at 22050 Hz is 1.36 s of audio. (The seed's driver also ends
with a NameError, ``output_path`` for ``output_wav_path``; not reproduced.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import find_peaks, stft

from bassd.engine.wavfile import read_wav, write_wav

SEED_SR = 22_050
N_FFT = 2048
HOP = 512
DT = 0.001  # seconds per evolution step (and per output sample)


# -------------------------------------------------------------------- analysis
def magnitude_spectrogram(audio: np.ndarray) -> np.ndarray:
    """|STFT| (bins × frames), centred with zero padding, periodic Hann window."""
    _, _, z = stft(
        audio,
        fs=SEED_SR,
        window="hann",
        nperseg=N_FFT,
        noverlap=N_FFT - HOP,
        boundary="zeros",
        padded=False,
        scaling="spectrum",
    )
    window_sum = N_FFT / 2.0  # scipy's "spectrum" scaling divides by Σ hann = N/2
    mag: np.ndarray = np.abs(z) * window_sum
    return mag


def amplitude_to_db(mag: np.ndarray, amin: float = 1e-5, top_db: float = 80.0) -> np.ndarray:
    ref = max(amin, float(mag.max()))
    db = 20.0 * np.log10(np.maximum(amin, mag)) - 20.0 * math.log10(ref)
    out: np.ndarray = np.maximum(db, db.max() - top_db)
    return out


def extract_peaks(spec_db: np.ndarray) -> list[dict[str, float]]:
    peaks: list[dict[str, float]] = []
    for t in range(spec_db.shape[1]):
        column = spec_db[:, t]
        idx, _ = find_peaks(column, prominence=10, distance=5)
        for k in idx:
            f = float(np.fft.rfftfreq(N_FFT, 1.0 / SEED_SR)[k])  # the seed rebuilds it per peak
            amp = column[k]
            peaks.append(
                {
                    "time_frame": t,
                    "frequency_hz": f,
                    "amplitude_db": amp,
                    "phase": (f * t) % (2.0 * np.pi),
                    "energy": 10.0 ** (amp / 20.0),
                }
            )
    return peaks


# ----------------------------------------------------------------- oscillators
class SeedOscillator:
    def __init__(self, frequency_hz: float, coupling: float, phase: float = 0.0) -> None:
        self.frequency_hz = frequency_hz
        self.omega = 2.0 * np.pi * frequency_hz
        self.theta = phase
        self.coupling = coupling

    def update_phase(self, dt: float, others: list[SeedOscillator]) -> None:
        pull = 0.0
        for other in others:
            pull += other.coupling * np.sin(other.theta - self.theta)
        self.theta += self.omega * dt + self.coupling * pull * dt
        self.theta = self.theta % (2.0 * np.pi)

    def amplitude_at(self, t: float) -> float:
        return float(np.sin(self.theta + self.omega * t))


BANDS = ((250.0, "bass"), (500.0, "low_mid"), (2000.0, "mid"), (4000.0, "high_mid"))


def band_of(freq: float) -> str:
    for upper, name in BANDS:
        if freq < upper:
            return name
    return "treble"


def build_oscillators(peaks: list[dict[str, float]]) -> list[SeedOscillator]:
    groups: dict[str, list[dict[str, float]]] = {n: [] for _, n in BANDS}
    groups["treble"] = []
    for p in peaks:
        groups[band_of(p["frequency_hz"])].append(p)
    oscs = []
    for members in groups.values():
        if len(members) > 3:
            f = float(np.mean([p["frequency_hz"] for p in members]))
            e = float(np.mean([p["energy"] for p in members]))
            oscs.append(SeedOscillator(f, coupling=min(e * 0.1, 0.5)))
    return oscs


# -------------------------------------------------------------------- SOM grid
def som_grid(spec_db: np.ndarray, width: int = 32, height: int = 16) -> list[list[str]]:
    fb, tb = spec_db.shape[0] // height, spec_db.shape[1] // width
    grid = []
    for y in range(height):
        row = []
        for x in range(width):
            region = spec_db[y * fb : (y + 1) * fb, x * tb : (x + 1) * tb]
            energy = (float(np.mean(region)) + 80) / 80
            peak = (float(np.max(region)) + 80) / 80
            var = min(float(np.var(region)) / 100, 1.0)
            if peak > 0.8:
                row.append("high")
            elif energy > 0.6:
                row.append("active")
            elif var > 0.4:
                row.append("dynamic")
            elif energy > 0.3:
                row.append("stable")
            else:
                row.append("quiet")
        grid.append(row)
    return grid


# ------------------------------------------------------- evolution & synthesis
def evolve(oscs: list[SeedOscillator], seconds: float) -> list[dict[str, Any]]:
    timeline = []
    for step in range(int(seconds / DT)):
        now = step * DT
        for osc in oscs:
            others = [o for o in oscs if o is not osc]
            osc.update_phase(DT, others)
        timeline.append(
            {
                "time": now,
                "phases": [o.theta for o in oscs],
                "frequencies": [o.frequency_hz for o in oscs],
                "amplitudes": [o.amplitude_at(now) for o in oscs],
            }
        )
    return timeline


def synthesise(timeline: list[dict[str, Any]]) -> np.ndarray:
    samples = []
    for state in timeline:
        value = 0.0
        for amp, phase in zip(state["amplitudes"], state["phases"], strict=True):
            value += amp * np.sin(phase) * 0.1
        samples.append(np.tanh(value))
    return np.array(samples, dtype=np.float32)


# --------------------------------------------------------------------- driver
@dataclass
class SeedRun:
    peaks: int
    oscillators: int
    evolved_seconds: float
    output_samples: int
    stage_seconds: dict[str, float]


def load_mono(path: Path) -> np.ndarray:
    audio, sr = read_wav(path)
    if sr != SEED_SR:
        raise ValueError(f"the seed analyses at {SEED_SR} Hz, got {sr}")
    mono: np.ndarray = audio.mean(axis=1).astype(np.float32)
    return mono


def run_seed(input_wav: Path, output_wav: Path, seconds: float, clock: Any) -> SeedRun:
    """The whole pipeline; ``clock`` is ``time.perf_counter``-like."""
    stages: dict[str, float] = {}
    t = clock()
    audio = load_mono(input_wav)
    spec_db = amplitude_to_db(magnitude_spectrogram(audio))
    stages["load+stft"] = clock() - t
    t = clock()
    peaks = extract_peaks(spec_db)
    stages["peaks"] = clock() - t
    t = clock()
    oscs = build_oscillators(peaks)
    stages["oscillators"] = clock() - t
    t = clock()
    som_grid(spec_db)
    stages["som_grid"] = clock() - t
    t = clock()
    timeline = evolve(oscs, seconds)
    stages["evolve"] = clock() - t
    t = clock()
    out = synthesise(timeline)
    stages["synthesise"] = clock() - t
    t = clock()
    write_wav(output_wav, out[:, None], SEED_SR)
    stages["write_wav"] = clock() - t
    return SeedRun(len(peaks), len(oscs), seconds, len(out), stages)
