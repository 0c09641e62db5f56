"""The generated TouchOSC layout (max_patches/bassd.tosc) against the address table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from bassd.control.addresses import BY_PATH, TABLE
from bassd.control.status import STATUS_FIELDS
from bassd.control.touchosc import render_tosc

LAYOUT = Path(__file__).resolve().parents[2] / "max_patches" / "bassd.tosc"


@dataclass(frozen=True)
class Part:
    kind: str  # CONSTANT | VALUE
    conversion: str  # STRING | FLOAT | INTEGER
    value: str
    lo: float
    hi: float


@dataclass(frozen=True)
class Message:
    node_type: str
    name: str
    send: bool
    receive: bool
    path: str
    args: tuple[Part, ...]


def _parts(element: ET.Element | None) -> tuple[Part, ...]:
    assert element is not None
    return tuple(
        Part(
            p.findtext("type", ""),
            p.findtext("conversion", ""),
            p.findtext("value", ""),
            float(p.findtext("scaleMin", "nan")),
            float(p.findtext("scaleMax", "nan")),
        )
        for p in element.findall("partial")
    )


def _name(node: ET.Element) -> str:
    for prop in node.findall("properties/property"):
        if prop.findtext("key") == "name":
            return prop.findtext("value", "")
    return ""


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.fromstring(zlib.decompress(LAYOUT.read_bytes()))


@pytest.fixture(scope="module")
def messages(root: ET.Element) -> list[Message]:
    out = []
    for node in root.iter("node"):
        for osc in node.findall("messages/osc"):
            path = _parts(osc.find("path"))
            assert all(p.kind == "CONSTANT" for p in path)
            out.append(
                Message(
                    node.get("type", ""),
                    _name(node),
                    osc.findtext("send") == "1",
                    osc.findtext("receive") == "1",
                    "".join(p.value for p in path),
                    _parts(osc.find("arguments")),
                )
            )
    return out


def test_layout_file_is_current() -> None:
    """max_patches/bassd.tosc is byte-for-byte what render_tosc() produces now."""
    assert LAYOUT.read_bytes() == render_tosc()


def test_layout_is_zlib_compressed_lexml_with_pages(root: ET.Element) -> None:
    """The file inflates to <lexml version='3'> whose root GROUP holds a PAGER of four pages."""
    assert root.tag == "lexml" and root.get("version") == "3"
    top = root.find("node")
    assert top is not None and top.get("type") == "GROUP"
    pager = top.find("children/node")
    assert pager is not None and pager.get("type") == "PAGER"
    pages = pager.findall("children/node")
    assert [_name(p) for p in pages] == ["perform", "sounds", "jam", "layers", "status"]
    assert all(p.get("type") == "GROUP" for p in pages)
    ids = [n.get("ID") for n in root.iter("node")]
    assert len(ids) == len(set(ids))


def test_every_sent_message_matches_the_table(messages: list[Message]) -> None:
    """Each sent message has a table address, a valid arg count and the Arg's type and range."""
    sent = [m for m in messages if m.send]
    assert len(sent) > 40
    for m in sent:
        assert m.path in BY_PATH, m.path
        a = BY_PATH[m.path]
        assert not a.debug
        assert a.min_args <= len(m.args) <= a.max_args, m
        for part, spec in zip(m.args, a.args, strict=False):
            if part.kind == "VALUE":
                assert part.conversion == {"f": "FLOAT", "i": "INTEGER"}[spec.type], m
                assert (part.lo, part.hi) == (spec.lo, spec.hi), m
            else:
                assert part.kind == "CONSTANT" and part.conversion == "STRING", m
                assert spec.type == "s", m
                if spec.choices:
                    assert part.value in spec.choices, m


def test_lpf_fader_sends_hertz(messages: list[Message]) -> None:
    """The /fx/lpf fader scales its 0..1 travel to 1000..20000 Hz as a float."""
    (lpf,) = [m for m in messages if m.path == "/fx/lpf"]
    assert lpf.node_type == "FADER"
    assert lpf.args == (Part("VALUE", "FLOAT", "x", 1000.0, 20000.0),)
    (density,) = [m for m in messages if m.path == "/renderer/density"]
    assert density.args[0].conversion == "INTEGER"


def test_xy_pad_sends_som_xy(messages: list[Message]) -> None:
    """The XY pad sends /som/xy with x and y as two floats 0..1."""
    (xy,) = [m for m in messages if m.node_type == "XY"]
    assert xy.path == "/som/xy" and xy.send
    assert xy.args == (
        Part("VALUE", "FLOAT", "x", 0.0, 1.0),
        Part("VALUE", "FLOAT", "y", 0.0, 1.0),
    )


def test_single_number_addresses_are_reachable_or_left_out(messages: list[Message]) -> None:
    """Every non-debug one-number address has a control, except the explicit left-out set."""
    single = {a.path for a in TABLE if not a.debug and len(a.args) == 1 and a.args[0].type in "fi"}
    reached = {m.path for m in messages if m.send}
    assert single - reached == {"/hr/bpm", "/hr/rr", "/hr/contact", "/baseline/set"}
    vae = {f"/vae/slider/{n}" for n in range(1, 9)}
    assert vae <= {m.path for m in messages if m.send and m.node_type == "FADER"}


def test_buttons_cover_argumentless_and_choice_addresses(messages: list[Message]) -> None:
    """Buttons send /segment/skip, /scene/surprise, /subscribe and every /state/force state."""
    buttons = {(m.path, tuple(p.value for p in m.args)) for m in messages if m.send}
    for path in ("/segment/skip", "/scene/surprise", "/subscribe", "/jam/panic"):
        assert (path, ()) in buttons
    states = BY_PATH["/state/force"].args[0].choices or ()
    assert {("/state/force", (s,)) for s in states} <= buttons
    assert ("/scene", ("zen",)) in buttons


def test_status_labels_receive_pushed_fields(messages: list[Message]) -> None:
    """Status labels receive /status/<field> for pushed fields only, text set from the value."""
    received = [m for m in messages if m.receive]
    assert received and all(m.node_type == "LABEL" and not m.send for m in received)
    fields = {name for name, _ in STATUS_FIELDS}
    shown = set()
    for m in received:
        assert m.path.startswith("/status/"), m
        field = m.path.removeprefix("/status/")
        assert field in fields, field
        assert m.args == (Part("VALUE", "STRING", "text", 0.0, 1.0),)
        shown.add(field)
    assert {"state", "bpm", "renderer", "dry_callbacks", "scene", "prompt", "partials",
            "vae_state"} <= shown  # fmt: skip
