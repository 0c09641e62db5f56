"""A sound of the user's, live: analysed by ``bassd analyse``, played by the daemon on the JACK
dummy device when an independent client (liblo's oscsend) names it, moved on its map with
/som/xy; bad names are answered with /error and the music goes on."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.dsp.analysis_signals import bell, harmonic
from tests.health import assert_engine_healthy
from tests.osc_client import OscDump, oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def _analysed(tmp: Path) -> Path:
    import soundfile as sf

    sr = 44_100
    sf.write(tmp / "a.wav", harmonic(147.0, 10, sr, 12.0), sr)
    sf.write(tmp / "b.flac", bell(620.0, sr, 12.0), sr)
    sounds = tmp / "sounds"
    r = subprocess.run([sys.executable, "-m", "bassd", "analyse", str(tmp / "a.wav"),
                        str(tmp / "b.flac"), "--out", str(sounds / "mine"), "--no-png"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return sounds


def _wait(port: int, reply: int, key: str, value: object, timeout: float = 6.0) -> dict:
    end = time.monotonic() + timeout
    while True:
        st = query_status(port, reply)
        if st.get(key) == value or time.monotonic() > end:
            return st
        time.sleep(0.2)


def test_a_sound_and_its_map_over_osc(jack_server, start_daemon, tmp_path: Path) -> None:
    """/renderer/partials mine crossfades to the analysed sound (status: its name and partial
    count); /som/xy moves on its map (status: the position; events.csv: the node); a path, an
    unknown name, and /som/xy on the scale are refused with /error; the engine stays healthy."""
    sounds = _analysed(tmp_path)
    mark = jack_server.mark()
    d = start_daemon(jack_server, "--set", f"renderer.sounds_dir={sounds}",
                     "--set", "control.structural_crossfade_seconds=0.5")  # fmt: skip
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/som/xy", "ff", 0.5, 0.5)
        assert "no sound is playing" in dump.wait_for("/error")
    oscsend(d.osc_port, "/renderer/partials", "s", "mine")
    st = _wait(d.osc_port, d.reply_port, "partials", "mine")
    assert st["partials"] == "mine" and st["partials_count"] == 14
    assert 0.0 <= st["kuramoto_r"] <= 1.0
    for x in np.linspace(0.0, 1.0, 25):
        oscsend(d.osc_port, "/som/xy", "ff", float(x), float(1.0 - x))
        time.sleep(0.02)
    st = _wait(d.osc_port, d.reply_port, "som_x", 1.0)
    assert (st["som_x"], st["som_y"]) == (1.0, 0.0)
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/renderer/partials", "s", "/etc")
        assert "not a path" in dump.wait_for("/error")
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/renderer/partials", "s", "nosuch")
        assert "no sound called 'nosuch'" in dump.wait_for("/error")
    time.sleep(0.5)
    st = query_status(d.osc_port, d.reply_port)
    assert st["partials"] == "mine"
    assert_engine_healthy(st, jack_server, mark)
    rows = list(csv.DictReader(
        (d.workdir / "outputs" / "sessions" / st["session"] / "events.csv").open()))  # fmt: skip
    kinds = [r["kind"] for r in rows]
    assert kinds.count("partials") == 1 and kinds.count("partials_rejected") == 2
    assert kinds.count("som_node") >= 3
