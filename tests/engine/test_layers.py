"""The soundscape layers' engine layer (engine/layers.py): a voice fades in, a change of
file crossfades without a jump or a dip, a mute fades, the drift stays in its bounds, and
the same changes at the same blocks give the same samples."""

from __future__ import annotations

import numpy as np

from bassd.dsp.loop_points import find_loop, make_loop
from bassd.engine.layers import LayerVoice, SoundscapeLayers
from tests.library_sounds import noise, tone

SR, BLOCK = 48000, 256


def _voice(x: np.ndarray, name: str) -> LayerVoice:
    loop = make_loop(x, find_loop(x, SR))
    return LayerVoice((0.1 * loop / np.sqrt(np.mean(loop**2))).astype(np.float32), name)


def _render(layers: SoundscapeLayers, seconds: float, frame0: int = 0) -> np.ndarray:
    n = round(seconds * SR) // BLOCK
    return np.concatenate([layers.render(frame0 + k * BLOCK, BLOCK) for k in range(n)])


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x * x)) + 1e-12))


def test_a_file_change_crossfades_without_a_jump_or_a_dip() -> None:
    """Layer 1 goes from a tone to pink noise over a 2 s crossfade: the largest
    sample-to-sample step during the change is no bigger than in either steady part, and
    the level in 100 ms windows stays within 2 dB of the steady parts' levels (equal
    power; no drift here)."""
    layers = SoundscapeLayers(SR, crossfade_seconds=2.0, drift_db=0, drift_octaves=0)
    layers.set_voice(1, _voice(tone(220.3, 6.0, SR, 0.3, 1), "tone"))
    layers.set_cutoff(1, 20000)
    _render(layers, 2.5)  # the fade-in
    before = _render(layers, 2.0)
    layers.set_voice(1, _voice(noise("pink", 6.0, SR, seed=1), "pink"))
    during = _render(layers, 2.0)
    after = _render(layers, 2.0)
    steps = max(np.abs(np.diff(before, axis=0)).max(), np.abs(np.diff(after, axis=0)).max())
    joined = np.concatenate([before[-1:], during, after[:1]])
    assert np.abs(np.diff(joined, axis=0)).max() <= 1.05 * steps
    lo = min(_db(before), _db(after)) - 2.0
    hi = max(_db(before), _db(after)) + 2.0
    w = SR // 10
    for c in range(0, len(during) - w + 1, w):
        assert lo <= _db(during[c : c + w]) <= hi, c / SR
    assert layers.names()[0] == "pink" and layers.changes == 2


def test_a_voice_fades_in_and_a_mute_fades_out() -> None:
    """An empty layer given a voice rises from silence over the crossfade time (never a
    step); muted, it falls to exact silence over the same time and stops costing work."""
    layers = SoundscapeLayers(SR, crossfade_seconds=1.0, drift_db=0, drift_octaves=0)
    layers.set_voice(2, _voice(noise("white", 4.0, SR, seed=2), "white"))
    layers.set_gain_db(2, 0.0)
    rise = _render(layers, 1.5)
    env = np.abs(rise[: len(rise) // 480 * 480, 0]).reshape(-1, 480).max(axis=1)  # 10 ms
    assert env[0] < 0.01 and env[-20:].min() > 0.1
    assert np.abs(np.diff(rise, axis=0)).max() < 0.5
    layers.set_mute(2, True)
    fall = _render(layers, 1.5)
    assert not fall[-BLOCK:].any()
    assert np.abs(fall[: SR // 10]).max() > 0.05  # it faded, it did not cut


def test_pan_and_filter_glide() -> None:
    """A pan from centre to hard right moves over the crossfade time: the left channel
    decays over it, not in one block; a low cut-off darkens the layer."""
    layers = SoundscapeLayers(SR, crossfade_seconds=1.0, drift_db=0, drift_octaves=0)
    layers.set_voice(1, _voice(noise("white", 4.0, SR, seed=3), "white"))
    layers.set_gain_db(1, 0.0)
    _render(layers, 1.5)
    layers.set_pan(1, 1.0)
    moving = _render(layers, 2.0)
    left = [_db(moving[c : c + 4800, 0]) for c in range(0, len(moving) - 4800, 4800)]
    assert left[0] - left[2] < 6.0 and left[-1] < -60  # gradual, then gone
    bright = _render(layers, 0.5)[:, 1]
    layers.set_cutoff(1, 300.0)
    _render(layers, 1.0)
    dark = _render(layers, 0.5)[:, 1]

    def centroid(x: np.ndarray) -> float:
        p = np.abs(np.fft.rfft(x)) ** 2
        return float((np.fft.rfftfreq(len(x), 1 / SR) * p).sum() / p.sum())

    assert centroid(dark) < 0.3 * centroid(bright)


def test_drift_is_slow_bounded_and_seeded() -> None:
    """Over two minutes the drift moves the level by no more than ±drift_db (plus the
    source's own wander) and no faster than a few dB a second; the same seed gives the same
    samples, another seed other ones."""

    def run(seed: int) -> np.ndarray:
        layers = SoundscapeLayers(SR, seed=seed, crossfade_seconds=1.0, drift_db=3.0,
                                  drift_octaves=0.0, drift_seconds=5.0)  # fmt: skip
        layers.set_voice(1, _voice(noise("pink", 6.0, SR, seed=4), "pink"))
        layers.set_gain_db(1, -6.0)
        return _render(layers, 60.0)

    a, b, c = run(7), run(7), run(8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    w = SR // 2
    levels = np.array([_db(a[i : i + w]) for i in range(2 * SR, len(a) - w, w)])
    ref = _db(a[2 * SR :])
    assert np.abs(levels - ref).max() <= 3.0 + 1.5
    assert np.abs(np.diff(levels)).max() <= 2.0  # per half second
    assert levels.max() - levels.min() >= 1.0  # it does move


def test_layer_numbers_are_checked() -> None:
    """Layers are 1..4: 0 and 5 are refused, naming the range."""
    layers = SoundscapeLayers(SR)
    for n in (0, 5):
        try:
            layers.set_gain_db(n, 0.0)
        except ValueError as exc:
            assert "1..4" in str(exc)
        else:
            raise AssertionError(n)
