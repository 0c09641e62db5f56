"""Names for the daemon's shared-memory blocks, and the clean-up of dead daemons' blocks.

Every block bassd creates (ring, player state, segment captures, rendered
clips) is named ``bassd_<pid>_<kind>_<random>``, where pid is the daemon's
(worker processes inherit it through ``BASSD_SHM_OWNER``). multiprocessing's
semaphores (its queues' and locks', ``sem.<prefix>-<random>`` in /dev/shm) are
named ``sem.bassd_<pid>_sem-<random>`` in the daemon. A daemon killed with
SIGKILL cannot unlink either (nor can its resource tracker, killed with the
group); the next daemon to start removes those whose owner is no longer running.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

OWNER_ENV = "BASSD_SHM_OWNER"
SHM_DIR = Path("/dev/shm")
_NAME = re.compile(r"^bassd_(\d+)_[a-z]+_[0-9a-f]+$")
_SEMAPHORE = re.compile(r"^sem\.bassd_(\d+)_sem-[a-z0-9_]+$")


def owner_pid() -> int:
    value = os.environ.get(OWNER_ENV, "")
    return int(value) if value.isdigit() else os.getpid()


def claim_ownership() -> None:
    """Make this process the owner of the blocks its children create, and of the semaphores
    it creates (the daemon calls it before it makes any)."""
    import multiprocessing

    pid = os.getpid()
    os.environ[OWNER_ENV] = str(pid)
    # multiprocessing names a semaphore "<semprefix>-<random>" (synchronize.SemLock, the
    # prefix "/mp" in every process); CPython keeps the prefix in the process's _config
    multiprocessing.current_process()._config["semprefix"] = semaphore_prefix(pid)  # type: ignore[attr-defined]


def semaphore_prefix(pid: int) -> str:
    """The name (less its random part) the daemon ``pid`` gives its semaphores."""
    return f"/bassd_{pid}_sem"


def new_name(kind: str) -> str:
    """A fresh block name for ``kind`` (lower-case letters) owned by this daemon."""
    return f"bassd_{owner_pid()}_{kind}_{secrets.token_hex(6)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_blocks(folder: Path = SHM_DIR) -> list[str]:
    """Unlink the blocks and semaphores of bassd daemons no longer running; their names."""
    removed: list[str] = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        m = _NAME.match(path.name) or _SEMAPHORE.match(path.name)
        if m is None or _alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path.name)
    return removed


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (a child the first shared-memory block would
    start) with SIGHUP ignored, a disposition it keeps across its exec: it ignores SIGINT
    and SIGTERM itself but not SIGHUP, which is the daemon's reload and which a closed
    terminal sends to the whole group."""
    import signal
    from multiprocessing import resource_tracker

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, previous)
