"""The neural renderer in a session, offline (the simulated clock waits for each clip):
deterministic per seed, worker faults covered by the DSP fallback, missing weights."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from structlog.testing import capture_logs

from bassd.app.config import Config, load_config
from bassd.app.offline import render_offline
from bassd.engine.segment_log import SegmentLog
from bassd.engine.wavfile import read_wav
from bassd.models.neural_renderer import NeuralRenderer


def neural_config(model: Path | str, tmp_path: Path, *extra: str) -> Config:
    return load_config(
        overrides=[
            "renderer.name=musicgen",
            f"musicgen.model={model}",
            "musicgen.min_clip_seconds=3",
            "musicgen.restart_backoff_seconds=0",
            "timeline.segment_seconds=3",
            "timeline.crossfade_seconds=0.5",
            f"outputs.dir={tmp_path}",
            f"outputs.sessions_dir={tmp_path / 'sessions'}",
            *extra,
        ]
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def gaps(audio: np.ndarray, sr: int, floor: float = 1e-4, longest_ms: float = 5.0) -> int:
    """Runs of near-silence longer than ``longest_ms`` after the first 100 ms."""
    quiet = np.max(np.abs(audio[int(0.1 * sr) :]), axis=1) < floor
    run, runs = 0, 0
    for q in quiet:
        run = run + 1 if q else 0
        if run == int(longest_ms * sr / 1000):
            runs += 1
    return runs


def clicks(audio: np.ndarray, boundaries: list[int], sr: int) -> float:
    """The largest sample-to-sample step within 20 ms of a segment boundary, relative to the
    99.9th percentile of steps over the whole render (a click stands out from the music)."""
    step = np.max(np.abs(np.diff(audio, axis=0)), axis=1)
    ref = float(np.quantile(step, 0.999))
    near = [step[max(0, b - sr // 50) : b + sr // 50].max() for b in boundaries if b > 0]
    return max(near) / ref if near and ref > 0 else 0.0


def render(
    cfg: Config, out: Path, seconds: float, renderer: Any = None
) -> tuple[Any, list[dict[str, str]]]:
    log = SegmentLog(out.with_suffix(".csv"), None, cfg.audio.sample_rate)
    res = render_offline(cfg, seconds, out, renderer=renderer, segment_log=log, record_events=False)
    return res, rows(out.with_suffix(".csv"))


def test_offline_render_is_deterministic_per_seed(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Two offline renders with the same seed are sample-identical (sampling included), a
    different seed differs, and every segment is neural."""
    cfg = neural_config(tiny_model_dir, tmp_path)
    a, rows_a = render(cfg, tmp_path / "a.wav", 7.0)
    b, _ = render(cfg, tmp_path / "b.wav", 7.0)
    cfg.timeline.seed = 5
    c, _ = render(cfg, tmp_path / "c.wav", 7.0)
    wa, wb, wc = (read_wav(p)[0] for p in (a.path, b.path, c.path))
    assert np.array_equal(wa, wb)
    assert not np.array_equal(wa, wc)
    assert a.fallbacks == 0 and len(rows_a) == a.segments >= 3
    assert {r["renderer"] for r in rows_a} == {"musicgen"}
    assert all(r["adapters"] == "{}" for r in rows_a)
    assert gaps(wa, 48000) == 0


class KillOnStart(NeuralRenderer):
    """Kills its worker as soon as the worker starts on segment ``kill_at``."""

    kill_at = 1
    killed = 0

    def _handle(self, msg: tuple[Any, ...]) -> None:
        super()._handle(msg)
        if msg[0] == "started" and msg[1] == self.kill_at and not self.killed:
            self.killed = self.kill_worker() or -1


def test_worker_killed_mid_render_falls_back_and_recovers(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """Killing the worker while it renders a clip: that segment is the DSP fallback (no gap,
    no click at the crossfades), the kill is counted, the worker restarts and the later
    segments are neural again."""
    cfg = neural_config(tiny_model_dir, tmp_path)
    renderer = KillOnStart(cfg.musicgen, sample_rate=48000, blocking=True)
    with capture_logs() as logs:
        res, table = render(cfg, tmp_path / "k.wav", 9.0, renderer=renderer)
    assert renderer.killed
    assert renderer.restarts == 1 and renderer.failures == 1
    kinds = [(r["renderer"], r["fallback"]) for r in table]
    assert res.fallbacks == 1
    assert kinds[0] == ("musicgen", "0")
    assert ("kuramoto", "1") in kinds
    fallback = next(e for e in logs if e["event"] == "segment_fallback")
    assert fallback["reason"] == "render failed"
    after = kinds[kinds.index(("kuramoto", "1")) + 1 :]
    assert after and all(k == ("musicgen", "0") for k in after)
    assert any(e["event"] == "neural_worker_failed" for e in logs)
    audio, sr = read_wav(res.path)
    assert gaps(audio, sr) == 0
    starts = [round(float(r["start_s"]) * sr) for r in table]
    assert clicks(audio, starts, sr) < 1.5


def test_missing_weights_play_dsp_and_say_how_to_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that is not on the machine: the render goes on with the DSP renderer, the
    renderer's state says missing-weights, and one log line names the download command."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    cfg = neural_config("facebook/musicgen-small", tmp_path)
    renderer = NeuralRenderer(cfg.musicgen, sample_rate=48000, blocking=True)
    with capture_logs() as logs:
        res, table = render(cfg, tmp_path / "m.wav", 5.0, renderer=renderer)
    assert renderer.state == "missing-weights"
    assert "bassd models download facebook/musicgen-small" in renderer.reason
    missing = [e for e in logs if e["event"] == "neural_weights_missing"]
    assert (
        len(missing) == 1 and missing[0]["fetch"] == "bassd models download facebook/musicgen-small"
    )
    assert {r["renderer"] for r in table} == {"kuramoto"} and res.fallbacks == res.segments
    audio, sr = read_wav(res.path)
    assert gaps(audio, sr) == 0


def test_without_the_neural_extra_the_renderer_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that cannot import torch reports it once, with the install command, and the
    render goes on with the DSP renderer (no restart loop)."""
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(
        "raise ImportError('No module named torch (test)')\n"
    )
    monkeypatch.syspath_prepend(str(fake))  # the spawned worker starts with this sys.path
    cfg = neural_config(tmp_path, tmp_path)
    renderer = NeuralRenderer(cfg.musicgen, sample_rate=48000, blocking=True)
    with capture_logs() as logs:
        res, table = render(cfg, tmp_path / "u.wav", 4.0, renderer=renderer)
    assert renderer.state == "failed" and "pip install" in renderer.reason
    assert renderer.restarts == 0
    assert [e["event"] for e in logs].count("neural_unavailable") == 1
    assert {r["renderer"] for r in table} == {"kuramoto"}
    assert gaps(read_wav(res.path)[0], 48000) == 0


def test_a_worker_that_dies_before_loading_ends_the_offline_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies at start every time (here at ``import torch``, before it can say
    why): after three tries the offline render stops waiting, says so once with the exit
    code, and plays the DSP renderer with no gap (it waited for ever before)."""
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text("import os\nos._exit(3)\n")
    monkeypatch.syspath_prepend(str(fake))  # the spawned worker starts with this sys.path
    cfg = neural_config(tmp_path, tmp_path, "musicgen.max_backoff_seconds=0.5")
    renderer = NeuralRenderer(cfg.musicgen, sample_rate=48000, blocking=True)
    with capture_logs() as logs:
        res, table = render(cfg, tmp_path / "d.wav", 7.0, renderer=renderer)
    gave_up = [e for e in logs if e["event"] == "neural_worker_cannot_start"]
    assert len(gave_up) == 1 and "worker exited (code 3)" in gave_up[0]["reason"]
    assert renderer.restarts >= 3 and renderer.clips == 0
    assert {r["renderer"] for r in table} == {"kuramoto"} and res.fallbacks == res.segments
    assert gaps(read_wav(res.path)[0], 48000) == 0


def test_a_neural_segment_can_be_shortened_not_lengthened_past_its_clip(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """/segment/length while a neural clip plays: shorter ends it sooner; longer is capped at
    the clip's own length (the clip is never read past its end)."""
    from bassd.app.session import build_session

    cfg = neural_config(tiny_model_dir, tmp_path)
    s = build_session(cfg, record_events=False, blocking_renders=True)
    try:
        eng = s.engine
        eng.render(256)
        job = eng.controller.current
        assert job is not None and job.renderer == "musicgen"
        own = job.planned_frames - eng.controller.crossfade_frames
        assert eng.controller.next_boundary() == own
        eng.set_segment_seconds(30.0)
        assert eng.controller.next_boundary() == own
        eng.set_segment_seconds(2.0)
        assert eng.controller.next_boundary() == 2 * 48000
    finally:
        s.close()
