"""Shared-memory names carry the daemon's pid; blocks of dead daemons are removed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bassd.engine.shm_names import OWNER_ENV, new_name, remove_stale_blocks


def test_names_carry_the_owner_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block is named for the daemon (BASSD_SHM_OWNER), else for this process."""
    monkeypatch.delenv(OWNER_ENV, raising=False)
    assert new_name("ring").startswith(f"bassd_{os.getpid()}_ring_")
    monkeypatch.setenv(OWNER_ENV, "4242")
    name = new_name("capture")
    assert name.startswith("bassd_4242_capture_") and name != new_name("capture")


def test_only_blocks_of_dead_daemons_are_removed(tmp_path: Path) -> None:
    """Dead owner: removed; live owner or a name that is not ours: kept."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = tmp_path / f"bassd_{gone.pid}_ring_00ff00ff00ff"
    alive = tmp_path / f"bassd_{os.getpid()}_ring_00ff00ff00ff"
    foreign = tmp_path / "psm_deadbeef"
    for p in (dead, alive, foreign):
        p.write_bytes(b"x")
    assert remove_stale_blocks(tmp_path) == [dead.name]
    assert not dead.exists() and alive.exists() and foreign.exists()
