"""Six scalar descriptors of a mono signal, for naming the VAE's latent directions.

Each is one float for the whole signal (:func:`describe` returns all of them). Spectra are
averaged over Hann frames of ``n_fft = 2^ceil(log2(sr / 4))`` (at most 4 Hz per bin: two
partials 20 Hz apart are resolved), hop ``n_fft / 4``; a signal shorter than one frame is
zero-padded to one. The *averaged spectrum* is the rms over frames of
:func:`bassd.dsp.spectral_peaks.iter_stft`'s amplitude-corrected magnitudes (a steady sine
of amplitude ``A`` reads ``A``); its *peaks* are
:func:`bassd.dsp.spectral_peaks.peak_arrays` (prominence >= 12 dB, within 50 dB of the
strongest, the 20 strongest).

* ``brightness`` (Hz): spectral centroid, the power-weighted mean frequency of the whole
  signal's spectrum (:func:`bassd.dsp.metrics.spectral_centroid`).
* ``warmth`` (0..1): energy of the averaged spectrum in 100-500 Hz over its energy in
  100 Hz-8 kHz (band edges clipped at Nyquist); 0 when that band is empty.
* ``roughness`` (dimensionless, 0..~0.5 for two partials): Sethares' (1993) parametrisation
  of Plomp & Levelt's dissonance curve, ``d = a_i a_j (e^{-3.5 s Δf} - e^{-5.75 s Δf}) / c``
  with ``s = 0.24 / (0.0207 f_min + 18.96)`` and ``c`` the curve's maximum, summed over
  pairs of peaks and divided by their total ``Σ a_i²``: independent of level, largest for
  partials about a quarter of a critical band apart, near 0 for a single partial or an
  octave.
* ``loudness`` (LUFS): ITU-R BS.1770-4 integrated loudness
  (:func:`bassd.dsp.metrics.integrated_loudness`); a signal shorter than one 400 ms gating
  block is looped to fill one; floored at the absolute gate, -70 LUFS (silence).
* ``density`` (0..1): spectral flatness, geometric over arithmetic mean of the power in
  50 Hz-min(10 kHz, 0.45 sr) per frame, averaged over frames within 60 dB of the loudest.
  Chosen over peaks per octave because it needs no peak threshold, is level-independent
  and is defined for noise as well as tones. A sine reads ~0; white noise reads about
  ``e^-γ ≈ 0.56``, not 1, because a single frame's bin powers scatter exponentially.
* ``pitch_height`` (log2 Hz, A4 = log2 440 ≈ 8.78): energy-weighted median of the peaks'
  log2 frequencies. Chosen over an f0 estimate because it is defined for chords,
  inharmonic sounds and textures, where f0 is not, and still follows the fundamental of a
  harmonic tone whose fundamental carries most of the energy; 0 when there are no peaks.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from bassd.dsp.mel import FloatArray
from bassd.dsp.metrics import integrated_loudness, spectral_centroid
from bassd.dsp.spectral_peaks import peak_arrays, stft_frames, to_db

DESCRIPTORS: Final = ("brightness", "warmth", "roughness", "loudness", "density", "pitch_height")

WARM_BAND_HZ: Final = (100.0, 500.0)
WARMTH_REFERENCE_HZ: Final = (100.0, 8000.0)
LOUDNESS_FLOOR_LUFS: Final[float] = -70.0
_BLOCK_S: Final[float] = 0.4  # BS.1770's gating block
_PEAKS: Final[int] = 20
_PEAK_RANGE_DB: Final[float] = 50.0
_FLATNESS_RANGE_DB: Final[float] = 60.0
_B1, _B2, _S1, _S2, _XSTAR = 3.5, 5.75, 0.0207, 18.96, 0.24  # Sethares (1993)
_Y_MAX = math.log(_B2 / _B1) / (_B2 - _B1)
_CURVE_MAX = math.exp(-_B1 * _Y_MAX) - math.exp(-_B2 * _Y_MAX)
_TINY: Final[float] = 1e-30


def analysis_n_fft(sample_rate: float) -> int:
    """Frame length of the averaged spectra: the power of two >= ``sample_rate / 4``."""
    return 1 << max(2, math.ceil(math.log2(sample_rate / 4.0)))


def _mono(x: npt.ArrayLike) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"expected a mono (1-D) signal, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("signal must be finite")
    return a


def _frames(x: FloatArray, sr: float) -> tuple[FloatArray, FloatArray]:
    """``(freqs (n_bins,), mag (n_frames, n_bins))`` of the analysis STFT."""
    n_fft = analysis_n_fft(sr)
    if x.shape[0] < n_fft:
        x = np.pad(x, (0, n_fft - x.shape[0]))
    _, mag = stft_frames(x, sr, n_fft=n_fft, hop=n_fft // 4)  # (n_frames, n_bins)
    return np.arange(mag.shape[1]) * (sr / n_fft), mag


def _peaks(avg: FloatArray, sr: float) -> tuple[FloatArray, FloatArray]:
    """``(freqs_hz, amplitudes)`` of the averaged spectrum's strongest peaks."""
    db = to_db(avg)  # (n_bins,)
    floor = float(db.max()) - _PEAK_RANGE_DB
    n_fft = 2 * (avg.shape[0] - 1)
    hz, amp_db, _ = peak_arrays(db, sr, n_fft, max_peaks=_PEAKS, floor_db=floor)
    keep = hz > 0
    return hz[keep], 10.0 ** (amp_db[keep] / 20.0)


def warmth(freqs: FloatArray, power: FloatArray) -> float:
    """Energy share of 100-500 Hz in 100 Hz-8 kHz of a power spectrum (n_bins,)."""
    warm = power[(freqs >= WARM_BAND_HZ[0]) & (freqs < WARM_BAND_HZ[1])].sum()
    ref = power[(freqs >= WARMTH_REFERENCE_HZ[0]) & (freqs < WARMTH_REFERENCE_HZ[1])].sum()
    return float(warm / ref) if ref > 0 else 0.0


def roughness(freqs: npt.ArrayLike, amps: npt.ArrayLike) -> float:
    """Sethares roughness of partials ``freqs`` (Hz), ``amps`` (linear), over ``Σ a²``."""
    f = np.asarray(freqs, dtype=np.float64)  # (m,)
    a = np.asarray(amps, dtype=np.float64)  # (m,)
    total = float(np.sum(a * a))
    if f.shape[0] < 2 or total <= 0:
        return 0.0
    lo = np.minimum(f[:, None], f[None, :])  # (m, m)
    y = _XSTAR / (_S1 * lo + _S2) * np.abs(f[:, None] - f[None, :])
    d = (np.exp(-_B1 * y) - np.exp(-_B2 * y)) / _CURVE_MAX
    pair = np.triu(a[:, None] * a[None, :] * d, k=1)
    return float(pair.sum() / total)


def loudness(x: npt.ArrayLike, sample_rate: int) -> float:
    """BS.1770 integrated loudness (LUFS), looped to one block if shorter, floored."""
    a = _mono(x)
    if a.shape[0] == 0:
        return LOUDNESS_FLOOR_LUFS
    block = round(_BLOCK_S * sample_rate)
    if a.shape[0] < block:
        a = np.resize(a, block)  # repeats the signal
    return max(integrated_loudness(a, sample_rate), LOUDNESS_FLOOR_LUFS)


def density(freqs: FloatArray, mag: FloatArray, sample_rate: float) -> float:
    """Mean spectral flatness of frames ``mag`` (n_frames, n_bins) in the density band."""
    band = (freqs >= 50.0) & (freqs <= min(10_000.0, 0.45 * sample_rate))
    p = mag[:, band] ** 2 + _TINY  # (n_frames, n_band)
    energy = p.mean(axis=1)  # (n_frames,)
    live = energy > energy.max() * 10.0 ** (-_FLATNESS_RANGE_DB / 10.0)
    if energy.max() <= 2 * _TINY or not np.any(live):
        return 0.0
    flat = np.exp(np.mean(np.log(p[live]), axis=1)) / energy[live]
    return float(np.mean(flat))


def pitch_height(freqs: npt.ArrayLike, amps: npt.ArrayLike) -> float:
    """Energy-weighted median of log2 ``freqs`` (Hz) with weights ``amps²``; 0 if none."""
    f = np.asarray(freqs, dtype=np.float64)
    w = np.asarray(amps, dtype=np.float64) ** 2
    if f.shape[0] == 0 or w.sum() <= 0:
        return 0.0
    order = np.argsort(f)
    cum = np.cumsum(w[order])
    i = int(np.searchsorted(cum, 0.5 * cum[-1]))
    return float(np.log2(f[order][i]))


def describe(x: npt.ArrayLike, sr: int) -> dict[str, float]:
    """All of :data:`DESCRIPTORS` for a mono signal ``x`` (n,) at ``sr`` Hz."""
    a = _mono(x)
    if sr <= 0:
        raise ValueError(f"sr must be > 0, got {sr}")
    freqs, mag = _frames(a, sr)  # (n_bins,), (n_frames, n_bins)
    power = np.mean(mag * mag, axis=0)  # (n_bins,) averaged power spectrum
    hz, amps = _peaks(np.sqrt(power), sr)
    return {
        "brightness": spectral_centroid(a, sr),
        "warmth": warmth(freqs, power),
        "roughness": roughness(hz, amps),
        "loudness": loudness(a, sr),
        "density": density(freqs, mag, sr),
        "pitch_height": pitch_height(hz, amps),
    }
