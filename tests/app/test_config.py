"""Configuration: defaults from the package, merging, and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bassd.app.config import ConfigError, load_config


def test_defaults_ship_with_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults load from the installed package, whatever the working directory."""
    monkeypatch.chdir(tmp_path)
    cfg = load_config()
    assert cfg.audio.sample_rate == 48000 and cfg.fx.hpf_hz == 120.0 and cfg.fx.peak == 0.9
    assert cfg.timeline.crossfade_seconds == 1.5 and cfg.timeline.lookahead == 2


def test_user_file_and_overrides_merge(tmp_path: Path) -> None:
    """A user file overrides defaults key by key; --set overrides the file."""
    f = tmp_path / "user.yaml"
    f.write_text("audio:\n  block_size: 512\nrenderer:\n  params:\n    key: F\n")
    cfg = load_config(f, ["renderer.params.mode=lydian"])
    assert cfg.audio.block_size == 512 and cfg.audio.sample_rate == 48000
    assert cfg.renderer.params.key == "F" and cfg.renderer.params.mode == "lydian"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "audio.smaple_rate=48000",
            "audio.smaple_rate: unknown key (allowed: sample_rate, block_size",
        ),
        (
            "audio.sample_rate=12",
            "audio.sample_rate: Input should be 44100, 48000, 88200 or 96000 (got 12)",
        ),
        ("audio.block_size=abc", "audio.block_size: Input should be a valid integer"),
        (
            "audio.block_size=8",
            "audio.block_size: Input should be greater than or equal to 16 (got 8)",
        ),
        ("audio.ring_frames=5000", "audio.ring_frames: must be a power of two"),
        (
            "timeline.crossfade_seconds=20",
            "crossfade_seconds (20) must be at most half of segment_seconds",
        ),
        ("renderer.params.mode=blues", "renderer.params.mode: Input should be 'ionian'"),
        ("fx={hpf_hz: 1800, lpf_hz: 1500}", "fx: hpf_hz (1800) must be below lpf_hz (1500)"),
        ("bogus.key=1", "bogus: unknown key (allowed: audio, timeline"),
        ("hr.stress_delta_bpm=-5", "hr.stress_delta_bpm: Input should be greater than"),
        ("hr.min_bpm=abc", "hr.min_bpm: Input should be a valid number"),
        (
            "prompts.policy=shuffle",
            "prompts.policy: Input should be 'no_repeat', 'cycle' or 'random'",
        ),
        ("osc.host=0.0.0.0", "listens beyond loopback: list the source networks"),
        ("osc.allow=[10.0.0.0/33]", "is not a network in CIDR notation"),
        ("control.state_change=instantly", "control.state_change: Input should be"),
    ],
)
def test_errors_name_the_key_and_the_allowed_values(override: str, expected: str) -> None:
    """Each bad value is reported as one line that names the key and what is allowed."""
    with pytest.raises(ConfigError) as err:
        load_config(overrides=[override])
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    """A missing file and a YAML syntax error are specific messages with the file name."""
    with pytest.raises(ConfigError, match="cannot read it"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("audio: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: line \d+ is not valid YAML"):
        load_config(bad)
