"""Session reports: `bassd demo` ends with report.json and report.png whose state bands are
where the shipped scenario and the heart-rate rules put them; `bassd report` on demand."""

from __future__ import annotations

import csv
import itertools
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bassd.app.session_report import ReportError, build_report, write_report
from bassd.control.hr import HeartRateMonitor, HrConfig, HrEvent, read_hr_trace

SCENARIO = Path(__file__).resolve().parents[2] / "configs" / "scenarios" / "stress_recovery.csv"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _bassd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bassd", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `bassd demo` of stress_recovery, its outputs under a config file's folder."""
    home = tmp_path_factory.mktemp("home")
    (home / "bassd.yaml").write_text(
        "outputs:\n  dir: outputs\n  metrics_csv: outputs/metrics.csv\n"
        "  sessions_dir: outputs/sessions\n  keep_audio: false\nlogging:\n  level: warning\n"
        # a thinner bank renders the scenario's minutes faster; the report is the subject
        "renderer:\n  params:\n    density: 16\n"
    )
    r = _bassd("demo", "--config", "bassd.yaml", "--out", "demo.wav", cwd=home)
    assert r.returncode == 0, r.stderr
    session = next((home / "outputs" / "sessions").iterdir())
    return {
        "home": home,
        "stdout": r.stdout,
        "session": session,
        "report": json.loads((session / "report.json").read_text()),
    }


def _expected_states() -> tuple[float, list[tuple[float, str]]]:
    """The baseline and state changes the default rules give on the scenario's samples."""
    changes: list[tuple[float, str]] = []

    def on(ev: HrEvent) -> None:
        if ev.kind == "state":
            changes.append((ev.t, ev.value))

    monitor = HeartRateMonitor(HrConfig(), on_event=on)
    monitor.start_baseline(0.0)
    for t, bpm, rr in read_hr_trace(SCENARIO):
        monitor.sample(t, bpm, rr)
    assert monitor.baseline is not None
    return monitor.baseline, changes


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_demo_report_has_the_scenarios_state_bands_at_the_right_times(
    demo: dict[str, Any],
) -> None:
    """The bands read back from report.json are neutral → stress → neutral, starting where
    the default rules put the changes on the scenario's samples, and stress covers the
    plateau (≈ 98 bpm from 280 s to 430 s) while the calm phases are neutral."""
    rep = demo["report"]
    baseline, changes = _expected_states()
    assert [c[1] for c in changes] == ["stress", "neutral"]
    bands = rep["states"]
    assert [b["state"] for b in bands] == ["neutral", "stress", "neutral"]
    assert rep["baseline_bpm"] == pytest.approx(round(baseline, 1), abs=0.05)
    for band, (t, state) in zip(bands[1:], changes, strict=True):
        assert band["state"] == state
        assert band["start_s"] == pytest.approx(t, abs=0.05)
    assert bands[0]["start_s"] == 0.0 and bands[-1]["end_s"] == rep["duration_s"]
    assert all(a["end_s"] == b["start_s"] for a, b in itertools.pairwise(bands))

    def state_at(t: float) -> str:
        return next(b["state"] for b in bands if b["start_s"] <= t < b["end_s"])

    assert state_at(100) == "neutral" and state_at(350) == "stress" and state_at(600) == "neutral"
    th = rep["thresholds"]
    assert th["stress_bpm"] == pytest.approx(rep["baseline_bpm"] + 15.0)
    assert th["under_bpm"] == pytest.approx(rep["baseline_bpm"] - 10.0)
    assert rep["hr"]["count"] > 600 and rep["hrv"]["count"] > 0  # the scenario carries RR


def test_demo_report_lists_segments_with_prompts_and_loudness(demo: dict[str, Any]) -> None:
    """Every segment of events.csv is listed in order with its prompt, renderer and the
    LUFS of its metrics.csv row; those during stress carry the stress state."""
    rep = demo["report"]
    events = list(csv.DictReader((demo["session"] / "events.csv").open()))
    seg_rows = [e for e in events if e["kind"] == "segment"]
    segs = rep["segments"]
    assert [s["index"] for s in segs] == [int(e["value"]) for e in seg_rows]
    assert all(s["prompt"] and s["renderer"] == "kuramoto" for s in segs)
    metrics = {
        int(m["segment_index"]): float(m["lufs"])
        for m in csv.DictReader((demo["home"] / "outputs" / "metrics.csv").open())
    }
    assert [s["loudness_lufs"] for s in segs] == [pytest.approx(metrics[s["index"]]) for s in segs]
    stress = next(b for b in rep["states"] if b["state"] == "stress")
    inside = [s for s in segs if stress["start_s"] + 1 < s["start_s"] < stress["end_s"]]
    assert inside and all(s["state"] == "stress" for s in inside)
    assert rep["fallbacks"] == sum(s["fallback"] for s in segs)


def test_demo_writes_a_valid_png_and_prints_its_path(demo: dict[str, Any]) -> None:
    """`bassd demo` ends by printing the report's path; the PNG is a real PNG, big enough
    to read (all panels at 100 dpi), and the JSON holds no drawing-only series."""
    png = demo["session"] / "report.png"
    last = demo["stdout"].strip().splitlines()[-1]
    assert last.startswith("report: ") and Path(last.split()[1]).resolve() == png.resolve()
    width, height = _png_size(png)
    assert width >= 1200 and height >= 800
    assert png.stat().st_size > 20_000
    assert not any(k.startswith("_") for k in demo["report"])


def test_report_latest_from_another_directory(demo: dict[str, Any], tmp_path: Path) -> None:
    """`bassd report latest --config FILE --out F.png` run elsewhere finds the newest session
    in the config's sessions folder and writes F.png with F.json beside it."""
    out = tmp_path / "pics" / "week1.png"
    r = _bassd(
        "report",
        "latest",
        "--config",
        str(demo["home"] / "bassd.yaml"),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert f"report: {out}" in r.stdout and str(out.with_suffix(".json")) in r.stdout
    _png_size(out)
    again = json.loads(out.with_suffix(".json").read_text())
    assert again["session"] == demo["session"].name
    assert again["states"] == demo["report"]["states"]


def _session(root: Path, text: str, name: str = "S") -> Path:
    folder = root / "outputs" / "sessions" / name
    folder.mkdir(parents=True)
    (folder / "events.csv").write_text(text, encoding="utf-8")
    return folder


def test_corrupt_events_csv_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    """A corrupt events.csv (a bad row in the middle) stops `bassd report` with exit 2 and
    one line naming the file and the row, no traceback; write_report returns None."""
    folder = _session(tmp_path, "t,kind,value,detail\n0.000,hr,70,\nxx\x07garbage\n1.000,hr,71,\n")
    r = _bassd("report", str(folder), cwd=tmp_path)
    assert r.returncode == 2
    assert str(folder / "events.csv") in r.stderr and "row 3" in r.stderr
    assert "Traceback" not in r.stderr
    assert write_report(folder) is None and not (folder / "report.png").exists()
    wrong = _session(tmp_path, "time,what\n1,2\n", name="W")
    with pytest.raises(ReportError, match=r"events\.csv: header"):
        build_report(wrong)
    with pytest.raises(ReportError, match="no such session folder"):
        build_report(tmp_path / "nowhere")


def test_session_without_heart_rate_still_gets_a_report(tmp_path: Path) -> None:
    """No HR at all (and a torn last line, as a killed process leaves): one neutral band
    over the whole session, empty HR summary, the segment listed, the PNG written."""
    detail = json.dumps({"renderer": "kuramoto", "fallback": True, "prompt": "calm-pads"})
    text = "t,kind,value,detail\n0.000,calibration,180,started\n"
    text += f'0.000,segment,0,"{detail.replace(chr(34), chr(34) * 2)}"\n9.5'
    folder = _session(tmp_path, text)
    written = write_report(folder, duration_s=12.0)
    assert written is not None
    png, js = written
    rep = json.loads(js.read_text())
    assert rep["states"] == [
        {"state": "neutral", "start_s": 0.0, "end_s": 12.0, "reason": "session start"}
    ]
    assert rep["hr"]["count"] == 0 and rep["baseline_bpm"] is None and rep["torn_rows"] == 1
    assert rep["segments"][0]["prompt"] == "calm-pads" and rep["fallbacks"] == 1
    assert rep["segments"][0]["loudness_lufs"] is None
    assert _png_size(png)[0] >= 1200
