"""The listening test's answer rules and answers.csv (app/listen_server.py, listen_answers.py),
on a hand-written trials.json (no audio: the browser test plays the real thing)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bassd.app.listen_answers import COLUMNS, AnswerFile, read_answers
from bassd.app.listen_server import ListenTest, Refused

SCALES = [{"name": n, "low": "lo", "high": "hi"} for n in ("calmness", "valence", "arousal")]


def make_test(folder: Path) -> Path:
    trials = [
        {"id": "t01", "kind": "ab", "stimuli": ["aaaaaaaaa1", "bbbbbbbbb1"]},
        {"id": "t02", "kind": "mushra", "stimuli": ["aaaaaaaaa1", "bbbbbbbbb1", "ccccccccc1"],
         "reference": "rrrrrrrrr1"},
        {"id": "t03", "kind": "ab", "stimuli": ["aaaaaaaaa2", "bbbbbbbbb2"]},
    ]  # fmt: skip
    (folder / "trials.json").write_text(
        json.dumps({"name": "unit", "seed": 5, "scales": SCALES, "trials": trials})
    )
    return folder


def answer_for(shown: dict[str, Any], **change: Any) -> dict[str, Any]:
    """A valid answer to the trial as shown (everything played, A, or 50s)."""
    stimuli = shown["stimuli"] + ([shown["reference"]] if shown["reference"] else [])
    body: dict[str, Any] = {"trial": shown["trial"], "played": {s["id"]: True for s in stimuli}}
    if shown["kind"] == "ab":
        body["choice"] = "A"
    else:
        body["ratings"] = {
            s["id"]: {"calmness": 10 * i, "valence": 50, "arousal": 99.5}
            for i, s in enumerate(shown["stimuli"])
        }
    return {**body, **change}


@pytest.fixture
def test(tmp_path: Path) -> Iterator[ListenTest]:
    t = ListenTest(make_test(tmp_path))
    t.register("L1")
    yield t
    t.answers.close()


def test_a_whole_listener_is_saved_row_by_row(test: ListenTest) -> None:
    """Answering every trial in the order served appends one row each, with the stimuli as
    shown, the choice and the chosen token, the ratings and played flags, ISO UTC times."""
    shown_all = []
    while (shown := test.next_trial("L1")) is not None:
        shown_all.append(shown)
        test.accept({"listener": "L1", **answer_for(shown)})
    rows = read_answers(test.answers.path)
    assert [r["trial"] for r in rows] == [s["trial"] for s in shown_all]
    assert sorted(r["trial"] for r in rows) == ["t01", "t02", "t03"]
    header = test.answers.path.read_text().splitlines()[0]
    assert header == ",".join(COLUMNS)
    for r, s in zip(rows, shown_all, strict=True):
        assert r["stimuli"].split() == [x["id"] for x in s["stimuli"]]
        assert r["started_utc"].endswith("Z") and r["answered_utc"] >= r["started_utc"]
        if s["kind"] == "ab":
            assert r["choice"] == "A" and r["chosen"] == s["stimuli"][0]["id"]
        else:
            ratings = json.loads(r["ratings"])
            assert ratings[s["stimuli"][2]["id"]] == {"calmness": 20.0, "valence": 50.0,
                                                      "arousal": 99.5}  # fmt: skip
            assert set(json.loads(r["played"])) == {*r["stimuli"].split(), r["reference"]}
    assert test.next_trial("L1") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"played": {}}, "was not played to its end"),
        ({"trial": "t99"}, "unknown trial 't99'"),
        ({"listener": "nobody"}, "unknown listener 'nobody'"),
        ({"choice": "C"}, "choose A or B \\(got 'C'\\)"),
        ({"choice": None}, "choose A or B"),
    ],
)
def test_bad_ab_answers_are_refused(test: ListenTest, change: dict, message: str) -> None:
    """An A/B answer without every stimulus played through, for an unknown trial or
    listener, or without A or B, is refused with a message naming it, and not written."""
    shown = _first(test, "ab")
    with pytest.raises(Refused, match=message):
        test.accept({"listener": "L1", **answer_for(shown), **change})
    assert read_answers(test.answers.path) == []


def _first(test: ListenTest, kind: str) -> dict[str, Any]:
    """Answer validly until the next trial is of ``kind``."""
    while (shown := test.next_trial("L1"))["kind"] != kind:
        test.accept({"listener": "L1", **answer_for(shown)})
    return shown


@pytest.mark.parametrize(
    ("rating", "message"),
    [
        (101, "101 is outside 0–100"),
        (-0.5, "-0.5 is outside 0–100"),
        ("50", "a number from 0 to 100 is needed \\(got '50'\\)"),
        (True, "a number from 0 to 100 is needed \\(got True\\)"),
        (None, "a number from 0 to 100 is needed \\(got None\\)"),
        (float("nan"), "nan is outside"),
    ],
)
def test_bad_ratings_are_refused(test: ListenTest, rating: object, message: str) -> None:
    """Out-of-range, non-numeric, boolean, missing and NaN ratings are refused naming the
    stimulus's label and the scale."""
    shown = _first(test, "mushra")
    before = len(read_answers(test.answers.path))
    body = answer_for(shown)
    body["ratings"][shown["stimuli"][1]["id"]]["valence"] = rating
    with pytest.raises(
        Refused, match=f"stimulus {shown['stimuli'][1]['label']}, valence: {message}"
    ):
        test.accept({"listener": "L1", **body})
    assert len(read_answers(test.answers.path)) == before


def test_mushra_needs_every_stimulus_rated_and_the_reference_played(test: ListenTest) -> None:
    """A MUSHRA answer missing a stimulus's ratings, rating a stranger, or not having played
    the open reference is refused."""
    shown = _first(test, "mushra")
    body = answer_for(shown)
    del body["ratings"][shown["stimuli"][0]["id"]]
    with pytest.raises(Refused, match=f"stimulus {shown['stimuli'][0]['label']} is not rated"):
        test.accept({"listener": "L1", **body})
    body = answer_for(shown)
    body["ratings"]["zzzzzzzzz9"] = {}
    with pytest.raises(Refused, match="not in the trial"):
        test.accept({"listener": "L1", **body})
    body = answer_for(shown)
    del body["played"][shown["reference"]["id"]]
    with pytest.raises(Refused, match="stimulus Reference was not played"):
        test.accept({"listener": "L1", **body})


def test_duplicate_and_out_of_order_answers_are_refused(test: ListenTest) -> None:
    """A trial already answered, or one that is not the listener's next, is refused."""
    order = [test.trials[i]["id"] for i in test.order("L1")]
    shown = test.next_trial("L1")
    test.accept({"listener": "L1", **answer_for(shown)})
    with pytest.raises(Refused, match=f"trial {order[0]} is already answered by L1"):
        test.accept({"listener": "L1", **answer_for(shown)})
    later = test.presentation("L1", 2)
    with pytest.raises(Refused, match=f"trial {order[2]} is not L1's next trial \\({order[1]}\\)"):
        test.accept({"listener": "L1", **answer_for(later)})


def test_listener_ids_are_checked_and_numbered_in_arrival_order(tmp_path: Path) -> None:
    """Listener ids are short words (no slashes, spaces or empty ids); each new one gets the
    next number, kept in listeners.json across restarts."""
    t = ListenTest(make_test(tmp_path))
    for bad in ("", "a b", "../x", "x" * 41, 7, None):
        with pytest.raises(Refused, match="listener id"):
            t.register(bad)
    assert [t.register(x) for x in ("L1", "L2", "L1")] == [0, 1, 0]
    t.answers.close()
    assert ListenTest(tmp_path).register("L3") == 2


def test_a_second_server_on_the_same_test_is_refused(tmp_path: Path) -> None:
    """While one server holds a test's answers.csv, a second is refused naming the file (two
    writers would interleave answers and duplicate checks)."""
    first = ListenTest(make_test(tmp_path))
    with pytest.raises(Refused, match=r"answers\.csv: another `bassd listen serve` is using it"):
        ListenTest(tmp_path)
    first.answers.close()
    ListenTest(tmp_path).answers.close()


def test_a_restart_resumes_at_the_next_unanswered_trial(tmp_path: Path) -> None:
    """A new server on the same folder knows what was answered (from answers.csv): the next
    trial is the first unanswered one of the listener's order, and the header is not
    written twice."""
    t = ListenTest(make_test(tmp_path))
    t.register("L1")
    first = t.next_trial("L1")
    t.accept({"listener": "L1", **answer_for(first)})
    t.answers.close()
    again = ListenTest(tmp_path)
    assert again.next_trial("L1") == t.presentation("L1", 1)
    assert again.answers.path.read_text().count("listener,listener_index") == 1


def test_a_torn_last_line_is_cut_on_open(tmp_path: Path) -> None:
    """A row torn by a crash mid-write (no newline at the end) is cut off when the file is
    opened again; the whole rows before it stay."""
    path = tmp_path / "answers.csv"
    f = AnswerFile(path)
    f.append({"listener": "L1", "trial": "t01"})
    f.close()
    whole = path.read_bytes()
    with open(path, "ab") as raw:
        raw.write(b"L1,0,t02,1,ab,aaa")
    AnswerFile(path).close()
    assert path.read_bytes() == whole
    assert [r["trial"] for r in read_answers(path)] == ["t01"]


def test_a_failed_write_leaves_no_partial_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short write (a full disk) is cut back and raised: the file holds whole rows only."""
    path = tmp_path / "answers.csv"
    f = AnswerFile(path)
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:5]))
    with pytest.raises(OSError, match="short write"):
        f.append({"listener": "L1", "trial": "t01"})
    monkeypatch.setattr(os, "write", real_write)
    assert path.read_text() == ",".join(COLUMNS) + "\n"


def test_the_page_is_package_data_with_no_external_assets() -> None:
    """The page is found through the package (not the working directory), pyproject ships it
    as package data, and it loads nothing from elsewhere: no http(s) URL, no external
    script, style sheet or font."""
    import re
    import tomllib
    from fnmatch import fnmatch

    from bassd.app.listen_server import page_html

    html = page_html()
    assert "<script>" in html and "fetch(" in html
    assert not re.search(r"https?://|//cdn|<link\b|\bsrc=\"(?!/)|@import|url\(", html)
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    setup = project["tool"]["setuptools"]
    assert "bassd.app.listen_page" in setup["packages"]
    assert any(fnmatch("index.html", g) for g in setup["package-data"]["bassd.app.listen_page"])
    assert any(
        fnmatch("listening/dsp_brightness.yaml", g) for g in setup["package-data"]["bassd.configs"]
    )
