"""The VAE renderer live: ``bassd run`` with renderer.name=vae on the JACK dummy device,
steered by an independent OSC client (liblo's oscsend); stopped by SIGTERM with its worker
and leaving nothing in /dev/shm."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.health import assert_engine_healthy
from tests.osc_client import OscDump, oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def _wait(port: int, reply: int, ok, timeout: float = 30.0) -> dict:
    end = time.monotonic() + timeout
    while True:
        st = query_status(port, reply)
        if ok(st) or time.monotonic() > end:
            return st
        time.sleep(0.25)


def test_vae_renderer_plays_and_answers_its_sliders(
    jack_server, start_daemon, vae_library: Path
) -> None:
    """The worker loads (vae_state ready) and the VAE's segments play; /vae/slider/1 and a
    blend show in /status; a bad slider is refused with /error; SIGTERM stops the daemon
    and its worker with exit 0 and no shared-memory block left."""
    mark = jack_server.mark()
    d = start_daemon(jack_server, "--set", "renderer.name=vae", "--set", "vae.model=tiny",
                     "--set", f"vae.library_dir={vae_library}",
                     "--set", "timeline.segment_seconds=4")  # fmt: skip
    st = _wait(d.osc_port, d.reply_port, lambda s: s.get("vae_state") == "ready"
               and s.get("renderer") == "vae" and s.get("segment_index", 0) >= 1)  # fmt: skip
    assert st["vae_state"] == "ready", st.get("vae_reason")
    names = list(st["vae_sliders"])
    oscsend(d.osc_port, "/vae/slider/1", "f", 0.8)
    oscsend(d.osc_port, "/vae/blend", "sf", "tiny2", 0.4)
    st = _wait(d.osc_port, d.reply_port,
               lambda s: s["vae_sliders"].get(names[0]) == pytest.approx(0.8)
               and s["vae_blend"].endswith("=0.4"))  # fmt: skip
    assert st["vae_sliders"][names[0]] == pytest.approx(0.8)
    assert st["vae_blend"].endswith("tiny2=0.4")
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/vae/slider/8", "f", 0.5)
        assert "the model has" in dump.wait_for("/error")
    time.sleep(1.0)
    st = query_status(d.osc_port, d.reply_port)
    assert st["vae_underruns"] == 0 and st["vae_restarts"] == 0
    assert_engine_healthy(st, jack_server, mark)
    pid = st["vae_worker_pid"]
    assert d.stop() == 0
    assert d.shm_blocks() == []
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_a_killed_vae_worker_restarts_and_the_music_goes_on(
    jack_server, start_daemon, vae_library: Path
) -> None:
    """SIGKILL of the VAE worker mid-stream: the open stream crossfades into the DSP bed (no
    dry callback), the worker is restarted (a new pid, counted) and the VAE plays again."""
    import os
    import signal

    mark = jack_server.mark()
    d = start_daemon(jack_server, "--set", "renderer.name=vae", "--set", "vae.model=tiny",
                     "--set", f"vae.library_dir={vae_library}",
                     "--set", "timeline.segment_seconds=4")  # fmt: skip
    st = _wait(d.osc_port, d.reply_port, lambda s: s.get("vae_state") == "ready"
               and s.get("segment_index", 0) >= 1)  # fmt: skip
    assert st["vae_state"] == "ready", st.get("vae_reason")
    first = st["vae_worker_pid"]
    os.kill(first, signal.SIGKILL)
    st = _wait(d.osc_port, d.reply_port, lambda s: s["vae_restarts"] == 1
               and s["vae_state"] == "ready" and s["vae_worker_pid"] not in (None, first))  # fmt: skip
    assert st["vae_restarts"] == 1 and st["vae_worker_pid"] != first
    seg = st["segment_index"]
    st = _wait(d.osc_port, d.reply_port, lambda s: s["segment_index"] >= seg + 1)
    assert st["renderer"] == "vae" and st["vae_state"] == "ready"
    assert_engine_healthy(st, jack_server, mark)
    assert d.stop() == 0 and d.shm_blocks() == []
