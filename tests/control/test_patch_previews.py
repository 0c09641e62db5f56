"""Rendered previews of the control surfaces: drawn from the files themselves."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from bassd.control.patch_previews import draw_maxpat, draw_touchosc, touchosc_pages

HERE = Path(__file__).resolve().parents[2] / "max_patches"  # the repository's

PNG = b"\x89PNG\r\n\x1a\n"


def test_pages_hold_the_layouts_controls_with_their_addresses() -> None:
    """The four pages, each with the controls the layout stores; the perform page has the
    filter faders with their addresses and the scene buttons."""
    pages = touchosc_pages(HERE / "bassd.tosc")
    assert list(pages) == ["perform", "sounds", "jam", "layers", "status"]
    perform = {c.address for c in pages["perform"] if c.address}
    assert {"/fx/hpf", "/fx/lpf", "/fx/drive", "/scene", "/master/gain"} <= perform
    assert any(c.kind == "XY" and c.address == "/som/xy" for c in pages["sounds"])
    stored = zlib.decompress((HERE / "bassd.tosc").read_bytes()).count(b"<node ")
    drawn = sum(len(cs) for cs in pages.values())
    assert 0 < drawn < stored  # every control, but not the root, the pager and the pages


def test_previews_are_written_and_shipped(tmp_path: Path) -> None:
    """One PNG per page plus the Max patch; the shipped previews exist for every page."""
    written = draw_touchosc(HERE / "bassd.tosc", tmp_path)
    written.append(draw_maxpat(HERE / "bassd.maxpat", tmp_path / "max_patch.png"))
    assert [p.name for p in written] == ["touchosc_perform.png", "touchosc_sounds.png",
                                         "touchosc_jam.png", "touchosc_layers.png", "touchosc_status.png",
                                         "max_patch.png"]  # fmt: skip
    assert all(p.read_bytes()[:8] == PNG for p in written)
    assert all((HERE / "previews" / p.name).read_bytes()[:8] == PNG for p in written)


def test_a_file_that_is_not_a_layout_is_named(tmp_path: Path) -> None:
    """A compressed XML without a pager is an error naming the file."""
    bad = tmp_path / "x.tosc"
    bad.write_bytes(zlib.compress(b"<lexml version='3'><node type='GROUP'/></lexml>"))
    with pytest.raises(ValueError, match=r"x\.tosc"):
        touchosc_pages(bad)
