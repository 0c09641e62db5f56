"""What every process the daemon starts does first: leave its lifetime to the daemon.

Ctrl-C in a terminal and ``systemctl stop`` signal the whole process group; a
child ignores SIGINT and SIGTERM and ends when the daemon ends it (``stop``,
its pool shut down, or its stdin closed). SIGHUP too: it is the daemon's "reload
the config", and a closed terminal sends it to the whole group. Kept free of imports, so the device
process can call it before it loads anything.
"""

from __future__ import annotations

import signal


def leave_lifetime_to_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
