"""Max/MSP and Pure Data patches generated from the address table
(``max_patches/bassd.maxpat``, ``max_patches/bassd.pd``).

One message box per address with example arguments, all wired to
``[udpsend 127.0.0.1 8000]``; replies arrive at ``[udpreceive 9000]`` and are
split by ``[route]`` for the status fields. Regenerate with
``python -m bassd.control.patches`` (a test fails when a file is stale). The Pd
patch does the same with vanilla objects: ``[oscformat]`` → ``[netsend -u -b]``
and ``[netreceive -u -b 9000]`` → ``[oscparse]``.
"""

from __future__ import annotations

import json
from typing import Any

from bassd.control.addresses import TABLE, Address
from bassd.control.status import STATUS_FIELDS

#: example values a performer would start from
EXAMPLES: dict[str, str] = {
    "/hr/bpm": "72",
    "/hr/rr": "830.",
    "/hr/contact": "1",
    "/baseline/set": "70.",
    "/prompt/set": "calm-warm-strings",
    "/prompt/text": '"slow warm strings and choir, 58 bpm"',
    "/prompt/bank": "bank.json",
    "/prompt/search": '"rain on a tin roof, slow piano"',
    "/library/search": '"rain"',
    "/library/similar": "rain.wav",
    "/master/gain": "-6.",
    "/fx/hpf": "120.",
    "/fx/lpf": "10000.",
    "/fx/drive": "1.6",
    "/fx/peak": "0.9",
    "/segment/length": "24.",
    "/crossfade": "1.5",
    "/renderer/coupling": "0.6",
    "/renderer/brightness": "0.5",
    "/renderer/width": "0.7",
    "/renderer/density": "96",
    "/renderer/tempo": "64.",
    "/adapter/blend": "calm 0.015",
    "/jam/accompaniment": "1",
    "/jam/program": "4",
    "/jam/level": "-6.",
    "/jam/fusion": "0.5",
    "/jam/tempo": "100.",
    "/jam/meter": "3",
    "/jam/metronome": "1",
    "/jam/metronome/level": "-18.",
    "/jam/key_lock": "Gmaj",  # one atom (Pd splits at spaces): 'G major', 'Em', 'F#m' also work
    "/jam/tempo_follow": "1",
    "/renderer/partials": "glass",  # a shipped sound; your own: bassd analyse --out DIR
    "/renderer/transpose": "-12.",
    "/som/xy": "0.5 0.5",
    **{f"/vae/slider/{n}": "0.5" for n in range(1, 9)},
    "/emotion": "calm 0.8",
    "/scene": "zen",
    "/layers/mix": "zen",
    **{f"/layers/{n}/file": "rain.wav" for n in range(1, 5)},
    **{f"/layers/{n}/gain": "-12." for n in range(1, 5)},
    **{f"/layers/{n}/pan": "0.3" for n in range(1, 5)},
    **{f"/layers/{n}/filter": "6000." for n in range(1, 5)},
    **{f"/layers/{n}/mute": "1" for n in range(1, 5)},
    "/session/start": "demo",
    "/vae/preset": "calm",
    "/vae/preset/save": "calm",
    "/vae/blend": "other 0.5",
}


def example_args(a: Address) -> list[str]:
    if a.path in EXAMPLES:
        return EXAMPLES[a.path].split(" ") if len(a.args) > 1 else [EXAMPLES[a.path]]
    return [arg.choices[0] for arg in a.args if arg.choices and not arg.optional]


def _box(
    idx: int, cls: str, text: str, x: float, y: float, w: float, ins: int, outs: int
) -> dict[str, Any]:
    box: dict[str, Any] = {
        "id": f"obj-{idx}",
        "maxclass": cls,
        "text": text,
        "patching_rect": [x, y, w, 22.0],
        "numinlets": ins,
        "numoutlets": outs,
    }
    if outs:
        box["outlettype"] = [""] * outs
    return {"box": box}


XY_ADDRESS = "/som/xy"  # gets an XY pad in both patches


def _max_xy_pad(
    boxes: list[dict[str, Any]], lines: list[dict[str, Any]], idx: int, y: float, send_id: int
) -> tuple[int, float]:
    """A [pictslider] (floats 0..1, y up) -> [pack 0. 0.] -> [prepend /som/xy] -> udpsend."""
    pad = _box(idx, "pictslider", "", 40.0, y, 120.0, 2, 2)
    pad["box"].update(patching_rect=[40.0, y, 120.0, 120.0], floatoutput=1, leftvalue=0.0,
                      rightvalue=1.0, topvalue=1.0, bottomvalue=0.0)  # fmt: skip
    boxes.append(pad)
    boxes.append(_box(idx + 1, "newobj", "pack 0. 0.", 40.0, y + 130, 80.0, 2, 1))
    boxes.append(_box(idx + 2, "newobj", f"prepend {XY_ADDRESS}", 40.0, y + 160, 110.0, 1, 1))
    boxes.append(_box(idx + 3, "comment", "XY pad: drag to travel the map", 170.0, y, 200.0, 1, 0))
    for src, out, dst, inlet in ((idx, 0, idx + 1, 0), (idx, 1, idx + 1, 1),
                                 (idx + 1, 0, idx + 2, 0), (idx + 2, 0, send_id, 0)):  # fmt: skip
        lines.append({"patchline": {"source": [f"obj-{src}", out],
                                    "destination": [f"obj-{dst}", inlet]}})  # fmt: skip
    return idx + 4, y + 196


def render_maxpat() -> str:
    boxes: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    send_id, recv_id, route_id = 1, 2, 3
    boxes.append(_box(send_id, "newobj", "udpsend 127.0.0.1 8000", 40.0, 40.0, 160.0, 1, 0))
    boxes.append(_box(recv_id, "newobj", "udpreceive 9000", 620.0, 40.0, 110.0, 1, 1))
    fields = " ".join(f"/status/{name}" for name, _ in STATUS_FIELDS)
    boxes.append(
        _box(
            route_id,
            "newobj",
            f"route {fields} /error",
            620.0,
            80.0,
            520.0,
            1,
            len(STATUS_FIELDS) + 2,
        )
    )
    lines.append(
        {"patchline": {"source": [f"obj-{recv_id}", 0], "destination": [f"obj-{route_id}", 0]}}
    )
    idx = 10
    for i, (name, _) in enumerate(STATUS_FIELDS):
        y = 120.0 + 30 * i
        boxes.append(_box(idx, "message", "", 760.0, y, 150.0, 2, 1))
        boxes.append(_box(idx + 1, "comment", name, 620.0, y, 130.0, 1, 0))
        lines.append(
            {"patchline": {"source": [f"obj-{route_id}", i], "destination": [f"obj-{idx}", 1]}}
        )
        idx += 2
    y = 80.0
    group = None
    for a in TABLE:
        if a.debug or a.peer:
            continue
        if a.group != group:
            group = a.group
            y += 12
            boxes.append(_box(idx, "comment", group, 40.0, y, 200.0, 1, 0))
            idx += 1
            y += 26
        text = " ".join([a.path, *example_args(a)])
        boxes.append(_box(idx, "message", text, 40.0, y, 300.0, 2, 1))
        boxes.append(_box(idx + 1, "comment", a.signature, 350.0, y, 250.0, 1, 0))
        lines.append(
            {"patchline": {"source": [f"obj-{idx}", 0], "destination": [f"obj-{send_id}", 0]}}
        )
        idx += 2
        y += 28
        if a.path == XY_ADDRESS:
            idx, y = _max_xy_pad(boxes, lines, idx, y, send_id)
    patcher = {
        "patcher": {
            "fileversion": 1,
            "appversion": {
                "major": 8,
                "minor": 5,
                "revision": 0,
                "architecture": "x64",
                "modernui": 1,
            },
            "rect": [40.0, 60.0, 1200.0, max(800.0, y + 40)],
            "boxes": boxes,
            "lines": lines,
        }
    }
    return json.dumps(patcher, indent=1) + "\n"


def pd_example(a: Address) -> str:
    """The message box content for Pd: plain atoms (Pd has no quoted strings)."""
    args = [x.rstrip(".") for x in example_args(a)]
    if a.path == "/prompt/text":
        args = ["slow-warm-strings-58-bpm"]
    if a.path == "/prompt/search":
        args = ["rain-on-a-tin-roof-slow-piano"]
    if not args:
        return "bang"
    # a symbol first would be taken as the message's selector: make it a list
    return (
        " ".join(["list", *args])
        if not args[0].lstrip("-").replace(".", "").isdigit()
        else " ".join(args)
    )


def render_pd() -> str:
    lines = ["#N canvas 40 60 1100 1300 12;"]
    n = 0

    def add(line: str) -> int:
        nonlocal n
        lines.append(line)
        n += 1
        return n - 1

    send = add("#X obj 40 70 netsend -u -b;")
    connect = add("#X msg 40 20 connect localhost 8000;")
    lines.append(f"#X connect {connect} 0 {send} 0;")
    recv = add("#X obj 640 20 netreceive -u -b 9000;")
    parse = add("#X obj 640 50 oscparse;")
    trim = add("#X obj 640 80 list trim;")
    show = add("#X obj 640 110 print bassd;")
    lines += [f"#X connect {recv} 0 {parse} 0;", f"#X connect {parse} 0 {trim} 0;",
              f"#X connect {trim} 0 {show} 0;"]  # fmt: skip
    add("#X text 640 140 replies: send /status or /subscribe - see docs/osc.md;")
    y = 110
    for a in TABLE:
        if a.debug or a.peer:
            continue
        msg = add(f"#X msg 40 {y} {pd_example(a)};")
        fmt = add(f"#X obj 260 {y} oscformat {a.path[1:].replace('/', ' ')};")
        lines += [f"#X connect {msg} 0 {fmt} 0;", f"#X connect {fmt} 0 {send} 0;"]
        y += 30
        if a.path == XY_ADDRESS:
            # an XY pad from two sliders 0..1 (vanilla Pd has no [grid]): x is hot, y bangs
            hx = add(f"#X obj 40 {y} hsl 128 15 0 1 0 0 empty empty x -2 -8 0 10 "
                     "#fcfcfc #000000 #000000 0 1;")  # fmt: skip
            hy = add(f"#X obj 40 {y + 25} hsl 128 15 0 1 0 0 empty empty y -2 -8 0 10 "
                     "#fcfcfc #000000 #000000 0 1;")  # fmt: skip
            trig = add(f"#X obj 180 {y + 25} t b f;")
            pack = add(f"#X obj 180 {y + 55} pack f f;")
            lines += [f"#X connect {hx} 0 {pack} 0;", f"#X connect {hy} 0 {trig} 0;",
                      f"#X connect {trig} 1 {pack} 1;", f"#X connect {trig} 0 {pack} 0;",
                      f"#X connect {pack} 0 {fmt} 0;"]  # fmt: skip
            y += 90
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--pd"]:
        print(render_pd(), end="")
    else:
        print(render_maxpat(), end="")
