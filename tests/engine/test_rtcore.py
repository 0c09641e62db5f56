"""The C consumer behind the PortAudio callback: copying, fading on dry, counting."""

from __future__ import annotations

from typing import Any

import numpy as np

from bassd.engine._rtcore import ffi, lib
from bassd.engine.ring import SharedRing

FADE = 32
BLOCK = 256


def _player(ring: SharedRing) -> Any:
    p = ffi.new("bassd_player *")
    p.ring = ring.base
    p.channels = 2
    p.fade_frames = FADE
    p.gain = 1.0
    return p


def _consume(p: Any, frames: int = BLOCK) -> np.ndarray:
    out = np.full((frames, 2), np.nan, dtype=np.float32)  # garbage the callback must overwrite
    lib.bassd_consume(p, ffi.cast("float *", ffi.from_buffer(out)), frames)
    return out


def _callback(p: Any, frames: int = BLOCK, flags: int = 0) -> tuple[int, np.ndarray]:
    out = np.full((frames, 2), np.nan, dtype=np.float32)
    rc = lib.bassd_callback(
        ffi.NULL, ffi.cast("void *", ffi.from_buffer(out)), frames, ffi.NULL, flags, p
    )
    return rc, out


def test_copies_frames_in_order_when_full() -> None:
    """With enough data the output is exactly the ring's frames, and the read position advances."""
    with SharedRing(2048, 2) as ring:
        data = np.random.default_rng(0).uniform(-1, 1, (1024, 2)).astype(np.float32)
        ring.write(data)
        p = _player(ring)
        np.testing.assert_array_equal(_consume(p), data[:BLOCK])
        np.testing.assert_array_equal(_consume(p), data[BLOCK : 2 * BLOCK])
        assert ring.fill() == 1024 - 2 * BLOCK
        assert p.dry_callbacks == 0


def test_dry_ring_fades_to_silence_and_counts() -> None:
    """A ring that runs dry gives a short fade to exact zeros (no garbage) and one underrun event."""
    with SharedRing(2048, 2) as ring:
        ring.write(np.full((BLOCK + 10, 2), 0.5, dtype=np.float32))
        p = _player(ring)
        _consume(p)
        out = _consume(p)  # only 10 frames left
        assert np.isfinite(out).all()
        assert out[0, 0] > 0.45  # starts where the music was
        assert np.all(np.diff(out[:, 0]) <= 1e-7)  # monotonic fade down
        np.testing.assert_array_equal(out[FADE:], 0.0)
        assert np.max(np.abs(np.diff(out[:, 0]))) <= 0.5 / FADE + 1e-6  # no click
        assert (p.dry_callbacks, p.underrun_events) == (1, 1)
        silent = _consume(p)
        np.testing.assert_array_equal(silent, 0.0)
        assert (p.dry_callbacks, p.underrun_events) == (2, 1)  # one event, two dry callbacks


def test_empty_ring_holds_last_sample_down_to_zero() -> None:
    """With nothing at all in the ring the last sample played is ramped to zero, not cut."""
    with SharedRing(1024, 2) as ring:
        ring.write(np.full((BLOCK, 2), -0.8, dtype=np.float32))
        p = _player(ring)
        _consume(p)
        out = _consume(p)
        assert -0.8 <= out[0, 0] < -0.7
        np.testing.assert_array_equal(out[FADE:], 0.0)
        assert np.max(np.abs(np.diff(out[:, 0]))) <= 0.8 / FADE + 1e-6


def test_recovers_with_fade_in_after_refill() -> None:
    """After an underrun, playback resumes only with two blocks buffered, and fades in."""
    with SharedRing(2048, 2) as ring:
        p = _player(ring)
        p.muted = 1
        p.gain = 0.0
        ring.write(np.ones((BLOCK, 2), dtype=np.float32))
        np.testing.assert_array_equal(_consume(p), 0.0)  # one block is not enough to resume
        assert ring.fill() == BLOCK  # and nothing was thrown away
        ring.write(np.ones((BLOCK, 2), dtype=np.float32))
        out = _consume(p)
        ramp = out[:FADE, 0]
        assert ramp[0] < 0.1 and np.all(np.diff(ramp) > 0)
        np.testing.assert_allclose(out[FADE:], 1.0)


def test_callback_counts_portaudio_underflow_flags_and_clock() -> None:
    """paOutputUnderflow status flags are counted; frames_out is the device sample clock."""
    with SharedRing(4096, 2) as ring:
        ring.write(np.zeros((2048, 2), dtype=np.float32))
        p = _player(ring)
        assert _callback(p)[0] == 0
        assert _callback(p, flags=0x4)[0] == 0
        assert p.callbacks == 2 and p.pa_output_underflows == 1 and p.frames_out == 2 * BLOCK
        assert sum(p.dur_hist) == 2 and p.last_callback_ns > 0


def test_fault_injection_aborts_once_with_silence() -> None:
    """fail_once makes exactly one callback return paAbort with a zeroed buffer."""
    with SharedRing(4096, 2) as ring:
        ring.write(np.ones((2048, 2), dtype=np.float32))
        p = _player(ring)
        p.fail_once = 1
        rc, out = _callback(p)
        assert rc == 2
        np.testing.assert_array_equal(out, 0.0)
        assert _callback(p)[0] == 0
