"""``bassd listen prepare`` (app/listen_prepare.py): renders and excerpts cut, faded,
loudness-matched and blinded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
import structlog

from bassd.app.listen_design import parse_design
from bassd.app.listen_prepare import (
    SAMPLE_RATE,
    Plan,
    PrepareError,
    Source,
    plan_from_sessions,
    prepare,
    render_design,
    true_peak_db,
)
from bassd.cli import main

SPEC = {
    "name": "unit",
    "seconds": 1.5,
    "start_s": 0.5,
    "fade_ms": 40,
    "target_lufs": -24.0,
    "seed": 3,
    "set": ["renderer.name=kuramoto"],
    "conditions": {"default": [], "dark": ["fx.lpf_hz=1000"]},
    "items": [{"category": "calm", "seed": 1}, {"category": "activating", "seed": 2}],
    "trials": {"mushra": {"reference": "default"}},
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("listen")
    plan = render_design(parse_design(SPEC), folder)
    return folder, prepare(plan, folder)


def _spectrum_above(x: np.ndarray, hz: float) -> float:
    """Share of the signal's energy above ``hz``."""
    p = np.abs(np.fft.rfft(x.mean(axis=1))) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    return float(p[f > hz].sum() / p.sum())


def test_every_stimulus_is_at_the_target_by_an_independent_meter(prepared: tuple) -> None:
    """Every written stimulus measures within ±0.5 LU of the target by pyloudnorm (not our
    own meter), is 48 kHz stereo of exactly the stimulus length, and loudness.json says so."""
    folder, result = prepared
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    wavs = sorted((folder / "stimuli").glob("*.wav"))
    assert len(wavs) == 2 * 2 + 2 * 2  # 2 conditions × 2 items, + reference and anchor per item
    for w in wavs:
        x, sr = sf.read(w, always_2d=True)
        assert sr == SAMPLE_RATE and x.shape == (round(1.5 * SAMPLE_RATE), 2)
        assert abs(meter.integrated_loudness(x) - (-24.0)) <= 0.5, w.name
    table = json.loads((folder / "loudness.json").read_text())
    assert table["target_lufs"] == -24.0 and len(table["stimuli"]) == len(wavs)
    assert all(abs(s["deviation_lu"]) <= 0.5 for s in table["stimuli"])
    assert "largest deviation" in result.table()


def test_renders_differ_by_condition(prepared: tuple) -> None:
    """The dark condition (1 kHz low-pass) really is darker than the default, item by item:
    the conditions reach the renderer."""
    folder, _ = prepared
    key = json.loads((folder / "key.json").read_text())["stimuli"]
    cell = {(v["condition"], v["item"]): t for t, v in key.items() if v["role"] == "condition"}
    for item in ("calm-s1", "activating-s2"):
        dark, _ = sf.read(folder / "stimuli" / f"{cell[('dark', item)]}.wav", always_2d=True)
        ref, _ = sf.read(folder / "stimuli" / f"{cell[('default', item)]}.wav", always_2d=True)
        assert _spectrum_above(dark, 1500) < 0.5 * _spectrum_above(ref, 1500)


def test_stimuli_are_faded_in_and_out(prepared: tuple) -> None:
    """Each stimulus starts and ends in silence (raised-cosine fades), not with a click."""
    folder, _ = prepared
    for w in (folder / "stimuli").glob("*.wav"):
        x, _ = sf.read(w, always_2d=True)
        peak = np.abs(x).max()
        assert np.abs(x[:10]).max() < 0.01 * peak and np.abs(x[-10:]).max() < 0.01 * peak


def test_names_are_blinded_and_the_key_is_apart(prepared: tuple) -> None:
    """Files are named by random tokens; trials.json (served) names no condition, item or
    source; key.json maps every token to its condition, item, role and source."""
    folder, _ = prepared
    tokens = {w.stem for w in (folder / "stimuli").glob("*.wav")}
    public = (folder / "trials.json").read_text()
    for word in ("default", "dark", "calm-s1", "activating", "renders", "anchor"):
        assert word not in public
    key = json.loads((folder / "key.json").read_text())["stimuli"]
    assert set(key) == tokens
    assert all(len(t) == 10 and int(t, 16) >= 0 for t in tokens)
    assert {v["role"] for v in key.values()} == {"condition", "reference", "anchor"}
    assert all(Path(v["source"]).is_file() for v in key.values())


def test_trials_pair_conditions_of_one_item_and_mushra_has_reference_and_anchor(
    prepared: tuple,
) -> None:
    """Per item: one A/B trial per condition pair (same item on both sides) and one MUSHRA
    page with every condition, the anchor and an open reference whose token differs from the
    hidden one."""
    folder, _ = prepared
    key = json.loads((folder / "key.json").read_text())["stimuli"]
    trials = json.loads((folder / "trials.json").read_text())["trials"]
    assert [t["kind"] for t in trials] == ["ab", "mushra", "ab", "mushra"]
    for t in trials:
        items = {key[s]["item"] for s in t["stimuli"]}
        assert len(items) == 1
        if t["kind"] == "ab":
            assert {key[s]["condition"] for s in t["stimuli"]} == {"default", "dark"}
        else:
            assert sorted(key[s]["condition"] for s in t["stimuli"]) == [
                "anchor",
                "dark",
                "default",
            ]
            assert key[t["reference"]]["role"] == "reference"
            assert t["reference"] not in t["stimuli"]


def test_anchor_is_the_reference_low_passed_at_3k5(tmp_path: Path) -> None:
    """The MUSHRA anchor is the reference's own signal low-passed at 3.5 kHz (BS.1534): white
    noise keeps its band below 2 kHz and loses what lies above 5 kHz."""
    rng = np.random.default_rng(1)
    a = _wav(tmp_path / "a.wav", 0.1 * rng.standard_normal((3 * SAMPLE_RATE, 2)))
    b = _wav(tmp_path / "b.wav", 0.1 * rng.standard_normal((3 * SAMPLE_RATE, 2)))
    res = prepare(
        plan_from_sessions([a, b], seconds=2.0, excerpts=1, reference="a"), tmp_path / "t"
    )
    by_role = {s.role: s.token for s in res.stimuli if s.condition in ("a", "anchor")}
    anchor, _ = sf.read(tmp_path / "t" / "stimuli" / f"{by_role['anchor']}.wav", always_2d=True)
    ref, _ = sf.read(tmp_path / "t" / "stimuli" / f"{by_role['reference']}.wav", always_2d=True)
    assert _spectrum_above(ref, 5000) > 0.7
    assert _spectrum_above(anchor, 5000) < 0.01 * _spectrum_above(ref, 5000)
    assert 1 - _spectrum_above(anchor, 2000) > 0.5  # the band below 2 kHz dominates


def _wav(path: Path, x: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    sf.write(path, x, sr, subtype="FLOAT")
    return path


def test_target_is_lowered_when_a_gain_would_clip(tmp_path: Path) -> None:
    """A spiky source that would pass the true-peak ceiling at the target lowers the common
    target for all stimuli, which then all sit at it and under the ceiling."""
    n = 3 * SAMPLE_RATE
    rng = np.random.default_rng(0)
    quiet = np.zeros((n, 2))
    quiet[:: SAMPLE_RATE // 20] = 0.5  # clicks: a high crest factor
    quiet += 0.001 * rng.standard_normal((n, 2))
    smooth = 0.05 * np.sin(2 * np.pi * 440 * np.arange(n) / SAMPLE_RATE)[:, None].repeat(2, 1)
    a, b = _wav(tmp_path / "a.wav", quiet), _wav(tmp_path / "b.wav", smooth)
    plan = Plan("clip", ["a", "b"], ["x1"], {("a", "x1"): Source(a, 0.0), ("b", "x1"): Source(b, 0.0)},
                seconds=2.0, target_lufs=-10.0, pairs=[("a", "b")])  # fmt: skip
    res = prepare(plan, tmp_path / "test")
    assert res.target_lufs < -10.0 and "lowered from -10.00" in res.table()
    for s in res.stimuli:
        assert abs(s.lufs - res.target_lufs) <= 0.5
        x, _ = sf.read(tmp_path / "test" / "stimuli" / f"{s.token}.wav", always_2d=True)
        assert true_peak_db(x) <= -1.0 + 0.05


def test_from_sessions_takes_clips_and_wavs(tmp_path: Path) -> None:
    """Segment clips of a session folder (<session>_segNNNN.wav) form one condition, a render
    WAV another; excerpt k lies inside the clip holding (k+½)/N of the session; a 44.1 kHz
    mono source is resampled to 48 kHz stereo."""
    sess = tmp_path / "audio"
    sess.mkdir()
    t = np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE
    for i in range(3):
        _wav(
            sess / f"20260101T000000Z_seg{i:04d}.wav",
            0.1 * np.sin(2 * np.pi * (200 + 100 * i) * t)[:, None].repeat(2, 1),
        )
    r = 44100
    render = _wav(tmp_path / "render.wav", 0.1 * np.sin(2 * np.pi * 300 * np.arange(10 * r) / r), r)
    plan = plan_from_sessions([sess, render], seconds=2.0, excerpts=3, reference="render")
    assert plan.conditions == ["20260101t000000z", "render"]
    starts = [plan.sources[("20260101t000000z", f"x{k}")] for k in (1, 2, 3)]
    assert [s.path.name[-11:] for s in starts] == ["seg0000.wav", "seg0001.wav", "seg0002.wav"]
    assert all(s.start_s == pytest.approx(1.0) for s in starts)
    assert plan.sources[("render", "x2")].start_s == pytest.approx(4.0)
    res = prepare(plan, tmp_path / "test")
    assert len(res.stimuli) == 2 * 3 + 2 * 3 and res.n_trials == 3 + 3
    x, sr = sf.read(tmp_path / "test" / "stimuli" / f"{res.stimuli[1].token}.wav", always_2d=True)
    assert sr == SAMPLE_RATE and x.shape == (2 * SAMPLE_RATE, 2)


def test_from_sessions_errors_name_the_file(tmp_path: Path) -> None:
    """A clip shorter than the excerpt, a missing path and a single source are refused in
    one line naming them."""
    short = _wav(tmp_path / "short.wav", np.zeros((SAMPLE_RATE, 2)))
    long = _wav(tmp_path / "long.wav", np.zeros((5 * SAMPLE_RATE, 2)))
    with pytest.raises(PrepareError, match=r"short\.wav: 1\.00 s long, shorter than the 2 s"):
        plan_from_sessions([short, long], seconds=2.0)
    with pytest.raises(PrepareError, match=r"nope: no such file or folder"):
        plan_from_sessions([tmp_path / "nope", long], seconds=2.0)
    with pytest.raises(PrepareError, match="at least two"):
        plan_from_sessions([long], seconds=2.0)


def test_silent_excerpt_is_refused(tmp_path: Path) -> None:
    """A silent stimulus cannot be loudness-matched: the error names condition and item."""
    a = _wav(tmp_path / "a.wav", np.zeros((3 * SAMPLE_RATE, 2)))
    b = _wav(tmp_path / "b.wav", 0.1 * np.ones((3 * SAMPLE_RATE, 2)))
    plan_ = plan_from_sessions([a, b], seconds=2.0, excerpts=1)
    with pytest.raises(PrepareError, match=r"condition a, item x1 .*silent excerpt"):
        prepare(plan_, tmp_path / "t")


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """The CLI points structlog at this test's captured stderr: put it back after."""
    yield
    structlog.reset_defaults()


def test_cli_refuses_a_bad_spec_and_an_existing_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], prepared: tuple, cli_logging: None
) -> None:
    """`bassd listen prepare` exits 2 with one line for a bad SPEC, and will not overwrite a
    prepared test without --force."""
    spec = tmp_path / "s.yaml"
    spec.write_text("conditions: {a: [], b: []}\nitems: [{seed: 1}]\nsecs: 3\n")
    assert main(["listen", "prepare", "--pairs", str(spec), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == f"bassd: {spec}: secs: unknown key"
    folder, _ = prepared
    assert main(["listen", "prepare", "--pairs", str(spec), "--out", str(folder)]) == 2
    assert "give --force" in capsys.readouterr().err


def test_render_errors_name_condition_and_item_before_any_render(tmp_path: Path) -> None:
    """A condition whose config does not load is refused, naming it and the item, before
    anything is rendered; a category the prompt bank has no prompts for, naming them too."""
    bad = {**SPEC, "conditions": {"default": [], "odd": ["fx.lpf_hz=5"]}}
    with pytest.raises(PrepareError, match=r"condition odd, item calm-s1: .*fx\.lpf_hz"):
        render_design(parse_design(bad), tmp_path / "a")
    assert not (tmp_path / "a" / "renders").exists()
    empty = {**SPEC, "items": [{"category": "grounding", "seed": 1}]}
    with pytest.raises(PrepareError, match=r"condition default, item grounding-s1: .*no prompts"):
        render_design(parse_design(empty), tmp_path / "b")


def test_cli_prepares_from_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_logging: None
) -> None:
    """`bassd listen prepare --from-sessions` cuts excerpts of a session's clips and a WAV,
    prints the loudness table and writes the test; --config/--set are refused with it."""
    rng = np.random.default_rng(2)
    sess = tmp_path / "audio"
    sess.mkdir()
    for i in range(2):
        _wav(sess / f"s1_seg{i:04d}.wav", 0.05 * rng.standard_normal((3 * SAMPLE_RATE, 2)))
    wav = _wav(tmp_path / "r.wav", 0.2 * rng.standard_normal((6 * SAMPLE_RATE, 2)))
    out = tmp_path / "t"
    args = ["listen", "prepare", "--from-sessions", str(sess), str(wav), "--seconds", "1.5",
            "--out", str(out), "--target-lufs", "-20", "--seed", "9"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("target -20.00 LUFS") and "4 stimuli" in printed
    trials = json.loads((out / "trials.json").read_text())
    assert trials["seed"] == 9 and [t["kind"] for t in trials["trials"]] == ["ab", "ab"]
    assert main([*args, "--force", "--set", "fx.lpf_hz=2000"]) == 2
    assert "--config/--set apply to --pairs" in capsys.readouterr().err
