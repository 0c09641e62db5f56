"""Emotion and scenes: who picks the category, thresholds, holds, precedence; over OSC with
crossfades; unknown labels refused."""

from __future__ import annotations

import asyncio
import csv
import itertools
from pathlib import Path

import pytest

from bassd.control.osc_codec import encode_message
from bassd.control.scene_loading import load_scenes
from bassd.control.steering import EmotionConfig, ScenesConfig, Steering
from tests.control.harness import Harness


def _steering(**emotion: object) -> Steering:
    return Steering(EmotionConfig(**emotion), load_scenes(ScenesConfig()), seed=1)


def test_confidence_threshold_hold_and_unknown_label() -> None:
    """Below min_confidence an emotion is ignored; it steers for hold_seconds after its
    last report; an unknown label is a ValueError naming the known ones."""
    s = _steering(min_confidence=0.6, hold_seconds=10.0)
    assert s.set_emotion("angry", 0.5, 0.0).startswith("ignored")
    assert s.category("neutral", 0.0) == ("neutral", "hr")
    assert s.set_emotion("Angry", 0.9, 1.0) == "applied"
    assert s.category("neutral", 5.0) == ("calm", "emotion angry")
    assert s.params(5.0)["brightness"] == pytest.approx(0.3)
    assert s.category("neutral", 12.0) == ("neutral", "hr")  # held 10 s, then the HR again
    with pytest.raises(ValueError, match=r"unknown emotion 'glee'.*happy"):
        s.set_emotion("glee", 1.0, 2.0)


@pytest.mark.parametrize(
    ("precedence", "expected"),
    [("hr", "activating"), ("emotion", "calm"), ("latest", "activating")],
)
def test_precedence_against_the_hr_state(precedence: str, expected: str) -> None:
    """With the HR state underaroused (its category activating) and an angry report before
    the state changed: hr lets the state win, emotion the emotion, latest the newer."""
    s = _steering(precedence=precedence)
    s.set_emotion("angry", 0.9, 1.0)
    s.hr_changed("underaroused", 2.0)
    assert s.category("activating", 3.0)[0] == expected


def test_scenes_beat_emotions_and_surprise_is_seeded() -> None:
    """A scene's category wins over an emotion; 'off' releases it; /scene/surprise never
    picks the scene playing, and the same seed gives the same sequence."""
    s = _steering(precedence="emotion")
    s.set_emotion("bored", 0.9, 0.0)
    s.set_scene("sleep")
    assert s.category("neutral", 1.0) == ("grounding", "scene sleep")
    assert s.params(1.0)["tempo_bpm"] == 44
    s.set_scene("off")
    assert s.category("neutral", 1.0) == ("activating", "emotion bored")
    a, b = _steering(), _steering()
    seq_a, seq_b = [], []
    for _ in range(8):
        seq_a.append(a.set_scene(a.surprise()) and a.scene)
        seq_b.append(b.set_scene(b.surprise()) and b.scene)
    assert seq_a == seq_b
    assert all(x != y for x, y in itertools.pairwise(seq_a))
    with pytest.raises(ValueError, match="unknown scene 'disco'"):
        s.set_scene("disco")


def test_user_scenes_replace_and_bad_ones_are_named(tmp_path: Path) -> None:
    """A user YAML adds scenes and replaces a shipped name; a bad parameter is named."""
    f = tmp_path / "mine.yaml"
    f.write_text("zen: {category: neutral, tempo_bpm: 60}\nrain: {params: {brightness: 0.2}}\n")
    scenes = load_scenes(ScenesConfig(file=str(f)))
    assert scenes["zen"].category == "neutral" and "rain" in scenes and "sleep" in scenes
    f.write_text("bad: {params: {colour: 3}}\n")
    with pytest.raises(ValueError, match=r"bad.*unknown renderer parameter"):
        load_scenes(ScenesConfig(file=str(f)))


def test_emotion_and_scene_over_osc(tmp_path: Path) -> None:
    """/emotion angry crossfades to a calm segment (events.csv: emotion, then a segment of
    category calm); /scene energise sets its FX and crossfades; an unknown emotion or scene
    is refused with /error; the status shows who steers."""
    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path)

    async def run() -> None:
        await h.start()
        h.render(1.0)
        first = h.engine.segment_index
        h.send(encode_message("/emotion", "angry", 0.95))
        await h.settle()
        h.render(0.1)
        assert h.engine.segment_index == first + 1  # the early crossfade began
        assert h.controller.status().steer == "emotion angry"
        h.send(encode_message("/scene", "energise"))
        await h.settle()
        h.render(0.1)
        st = h.controller.status()
        assert st.scene == "energise" and st.fx["lpf_hz"] == pytest.approx(12000.0)
        assert h.engine.segment_index == first + 2
        for bad in (encode_message("/emotion", "glee", 0.9), encode_message("/scene", "disco")):
            h.send(bad)
            await h.settle()
        errors = [m for m in h.replies() if m.address == "/error"]
        assert [e.args[0] for e in errors] == ["/emotion", "/scene"]
        h.transport.close()

    try:
        asyncio.run(run())
    finally:
        h.close()
    rows = list(csv.DictReader((tmp_path / "sessions" / "test" / "events.csv").open()))
    kinds = [(r["kind"], r["value"]) for r in rows]
    i = kinds.index(("emotion", "angry"))
    seg = next(r for r in rows[i:] if r["kind"] == "segment")
    assert "calm" in seg["detail"]
    assert ("scene", "energise") in kinds


def test_bassd_scenes_lists_them(tmp_path: Path) -> None:
    """`bassd scenes` prints the shipped scenes and a user's, from any directory."""
    import subprocess
    import sys

    f = tmp_path / "mine.yaml"
    f.write_text("rain: {category: calm, description: soft rain}\n")
    r = subprocess.run([sys.executable, "-m", "bassd", "scenes", "--set", f"scenes.file={f}"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    assert names == ["energise", "focus", "rain", "sleep", "zen"]
