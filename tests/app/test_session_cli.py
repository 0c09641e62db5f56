"""``bassd session``: render a shipped protocol offline from any directory (its report has
the stages), the offline twin is sample-identical run to run, and a bad protocol is one
line on stderr with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from bassd.app.config import load_config
from bassd.app.offline import render_offline


def _bassd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bassd", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_session_render_plays_the_shipped_demo_and_its_report_shows_the_stages(
    tmp_path: Path,
) -> None:
    """From a folder with nothing of bassd's in it: the demo protocol's three stages at 0,
    30 and 70 s, its end at 94 s (two 12 s segments after 70), then a 1 s fade; the HR trace
    steers it; the report's JSON lists the stages with their adaptivity."""
    trace = tmp_path / "hr.csv"
    trace.write_text("t,bpm\n" + "".join(f"{t},{70 + (t % 3)}\n" for t in range(120)))
    out = _bassd("session", "render", "demo", "--hr-trace", str(trace), "--out", "d.wav",
                 "--listener", "p02", "--set", f"outputs.sessions_dir={tmp_path / 's'}",
                 "--set", f"outputs.metrics_csv={tmp_path / 'm.csv'}",
                 "--set", "outputs.keep_audio=false", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "rendered 95.0 s" in out.stdout
    report = json.loads(next((tmp_path / "s").glob("*/report.json")).read_text())
    stages = [(s["name"], s["start_s"], s["end_s"], s["adaptive"]) for s in report["stages"]]
    assert stages == [("calibrate", 0.0, 30.0, False), ("adaptive", 30.0, 70.0, True),
                      ("calm", 70.0, 94.0, False)]  # fmt: skip
    assert report["protocol"]["listener"] == "p02" and report["protocol"]["end_s"] == 94.0
    calm = [s for s in report["segments"] if 70.0 <= s["start_s"] < 94.0]
    assert len(calm) == 2 and {s["category"] for s in calm} == {"calm"}


def test_the_offline_twin_is_sample_identical_run_to_run(tmp_path: Path) -> None:
    """The same protocol, trace and seed render the same samples twice."""
    import soundfile as sf

    (tmp_path / "p.yaml").write_text(
        "name: twin\nsegment_seconds: 3\ncrossfade_seconds: 0.5\nstages:\n"
        "  - {name: a, seconds: 4, adaptive: false, category: calm}\n"
        "  - {name: b, segments: 1, adaptive: true}\n"
    )
    trace = [(float(t), 70.0 + t % 4, []) for t in range(12)]
    outs = []
    for run in ("x", "y"):
        cfg = load_config(None, [f"protocol.file={tmp_path / 'p.yaml'}",
                                 f"outputs.sessions_dir={tmp_path / run}",
                                 f"outputs.metrics_csv={tmp_path / run / 'm.csv'}",
                                 "protocol.baseline_bpm=70"])  # fmt: skip
        r = render_offline(cfg, 30.0, tmp_path / f"{run}.wav", hr_trace=trace,
                           until=lambda s: s.controller.protocol.finished)  # fmt: skip
        assert abs(r.seconds - 8.0) <= 256 / 48_000  # 4 s, one 3 s segment, a 1 s fade (± a block)
        outs.append(sf.read(tmp_path / f"{run}.wav")[0])
    np.testing.assert_array_equal(outs[0], outs[1])
    assert np.sqrt(np.mean(outs[0] ** 2)) > 1e-3


def test_a_bad_protocol_is_refused_with_one_line_and_the_list_names_the_shipped_ones(
    tmp_path: Path,
) -> None:
    """session check/render of a protocol with a misspelt key: exit 2 and one stderr line
    naming the stage and the key; session list names the three shipped protocols."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nstages:\n  - {name: calm, seconds: 10, segmets: 2}\n")
    for cmd in (("session", "check", str(bad)),
                ("session", "render", str(bad), "--out", "x.wav")):  # fmt: skip
        out = _bassd(*cmd, cwd=tmp_path)
        assert out.returncode == 2
        assert out.stderr.strip().splitlines() == [
            f"bassd: protocol {bad}: stage 'calm': unknown key 'segmets'"
        ]
    assert not (tmp_path / "x.wav").exists()
    listed = _bassd("session", "list", cwd=tmp_path)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "aba_adaptive_fixed", "bass_4stage", "demo"]  # fmt: skip
