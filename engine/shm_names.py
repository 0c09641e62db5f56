"""Names for the daemon's shared-memory blocks, and the clean-up of dead daemons' blocks.

Every block bassd creates (ring, player state, segment captures, rendered
clips) is named ``bassd_<pid>_<kind>_<random>``, where pid is the daemon's
(worker processes inherit it through ``BASSD_SHM_OWNER``). A daemon killed
with SIGKILL cannot unlink its blocks; the next daemon to start removes the
blocks whose owner is no longer running.
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


def owner_pid() -> int:
    value = os.environ.get(OWNER_ENV, "")
    return int(value) if value.isdigit() else os.getpid()


def claim_ownership() -> None:
    """Make this process the owner of the blocks its children create (the daemon calls it)."""
    os.environ[OWNER_ENV] = str(os.getpid())


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
    """Unlink the blocks of bassd daemons that are no longer running; their names."""
    removed: list[str] = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        m = _NAME.match(path.name)
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
