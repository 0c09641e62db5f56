"""A TouchOSC (Mk2, 2022+) layout generated from the address table
(``max_patches/bassd.tosc``).

A ``.tosc`` file is zlib-compressed XML: ``<lexml version='3'>`` holding one root
``<node type='GROUP'>``; every node has ``<properties>`` (typed key/value pairs),
``<values>`` (the control's live values: ``x``, ``y``, ``text``, ``touch``),
``<messages>`` (here ``<osc>``: triggers, a path and arguments made of
``<partial>`` elements) and ``<children>``. An argument partial of type VALUE
sends a control value; its ``scaleMin``/``scaleMax`` map the control's 0..1
travel onto the address's range and its conversion (FLOAT, INTEGER, STRING)
sets the OSC type. Ranges, types and choices all come from ``TABLE``.

Pages of the PAGER: *perform* (mix, FX and renderer faders, transport and
timeline buttons, the listener state and scenes), *sounds* (the ``/som/xy``
pad, the VAE sliders, transpose and snap), *jam* (the accompanist) and *status*
(labels fed by the pushed ``/status/<field>`` messages, and ``/subscribe``).

Regenerate with ``python -m bassd.control.touchosc > max_patches/bassd.tosc``
(a test fails when the file is stale).
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable

from bassd.control.addresses import BY_PATH, STATES, Address, Arg
from bassd.control.patches import EXAMPLES, XY_ADDRESS
from bassd.control.status import STATUS_FIELDS

#: a fixed namespace: node IDs are uuid5 of the node's place, so the file is reproducible
_NS = uuid.UUID("6f1c2a34-5b7d-4e8f-9a0b-1c2d3e4f5a6b")

W, H = 1024, 768  # an iPad in landscape
TAB = 40  # the pager's tab bar

#: perform page faders (one float/int argument each)
PERFORM_FADERS = (
    "/master/gain", "/fx/hpf", "/fx/lpf", "/fx/drive", "/fx/peak",
    "/renderer/coupling", "/renderer/brightness", "/renderer/width", "/renderer/density",
    "/renderer/tempo", "/segment/length", "/crossfade",
)  # fmt: skip
#: perform page momentary buttons (sent without arguments)
PERFORM_BUTTONS = (
    "/segment/skip", "/scene/surprise", "/prompt/next", "/state/auto",
    "/transport/start", "/transport/stop", "/baseline/start", "/adapter/clear",
)  # fmt: skip
SCENES = ("zen", "focus", "energise", "sleep", "off")  # the shipped scenes (see /scene's help)
SOUNDS_FADERS = ("/renderer/transpose",)
VAE_SLIDERS = tuple(f"/vae/slider/{n}" for n in range(1, 9))
JAM_TOGGLES = ("/jam/accompaniment", "/jam/metronome", "/jam/tempo_follow")
JAM_FADERS = (
    "/jam/level", "/jam/fusion", "/jam/tempo", "/jam/program", "/jam/meter",
    "/jam/metronome/level",
)  # fmt: skip
#: the soundscape layers' page: a column per layer, a mix button per shipped vibe
LAYERS = (1, 2, 3, 4)
LAYER_FADERS = ("gain", "pan", "filter")
VIBES = ("zen", "focus", "energise", "sleep")
#: pushed status fields shown on the status page
STATUS_SHOWN = (
    "state", "bpm", "baseline_bpm", "hrv_rmssd_ms", "scene", "emotion", "prompt", "renderer",
    "partials", "transport", "segment_index", "vae_state", "neural_state", "jam_state",
    "jam_key", "jam_chord", "jam_tempo_bpm", "search_state", "dry_callbacks", "server_xruns",
    "osc_dropped", "uptime_s",
)  # fmt: skip
#: single-number addresses deliberately without a control: sensor input and calibration
LEFT_OUT = ("/hr/bpm", "/hr/rr", "/hr/contact", "/baseline/set")

WHITE = (1.0, 1.0, 1.0, 1.0)
GREY = (0.6, 0.6, 0.6, 1.0)
COLOURS = {
    "FADER": (0.2, 0.6, 1.0, 1.0),
    "BUTTON": (1.0, 0.55, 0.1, 1.0),
    "XY": (0.3, 0.85, 0.4, 1.0),
    "LABEL": (0.0, 0.0, 0.0, 0.0),
    "GROUP": (0.08, 0.08, 0.1, 1.0),
    "PAGER": (0.15, 0.15, 0.18, 1.0),
}


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


Frame = tuple[float, float, float, float]


def _prop(kind: str, key: str, value: str | float | bool | Frame) -> str:
    """One typed property: s string, b bool, i int, f float, r frame (x y w h), c colour."""
    if isinstance(value, tuple):
        keys = "xywh" if kind == "r" else "rgba"
        fmt = (lambda c: str(int(c))) if kind == "r" else _num
        inner = "".join(f"<{k}>{fmt(c)}</{k}>" for k, c in zip(keys, value, strict=True))
    elif kind == "s":
        inner = _cdata(str(value))
    elif kind == "b":
        inner = "1" if value else "0"
    elif kind == "f":
        inner = _num(float(value))
    else:
        inner = str(int(value))
    return f"<property type='{kind}'><key>{_cdata(key)}</key><value>{inner}</value></property>"


def _value(key: str, default: str) -> str:
    return (
        f"<value><key>{_cdata(key)}</key><locked>0</locked>"
        f"<lockedDefaultCurrent>0</lockedDefaultCurrent><default>{_cdata(default)}</default>"
        "<defaultPull>0</defaultPull></value>"
    )


def _partial(kind: str, conversion: str, value: str, lo: float = 0, hi: float = 1) -> str:
    return (
        f"<partial><type>{kind}</type><conversion>{conversion}</conversion>"
        f"<value>{_cdata(value)}</value><scaleMin>{_num(lo)}</scaleMin>"
        f"<scaleMax>{_num(hi)}</scaleMax></partial>"
    )


def _osc(
    path: str,
    args: Iterable[str] = (),
    triggers: Iterable[tuple[str, str]] = (("x", "ANY"),),
    *,
    send: bool = True,
) -> str:
    trig = "".join(
        f"<trigger><var>{_cdata(var)}</var><condition>{cond}</condition></trigger>"
        for var, cond in triggers
    )
    return (
        f"<osc><enabled>1</enabled><send>{int(send)}</send><receive>{int(not send)}</receive>"
        "<feedback>0</feedback><noDuplicates>0</noDuplicates>"
        f"<connections>1111111111</connections><triggers>{trig}</triggers>"
        f"<path>{_partial('CONSTANT', 'STRING', path)}</path>"
        f"<arguments>{''.join(args)}</arguments></osc>"
    )


class _Tree:
    """Builds nodes with reproducible IDs (uuid5 of a running count)."""

    def __init__(self) -> None:
        self.count = 0

    def node(
        self,
        kind: str,
        name: str,
        frame: Frame,
        *,
        props: Iterable[str] = (),
        values: Iterable[str] = (),
        osc: Iterable[str] = (),
        children: Iterable[str] = (),
    ) -> str:
        self.count += 1
        node_id = uuid.uuid5(_NS, f"{self.count}:{name}")
        base = [
            _prop("s", "name", name),
            _prop("r", "frame", frame),
            _prop("c", "color", COLOURS[kind]),
            _prop("b", "background", kind != "LABEL"),
            _prop("b", "visible", True),
            _prop("b", "locked", False),
            *props,
        ]
        kids = "".join(children)
        return (
            f"<node ID='{node_id}' type='{kind}'><properties>{''.join(base)}</properties>"
            f"<values>{''.join(values)}{_value('touch', 'false')}</values>"
            f"<messages>{''.join(osc)}</messages>"
            + (f"<children>{kids}</children>" if kids else "")
            + "</node>"
        )

    def label(self, text: str, frame: Frame, size: int = 14) -> str:
        return self.node(
            "LABEL",
            f"label {text}",
            frame,
            props=[_prop("i", "textSize", size), _prop("c", "textColor", GREY)],
            values=[_value("text", text)],
        )


def _conversion(arg: Arg) -> str:
    return {"f": "FLOAT", "i": "INTEGER"}[arg.type]


def _default_x(a: Address) -> str:
    """The fader's start position: the patches' example value, normalised to 0..1."""
    arg = a.args[0]
    assert arg.lo is not None and arg.hi is not None
    example = EXAMPLES.get(a.path)
    if example is None:
        return "0"
    x = (float(example) - arg.lo) / (arg.hi - arg.lo)
    return _num(round(min(max(x, 0.0), 1.0), 6))


def _fader(t: _Tree, path: str, x: float, y: float, w: float, h: float) -> list[str]:
    """A labelled vertical fader sending the address's one number, scaled to its range."""
    a = BY_PATH[path]
    arg = a.args[0]
    assert arg.lo is not None and arg.hi is not None
    unit = f" {arg.unit}" if arg.unit else ""
    caption = path.split("/", 2)[-1] + unit
    fader = t.node(
        "FADER",
        path,
        (x, y + 22, w, h - 22),
        props=[_prop("i", "orientation", 0), _prop("b", "centered", False)],
        values=[_value("x", _default_x(a))],
        osc=[_osc(path, [_partial("VALUE", _conversion(arg), "x", arg.lo, arg.hi)])],
    )
    return [t.label(caption, (x, y, w, 20), 12), fader]


def _button(t: _Tree, path: str, text: str, frame: Frame, *args: str) -> list[str]:
    """A momentary button sending the address (with constant string arguments) on press."""
    x, y, w, h = frame
    button = t.node(
        "BUTTON",
        f"{path} {' '.join(args)}".strip(),
        frame,
        props=[_prop("i", "buttonType", 0)],
        values=[_value("x", "0")],
        osc=[
            _osc(
                path,
                [_partial("CONSTANT", "STRING", v) for v in args],
                (("x", "RISE"),),
            )
        ],
    )
    return [button, t.label(text, (x, y + h, w, 18), 11)]


def _toggle(t: _Tree, path: str, frame: Frame) -> list[str]:
    """A toggle button sending 1 (on) or 0 (off) as an integer."""
    x, y, w, h = frame
    arg = BY_PATH[path].args[0]
    assert arg.lo is not None and arg.hi is not None
    button = t.node(
        "BUTTON",
        path,
        frame,
        props=[_prop("i", "buttonType", 1)],
        values=[_value("x", "0")],
        osc=[_osc(path, [_partial("VALUE", "INTEGER", "x", arg.lo, arg.hi)])],
    )
    return [button, t.label(path.rsplit("/", 1)[-1], (x, y + h, w, 18), 11)]


def _page(t: _Tree, name: str, children: list[str]) -> str:
    return t.node(
        "GROUP",
        name,
        (0, TAB, W, H - TAB),
        props=[_prop("s", "tabLabel", name)],
        children=children,
    )


def _perform(t: _Tree) -> str:
    kids: list[str] = []
    fw = (W - 20) / len(PERFORM_FADERS)
    for i, path in enumerate(PERFORM_FADERS):
        kids += _fader(t, path, 10 + i * fw, 10, fw - 8, 380)
    bw = (W - 20) / len(PERFORM_BUTTONS)
    for i, path in enumerate(PERFORM_BUTTONS):
        kids += _button(t, path, path, (10 + i * bw, 410, bw - 8, 60))
    kids.append(t.label("listener state", (10, 500, 300, 20)))
    for i, state in enumerate(STATES):
        kids += _button(t, "/state/force", state, (10 + i * 110, 524, 100, 60), state)
    kids.append(t.label("scene", (360, 500, 300, 20)))
    for i, scene in enumerate(SCENES):
        kids += _button(t, "/scene", scene, (360 + i * 110, 524, 100, 60), scene)
    return _page(t, "perform", kids)


def _sounds(t: _Tree) -> str:
    kids: list[str] = [t.label("sound map (/som/xy)", (10, 10, 400, 20))]
    kids.append(
        t.node(
            "XY",
            XY_ADDRESS,
            (10, 34, 420, 420),
            values=[_value("x", "0.5"), _value("y", "0.5")],
            osc=[
                _osc(
                    XY_ADDRESS,
                    [_partial("VALUE", "FLOAT", "x", 0, 1), _partial("VALUE", "FLOAT", "y", 0, 1)],
                    (("x", "ANY"), ("y", "ANY")),
                )
            ],
        )
    )
    fw = (W - 460 - 10) / (len(VAE_SLIDERS) + len(SOUNDS_FADERS))
    for i, path in enumerate(VAE_SLIDERS + SOUNDS_FADERS):
        kids += _fader(t, path, 460 + i * fw, 10, fw - 8, 444)
    snap = BY_PATH["/renderer/partials_snap"].args[0].choices or ()
    kids.append(t.label("snap the sound's partials", (10, 480, 300, 20)))
    for i, choice in enumerate(snap):
        kids += _button(t, "/renderer/partials_snap", choice, (10 + i * 110, 504, 100, 60), choice)
    return _page(t, "sounds", kids)


def _jam(t: _Tree) -> str:
    kids: list[str] = []
    fw = (W - 20) / len(JAM_FADERS)
    for i, path in enumerate(JAM_FADERS):
        kids += _fader(t, path, 10 + i * fw, 10, fw - 8, 380)
    for i, path in enumerate(JAM_TOGGLES):
        kids += _toggle(t, path, (10 + i * 130, 410, 120, 60))
    kids += _button(t, "/jam/panic", "panic", (10 + len(JAM_TOGGLES) * 130, 410, 120, 60))
    styles = BY_PATH["/jam/style"].args[0].choices or ()
    kids.append(t.label("style", (10, 500, 300, 20)))
    for i, style in enumerate(styles):
        kids += _button(t, "/jam/style", style, (10 + i * 110, 524, 100, 60), style)
    return _page(t, "jam", kids)


def _layers(t: _Tree) -> str:
    """One column per soundscape layer (gain, pan, filter, mute) and a mix per vibe."""
    kids: list[str] = []
    cw = (W - 20) / len(LAYERS)
    for n in LAYERS:
        x0 = 10 + (n - 1) * cw
        kids.append(t.label(f"layer {n}", (x0, 10, cw - 8, 20)))
        fw = (cw - 16) / len(LAYER_FADERS)
        for i, what in enumerate(LAYER_FADERS):
            kids += _fader(t, f"/layers/{n}/{what}", x0 + i * fw, 34, fw - 8, 346)
        kids += _toggle(t, f"/layers/{n}/mute", (x0, 410, cw - 16, 60))
    kids.append(t.label("mix for a vibe (/layers/mix)", (10, 500, 300, 20)))
    for i, vibe in enumerate(VIBES):
        kids += _button(t, "/layers/mix", vibe, (10 + i * 110, 524, 100, 60), vibe)
    return _page(t, "layers", kids)


def _status(t: _Tree) -> str:
    kids: list[str] = []
    kids += _button(t, "/subscribe", "subscribe (pushes for osc.subscription_seconds)",
                    (10, 10, 240, 50))  # fmt: skip
    kids += _button(t, "/status", "status once", (260, 10, 160, 50))
    kids += _button(t, "/unsubscribe", "unsubscribe", (430, 10, 160, 50))
    kinds = dict(STATUS_FIELDS)
    rows = (len(STATUS_SHOWN) + 1) // 2
    for i, name in enumerate(STATUS_SHOWN):
        assert name in kinds, name
        col, row = divmod(i, rows)
        x, y = 10 + col * (W // 2), 100 + row * 46
        kids.append(t.label(name, (x, y, 180, 40), 14))
        kids.append(
            t.node(
                "LABEL",
                f"/status/{name}",
                (x + 190, y, W // 2 - 210, 40),
                props=[_prop("i", "textSize", 18), _prop("c", "textColor", WHITE)],
                values=[_value("text", "-")],
                osc=[
                    _osc(
                        f"/status/{name}",
                        [_partial("VALUE", "STRING", "text")],
                        (),
                        send=False,
                    )
                ],
            )
        )
    return _page(t, "status", kids)


def render_xml() -> str:
    t = _Tree()
    pages = [_perform(t), _sounds(t), _jam(t), _layers(t), _status(t)]
    pager = t.node(
        "PAGER",
        "pages",
        (0, 0, W, H),
        props=[_prop("b", "tabbar", True), _prop("f", "tabbarSize", TAB)],
        values=[_value("page", "0")],
        children=pages,
    )
    root = t.node("GROUP", "bassd", (0, 0, W, H), children=[pager])
    return "<?xml version='1.0' encoding='UTF-8'?>\n<lexml version='3'>" + root + "</lexml>\n"


def render_tosc() -> bytes:
    """max_patches/bassd.tosc: the layout's XML, zlib-compressed as TouchOSC writes it."""
    return zlib.compress(render_xml().encode("utf-8"), 9)


if __name__ == "__main__":
    import sys

    sys.stdout.buffer.write(render_tosc())
