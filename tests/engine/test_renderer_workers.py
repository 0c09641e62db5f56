"""Renderer worker processes leave their lifetime to the daemon."""

from __future__ import annotations

import os
import signal
import time

from bassd.engine.renderer import ProcessRenderer, RenderRequest
from tests.engine.renderers_for_tests import tone_clip


def _wait_ready(job, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not job.ready() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.ready()


def test_a_worker_ignores_the_groups_sigint_and_sigterm() -> None:
    """Ctrl-C reaches the whole group: the worker keeps running and renders the next clip."""
    renderer = ProcessRenderer("tone", tone_clip)
    try:
        req = RenderRequest(index=0, seed=0, frames=4800, sample_rate=48000)
        first = renderer.submit(req)
        _wait_ready(first)
        first.close()
        workers = list(renderer._pool._processes.values())  # type: ignore[attr-defined]
        assert workers
        for proc in workers:
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGINT)
            os.kill(proc.pid, signal.SIGTERM)
        time.sleep(0.3)
        assert all(p.is_alive() for p in workers)
        second = renderer.submit(RenderRequest(index=1, seed=1, frames=4800, sample_rate=48000))
        _wait_ready(second)
        assert second.read(4800).shape == (4800, 2)
        second.close()
    finally:
        renderer.close()
