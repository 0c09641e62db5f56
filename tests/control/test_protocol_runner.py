"""The protocol runner on the simulated clock (bassd session render's path): the stage
timeline in events.csv is the YAML's, a fixed stage holds against the heart rate, the
baseline is calibrated or known, and /session/start and /session/stop work over OSC."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from bassd.app.config import load_config
from bassd.app.offline import render_offline
from bassd.control.osc_codec import encode_message
from bassd.control.protocol import ProtocolError, load_protocol
from tests.control.harness import Harness

TIMELINE = """
name: timeline
segment_seconds: 4
crossfade_seconds: 0.5
stages:
  - {name: s1, seconds: 10, adaptive: false, category: neutral}
  - {name: s2, segments: 2, adaptive: false, category: calm, params: {brightness: 0.2}}
  - {name: s3, seconds: 8, adaptive: true}
  - {name: s4, segments: 1, adaptive: false, category: activating}
"""


def _render(tmp: Path, text: str, trace: list, *sets: str, seconds: float = 60.0) -> list[dict]:
    (tmp / "p.yaml").write_text(text)
    cfg = load_config(None, [
        f"protocol.file={tmp / 'p.yaml'}", f"outputs.dir={tmp}",
        f"outputs.sessions_dir={tmp / 's'}", f"outputs.metrics_csv={tmp / 'm.csv'}",
        "outputs.keep_audio=false", *sets])  # fmt: skip

    def done(session) -> bool:  # type: ignore[no-untyped-def]
        return session.controller.protocol.finished

    result = render_offline(cfg, seconds, tmp / "out.wav", hr_trace=trace, until=done)
    assert result.fallbacks == 0
    with open(result.events_csv, newline="") as f:  # type: ignore[arg-type]
        return list(csv.DictReader(f))


def _steady(bpm: float, seconds: float) -> list:
    return [(float(t), bpm, []) for t in range(int(seconds))]


def test_the_stage_timeline_is_the_yamls(tmp_path: Path) -> None:
    """Seconds-stages end on the second (the next fades in there), segment-stages last
    exactly their N segments with no extra boundary, each segment carries its stage's
    settings, and the protocol ends after the last one."""
    rows = _render(tmp_path, TIMELINE, _steady(70, 60), "protocol.baseline_bpm=70")
    stages = [(float(r["t"]), r["value"]) for r in rows if r["kind"] == "stage"]
    assert stages == [(0.0, "s1"), (10.0, "s2"), (18.0, "s3"), (26.0, "s4")]
    end = [float(r["t"]) for r in rows if r["kind"] == "protocol_end"]
    assert end == [30.0]
    segs = [(float(r["t"]), json.loads(r["detail"])) for r in rows if r["kind"] == "segment"]
    by_stage: dict[str, list[tuple[float, dict]]] = {}
    for t, d in segs:
        by_stage.setdefault(d.get("stage", "-"), []).append((t, d))
    assert [t for t, _ in by_stage["s2"]] == [10.0, 14.0]  # two, on the segment clock
    assert {d["category"] for _, d in by_stage["s2"]} == {"calm"}
    assert {d["params"]["brightness"] for _, d in by_stage["s2"]} == {0.2}
    assert [t for t, _ in by_stage["s4"]] == [26.0]
    assert by_stage["s4"][0][1]["category"] == "activating"
    assert all(d["fixed"] for _, d in by_stage["s1"] + by_stage["s2"] + by_stage["s4"])
    first = json.loads(next(r["detail"] for r in rows if r["value"] == "s2"))
    assert first["segments"] == 2 and first["params"] == {"brightness": 0.2}


HOLD = """
name: hold
segment_seconds: 4
crossfade_seconds: 0.5
stages:
  - {name: fixed, seconds: 20, adaptive: false, category: neutral}
  - {name: adaptive, seconds: 16, adaptive: true}
"""


def test_a_fixed_stage_holds_against_the_heart_rate_and_an_adaptive_one_follows(
    tmp_path: Path,
) -> None:
    """Stress from 2 s: the state changes (recorded) inside the fixed stage, whose segments
    stay neutral on the plain segment clock (no early crossfade); the adaptive stage then
    plays the stress category (calm)."""
    trace = _steady(70, 2) + _steady(100, 40)[2:]
    rows = _render(tmp_path, HOLD, trace, "protocol.baseline_bpm=70", "hr.stress_sustain_s=3")
    states = [(float(r["t"]), r["value"]) for r in rows if r["kind"] == "state"]
    assert states and states[0][1] == "stress" and states[0][0] < 20
    segs = [(float(r["t"]), json.loads(r["detail"])) for r in rows if r["kind"] == "segment"]
    fixed = [(t, d["category"]) for t, d in segs if d.get("stage") == "fixed"]
    assert fixed == [(0.0, "neutral"), (4.0, "neutral"), (8.0, "neutral"), (12.0, "neutral"),
                     (16.0, "neutral")]  # fmt: skip
    adaptive = [d["category"] for _, d in segs if d.get("stage") == "adaptive"]
    assert adaptive and set(adaptive) == {"calm"}


def test_a_known_baseline_skips_the_calibration_and_an_unknown_one_is_calibrated(
    tmp_path: Path,
) -> None:
    """protocol.baseline_bpm sets the baseline at the start (no calibration); without it the
    first stage calibrates for the protocol's baseline_seconds; the protocol row says which
    and the listener is recorded."""
    text = TIMELINE.replace("name: timeline", "name: timeline\nbaseline_seconds: 8")
    (tmp_path / "a").mkdir()
    known = _render(tmp_path / "a", text, _steady(70, 60), "protocol.baseline_bpm=64",
                    "protocol.listener=p07")  # fmt: skip
    kinds = [r["kind"] for r in known]
    assert "calibration" not in kinds
    assert [float(r["value"]) for r in known if r["kind"] == "baseline"] == [64.0]
    head = json.loads(next(r["detail"] for r in known if r["kind"] == "protocol"))
    assert head["baseline"] == "known 64 bpm" and head["listener"] == "p07"
    assert [r["value"] for r in known if r["kind"] == "listener"] == ["p07"]
    (tmp_path / "b").mkdir()
    unknown = _render(tmp_path / "b", text, _steady(70, 60), "hr.min_baseline_samples=5")
    cal = [(float(r["t"]), r["value"], r["detail"]) for r in unknown if r["kind"] == "calibration"]
    assert cal[0] == (0.0, "8", "started")
    baseline = [(float(r["t"]), float(r["value"])) for r in unknown if r["kind"] == "baseline"]
    assert baseline == [(8.0, 70.0)]


def test_a_protocol_this_session_cannot_play_is_refused_before_it_starts(tmp_path: Path) -> None:
    """A stage naming an unknown prompt or scene, or a protocol for another renderer, is
    refused with one line naming the stage; nothing of it is recorded."""
    h = Harness(tmp_path)
    try:
        bad = [("name: x\nstages: [{name: b, seconds: 5, adaptive: false, prompt: no-such}]",
                "stage 'b': no prompt 'no-such' in the bank"),
               ("name: x\nstages: [{name: b, seconds: 5, scene: disco}]",
                "stage 'b': unknown scene 'disco'"),
               ("name: x\nrenderer: musicgen\nstages: [{name: b, seconds: 5}]",
                "plays renderer musicgen, this session plays kuramoto")]  # fmt: skip
        for i, (text, message) in enumerate(bad):
            (tmp_path / f"p{i}.yaml").write_text(text)
            with pytest.raises(ProtocolError, match=message):
                h.controller.start_protocol(load_protocol(tmp_path / f"p{i}.yaml"))
        assert h.controller.protocol is None
    finally:
        h.close()
    kinds = (tmp_path / "sessions" / "test" / "events.csv").read_text()
    assert ",protocol," not in kinds and ",stage," not in kinds


def test_session_start_and_stop_over_osc(tmp_path: Path) -> None:
    """/session/start demo (a real datagram) plays the shipped demo: /status names it and its
    first stage; an unknown name is refused with /error naming it; /session/stop ends it
    (a protocol_stop row) and the status clears; a second stop is refused."""

    async def main() -> None:
        h = Harness(tmp_path)
        await h.start()
        try:
            h.send(encode_message("/session/start", "nope"))
            await h.settle(0.2)
            errors = [m for m in h.replies() if m.address == "/error"]
            assert errors and "no protocol 'nope'" in str(errors[0].args)
            h.send(encode_message("/session/start", "demo"))
            await h.settle(0.3)
            h.render(0.5)
            st = h.controller.status().as_dict()
            assert st["protocol"] == "demo" and st["protocol_stage"] == "calibrate"
            assert st["protocol_stage_index"] == 0
            h.send(encode_message("/session/stop"))
            await h.settle(0.2)
            h.render(0.5)
            st = h.controller.status().as_dict()
            assert st["protocol"] == "" and st["protocol_stage"] == ""
            h.replies()
            h.send(encode_message("/session/stop"))
            await h.settle(0.2)
            errors = [m for m in h.replies() if m.address == "/error"]
            assert errors and "no protocol is playing" in str(errors[0].args)
        finally:
            h.close()

    asyncio.run(main())
    rows = list(csv.DictReader((tmp_path / "sessions" / "test" / "events.csv").open()))
    kinds = [(r["kind"], r["value"]) for r in rows if r["kind"].startswith(("protocol", "stage"))]
    assert kinds == [("protocol_rejected", "nope"), ("protocol", "demo"), ("stage", "calibrate"),
                     ("protocol_stop", "demo")]  # fmt: skip
