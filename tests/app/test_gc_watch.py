"""The collector is timed while the music plays: every collection counted, a slow one
logged by the heartbeat's check with its generation and duration."""

from __future__ import annotations

import gc

from structlog.testing import capture_logs

from bassd.app.gc_watch import SLOW_S, GcWatch


def test_collections_are_timed_and_a_slow_one_is_logged() -> None:
    """A full collection over a large live heap takes over 2 ms: counted as slow, its
    time is the maximum, and the check logs it once; disarmed, nothing more is counted."""
    watch = GcWatch()
    watch.arm()
    try:
        gc.collect()
        assert watch.collections >= 1 and watch.max_s > 0.0
        heap = [[i] for i in range(600_000)]  # tracked containers the collector must walk
        gc.collect()
        assert watch.max_s > SLOW_S and watch.slow >= 1
        with capture_logs() as logs:
            watch.check()
            watch.check()  # already logged: nothing twice
        slow = [e for e in logs if e["event"] == "slow_gc"]
        assert len(slow) == watch.slow and slow[-1]["generation"] == 2
        assert slow[-1]["took_ms"] > SLOW_S * 1e3
        del heap
    finally:
        watch.disarm()
    before = watch.collections
    gc.collect()
    assert watch.collections == before
