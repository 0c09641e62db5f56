"""``bassd hrv FILE.csv``: one CSV row per window from either file format; bad input exits 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bassd.cli import main
from bassd.dsp.hrv import hrv_windows

SCENARIO = Path(__file__).resolve().parents[2] / "configs" / "scenarios" / "artifacts.csv"


def rows(out: str) -> list[list[str]]:
    lines = out.strip().splitlines()
    assert lines[0] == "t_end,rmssd_ms,sdnn_ms,pnn50,mean_hr,beats,rejected"
    return [line.split(",") for line in lines[1:]]


def test_one_rr_per_row_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A t,rr_ms file prints hrv_windows' figures (rounded) for each window."""
    rng = np.random.default_rng(1)
    rr = 800 + rng.normal(0, 30, 200)
    rr[50] = 1700.0
    t = np.cumsum(rr) / 1000
    path = tmp_path / "rr.csv"
    path.write_text("t,rr_ms\n" + "".join(f"{a:.3f},{b:.1f}\n" for a, b in zip(t, rr, strict=True)))
    assert main(["hrv", str(path), "--window", "60", "--step", "20"]) == 0
    got = rows(capsys.readouterr().out)
    want = hrv_windows(np.round(t, 3), np.round(rr, 1), 60.0, 20.0)
    assert len(got) == len(want) >= 3
    for g, w in zip(got, want, strict=True):
        assert float(g[0]) == pytest.approx(w.t_end, abs=1e-3)
        assert float(g[1]) == pytest.approx(w.rmssd_ms, abs=0.005)
        assert (int(g[5]), int(g[6])) == (w.beats, w.rejected)
    assert any(int(g[6]) == 1 for g in got)  # the missed beat at index 50


def test_shipped_trace_with_several_rr_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    """A t,bpm,rr_ms trace (space-separated RR, some rows without) reads as its beats."""
    assert main(["hrv", str(SCENARIO), "--step", "30"]) == 0
    got = rows(capsys.readouterr().out)
    assert got and float(got[0][0]) == pytest.approx(60.0)
    assert all(int(g[5]) > 60 for g in got)


def test_empty_rr_field_and_semicolons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Empty rr_ms adds no beat; '800;810' adds two at the row's time."""
    body = "".join(f"{k},75,{'' if k % 3 == 0 else '800;' + str(800 + 10 * (k % 2))}\n"
                   for k in range(40))  # fmt: skip
    path = tmp_path / "trace.csv"
    path.write_text("t,bpm,rr_ms\n" + body)
    assert main(["hrv", str(path), "--window", "30", "--step", "100"]) == 0
    got = rows(capsys.readouterr().out)
    # the first beats are at t = 1, so the one window is (1, 31]: rows 2..31 with RR
    beats_in_window = sum(2 for k in range(2, 32) if k % 3)
    assert [(float(g[0]), int(g[5]) + int(g[6])) for g in got] == [(31.0, beats_in_window)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t,x\n1,2\n", "header needs columns 't' and 'rr_ms'"),
        ("t,rr_ms\n1,abc\n", "row 2: field 'rr_ms': 'abc' is not a number"),
        ("t,rr_ms\n2,800\n1,800\n", "before the previous row's"),
        ("t,rr_ms\n", "no RR intervals"),
        ("t,bpm,rr_ms\n0,70,x\n", "row 2: field 'rr_ms'"),
    ],
)
def test_bad_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    """A malformed file prints one 'bassd: ...' line naming the problem and exits 2."""
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert main(["hrv", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bassd: ") and message in err and "\n" not in err


def test_missing_file_and_bad_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file and a non-positive --step are one line and exit 2."""
    assert main(["hrv", str(tmp_path / "none.csv")]) == 2
    assert "No such file" in capsys.readouterr().err
    path = tmp_path / "rr.csv"
    path.write_text("t,rr_ms\n1,800\n")
    assert main(["hrv", str(path), "--step", "0"]) == 2
    assert "--step must be a positive" in capsys.readouterr().err
