"""SIGHUP's plan: which changed keys of a reloaded config apply live, which need a restart."""

from __future__ import annotations

from bassd.app.config import load_config
from bassd.app.config_reload import adopt, changed_keys, plan_reload


def test_fx_changes_apply_live_and_the_device_needs_a_restart() -> None:
    """fx.lpf_hz is live; audio.block_size and osc.port are listed as needing a restart."""
    old = load_config()
    new = load_config(None, ["fx.lpf_hz=5000", "audio.block_size=512", "osc.port=9100"])
    plan = plan_reload(old, new)
    assert plan.live == ["fx.lpf_hz"]
    assert plan.restart == ["audio.block_size", "osc.port"]


def test_unchanged_config_changes_nothing() -> None:
    """The same file again: nothing to apply, nothing to restart."""
    assert changed_keys(load_config(), load_config()) == []


def test_live_renderer_params_hr_rules_and_log_level() -> None:
    """Coupling, brightness and width, the heart-rate thresholds and the log level are
    live; a structural renderer param (key) and hr.model are not."""
    old = load_config()
    new = load_config(None, ["renderer.params.brightness=0.3", "hr.stress_delta_bpm=20",
                             "logging.level=debug", "renderer.params.key=E",
                             "hr.model=bayes"])  # fmt: skip
    plan = plan_reload(old, new)
    assert "renderer.params.brightness" in plan.live and "logging.level" in plan.live
    assert "renderer.params.key" in plan.restart and "hr.model" in plan.restart
    assert "hr.stress_delta_bpm" in plan.restart  # the bayes model derives its own params


def test_hr_thresholds_are_live_with_the_thresholds_model() -> None:
    """With hr.model thresholds unchanged, a threshold change applies live."""
    plan = plan_reload(load_config(), load_config(None, ["hr.stress_delta_bpm=20"]))
    assert plan.live == ["hr.stress_delta_bpm"]


def test_adopt_copies_only_the_given_keys() -> None:
    """The running config takes the live values, even through a band that is invalid key
    by key (hpf above the old lpf); the restart-only keys keep the old value (so the next
    reload still lists them)."""
    cfg = load_config(None, ["fx.hpf_hz=1000", "fx.lpf_hz=1500"])
    new = load_config(None, ["fx.hpf_hz=1800", "fx.lpf_hz=3000", "audio.block_size=512"])
    adopt(cfg, new, ["fx.hpf_hz", "fx.lpf_hz"])
    assert (cfg.fx.hpf_hz, cfg.fx.lpf_hz) == (1800, 3000)
    assert cfg.audio.block_size == 256
    assert plan_reload(cfg, new).restart == ["audio.block_size"]
