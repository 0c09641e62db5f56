"""The streaming analysis: known partials recovered, noise left out, regions for the map."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.analysis import Analysis, AnalysisSettings, SilentRecording
from tests.dsp.analysis_signals import BELL_RATIOS, bell, cents, harmonic, noise, tone

SR = 22_050


def _chunks(x: np.ndarray, size: int = 40_000) -> list[np.ndarray]:
    return [x[i : i + size] for i in range(0, len(x), size)]


def _analyse(*recordings: np.ndarray, **settings: float) -> tuple[Analysis, object]:
    a = Analysis(AnalysisSettings(**settings))  # type: ignore[arg-type]
    for i, x in enumerate(recordings):
        a.add_recording(f"rec{i}.wav", _chunks(x), expected_samples=len(x))
    return a, a.finish("test")


def _nearest(freqs: np.ndarray, f: float) -> int:
    return int(np.argmin(np.abs(np.log2(freqs / f))))


def test_known_partials_are_recovered_within_one_cent() -> None:
    """Harmonic (220 Hz x 10) and inharmonic (bell modes on 330 Hz) partials in noise at
    -50 dB rms, plus a tone with +-20 cents vibrato: every one is in the set within 1 cent
    (the vibrato's centre within 2), nothing else is, and only the vibrato is unstable."""
    x = harmonic(220.0, 10, SR, 8.0) + bell(330.0, SR, 8.0)
    x += tone([1000.0], [0.1], SR, 8.0, vibrato_cents=20.0)
    x += noise(len(x), -50.0)
    _, m = _analyse(x)
    oscset = m.oscset  # type: ignore[attr-defined]
    known = [220.0 * k for k in range(1, 11)] + [330.0 * r for r in BELL_RATIOS]
    errors = []
    for f in known:
        p = oscset.partials[_nearest(oscset.freqs, f)]
        errors.append(abs(cents(p.freq_hz, f)))
        assert p.stable, f"{f:.1f} Hz should be stable: {p}"
    assert max(errors) < 1.0, f"worst error {max(errors):.2f} cents"
    vib = oscset.partials[_nearest(oscset.freqs, 1000.0)]
    assert abs(cents(vib.freq_hz, 1000.0)) < 2.0
    assert not vib.stable and vib.freq_std_cents > 8.0
    assert len(oscset) == len(known) + 1, oscset.freqs  # no noise partials


def test_levels_and_bands_follow_the_recording() -> None:
    """A partial's level reads its amplitude (a 0.3-amplitude sine: -10.5 dB, within 0.5 dB),
    and the bands count their partials, with a stable band's coupling above 1."""
    x = tone([110.0, 700.0, 3000.0], [0.3, 0.1, 0.05], SR, 6.0)
    _, m = _analyse(x)
    oscset = m.oscset  # type: ignore[attr-defined]
    assert len(oscset) == 3
    np.testing.assert_allclose([p.amp_db for p in oscset.partials],
                               20 * np.log10([0.3, 0.1, 0.05]), atol=0.5)  # fmt: skip
    assert [b.partials for b in oscset.bands] == [1, 1, 1]
    assert all(b.coupling > 1.0 for b in oscset.bands)


def test_regions_carry_which_partials_sound() -> None:
    """Two recordings (A3 harmonics, then a bell): each region's payload holds the partials
    of the recording it came from, loud, and the other's near zero; labels say which."""
    a = harmonic(220.0, 6, SR, 4.0)
    b = bell(523.0, SR, 4.0)
    _, m = _analyse(a, b)
    mat = m  # type: ignore[assignment]
    oscset = mat.oscset
    harm = [_nearest(oscset.freqs, 220.0 * k) for k in range(1, 7)]
    modes = [_nearest(oscset.freqs, 523.0 * r) for r in BELL_RATIOS]
    assert mat.payload.shape == (len(mat.labels), len(oscset))
    assert mat.features.shape[0] == len(mat.labels)
    assert set(mat.labels.tolist()) == {0, 1}
    for row, label in zip(mat.payload, mat.labels, strict=True):
        own, other = (harm, modes) if label == 0 else (modes, harm)
        assert row[own].min() > 10 * row[other].max()


def test_silence_is_a_clear_error() -> None:
    """A silent recording (digital zero, or -90 dBFS hum) raises SilentRecording with its level."""
    a = Analysis()
    with pytest.raises(SilentRecording, match="silent"):
        a.add_recording("zero.wav", [np.zeros(SR * 2)])
    with pytest.raises(SilentRecording, match=r"-9\d\.\d dBFS"):
        a.add_recording("hum.wav", [tone([50.0], [3e-5], SR, 2.0)])


def test_too_short_and_noise_only_are_errors() -> None:
    """Under one frame is an error; so is a recording of noise only (no partial survives)."""
    a = Analysis()
    with pytest.raises(ValueError, match="too short"):
        a.add_recording("blip.wav", [0.5 * np.ones(1000)])
    b = Analysis()
    b.add_recording("hiss.wav", [noise(SR * 3, -20.0)])
    with pytest.raises(ValueError, match="no partial"):
        b.finish("hiss")


def test_memory_does_not_grow_with_the_length() -> None:
    """Ten minutes fed lazily keep a traced peak under a few MB (the audio is 106 MB as
    float64); what is kept per region is small."""
    import tracemalloc

    def lazy(seconds: float):
        base = harmonic(196.0, 8, SR, 5.0)
        for i in range(int(seconds / 5)):
            yield base * (0.5 + 0.4 * np.sin(i))  # a slow swell: regions differ

    tracemalloc.start()
    a = Analysis()
    a.add_recording("long.wav", lazy(600.0), expected_samples=SR * 600)
    m = a.finish("long")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    s = a.settings
    assert abs(len(m.labels) - 600.0 / (s.frames_per_region * s.frame_s)) <= 1  # ~0.5 s each
    assert peak < 24e6, f"peak {peak / 1e6:.1f} MB"
