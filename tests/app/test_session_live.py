"""``bassd session run`` live on the JACK dummy device: the daemon plays the protocol's stages
on the wall clock, /status (asked with liblo's oscsend) names the stage playing, and the
daemon stops by itself after the last stage with its records whole."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from tests.daemon import DaemonProcess
from tests.health import assert_engine_healthy
from tests.osc_client import free_udp_port, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]

PROTOCOL = """
name: live
segment_seconds: 3
crossfade_seconds: 0.5
stages:
  - {name: settle, seconds: 4, adaptive: false, category: neutral}
  - {name: calm, segments: 2, adaptive: false, category: calm, params: {brightness: 0.25}}
"""


def test_session_run_plays_the_stages_and_stops_after_the_last(jack_server, tmp_path: Path) -> None:
    """Stage rows at 0 s and 4 s (wall clock: within a tick), then two calm segments of 3 s,
    protocol_end, and exit 0 with no shared memory left; /status said protocol and stage
    while it played; the listener and the known baseline are recorded; the report has the
    stages."""
    (tmp_path / "live.yaml").write_text(PROTOCOL)
    mark = jack_server.mark()
    d = DaemonProcess(tmp_path, jack_server, free_udp_port(), free_udp_port(),
                      ["--set", f"outputs.sessions_dir={tmp_path / 's'}",
                       "--set", f"outputs.metrics_csv={tmp_path / 'm.csv'}",
                       "--set", "outputs.keep_audio=false"],
                      command=("session", "run", str(tmp_path / "live.yaml"),
                               "--baseline-bpm", "68", "--listener", "p01"))  # fmt: skip
    try:
        d.wait_for_log("osc_listening", timeout=30)
        seen = set()
        deadline = time.monotonic() + 30
        st: dict = {}
        while d.proc.poll() is None and time.monotonic() < deadline:
            try:
                st = query_status(d.osc_port, d.reply_port, timeout=2)
            except AssertionError:
                break  # it stopped between the poll and the reply
            if st["protocol"]:
                seen.add((st["protocol"], st["protocol_stage"], st["protocol_listener"]))
                healthy = st
            time.sleep(0.5)
        code = d.proc.wait(timeout=30)
    finally:
        d.stop()
    assert code == 0, d.log_path.read_text()[-3000:]
    assert {("live", "settle", "p01"), ("live", "calm", "p01")} <= seen
    assert_engine_healthy(healthy, jack_server, mark)
    assert not d.shm_blocks()
    session = next((tmp_path / "s").iterdir())
    rows = list(csv.DictReader((session / "events.csv").open()))
    stage = [(float(r["t"]), r["value"]) for r in rows if r["kind"] == "stage"]
    assert [v for _, v in stage] == ["settle", "calm"]
    assert stage[0][0] < 0.5 and 4.0 <= stage[1][0] < 4.3, stage  # a 10 Hz tick
    calm = [json.loads(r["detail"]) for r in rows if r["kind"] == "segment"
            and json.loads(r["detail"]).get("stage") == "calm"]  # fmt: skip
    assert len(calm) == 2 and {c["category"] for c in calm} == {"calm"}
    end = [float(r["t"]) for r in rows if r["kind"] == "protocol_end"]
    assert end and end[0] >= stage[1][0] + 2 * 3 - 0.2
    assert [r["value"] for r in rows if r["kind"] == "listener"] == ["p01"]
    assert [float(r["value"]) for r in rows if r["kind"] == "baseline"] == [68.0]
    report = json.loads((session / "report.json").read_text())
    assert [s["name"] for s in report["stages"]] == ["settle", "calm"]
    assert report["protocol"]["outcome"] == "end"
