"""The engine as a whole: block-size invariance (live = offline), ring hand-over, start fade."""

from __future__ import annotations

import numpy as np

from bassd.app.config import load_config
from bassd.engine._rtcore import ffi, lib
from bassd.engine.core import Engine, SegmentRecord
from bassd.engine.ring import SharedRing

SR = 48_000
OVR = ["timeline.segment_seconds=3", "timeline.crossfade_seconds=0.5"]


def _render(block: int, seconds: float) -> np.ndarray:
    engine = Engine(load_config(overrides=OVR))
    total = int(seconds * SR)
    out = []
    while engine.frame < total:
        out.append(engine.render(min(block, total - engine.frame)))
    engine.close()
    return np.concatenate(out)


def test_output_does_not_depend_on_block_size() -> None:
    """256-frame blocks (live) and 4096-frame blocks (offline) give the same samples."""
    a = _render(256, 7.0)
    b = _render(4096, 7.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=2e-7)


def test_device_path_plays_exactly_the_engine_output() -> None:
    """Engine → ring → C callback consumer delivers the engine's samples unchanged."""
    engine = Engine(load_config(overrides=OVR))
    ref = Engine(load_config(overrides=OVR))
    with SharedRing(4096, 2) as ring:
        p = ffi.new("bassd_player *")
        p.ring, p.channels, p.fade_frames, p.gain = ring.base, 2, 64, 1.0
        played = []
        out = np.empty((256, 2), dtype=np.float32)
        for _ in range(400):
            while ring.fill() < 1024:
                ring.write(engine.render(256))
            lib.bassd_consume(p, ffi.cast("float *", ffi.from_buffer(out)), 256)
            played.append(out.copy())
        assert p.dry_callbacks == 0
    np.testing.assert_array_equal(np.concatenate(played), ref.render(400 * 256))
    engine.close()
    ref.close()


def test_starts_with_a_fade_in_and_stops_with_a_fade_out() -> None:
    """The first samples ramp up from zero; fade_out ramps the mix to zero in 100 ms, the
    master filters ring out below -40 dB from there and reach exact silence within 0.1 s
    more (then the engine reports it faded out)."""
    engine = Engine(load_config(overrides=OVR))
    y = engine.render(SR)
    assert np.abs(y[:8]).max() < 0.02
    engine.fade_out(0.1)
    z = engine.render(SR // 10 + 1)
    assert not engine.faded_out  # the filters' tail is still playing
    tail = np.concatenate([engine.render(256) for _ in range(SR // 10 // 256)])
    assert engine.faded_out
    assert np.abs(tail).max() < 0.01 and tail[-256:].max() == tail[-256:].min() == 0.0
    assert np.abs(np.diff(np.concatenate([z, tail])[:, 0])).max() < 0.05
    engine.close()


def test_segment_records_cover_the_timeline() -> None:
    """Each finished segment is reported with its own span of master output."""
    records: list[SegmentRecord] = []
    engine = Engine(load_config(overrides=OVR), on_segment_done=records.append)
    y = np.concatenate([engine.render(1000) for _ in range(int(10 * SR / 1000))])
    engine.flush()
    assert [r.index for r in records] == [0, 1, 2, 3]
    assert [r.start_frame for r in records] == [0, 3 * SR, 6 * SR, 9 * SR]
    np.testing.assert_array_equal(np.concatenate([r.audio for r in records]), y)
    assert all(r.renderer == "kuramoto" and not r.fallback and r.rtf < 1 for r in records)
    for r in records:
        r.release()
    engine.close()


def test_output_fader_ramps_and_never_raises_the_peak() -> None:
    """The output fader (after the limiter) ramps over one block and refuses gain above 0 dB."""
    import pytest

    engine = Engine(load_config(overrides=OVR))
    engine.render(SR)
    engine.set_output_gain_db(-20.0)
    y = engine.render(256)
    ref = Engine(load_config(overrides=OVR))
    ref.render(SR)
    x = ref.render(256)
    ramp = np.linspace(1.0, 0.1, 257, dtype=np.float32)[1:]
    np.testing.assert_allclose(y, x * ramp[:, None], rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="up to 0 dB"):
        engine.set_output_gain_db(3.0)
    engine.close()
    ref.close()


def test_transport_stop_pauses_the_timeline_and_start_resumes_it() -> None:
    """Stop fades to exact silence (the 50 ms fade, then the filters' ring-out) and holds the
    timeline; start fades back in where it was."""
    engine = Engine(load_config(overrides=OVR))
    engine.render(SR)
    engine.transport_stop(0.05)
    engine.render(SR // 5)
    assert engine.paused
    held = engine.controller.frame
    np.testing.assert_array_equal(engine.render(SR // 2), 0.0)
    assert engine.controller.frame == held  # the timeline waits
    engine.transport_start(0.05)
    y = engine.render(SR // 2)
    assert not engine.paused and engine.controller.frame == held + SR // 2
    assert np.abs(y[:32]).max() < 0.05 and np.abs(y[SR // 10 :]).max() > 0.05
    engine.close()


def test_live_and_structural_renderer_changes() -> None:
    """Coupling/brightness/width act on the playing bank (no new segment, no click);
    a key change crossfades to a new bank without a gap."""
    engine = Engine(load_config(overrides=["timeline.segment_seconds=30"]))
    a = engine.render(SR)
    assert engine.set_renderer_param("width", 0.0) == "live"
    assert engine.set_renderer_param("brightness", 0.9) == "live"
    b = engine.render(SR)
    assert engine.segment_index == 0
    np.testing.assert_allclose(b[-SR // 4 :, 0], b[-SR // 4 :, 1], atol=1e-6)  # now mono
    assert np.abs(np.diff(np.concatenate([a, b]), axis=0)).max() < 0.1
    assert engine.set_renderer_param("key", "F#", crossfade_seconds=0.5) == "new bank"
    c = engine.render(SR)
    assert engine.segment_index == 1
    win = SR // 20
    rms = np.sqrt(np.mean(c[: len(c) // win * win, 0].reshape(-1, win) ** 2, axis=1))
    assert rms.min() > 1e-3  # no gap through the crossfade
    engine.close()


def test_two_structural_changes_in_one_block_report_one_segment() -> None:
    """Key and mode in one block: one fade to one new segment, heard and reported once."""
    started: list[int] = []
    engine = Engine(
        load_config(overrides=["timeline.segment_seconds=30"]),
        on_segment_start=lambda ev: started.append(ev.index),
    )
    y = [engine.render(SR)]
    engine.set_renderer_param("key", "F#", crossfade_seconds=0.5)
    engine.set_renderer_param("mode", "lydian", crossfade_seconds=0.5)
    y.append(engine.render(SR))
    cur = engine.controller.current
    assert cur is not None and cur.request.params["key"] == "F#"
    assert cur.request.params["mode"] == "lydian"
    assert started == [0, 2]  # segment 1 was replaced before a frame of it played
    out = np.concatenate(y)
    assert np.abs(np.diff(out[SR - 256 : SR + 256], axis=0)).max() < 0.1
    engine.close()


def test_live_parameters_keep_the_banks_prepared_ahead() -> None:
    """A live change reaches the pending jobs (built or not) instead of replanning them."""
    engine = Engine(load_config(overrides=["timeline.segment_seconds=30"]))
    engine.render(256)
    assert engine.prepare_next()  # one bank built ahead, the next one not yet
    pending = engine.controller.pending
    banks = [job.bank if job.prepared else None for job in pending]  # type: ignore[attr-defined]
    assert banks[0] is not None and banks[1] is None
    engine.set_renderer_param("brightness", 0.9)
    engine.set_renderer_param("coupling", 2.0)
    assert all(a is b for a, b in zip(engine.controller.pending, pending, strict=True))
    for job in pending:
        assert job.request.params["brightness"] == 0.9 and job.request.params["coupling"] == 2.0
    assert pending[0].bank is banks[0]  # type: ignore[attr-defined]  # not rebuilt
    assert pending[0].bank.params.brightness == 0.9  # type: ignore[attr-defined]
    assert pending[1].bank.params.coupling == 2.0  # type: ignore[attr-defined]  # built with it
    engine.close()


def test_idle_time_builds_the_spare_fallback_after_the_planned_segments() -> None:
    """With a renderer whose clips are never ready, prepare_next() builds the spare fallback's
    bank ahead (the planned jobs have nothing to build), so the boundary that starts it
    finds it built: the pump builds no bank there."""
    from tests.engine.renderers_for_tests import ConstantRenderer

    class Never(ConstantRenderer):
        def submit(self, request):  # type: ignore[no-untyped-def]
            job = super().submit(request)
            job.ready = lambda: False  # type: ignore[method-assign]
            return job

    engine = Engine(load_config(overrides=["timeline.segment_seconds=4"]), renderer=Never())
    engine.render(256)
    spare = engine.controller.spare
    assert spare is not None and spare not in engine.controller.pending
    assert not spare.prepared  # type: ignore[attr-defined]
    while engine.prepare_next():
        pass
    assert spare.prepared  # type: ignore[attr-defined]
    engine.render(4 * SR)  # past the boundary: the spare plays, as the fallback
    assert engine.controller.current is spare
    assert engine.controller.spare is not None and engine.controller.spare is not spare
    engine.close()
