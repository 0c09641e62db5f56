"""``bassd listen analyse`` (app/listen_analyse.py) and its statistics (app/listen_stats.py),
checked against scipy."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from bassd.app.listen_analyse import AnalyseError, analyse
from bassd.app.listen_server import ListenTest
from bassd.app.listen_stats import mean_ci, paired_t, sign_test, t_cdf, t_ppf
from bassd.cli import main
from tests.app.test_listen_server import make_test

KEY = {
    "aaaaaaaaa1": ("a", "i1", "condition"),
    "bbbbbbbbb1": ("b", "i1", "condition"),
    "ccccccccc1": ("anchor", "i1", "anchor"),
    "rrrrrrrrr1": ("a", "i1", "reference"),
    "aaaaaaaaa2": ("a", "i2", "condition"),
    "bbbbbbbbb2": ("b", "i2", "condition"),
}
CALM = {"a": [70.0, 62.0, 81.0, 55.0], "b": [40.0, 45.0, 52.0, 38.0], "anchor": [5.0, 12, 0, 9]}
PICKS_A = [[True, True], [True, False], [True, True], [False, True]]  # per listener, per A/B trial


def test_t_distribution_matches_scipy() -> None:
    """Our t CDF and quantile agree with scipy's to 1e-9 over the degrees of freedom a
    listening test sees."""
    for df in (1, 2, 3, 4, 7, 12, 30, 100):
        for q in (0.6, 0.9, 0.975, 0.995):
            assert t_ppf(q, df) == pytest.approx(stats.t.ppf(q, df), abs=1e-9)
        for t in (-6.0, -1.3, 0.0, 0.4, 2.2, 9.0):
            assert t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), abs=1e-10)


def test_mean_ci_paired_t_and_sign_test_match_scipy() -> None:
    """Mean ± t CI, the paired t-test and the exact two-sided binomial test agree with
    scipy's; degenerate inputs give NaN rather than a number."""
    rng = np.random.default_rng(3)
    x = rng.normal(50, 10, 9)
    y = x + rng.normal(4, 6, 9)
    m, half, n = mean_ci(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (m - half, m + half, n) == (pytest.approx(lo), pytest.approx(hi), 9)
    t, p, n = paired_t(x, y)
    ref = stats.ttest_rel(x, y)
    assert (t, p) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))
    for k, n in ((0, 5), (2, 10), (7, 12), (6, 12), (20, 20)):
        assert sign_test(k, n) == pytest.approx(stats.binomtest(k, n).pvalue)
    assert math.isnan(mean_ci([3.0])[1]) and math.isnan(paired_t([1.0], [2.0])[1])


def _answered_test(folder: Path) -> ListenTest:
    """Four listeners answer every trial: calmness from CALM, A/B picks from PICKS_A (the
    trial's condition a, whichever side it is shown on)."""
    folder.mkdir(exist_ok=True)
    make_test(folder)
    key = {t: {"condition": c, "item": i, "role": r, "source": "x.wav", "start_s": 0.0}
           for t, (c, i, r) in KEY.items()}  # fmt: skip
    (folder / "key.json").write_text(json.dumps({"name": "unit", "conditions": ["a", "b"],
                                                 "stimuli": key}))  # fmt: skip
    test = ListenTest(folder)
    for k in range(4):
        who = f"L{k + 1}"
        test.register(who)
        ab = 0
        while (shown := test.next_trial(who)) is not None:
            everything = shown["stimuli"] + ([shown["reference"]] if shown["reference"] else [])
            body: dict[str, Any] = {"listener": who, "trial": shown["trial"],
                                    "played": {s["id"]: True for s in everything}}  # fmt: skip
            if shown["kind"] == "ab":
                side_a = KEY[shown["stimuli"][0]["id"]][0] == "a"
                body["choice"] = "A" if PICKS_A[k][ab] == side_a else "B"
                ab += 1
            else:
                body["ratings"] = {
                    s["id"]: {"calmness": CALM[KEY[s["id"]][0]][k], "valence": 50, "arousal": 50}
                    for s in shown["stimuli"]
                }
            test.accept(body)
    test.answers.close()
    return test


def test_analyse_unblinds_and_summarises(tmp_path: Path) -> None:
    """Unblinded with the key: per-condition calmness means with scipy's 95% t interval,
    paired t-tests over listeners as scipy's, A/B wins per condition (whichever side it was
    on) with the binomial p; analysis.json and a PNG are written."""
    _answered_test(tmp_path)
    res = analyse(tmp_path)
    calm = res.means["calmness"]
    assert list(calm) == ["a", "b", "anchor"]
    for c, xs in CALM.items():
        x = np.array(xs)
        lo, hi = stats.t.interval(0.95, 3, loc=x.mean(), scale=stats.sem(x))
        assert calm[c]["mean"] == pytest.approx(x.mean()) and calm[c]["n"] == 4
        assert calm[c]["ci95"] == pytest.approx((hi - lo) / 2)
    ab_row = next(r for r in res.paired["calmness"] if (r["a"], r["b"]) == ("a", "b"))
    assert ab_row["p"] == pytest.approx(stats.ttest_rel(CALM["a"], CALM["b"]).pvalue)
    wins = sum(map(sum, PICKS_A))
    assert res.ab == [{"a": "a", "b": "b", "a_wins": wins, "b_wins": 8 - wins, "n": 8,
                       "p": pytest.approx(stats.binomtest(wins, 8).pvalue)}]  # fmt: skip
    assert res.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(res.json_path.read_text())
    assert saved["means"]["calmness"]["b"]["mean"] == pytest.approx(np.mean(CALM["b"]))
    table = res.table()
    assert "paired t-test" in table and "a vs b: 6-2 of 8" in table


def test_analyse_cli_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`bassd listen analyse DIR` prints the table and where the figure is; an empty test is
    an error naming answers.csv."""
    empty = tmp_path / "empty"
    empty.mkdir()
    make_test(empty)
    (empty / "key.json").write_text(json.dumps({"conditions": [], "stimuli": {}}))
    assert main(["listen", "analyse", str(empty)]) == 2
    assert "answers.csv: no answers yet" in capsys.readouterr().err
    _answered_test(tmp_path / "t")
    assert main(["listen", "analyse", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert "MUSHRA calmness" in out and "figure: " in out


def test_a_token_missing_from_the_key_is_named(tmp_path: Path) -> None:
    """An answer naming a stimulus the key does not know is an error naming the line."""
    _answered_test(tmp_path)
    key = json.loads((tmp_path / "key.json").read_text())
    del key["stimuli"]["bbbbbbbbb2"]
    (tmp_path / "key.json").write_text(json.dumps(key))
    with pytest.raises(
        AnalyseError, match=r"answers\.csv line \d+ \(trial t03\): stimulus 'bbbbbbbbb2'"
    ):
        analyse(tmp_path)
