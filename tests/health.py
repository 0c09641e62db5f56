"""The engine's health on a real JACK server: what the live tests assert.

The engine's own failures must be exactly zero: no callback found the ring
dry, no pump woke to less than a block in the ring, and the server never found
bassd's callback (PortAudio's client) still
running at a cycle's deadline (too slow). The
server's own xruns are allowed (the dummy driver overruns on a busy VM), and
the PortAudio underflow flags bassd reports as ``server_xruns`` must be
explained by them.
"""

from __future__ import annotations

from typing import Any

from tests.jack import JackServer

CLIENT = "PortAudio"  # the JACK client name PortAudio registers for bassd's stream


def assert_engine_healthy(status: dict[str, Any], jack: JackServer, since: int = 0) -> None:
    """dry_callbacks == late_pumps == 0, bassd's callback never overran its cycle, and
    server_xruns ≤ the server's own xruns."""
    assert status["dry_callbacks"] == 0, status
    assert status.get("late_pumps", 0) == 0, status
    late = [c for c in jack.late_clients(since) if c.startswith(CLIENT)]
    assert not late, (
        f"bassd's callback overran its cycle {len(late)} time(s): {jack.log_text(since)[-2000:]}"
    )
    assert status["server_xruns"] <= jack.xruns(), (status["server_xruns"], jack.log_text()[-2000:])
