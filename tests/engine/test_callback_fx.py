"""The master post-FX in the C callback: the same samples as the engine's chain, and a change
heard at the next callback instead of a ring fill later."""

from __future__ import annotations

from typing import Any

import numpy as np

from bassd.dsp.postfx import PostFX
from bassd.engine._rtcore import ffi, lib
from bassd.engine.player import SharedPlayer
from bassd.engine.ring import SharedRing

SR = 48_000
BLOCK = 256
FX = {"gain_db": 0.0, "hpf_hz": 120.0, "lpf_hz": 10_000.0, "drive": 1.6, "peak": 0.9}


def _callback(p: Any) -> np.ndarray:
    out = np.full((BLOCK, 2), np.nan, dtype=np.float32)
    lib.bassd_callback(ffi.NULL, ffi.cast("void *", ffi.from_buffer(out)), BLOCK, ffi.NULL, 0, p)
    return out


def _rig(ring: SharedRing) -> SharedPlayer:
    player = SharedPlayer()
    player.p.ring = ring.base
    player.p.channels = 2
    player.p.fade_frames = 32
    player.p.gain = 1.0
    player.init_fx(SR, FX)
    return player


def test_callback_chain_gives_the_engine_chains_samples() -> None:
    """Ring → callback with the post-FX on gives bit for bit what PostFX gives the same mix,
    a change included (pushed with the frame it belongs to, as a scheduled bundle does)."""
    mix = (np.random.default_rng(0).standard_normal((40 * BLOCK, 2)) * 0.4).astype(np.float32)
    ref = PostFX(SR, **FX)
    ref.set(at_frame=10 * BLOCK + 7, lpf_hz=700.0, drive=3.0)
    want = np.concatenate([ref.process(mix[i : i + BLOCK]) for i in range(0, len(mix), BLOCK)])
    with SharedRing(8192, 2) as ring:
        player = _rig(ring)
        try:
            player.push_fx({**FX, "lpf_hz": 700.0, "drive": 3.0}, 10 * BLOCK + 7)
            got = []
            for i in range(0, len(mix), BLOCK):
                ring.write(mix[i : i + BLOCK])
                got.append(_callback(player.p))
            np.testing.assert_array_equal(np.concatenate(got), want)
            assert player.p.dry_callbacks == 0
        finally:
            player.close()


def test_a_change_is_heard_at_the_next_callback_with_the_ring_full() -> None:
    """With 1024 frames already rendered, /fx/drive's change shapes the very next callback's
    output (the engine's chain would have waited for those 1024 frames), and the callback notes
    when it applied it (the latency probe)."""
    mix = (np.random.default_rng(1).standard_normal((8 * BLOCK, 2)) * 0.4).astype(np.float32)
    outs = []
    for change in (False, True):
        with SharedRing(8192, 2) as ring:
            player = _rig(ring)
            try:
                ring.write(mix[:1024])
                _callback(player.p)
                if change:
                    player.push_fx({**FX, "drive": 8.0}, 0)
                outs.append(_callback(player.p))
                if change:
                    assert player.p.fx.applied_seq == player.fx_seq == 1
                    assert player.fx_latency_ms() is not None
            finally:
                player.close()
    assert np.abs(outs[1] - outs[0])[: BLOCK // 2].max() > 0.01


def test_a_burst_beyond_the_queue_is_coalesced_to_the_latest() -> None:
    """More changes than the callback's queue holds before it runs: none is lost that matters —
    the latest setting is applied at the next callbacks, and the queue never overflows."""
    with SharedRing(8192, 2) as ring:
        player = _rig(ring)
        try:
            ring.write(np.zeros((4 * BLOCK, 2), dtype=np.float32))
            for i in range(200):
                player.push_fx({**FX, "drive": 1.0 + i / 100}, 0)
            _callback(player.p)
            player.flush_fx()
            _callback(player.p)
            assert player.p.fx.target.drive == 1.0 + 199 / 100
            assert player.p.fx.applied_seq == 200
        finally:
            player.close()
