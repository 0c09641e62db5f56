"""A recorded BLE stream replayed end to end into a live daemon over OSC."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.health import assert_engine_healthy
from tests.jack import JackServer
from tests.osc_client import query_status

pytestmark = pytest.mark.live
EXAMPLE = Path(__file__).resolve().parents[2] / "configs/ble_traces/polar_example.csv"


def test_ble_replay_steers_a_live_daemon(
    jack_server: JackServer, start_daemon: Any, need_liblo: None
) -> None:
    """`bassd ble replay` (10x speed) sends the example's notifications through the parser
    as /hr/bpm, /hr/rr and /hr/contact: the daemon accepts them, computes HRV (status
    hrv_*), and keeps playing without running dry."""
    d = start_daemon(jack_server, "--set", "hrv.window_seconds=10", "--set", "hrv.min_beats=5")
    mark = jack_server.mark()
    r = subprocess.run(
        [sys.executable, "-m", "bassd", "ble", "replay", str(EXAMPLE), "--speed", "10",
         "--to", f"127.0.0.1:{d.osc_port}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 10
    st = query_status(d.osc_port, d.reply_port)
    while st["hrv_rmssd_ms"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
        st = query_status(d.osc_port, d.reply_port)
    assert st["hr_accepted"] >= 100 and st["bpm"] is not None
    assert st["hrv_rmssd_ms"] is not None and st["hrv_rmssd_ms"] > 0 and st["hrv_beats"] >= 5
    assert st["hr_contact"] is not None
    assert_engine_healthy(st, jack_server, mark)
