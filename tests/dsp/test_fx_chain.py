"""The C post-FX chain (dsp/fx.c) behind PostFX: its design, its control steps, its ramps."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp._dspcore import ffi, lib
from bassd.dsp.filters import butter_sos
from bassd.dsp.postfx import CONTROL_STEP, RAMP_FRAMES, PostFX

SR = 48_000


def _noise(frames: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((frames, 2)) * 0.3).astype(np.float32)


@pytest.mark.parametrize("kind", ["highpass", "lowpass"])
@pytest.mark.parametrize("cutoff", [20.0, 120.0, 1000.0, 10_000.0, 23_000.0])
def test_c_design_is_the_numpy_butterworth(kind: str, cutoff: float) -> None:
    """The sections the callback designs while a cut-off glides are butter_sos's (scipy-checked)."""
    sos = ffi.new("double[12]")
    lib.bassd_fx_design(float(SR), cutoff, int(kind == "highpass"), sos)
    np.testing.assert_allclose(np.frombuffer(ffi.buffer(sos), dtype=np.float64).reshape(2, 6),
                               butter_sos(4, cutoff, SR, kind), rtol=1e-12, atol=1e-15)  # fmt: skip


def test_a_timed_change_gives_the_same_samples_whatever_the_blocks() -> None:
    """A change at a frame lands on the same control step with 256-, 333- or 4096-frame blocks."""
    x = _noise(20_000)
    outs = []
    for block in (256, 333, 4096):
        fx = PostFX(SR)
        fx.set(at_frame=5_000, lpf_hz=800.0, drive=4.0)
        outs.append(np.concatenate([fx.process(x[i : i + block]) for i in range(0, len(x), block)]))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_an_immediate_change_applies_at_the_next_control_step() -> None:
    """set() between blocks changes nothing before the next 32-frame step and everything after."""
    x = _noise(4096)
    a, b = PostFX(SR), PostFX(SR)
    a.process(x[:1000]), b.process(x[:1000])
    b.set(drive=5.0)
    ya, yb = a.process(x[1000:]), b.process(x[1000:])
    step = -1000 % CONTROL_STEP  # frames to the next step from frame 1000
    np.testing.assert_array_equal(ya[:step], yb[:step])
    assert np.abs(ya[step : step + 4] - yb[step : step + 4]).max() > 0  # the ramp has begun
    assert b.settings["drive"] == 5.0


def test_drive_and_peak_ramp_linearly_from_the_step() -> None:
    """A jump of drive and peak ramps linearly over 256 frames from the control step: the
    output is peak(t)·tanh(drive(t)·v) with v the limiter's input, which the same chain
    left unchanged reveals (v = atanh(y / peak) / drive)."""
    x = _noise(4096, seed=2)
    a, b = PostFX(SR), PostFX(SR)
    b.set(drive=6.0, peak=0.5)  # from frame 0: the first control step
    ya, yb = a.process(x).astype(np.float64), b.process(x).astype(np.float64)
    v = np.arctanh(ya / 0.9) / 1.6
    t = np.minimum(np.arange(1, len(x) + 1), RAMP_FRAMES)[:, None] / RAMP_FRAMES
    drive, peak = 1.6 + (6.0 - 1.6) * t, 0.9 + (0.5 - 0.9) * t
    np.testing.assert_allclose(yb, peak * np.tanh(drive * v), atol=2e-5)


def test_cutoff_glides_in_about_twenty_milliseconds() -> None:
    """A low-pass jump from 10 kHz to 500 Hz is reached (snapped) after a glide, not at once."""
    fx = PostFX(SR)
    fx.set(lpf_hz=500.0)
    fx.process(_noise(CONTROL_STEP * 2))
    assert 500.0 < fx.lpf_hz < 10_000.0  # gliding
    fx.process(_noise(SR // 5))  # 200 ms
    assert fx.lpf_hz == 500.0


def test_tail_of_silence_ends_in_exact_zeros() -> None:
    """After the input stops the filters ring out and then give exact zeros (state flushed)."""
    fx = PostFX(SR)
    fx.process(_noise(SR))
    y = fx.process(np.zeros((SR // 5, 2), dtype=np.float32))
    assert np.abs(y[:64]).max() > 0 and not y[-1000:].any()


def test_bad_settings_name_the_problem() -> None:
    """An impossible setting is a ValueError naming it; the chain keeps its settings."""
    fx = PostFX(SR)
    with pytest.raises(ValueError, match="hpf"):
        fx.set(hpf_hz=12_000.0)
    with pytest.raises(ValueError, match="drive"):
        fx.set(drive=0.0)
    with pytest.raises(ValueError, match="unknown post-FX setting"):
        fx.set(wet=1.0)
    assert fx.settings["hpf_hz"] == 120.0 and fx.settings["drive"] == 1.6
