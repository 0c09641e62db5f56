"""Rendered previews of the generated control surfaces, for people choosing one.

A TouchOSC page is drawn from the layout file itself (each control's frame, colour, name
and OSC address, as stored in ``bassd.tosc``), and the Max patch from its boxes
(``patching_rect`` and text), so a preview shows what the file holds, not a mock-up.

    python -m bassd.control.patch_previews max_patches/previews   # from the repository root

(a repository tool, like the generators: ``max_patches/`` is not part of the package, so
the folder it reads is the working directory's, or the second argument)
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Control:
    kind: str
    name: str
    frame: tuple[float, float, float, float]  # x, y, w, h (the page's coordinates)
    colour: tuple[float, float, float]
    address: str
    text: str


def _props(node: ET.Element) -> dict[str, ET.Element]:
    return {p.findtext("key", ""): p.find("value") for p in node.findall("./properties/property")}  # type: ignore[misc]


def _control(node: ET.Element) -> Control:
    props = _props(node)
    fr = props["frame"]
    frame = tuple(float(fr.findtext(k, "0")) for k in ("x", "y", "w", "h"))
    col = props.get("color")
    rgb = ("r", "g", "b")
    colour = tuple(float(col.findtext(k, "0.5")) for k in rgb) if col is not None else (0.5,) * 3
    address = "".join(p.findtext("value", "") for p in node.findall("./messages/osc/path/partial")
                      if p.findtext("type") == "CONSTANT")  # fmt: skip
    text = next((v.findtext("default", "") for v in node.findall("./values/value")
                 if v.findtext("key") == "text"), "")  # fmt: skip
    return Control(node.get("type", ""), props["name"].text or "", frame, colour, address, text)  # type: ignore[arg-type]


def touchosc_pages(path: Path) -> dict[str, list[Control]]:
    """The pages of a .tosc layout (a zlib-compressed lexml file) and their controls."""
    root = ET.fromstring(zlib.decompress(path.read_bytes()))
    pager = root.find(".//node[@type='PAGER']")
    if pager is None:
        raise ValueError(f"{path}: no PAGER node (not a bassd layout?)")
    pages = {}
    for page in pager.findall("./children/node"):
        name = _props(page)["name"].text or "page"
        pages[name] = [_control(n) for n in page.findall("./children/node")]
    return pages


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # y grows downwards, as in both editors
    ax.set_axis_off()
    return fig, ax


def draw_touchosc(path: Path, out_dir: Path) -> list[Path]:
    """One PNG per page; returns their paths."""
    from matplotlib.patches import Rectangle

    written = []
    for name, controls in touchosc_pages(path).items():
        fig, ax = _figure(1024, 720)
        ax.add_patch(Rectangle((0, 0), 1024, 720, color=(0.08, 0.08, 0.1)))
        for c in controls:
            x, y, w, h = c.frame
            filled = c.kind != "LABEL"
            face = (*c.colour, 0.35 if filled else 0)
            edge = c.colour if filled else "none"
            ax.add_patch(Rectangle((x, y), w, h, facecolor=face, edgecolor=edge, linewidth=1.5))
            label = c.text or c.address or c.name
            size = 7 if len(label) > 18 else 8
            turn = 90 if h > 2.5 * w and not c.text else 0  # a fader's address along it
            ax.text(x + w / 2, y + h / 2, label, ha="center", va="center", color="white",
                    fontsize=size, rotation=turn, clip_on=True)  # fmt: skip
        ax.text(8, 706, f"bassd.tosc — page {name!r}", color="white", fontsize=10, va="center")
        target = out_dir / f"touchosc_{name}.png"
        fig.savefig(target)
        written.append(target)
    return written


def draw_maxpat(path: Path, out: Path) -> Path:
    """The Max patch's boxes (objects, messages, comments) where the patch puts them."""
    from matplotlib.patches import Rectangle

    boxes = [b["box"] for b in json.loads(path.read_text())["patcher"]["boxes"]]
    right = max(b["patching_rect"][0] + b["patching_rect"][2] for b in boxes) + 20
    bottom = max(b["patching_rect"][1] + b["patching_rect"][3] for b in boxes) + 20
    fig, ax = _figure(right, bottom)
    for b in boxes:
        x, y, w, h = b["patching_rect"]
        kind = b.get("maxclass", "")
        face = {"message": (0.85, 0.85, 0.85), "comment": (1, 1, 1)}.get(kind, (0.75, 0.82, 0.9))
        ax.add_patch(Rectangle((x, y), w, h, facecolor=face,
                               edgecolor="none" if kind == "comment" else "0.3"))  # fmt: skip
        ax.text(x + 3, y + h / 2, b.get("text", kind), va="center", fontsize=6, clip_on=True)
    fig.savefig(out)
    return out


def main(argv: list[str]) -> int:
    """``[OUT_DIR [PATCH_DIR]]``: PATCH_DIR (default ``max_patches``) holds the files."""
    src = Path(argv[1]) if len(argv) > 1 else Path("max_patches")
    out_dir = Path(argv[0]) if argv else src / "previews"
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in [*draw_touchosc(src / "bassd.tosc", out_dir),
              draw_maxpat(src / "bassd.maxpat", out_dir / "max_patch.png")]:  # fmt: skip
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
