"""Session protocols load like configs: one-line errors naming the stage and the key; the
shipped ones validate; names resolve in a folder, never outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bassd.control.protocol import (
    ProtocolError,
    find_protocol,
    load_protocol,
    parse_protocol,
    shipped_protocols,
)


def _p(*stages: dict, **top: object) -> dict:
    return {"name": "t", "stages": list(stages), **top}


def test_the_shipped_protocols_validate_and_say_what_they_plan() -> None:
    """bass_4stage (4 stages, BASS's 3-minute baseline, 20 s segments), aba_adaptive_fixed
    (adaptive, fixed, adaptive after a calibration) and demo load; lengths add up."""
    assert shipped_protocols() == ["aba_adaptive_fixed", "bass_4stage", "demo"]
    bass = load_protocol("bass_4stage")
    assert [s.name for s in bass.stages] == ["baseline", "neutral", "adaptive", "recovery"]
    assert bass.baseline_seconds == 180 and bass.segment_seconds == 20
    assert bass.planned_seconds(99.0) == 180 + 4 * 20 + 600 + 4 * 20  # its own segment length
    aba = load_protocol("aba_adaptive_fixed")
    assert [s.adaptive for s in aba.stages] == [False, True, False, True]
    assert load_protocol("demo").stages[-1].renderer == "kuramoto"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_p({"name": "calm", "seconds": 10, "segmets": 2}),
         "protocol x: stage 'calm': unknown key 'segmets'"),
        (_p({"name": "calm", "seconds": 10, "segments": 2}),
         "stage 'calm': give seconds or segments"),
        (_p({"name": "calm"}), "stage 'calm': give seconds or segments"),
        (_p({"name": "calm", "seconds": 10, "category": "calm"}),
         "stage 'calm': an adaptive stage takes its category from the heart rate"),
        (_p({"name": "b", "seconds": 10, "adaptive": False, "category": "cosy"}),
         "stage 'b' category: Input should be"),
        (_p({"name": "b", "seconds": 10, "params": {"colour": 1}}),
         "stage 'b' params: unknown renderer parameter(s) ['colour']"),
        (_p({"name": "b", "seconds": 10, "params": {"brightness": 3}}),
         "stage 'b' params.brightness: Input should be less than or equal to 1"),
        (_p({"name": "b", "seconds": 10, "adapters": {"calm": 9}}),
         "stage 'b' adapters: adapter 'calm': weight 9.0 is outside -4..4"),
        (_p({"name": "b", "seconds": -1}), "stage 'b' seconds: Input should be greater than 0"),
        (_p({"seconds": 3}), "stage 1 name: Field required"),
        (_p({"name": "a", "seconds": 3}, {"name": "a", "segments": 1}),
         "two stages are called 'a'"),
        (_p({"name": "a", "seconds": 60}, baseline_seconds=120),
         "the first stage ('a', 60 s) calibrates: it must last at least baseline_seconds"),
        (_p({"name": "a", "seconds": 6}, colour="red"), "protocol x: unknown key 'colour'"),
        ({"name": "t", "stages": []}, "stages: List should have at least 1 item"),
        (["not", "a", "mapping"], "expected a mapping with name and stages"),
    ],
)  # fmt: skip
def test_a_bad_protocol_is_one_line_naming_the_stage_and_key(data: object, message: str) -> None:
    """Each mistake is refused with one line that names the stage (by name where it has one,
    else its place) and the key."""
    with pytest.raises(ProtocolError) as err:
        parse_protocol(data, "x")
    text = str(err.value)
    assert message in text and "\n" not in text, text


def test_names_resolve_inside_the_folder_and_files_by_path(tmp_path: Path) -> None:
    """A name is looked up in the folder (the shipped ones by default), listing what is
    there when missing; a path to a YAML file loads; a path-like name is refused; a file
    that is not YAML says so."""
    (tmp_path / "mine.yaml").write_text("name: mine\nstages: [{name: only, seconds: 5}]\n")
    assert load_protocol("mine", tmp_path).name == "mine"
    assert load_protocol(tmp_path / "mine.yaml").name == "mine"
    with pytest.raises(ProtocolError, match=r"no protocol 'nope' in .* \(there: mine\)"):
        find_protocol("nope", tmp_path)
    with pytest.raises(ProtocolError, match="not a file, and not a protocol name"):
        find_protocol("../etc/passwd", tmp_path)
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ProtocolError, match="not YAML"):
        load_protocol("bad", tmp_path)
