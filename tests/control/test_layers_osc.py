"""/layers/mix and /layers/N/... over real UDP (tests/control/harness.py): the mix and a
file are loaded off the loop and crossfaded in, recorded in events.csv; an unknown vibe, a
layer 5, an unknown entry and layers that are off are refused with /error naming the
address, and counted."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from bassd.app.library import Library, index_paths
from bassd.control.osc_codec import Message, encode_message
from tests.control.harness import Harness
from tests.library_sounds import labelled_set


@pytest.fixture
def db(tmp_path: Path) -> Path:
    labelled_set(tmp_path / "sounds", per_class=3, secs=4.0)
    path = tmp_path / "lib.sqlite"
    with Library(path) as lib:
        index_paths(lib, [tmp_path / "sounds"])
    return path


@pytest.fixture
def harness(tmp_path: Path, db: Path) -> Iterator[Harness]:
    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path, [f"library.path={db}", "layers.enabled=true", "layers.seed=4"])
    yield h
    h.close()


async def _until(h: Harness, kinds: tuple[str, ...], seconds: float = 20.0) -> list[Message]:
    """Replies until an events.csv row of one of ``kinds`` exists (rendering meanwhile)."""
    got: list[Message] = []
    for _ in range(int(seconds / 0.02)):
        await asyncio.sleep(0.02)
        h.render(0.02)
        got += h.replies()
        if any(r["kind"] in kinds for r in _events(h)):
            return got
    raise AssertionError(f"no {kinds} row")


def _events(h: Harness) -> list[dict[str, str]]:
    assert h.events is not None
    with h.events.path.open() as f:
        return list(csv.DictReader(f))


def test_mix_and_layer_controls_over_udp(harness: Harness, db: Path) -> None:
    """/layers/mix zen builds four layers off the loop (status: four names, vibe zen);
    /layers/3/file by id crossfades layer 3 to that entry; gain, pan, filter and mute are
    taken; bad input is refused, each with /error naming its address and counted."""

    async def run() -> None:
        await harness.start()
        assert harness.server is not None
        c = harness.server.counters
        harness.send(encode_message("/layers/mix", "zen"))
        got = await _until(harness, ("layers_mix", "layers_mix_failed"))
        assert not [m for m in got if m.address == "/error"], got
        figures = harness.controller.status_figures()
        assert figures["layers_vibe"] == "zen" and figures["layers_changes"] == 4
        assert all(figures["layers"].split(","))
        with Library(db) as lib:
            entry = lib.entries(tags=["noise"])[0]
        harness.send(encode_message("/layers/3/file", str(entry.id)))
        await _until(harness, ("layers_file", "layers_file_failed"))
        assert harness.controller.status_figures()["layers"].split(",")[2] == entry.name
        for address, arg in (("/layers/1/gain", -12.0), ("/layers/2/pan", -0.5),
                             ("/layers/3/filter", 800.0), ("/layers/4/mute", 1)):  # fmt: skip
            harness.send(encode_message(address, arg))
        await harness.settle()
        assert [m for m in harness.replies() if m.address == "/error"] == []
        layers = harness.controller.layers
        assert layers is not None
        s = layers.slots
        assert (s[0].gain_db, s[1].pan_target, s[2].cutoff, s[3].muted) == (-12, -0.5, 800, True)
        dropped = c.dropped
        for address, arg in (("/layers/mix", "party"), ("/layers/5/gain", 0.0),
                             ("/layers/1/pan", 2.0)):  # fmt: skip
            harness.send(encode_message(address, arg))
            await harness.settle()
            errors = [m for m in harness.replies() if m.address == "/error"]
            assert len(errors) == 1 and errors[0].args[0] == address, (address, errors)
        assert c.dropped == dropped + 3
        harness.send(encode_message("/layers/1/file", "99999"))
        got = await _until(harness, ("layers_file_failed",))
        err = [m for m in got if m.address == "/error"]
        assert err and err[0].args[0] == "/layers/1/file" and "99999" in err[0].args[1]
        harness.transport.close()

    asyncio.run(run())
    kinds = [r["kind"] for r in _events(harness)]
    for kind in ("layers_mix", "layers_file", "layers_gain", "layers_pan", "layers_filter",
                 "layers_mute", "layers_file_failed"):  # fmt: skip
        assert kind in kinds, kind


def test_layers_off_are_refused(tmp_path: Path) -> None:
    """Without layers.enabled, /layers/mix and /layers/1/gain answer /error saying the
    layers are off."""
    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path)

    async def run() -> None:
        await h.start()
        for address, arg in (("/layers/mix", "zen"), ("/layers/1/gain", -6.0)):
            h.send(encode_message(address, arg))
            await h.settle()
            errors = [m for m in h.replies() if m.address == "/error"]
            assert len(errors) == 1 and errors[0].args[0] == address
            assert "layers are off" in errors[0].args[1]
        h.transport.close()

    try:
        asyncio.run(run())
    finally:
        h.close()
