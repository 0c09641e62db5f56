"""The session clock keeps running while the engine's clock stands still."""

from __future__ import annotations

from bassd.control.clock import RenderClock, WallClock


def test_wall_clock_is_seconds_since_the_start() -> None:
    """Live: monotonic seconds since the session started, whatever the engine does."""
    now = [100.0]
    clock = WallClock(lambda: now[0])
    now[0] = 112.5
    assert clock.now() == 12.5 and clock.segment_time(3.0) == 12.5


def test_render_clock_is_the_engines() -> None:
    """Offline: the simulated clock; a segment's time is its exact start on it."""
    engine_seconds = [4.0]
    clock = RenderClock(lambda: engine_seconds[0])
    assert clock.now() == 4.0 and clock.segment_time(3.75) == 3.75
