"""The closed loop through the CLI: --listener learns from the heart-rate responses of each
segment, explains its choices in events.csv, and keeps what it learnt between sessions."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path


def _render(tmp: Path, session: str) -> list[dict[str, str]]:
    r = subprocess.run([sys.executable, "-m", "bassd", "render", "--scenario", "stress_recovery",
                        "--seconds", "300", "--out", str(tmp / f"{session}.wav"),
                        "--listener", "anna", "--set", f"prompts.listeners_dir={tmp / 'who'}",
                        "--set", f"outputs.dir={tmp}", "--set", f"outputs.sessions_dir={tmp / 's'}",
                        "--set", f"outputs.metrics_csv={tmp / 'm.csv'}",
                        "--set", "outputs.keep_audio=false"],
                       cwd=tmp, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    newest = max((tmp / "s").glob("*/events.csv"), key=lambda p: p.stat().st_mtime)
    return list(csv.DictReader(newest.open()))


def test_choices_are_explained_and_learning_persists(tmp_path: Path) -> None:
    """Every planned segment has a bandit_choice row (prompt, posterior mean, sample); segments
    with enough heart rate give response rows with a reward; the listener's file grows from
    one session to the next (the second starts from the first's posteriors)."""
    rows = _render(tmp_path, "one")
    choices = [r for r in rows if r["kind"] == "bandit_choice"]
    segments = [r for r in rows if r["kind"] == "segment"]
    assert len(choices) >= len(segments) >= 10
    detail = json.loads(choices[0]["detail"])
    assert {"posterior_mean", "sample", "n", "state", "category"} <= set(detail)
    responses = [r for r in rows if r["kind"] == "response"]
    assert responses and all(-3.0 <= float(r["value"]) <= 3.0 for r in responses)
    saved = json.loads((tmp_path / "who" / "anna.json").read_text())

    def total(d: dict) -> int:
        return sum(int(arm["n"]) for arms in d["arms"].values() for arm in arms.values())

    first = total(saved)
    assert first == len(responses)
    _render(tmp_path, "two")
    assert total(json.loads((tmp_path / "who" / "anna.json").read_text())) > first
