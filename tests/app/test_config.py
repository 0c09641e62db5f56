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
            "prompts.policy: Input should be 'no_repeat', 'cycle', 'random' or 'learn'",
        ),
        ("osc.host=0.0.0.0", "listens beyond loopback: list the source networks"),
        ("osc.allow=[10.0.0.0/33]", "is not a network in CIDR notation"),
        ("control.state_change=instantly", "control.state_change: Input should be"),
        ("group.peers=[room-b]", "group.peers: peer 'room-b' is not host:port"),
        ("group.peers=[127.0.0.1:8000]", "group.peers: '127.0.0.1:8000' is this daemon itself"),
        ("group.quorum=2", "group.quorum: unknown key (allowed: peers, quantum, lead_seconds, id)"),
        ("group.quantum=0", "group.quantum: Input should be greater than 0"),
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


def test_relative_paths_in_a_file_are_relative_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """outputs.*, prompts.bank and control.prompts_dir in a config file resolve against
    that file's folder, not the working directory; --set paths against the working one."""
    folder = tmp_path / "installation"
    folder.mkdir()
    f = folder / "bassd.yaml"
    f.write_text(
        "outputs:\n  metrics_csv: records/metrics.csv\n  sessions_dir: /abs/sessions\n"
        "control:\n  prompts_dir: banks\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(f, ["outputs.audio_dir=clips"])
    assert cfg.outputs.metrics_csv == folder / "records" / "metrics.csv"
    assert cfg.control.prompts_dir == folder / "banks"
    assert cfg.outputs.sessions_dir == Path("/abs/sessions")
    assert cfg.outputs.audio_dir == Path("clips")  # a command-line path: the working directory


def test_a_text_setting_given_with_set_stays_text() -> None:
    """--set osc.secret=1234 is the text '1234', not the number 1234 (which was rejected)."""
    assert load_config(None, ["osc.secret=1234"]).osc.secret == "1234"
    assert load_config(None, ["osc.secret=null"]).osc.secret is None
    assert load_config(None, ["audio.block_size=512"]).audio.block_size == 512


def test_renderer_ranges_are_the_same_in_config_and_over_osc() -> None:
    """Every renderer parameter the OSC table validates has the config's range (density: 4096)."""
    from bassd.control.addresses import BY_PATH
    from bassd.dsp.bank_params import param_range

    for path, name in (("/renderer/density", "density"), ("/renderer/coupling", "coupling"),
                       ("/renderer/tempo", "tempo_bpm"), ("/renderer/brightness", "brightness"),
                       ("/renderer/width", "width")):  # fmt: skip
        arg = BY_PATH[path].args[0]
        assert (arg.lo, arg.hi) == param_range(name)
    assert param_range("density") == (4.0, 4096.0)
    with pytest.raises(ConfigError, match=r"renderer\.params\.density"):
        load_config(None, ["renderer.params.density=8192"])


def test_prompts_dir_null_means_the_shipped_prompts() -> None:
    """control.prompts_dir: null lets /prompt/bank load the banks shipped in the package."""
    from bassd.app.session import build_session

    cfg = load_config(None, ["control.prompts_dir=null"])
    session = build_session(cfg, record_events=False)
    try:
        assert (session.controller.prompts_dir / "emotion_prompt_bank.json").is_file()
    finally:
        session.close()


def test_neural_renderer_adapters_must_exist() -> None:
    """With renderer musicgen, an adapter the config names but nobody has is one line naming
    the key and the adapter; with the DSP renderer the musicgen section is not checked."""
    bad = ["renderer.name=musicgen", 'musicgen.state_adapters={"stress": {"calm": 0.015}}']
    with pytest.raises(
        ConfigError, match=r"musicgen\.state_adapters\.stress: adapter 'calm' not found"
    ):
        load_config(overrides=bad)
    assert load_config(overrides=bad[1:]).musicgen.state_adapters == {"stress": {"calm": 0.015}}
