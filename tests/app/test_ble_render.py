"""``bassd render --ble-trace``: recorded BLE notifications steer an offline session."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from bassd.control.ble_trace import read_ble_trace
from bassd.control.hr_measurement import parse_heart_rate_measurement

EXAMPLE = Path(__file__).resolve().parents[2] / "configs/ble_traces/polar_example.csv"


def test_a_ble_trace_reaches_the_controller_through_the_parser(tmp_path: Path) -> None:
    """Every notification of the example trace becomes an hr row (its bpm) and its RR
    intervals rr rows, HRV rows appear, and the session renders; the numbers are the
    parser's."""
    r = subprocess.run(
        [sys.executable, "-m", "bassd", "render", "--ble-trace", str(EXAMPLE), "--out",
         str(tmp_path / "o.wav"), "--set", f"outputs.sessions_dir={tmp_path / 's'}",
         "--set", f"outputs.metrics_csv={tmp_path / 'm.csv'}", "--set",
         f"outputs.audio_dir={tmp_path / 'a'}", "--set", "timeline.segment_seconds=8",
         "--set", "logging.level=warning"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o.wav").stat().st_size > 0
    (events,) = (tmp_path / "s").glob("*/events.csv")
    with events.open() as f:
        rows = list(csv.DictReader(f))
    parsed = [parse_heart_rate_measurement(p) for _, p in read_ble_trace(EXAMPLE)]
    with_contact = [m for m in parsed if m.contact is not False]
    hr = [r for r in rows if r["kind"] in ("hr", "hr_rejected") and r["value"]]
    assert len([r for r in rows if r["kind"] == "hr"]) >= 0.9 * len(with_contact)
    bpms = {float(r["value"]) for r in rows if r["kind"] == "hr"}
    assert bpms <= {float(m.bpm) for m in with_contact}
    assert hr
    rr_rows = [r for r in rows if r["kind"] == "rr"]
    assert len(rr_rows) >= 0.9 * sum(1 for m in with_contact if m.rr_ms)
    hrv = [r for r in rows if r["kind"] == "hrv"]
    assert hrv and all(float(r["value"]) > 0 for r in hrv)
    assert {"sdnn_ms", "pnn50", "mean_hr"} <= set(json.loads(hrv[-1]["detail"]))


def test_a_bad_trace_is_one_clear_line(tmp_path: Path) -> None:
    """A malformed trace: exit 2 with the file and line named, no traceback."""
    bad = tmp_path / "bad.csv"
    bad.write_text("t,hex\n0.5,zz\n")
    r = subprocess.run([sys.executable, "-m", "bassd", "render", "--ble-trace", str(bad),
                        "--out", str(tmp_path / "o.wav")], cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "bad.csv:2" in r.stderr and "Traceback" not in r.stderr
