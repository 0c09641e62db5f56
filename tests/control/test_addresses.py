"""The address table: docs/osc.md is generated from it, and every address is exercised
with a valid and an invalid message over real UDP."""

from __future__ import annotations

import asyncio
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from bassd.control.addresses import TABLE, Address, render_markdown
from bassd.control.osc_codec import encode_message
from tests.control.harness import Harness

DOC = Path(__file__).resolve().parents[2] / "docs" / "osc.md"

#: valid arguments where a mid-range value is not meaningful
VALID: dict[str, tuple[Any, ...]] = {
    "/prompt/set": ("calm-warm-strings",),
    "/prompt/text": ("slow warm strings and choir, 58 bpm, F lydian",),
    "/prompt/bank": ("bank.json",),
    "/renderer/density": (64,),
    "/hr/rr": (812.0, 820.0),
    "/segment/length": (8.0,),
    "/crossfade": (1.0,),
    "/subscribe": (9999,),
    "/unsubscribe": (9999,),
    "/transport/stop": (0.1,),
    "/transport/start": (0.1,),
    "/jam/key_lock": ("G major",),
    "/renderer/partials": ("glass",),  # the shipped sound
    "/emotion": ("calm", 0.9),
    "/scene": ("zen",),
    "/session/start": ("demo",),  # a shipped protocol
}


def _demo_playing(h: Harness) -> None:
    from bassd.control.protocol import load_protocol

    h.controller.start_protocol(load_protocol("demo"))


#: what an address needs in place before its valid message means anything
BEFORE: dict[str, Any] = {"/session/stop": _demo_playing}


def valid_args(a: Address) -> tuple[Any, ...]:
    if a.path in VALID:
        return VALID[a.path]
    out: list[Any] = []
    for arg in a.args:
        if arg.optional:
            break
        if arg.choices:
            out.append(arg.choices[-1])
        elif arg.type == "f":
            assert arg.lo is not None and arg.hi is not None
            out.append(float(arg.lo + (arg.hi - arg.lo) * 0.25))
        elif arg.type == "i":
            assert arg.lo is not None and arg.hi is not None
            out.append(int(arg.lo + (arg.hi - arg.lo) // 4))
        else:
            out.append("x")
    return tuple(out)


def invalid_args(a: Address) -> tuple[Any, ...]:
    if not a.args:
        return (1,)  # takes no arguments
    first = a.args[0]
    if first.choices:
        return ("not-a-choice",)
    if first.type in "fi":
        assert first.hi is not None
        return (float(first.hi) * 2 + 1.5,)  # out of range (and not integral)
    return (3.0,)  # a number where a string is expected


def test_docs_are_generated_from_the_table() -> None:
    """docs/osc.md is exactly what the table renders (regenerate: python -m bassd.control.addresses)."""
    assert DOC.read_text() == render_markdown()


def test_table_paths_are_unique_and_handled() -> None:
    """Each address appears once and the controller has its handler."""
    from bassd.control.controller import Controller

    paths = [a.path for a in TABLE]
    assert len(paths) == len(set(paths))
    for a in TABLE:
        assert callable(getattr(Controller, f"on_{a.handler}", None)), a.path


@pytest.fixture
def harness(tmp_path: Path):
    (tmp_path / "prompts").mkdir()
    shutil.copy(
        str(files("bassd.prompts").joinpath("emotion_prompt_bank.json")),
        tmp_path / "prompts" / "bank.json",
    )
    # every /jam address reaches a real jam, /som/xy a real map (the shipped sound's)
    h = Harness(tmp_path, ["jam.enabled=true", "renderer.params.partials=glass",
                           "layers.enabled=true"])  # fmt: skip
    yield h
    h.close()


# the VAE's addresses need a trained model playing (tests/models/test_vae_renderer.py),
# /prompt/search the search worker (tests/models/test_search_live.py), /group/apply the
# live daemon's group (tests/control/test_group.py, tests/app/test_group_live.py) and
# /library/* a library file (tests/control/test_library_osc.py), and so do /layers/mix and
# /layers/N/file (tests/control/test_layers_osc.py)
OWN_TESTS = ("/prompt/search", "/group/apply", "/library/search", "/library/similar",
             "/layers/mix", *(f"/layers/{n}/file" for n in range(1, 5)))  # fmt: skip
NOT_VAE = [a for a in TABLE if a.group != "vae" and a.path not in OWN_TESTS]


@pytest.mark.parametrize("entry", NOT_VAE, ids=[a.path for a in NOT_VAE])
def test_every_address_accepts_valid_and_rejects_invalid(harness: Harness, entry: Address) -> None:
    """A valid message is handled without /error; an invalid one is dropped, counted and
    answered with /error naming the address."""

    async def run() -> None:
        await harness.start()
        harness.render(0.1)
        assert harness.server is not None
        c = harness.server.counters
        if entry.path in BEFORE:
            BEFORE[entry.path](harness)
        harness.send(encode_message(entry.path, *valid_args(entry)))
        await harness.settle()
        errors = [m for m in harness.replies() if m.address == "/error"]
        assert errors == [], errors
        assert (c.handled, c.dropped) == (1, 0)
        harness.send(encode_message(entry.path, *invalid_args(entry)))
        await harness.settle()
        errors = [m for m in harness.replies() if m.address == "/error"]
        assert len(errors) == 1 and errors[0].args[0] == entry.path, errors
        assert (c.handled, c.dropped) == (1, 1)
        harness.render(0.1)  # and the engine still renders
        harness.transport.close()

    asyncio.run(run())


def test_max_patch_is_generated_from_the_table() -> None:
    """max_patches/bassd.maxpat is current, and holds one message box per address."""
    import json

    from bassd.control.patches import render_maxpat

    path = DOC.parents[1] / "max_patches" / "bassd.maxpat"
    assert path.read_text() == render_maxpat()
    boxes = [b["box"] for b in json.loads(path.read_text())["patcher"]["boxes"]]
    sent = {b["text"].split(" ")[0] for b in boxes if b["maxclass"] == "message" and b["text"]}
    assert sent == {a.path for a in TABLE if not a.debug and not a.peer}
    assert any(b["text"] == "udpsend 127.0.0.1 8000" for b in boxes)


@pytest.mark.parametrize(
    "entry", [a for a in TABLE if not a.debug and not a.peer], ids=lambda a: a.path
)
def test_max_patch_examples_validate(entry: Address) -> None:
    """Every example message in the patch passes the table's own validation."""
    import shlex

    from bassd.control.patches import example_args

    args: list[Any] = []
    tags = ""
    for raw in shlex.split(" ".join(example_args(entry))):
        try:
            args.append(int(raw)) if raw.lstrip("-").isdigit() else args.append(float(raw))
            tags += "i" if isinstance(args[-1], int) else "f"
        except ValueError:
            args.append(raw)
            tags += "s"
    entry.validate(tags, tuple(args))


def test_pd_patch_is_generated_from_the_table() -> None:
    """max_patches/bassd.pd is current: one [oscformat] per address, wired to [netsend]."""
    from bassd.control.patches import render_pd

    path = DOC.parents[1] / "max_patches" / "bassd.pd"
    text = path.read_text()
    assert text == render_pd()
    formats = [ln for ln in text.splitlines() if " oscformat " in ln]
    assert len(formats) == len([a for a in TABLE if not a.debug and not a.peer])
    assert "netsend -u -b" in text and "netreceive -u -b 9000" in text
