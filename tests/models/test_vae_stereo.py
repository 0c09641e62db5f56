"""The VAE texture's stereo: width from a decorrelated copy; a binaural placement by ITD and
head shadow."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from bassd.models.vae_synth import HEAD_RADIUS_M, SPEED_OF_SOUND, _Stereo

SR = 48_000


def _noise(n: int = SR) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(n)


def test_width_zero_is_mono_and_width_decorrelates() -> None:
    """Width 0 gives two equal channels; width 1 lowers their correlation well below 1."""
    x = _noise()
    mono = _Stereo(SR, 0.0, None).process(x)
    np.testing.assert_array_equal(mono[:, 0], mono[:, 1])
    wide = _Stereo(SR, 1.0, None).process(x)
    r = np.corrcoef(wide[:, 0], wide[:, 1])[0, 1]
    assert r < 0.5


def test_binaural_places_the_source_by_delay_and_shadow() -> None:
    """A source at +60 degrees (right): the left ear hears it later by the Woodworth ITD (to a
    sample) and with less high-frequency energy; processing in blocks changes nothing."""
    x = _noise()
    st = _Stereo(SR, 0.0, 60.0)
    y = np.concatenate([st.process(x[i : i + 4096]) for i in range(0, len(x), 4096)])
    whole = _Stereo(SR, 0.0, 60.0).process(x)
    np.testing.assert_allclose(y, whole, atol=1e-12)
    th = np.radians(60.0)
    itd = round(HEAD_RADIUS_M / SPEED_OF_SOUND * (th + np.sin(th)) * SR)
    lags = np.arange(-40, 41)
    left, right = y[:, 0], y[:, 1]
    xc = [np.dot(left[100 + k : -100 + k], right[100:-100]) for k in lags]
    assert lags[int(np.argmax(xc))] == itd  # left lags right by the ITD

    def hf(v: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(v)) ** 2
        f = np.fft.rfftfreq(len(v), 1 / SR)
        return float(spec[f > 4000].sum())

    assert hf(left) < 0.5 * hf(right)
