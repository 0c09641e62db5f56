"""Loudness normalisation: one fixed gain per segment, decided in prepare(), on target."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bassd.app.config import ConfigError, load_config
from bassd.app.offline import render_offline
from bassd.control.prompt_schema import CATEGORIES
from bassd.dsp.loudness import MasterChain
from bassd.dsp.oscillators import BankParams, KuramotoBank
from bassd.engine.config import LoudnessOffsets
from bassd.engine.renderer import KuramotoRenderer, Normaliser, RenderRequest, StreamingJob
from bassd.engine.segment_log import SegmentLog

SR = 48000


def _render_lufs(tmp_path: Path, overrides: list[str], seconds: float = 72.0) -> list[float]:
    """Per-segment `lufs` of metrics.csv after an offline render with ``overrides``."""
    cfg = load_config(overrides=["logging.level=warning", *overrides])
    log = SegmentLog(tmp_path / "metrics.csv", None, cfg.audio.sample_rate, "t")
    render_offline(cfg, seconds, tmp_path / "x.wav", segment_log=log, record_events=False)
    return [float(r["lufs"]) for r in csv.DictReader((tmp_path / "metrics.csv").open())]


@pytest.mark.parametrize(("category", "target"), [("neutral", -16.0), ("calm", -19.0)])
def test_offline_render_puts_every_segment_within_one_lu_of_its_target(
    tmp_path: Path, category: str, target: float
) -> None:
    """Three 24 s segments of a category's prompts each measure target ± 1 LU in metrics.csv."""
    lufs = _render_lufs(tmp_path, [f"prompts.state_categories.neutral={category}"])
    assert len(lufs) == 3
    assert all(abs(x - target) <= 1.0 for x in lufs), lufs


def test_without_normalisation_the_same_render_is_off_target(tmp_path: Path) -> None:
    """With fx.loudness_target_lufs null the same segments are more than 1 LU off −16."""
    lufs = _render_lufs(tmp_path, ["fx.loudness_target_lufs=null"])
    assert max(abs(x + 16.0) for x in lufs) > 1.0, lufs


class _NeverReady:
    """A renderer whose clips never arrive: every segment is the fallback."""

    name = "never"

    def submit(self, request: RenderRequest) -> _NeverReady:
        self.request = request
        return self

    renderer = "never"
    render_seconds = 0.0
    frames_rendered = 0
    failed = False

    def ready(self) -> bool:
        return False

    def read(self, frames: int) -> np.ndarray:
        raise AssertionError("never ready")

    def close(self) -> None:
        pass


def test_fallback_clips_are_normalised_too(tmp_path: Path) -> None:
    """Fallback segments (no category: no offset) play at the base target ± 1 LU."""
    cfg = load_config(overrides=["logging.level=warning", "fx.loudness_target_lufs=-20"])
    log = SegmentLog(tmp_path / "metrics.csv", None, cfg.audio.sample_rate, "t")
    result = render_offline(
        cfg, 48.0, tmp_path / "x.wav", renderer=_NeverReady(), segment_log=log, record_events=False
    )
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert result.fallbacks == len(rows) == 2
    assert all(abs(float(r["lufs"]) + 20.0) <= 1.0 for r in rows), rows


def _job(
    params: dict[str, Any], meta: dict[str, Any], target: float | None = -16.0
) -> StreamingJob:
    norm = Normaliser(target, {"calm": -3.0}, MasterChain)
    request = RenderRequest(0, 3, 10 * SR, SR, params, meta)
    return KuramotoRenderer(normaliser=norm).submit(request)


def test_prepare_decides_one_gain_that_read_applies_unchanged() -> None:
    """read() is the bank's own output times one constant gain, decided in prepare()."""
    params = BankParams(density=64, brightness=0.3)
    job = _job(params.__dict__, {"category": "calm"})
    assert not job.prepared
    job.prepare()
    assert job.prepared and job.gain_db != 0.0
    ref = KuramotoBank(params, SR, seed=3)
    gain = np.float32(10.0 ** (job.gain_db / 20.0))
    for n in (256, 1000, 4096):
        np.testing.assert_allclose(job.read(n), ref.render(n) * gain, rtol=1e-6, atol=1e-7)


def test_calm_offset_lowers_the_gain_by_its_lu() -> None:
    """The same bank gets 3 dB less gain as a calm segment; a null target means no gain."""
    params = BankParams(density=64).__dict__
    neutral, calm = _job(params, {"category": "neutral"}), _job(params, {"category": "calm"})
    neutral.prepare()
    calm.prepare()
    assert neutral.gain_db - calm.gain_db == pytest.approx(3.0, abs=0.3)
    off = _job(params, {"category": "calm"}, target=None)
    off.prepare()
    assert off.gain_db == 0.0


def test_live_change_before_the_first_read_decides_the_gain_again() -> None:
    """A brightness change to a prepared, unheard segment redoes its gain; once heard, kept."""
    job = _job(BankParams(density=64, brightness=0.9).__dict__, {})
    job.prepare()
    bright = job.gain_db
    job.set_live("brightness", 0.0)
    assert not job.prepared
    job.prepare()
    dark = job.gain_db
    assert abs(dark - bright) > 0.5
    job.read(256)
    job.set_live("brightness", 0.9)
    assert job.prepared and job.gain_db == dark


def test_loudness_offsets_name_every_category_and_reject_unknown_ones() -> None:
    """fx.loudness_offsets_lu has one key per prompt category; another name is an error."""
    assert set(LoudnessOffsets.model_fields) == set(CATEGORIES)
    with pytest.raises(ConfigError, match="loudness_offsets_lu"):
        load_config(overrides=["fx.loudness_offsets_lu.sleepy=-3"])
