"""``bassd jam eval``: the held-out table of the predictors, the Ear and their fusion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bassd.app.jam_cli import add_commands
from bassd.cli import _add_config_args as add_config_args
from bassd.dsp.chords import parse_roman
from bassd.models.chord_eval import METHODS, simulate_notes


def _run(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    add_commands(sub, add_config_args)
    args = parser.parse_args(argv)
    rc: int = args.func(args)
    return rc


def _rows(text: str) -> dict[str, tuple[float, float]]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and (parts[0] in METHODS):
            out[parts[0]] = (float(parts[-2]), float(parts[-1]))
    return out


@pytest.fixture(scope="module")
def weight_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[float, dict[str, object]]:
    out = {}
    for w in (0.0, 1.0):
        path = tmp_path_factory.mktemp("eval") / f"w{w}.json"
        assert _run(["jam", "eval", "--weight", str(w), "--json", str(path)]) == 0
        out[w] = json.loads(path.read_text())
    return out


def test_eval_prints_all_five_methods(capsys: pytest.CaptureFixture[str]) -> None:
    """The table has a row with top-1/top-3 in [0, 1] for unigram, bigram, lstm, ear and fused,
    says the Ear's notes are simulated and names a best fusion weight."""
    assert _run(["jam", "eval"]) == 0
    text = capsys.readouterr().out
    rows = _rows(text)
    assert set(rows) == set(METHODS)
    assert all(0 <= a <= b <= 1 for a, b in rows.values())
    assert "SIMULATED" in text
    assert "best fusion weight:" in text


def test_fused_at_the_ends_equals_lstm_and_ear(weight_runs: dict[float, dict[str, object]]) -> None:
    """Fused at weight 1 has exactly the LSTM's figures, at weight 0 exactly the Ear's."""
    one, zero = weight_runs[1.0]["rows"], weight_runs[0.0]["rows"]
    assert one["fused"] == one["lstm"]  # type: ignore[index]
    assert zero["fused"] == zero["ear"]  # type: ignore[index]
    assert zero["lstm"] != zero["ear"]  # type: ignore[index]


def test_eval_uses_the_checkpoints_split(weight_runs: dict[float, dict[str, object]]) -> None:
    """By default the split is the shipped checkpoint's (held-out 0.2, seed 0)."""
    assert weight_runs[1.0]["split"]["held_out"] == 0.2  # type: ignore[index]
    assert weight_runs[1.0]["split"]["seed"] == 0  # type: ignore[index]


def test_bad_weight_and_checkpoint_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A weight outside [0, 1] or a missing checkpoint gives exit status 2 and one message."""
    assert _run(["jam", "eval", "--weight", "1.5"]) == 2
    missing = tmp_path / "none.npz"
    assert _run(["jam", "eval", "--checkpoint", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_simulated_notes_are_seeded_and_mostly_chord_tones() -> None:
    """The same seed gives the same sketch; 2-4 notes each; about 70 % (+ chance hits of the
    scale) are tones of the target chord."""
    a = simulate_notes("V7", "major", np.random.default_rng(5))
    b = simulate_notes("V7", "major", np.random.default_rng(5))
    assert a == b
    rng = np.random.default_rng(0)
    pcs = set(parse_roman("V7", "major").pcs)
    hits = total = 0
    for _ in range(500):
        notes = simulate_notes("V7", "major", rng)
        assert 2 <= len(notes) <= 4
        hits += sum((n[2] % 12) in pcs for n in notes)
        total += len(notes)
    # 0.7 + 0.3 * 4/7 (V7's tones among the seven scale tones) = 0.871
    assert 0.82 < hits / total < 0.92


def test_inference_and_eval_do_not_import_torch() -> None:
    """Loading the shipped predictor, predicting, and the eval module leave torch unimported
    (the daemon must not need it)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from bassd.models.chord_predictor import ChordPredictor\n"
        "import bassd.models.chord_eval, bassd.dsp.chord_fusion, bassd.app.jam_cli\n"
        "ChordPredictor.load().predict(['I', 'V'], 'major')\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
