"""The systemd unit `bassd service install` writes, and where it writes it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bassd.app.service import InstallError, UnitOptions, install, next_steps, unit_text


def _keys(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value
    return out


def test_the_unit_has_the_service_settings(tmp_path: Path) -> None:
    """Notify type with a watchdog, restart on failure with start limits, real-time
    limits, the whole group signalled, reload by SIGHUP, this interpreter's bassd with
    the absolute config path."""
    cfg = tmp_path / "bassd.yaml"
    keys = _keys(unit_text(UnitOptions(config=cfg, workdir=tmp_path, python="/opt/py/bin/python")))
    assert keys["Type"] == "notify" and keys["NotifyAccess"] == "main"
    assert keys["WatchdogSec"] == "10s"
    assert keys["Restart"] == "on-failure" and keys["RestartSec"] == "2s"
    assert keys["StartLimitIntervalSec"] == "300" and keys["StartLimitBurst"] == "10"
    assert keys["LimitRTPRIO"] == "95" and keys["LimitMEMLOCK"] == "infinity"
    assert keys["KillMode"] == "control-group"
    assert keys["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert keys["ExecStart"] == f"/opt/py/bin/python -m bassd run --config {cfg}"
    assert keys["WorkingDirectory"] == str(tmp_path)
    assert keys["WantedBy"] == "multi-user.target"


def test_a_user_unit_is_wanted_by_the_user_session() -> None:
    """--user: wanted by default.target; without --config, no --config in ExecStart."""
    keys = _keys(unit_text(UnitOptions(user=True)))
    assert keys["WantedBy"] == "default.target"
    assert keys["ExecStart"] == f"{sys.executable} -m bassd run"


def test_paths_with_spaces_are_quoted() -> None:
    """An argument with a space (or $, %) is quoted the way systemd reads it."""
    text = unit_text(UnitOptions(config=Path("/srv/my cfg/b.yaml"), python="/usr/bin/python3"))
    assert 'ExecStart=/usr/bin/python3 -m bassd run --config "/srv/my cfg/b.yaml"' in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("user", [False, True])
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path, user: bool) -> None:
    """systemd's own checker accepts the unit (the system and the user variant)."""
    cfg = tmp_path / "bassd.yaml"
    cfg.write_text("{}\n")
    unit = tmp_path / "bassd.service"
    unit.write_text(unit_text(UnitOptions(user=user, config=cfg, workdir=tmp_path)))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "bassd.service" not in r.stderr, r.stderr  # no warning about our unit


def test_install_writes_the_unit(tmp_path: Path) -> None:
    """The unit lands in the target folder (made if missing) as bassd.service."""
    text = unit_text(UnitOptions(user=True))
    path = install(text, user=True, unit_dir=tmp_path / "systemd" / "user")
    assert path == tmp_path / "systemd" / "user" / "bassd.service"
    assert path.read_text() == text


def test_install_without_permission_is_one_clear_line(tmp_path: Path) -> None:
    """A folder it may not write: one line naming the path and what to do."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        probe = locked / "probe"
        try:
            probe.write_text("")  # root writes anyway
            probe.unlink()
            pytest.skip("running as root: every folder is writable")
        except PermissionError:
            pass
        with pytest.raises(InstallError, match=r"permission denied \(run it as root"):
            install("x", user=False, unit_dir=locked)
    finally:
        locked.chmod(0o700)


def test_next_steps_name_daemon_reload_and_enable() -> None:
    """After installing, the user is told to daemon-reload and enable --now."""
    assert next_steps(True)[:2] == [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now bassd",
    ]
    assert next_steps(False)[0] == "sudo systemctl daemon-reload"


def test_cli_print_installs_nothing(tmp_path: Path) -> None:
    """`bassd service install --print` prints the unit and writes no file."""
    cfg = tmp_path / "b.yaml"
    cfg.write_text("{}\n")
    r = subprocess.run(
        [sys.executable, "-m", "bassd", "service", "install", "--print", "--user",
         "--config", str(cfg)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Type=notify" in r.stdout and f"--config {cfg}" in r.stdout
    assert not (tmp_path / ".config").exists()


def test_cli_user_install_says_what_to_run_next(tmp_path: Path) -> None:
    """`bassd service install --user` writes ~/.config/systemd/user/bassd.service and
    prints the next commands."""
    r = subprocess.run(
        [sys.executable, "-m", "bassd", "service", "install", "--user"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / ".config" / "systemd" / "user" / "bassd.service").is_file()
    assert "systemctl --user daemon-reload" in r.stdout
    assert "systemctl --user enable --now bassd" in r.stdout


def test_cli_missing_config_is_an_error(tmp_path: Path) -> None:
    """--config naming no file: one line, exit 2, nothing written."""
    r = subprocess.run(
        [sys.executable, "-m", "bassd", "service", "install", "--print", "--config",
         str(tmp_path / "nope.yaml")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and "no such file" in r.stderr
