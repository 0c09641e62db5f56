"""Shared-memory names carry the daemon's pid; blocks of dead daemons are removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bassd.engine.shm_names import OWNER_ENV, new_name, remove_stale_blocks, semaphore_prefix


def test_names_carry_the_owner_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block is named for the daemon (BASSD_SHM_OWNER), else for this process."""
    monkeypatch.delenv(OWNER_ENV, raising=False)
    assert new_name("ring").startswith(f"bassd_{os.getpid()}_ring_")
    monkeypatch.setenv(OWNER_ENV, "4242")
    name = new_name("capture")
    assert name.startswith("bassd_4242_capture_") and name != new_name("capture")


@pytest.mark.parametrize(
    ("ours", "foreign"),
    [("bassd_{pid}_ring_00ff00ff00ff", "psm_deadbeef"),  # a block
     ("sem.bassd_{pid}_sem-a1_zq9xk", "sem.mp-a1_zq9xk")],  # a semaphore
)  # fmt: skip
def test_only_the_leftovers_of_dead_daemons_are_removed(
    tmp_path: Path, ours: str, foreign: str
) -> None:
    """Dead owner: removed; live owner or a name that is not ours (another program's
    block, multiprocessing's own semaphore): kept."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = tmp_path / ours.format(pid=gone.pid)
    alive = tmp_path / ours.format(pid=os.getpid())
    other = tmp_path / foreign
    for p in (dead, alive, other):
        p.write_bytes(b"x")
    assert remove_stale_blocks(tmp_path) == [dead.name]
    assert not dead.exists() and alive.exists() and other.exists()


def test_a_daemons_semaphores_carry_its_pid_and_go_when_it_ends() -> None:
    """After claim_ownership, multiprocessing's semaphores (a queue's) are named for this
    process in /dev/shm and unlinked at a normal exit."""
    code = (
        "import multiprocessing as mp, os\n"
        "from bassd.engine.shm_names import claim_ownership\n"
        "claim_ownership()\n"
        "q = mp.get_context('spawn').Queue()\n"
        "print(os.getpid(), q._rlock._semlock.name)\n"
        "print(sorted(os.listdir('/dev/shm')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    first, listing = run.stdout.splitlines()
    pid, name = first.split()
    assert name.startswith(semaphore_prefix(int(pid)) + "-")
    assert "sem." + name.lstrip("/") in listing  # there while it ran
    assert not [p for p in os.listdir("/dev/shm") if p.startswith(f"sem.bassd_{pid}_")]
