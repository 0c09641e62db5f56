"""Actions on the sample clock: order, ties, and the bound on waiting actions."""

from __future__ import annotations

from bassd.engine.scheduler import FrameScheduler


def test_due_actions_come_in_time_then_arrival_order() -> None:
    """pop_due returns actions before the frame, earliest first, ties in arrival order."""
    s = FrameScheduler()
    log: list[str] = []
    for frame, name in ((500, "c"), (100, "a"), (100, "b"), (900, "d")):
        assert s.at(frame, lambda n=name: log.append(n))
    for action in s.pop_due(600):
        action()
    assert log == ["a", "b", "c"] and len(s) == 1 and s.next_frame() == 900


def test_queue_is_bounded() -> None:
    """Beyond the limit, at() refuses (the server then rejects the message)."""
    s = FrameScheduler(limit=2)
    assert s.at(1, lambda: None) and s.at(2, lambda: None)
    assert not s.at(3, lambda: None)
