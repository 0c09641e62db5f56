"""Soundscape layers live: ``bassd run`` on the JACK dummy device with layers under the bed
builds a mix when an independent client (liblo's oscsend) asks for a vibe, takes a layer's
gain, refuses an unknown vibe with /error, and the engine stays healthy."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from bassd.app.library import Library, index_paths
from tests.health import assert_engine_healthy
from tests.library_sounds import labelled_set
from tests.osc_client import OscDump, oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def _wait(port: int, reply: int, key: str, value: object, timeout: float = 15.0) -> dict:
    end = time.monotonic() + timeout
    while True:
        st = query_status(port, reply)
        if st.get(key) == value or time.monotonic() > end:
            return st
        time.sleep(0.3)


def test_layers_over_osc_live(jack_server, start_daemon, tmp_path: Path) -> None:
    """/layers/mix zen: four layers play (status: four names, vibe zen; events.csv: the
    mix); /layers/1/gain is taken; /layers/mix party answers /error naming the vibe; the
    engine stays healthy while the loops load off the loop."""
    labelled_set(tmp_path / "sounds", per_class=3, secs=5.0)
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:
        index_paths(lib, [tmp_path / "sounds"])
    mark = jack_server.mark()
    d = start_daemon(jack_server, "--set", f"library.path={db}",
                     "--set", "layers.enabled=true")  # fmt: skip
    oscsend(d.osc_port, "/layers/mix", "s", "zen")
    st = _wait(d.osc_port, d.reply_port, "layers_vibe", "zen")
    assert st["layers_vibe"] == "zen" and all(st["layers"].split(",")), st
    oscsend(d.osc_port, "/layers/1/gain", "f", -12.0)
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/layers/mix", "s", "party")
        assert "unknown vibe 'party'" in dump.wait_for("/error")
    time.sleep(1.0)
    st = query_status(d.osc_port, d.reply_port)
    assert st["layers_vibe"] == "zen" and st["layers_changes"] == 4
    assert_engine_healthy(st, jack_server, mark)
    rows = list(csv.DictReader(
        (d.workdir / "outputs" / "sessions" / st["session"] / "events.csv").open()))  # fmt: skip
    kinds = [r["kind"] for r in rows]
    assert kinds.count("layers_mix") == 1 and kinds.count("layers_gain") == 1
