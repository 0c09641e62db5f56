"""One session builder for live and offline: the wiring the controller and engine share."""

from __future__ import annotations

from pathlib import Path

import pytest

from bassd.app.config import load_config
from bassd.app.session import build_session, make_renderer


def test_the_state_steers_planned_segments_through_the_planner(tmp_path: Path) -> None:
    """A forced state replans: the segments ahead get the state's category from the bank."""
    cfg = load_config(None, [f"outputs.sessions_dir={tmp_path}", "timeline.segment_seconds=4"])
    session = build_session(cfg, session="s1")
    try:
        pending = session.engine.controller.pending
        assert all(j.request.meta["category"] == "neutral" for j in pending)
        session.controller.on_state_force(("stress",), None)  # type: ignore[arg-type]
        pending = session.engine.controller.pending
        assert pending and all(j.request.meta["category"] == "calm" for j in pending)
        session.engine.render(48000)
        assert session.controller.status().state == "stress"
    finally:
        session.close()
    rows = (tmp_path / "s1" / "events.csv").read_text()
    assert "state,stress,forced" in rows and "segment,0" in rows


def test_an_unknown_renderer_is_a_clear_error() -> None:
    """make_renderer names the renderer it does not know."""
    with pytest.raises(ValueError, match="unknown renderer 'nope'"):
        make_renderer("nope")
