"""The OSCQuery server: namespace, HTTP queries, WebSocket LISTEN, guards."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bassd.control.addresses import TABLE
from bassd.control.osc_codec import Message, parse_packet
from bassd.control.oscquery import Advertiser, OscQueryServer, find_node, namespace
from bassd.control.status import STATUS_FIELDS, Status

pytestmark = pytest.mark.timeout(60)


def _values() -> dict[str, Any]:
    s = Status()
    s.bpm = 72.0
    s.master_gain_db = -6.0
    s.fx = {"gain_db": -6.0, "hpf_hz": 30.0, "lpf_hz": 18000.0, "drive": 1.0, "peak": 0.9}
    return s.as_dict()


def _serve(
    body: Callable[[OscQueryServer, str, dict[str, Any]], Awaitable[None]],
    *,
    allow: tuple[str, ...] = ("127.0.0.0/8",),
) -> None:
    values = _values()

    async def main() -> None:
        server = OscQueryServer(lambda: values, osc_port=8000, allow=list(allow), push_hz=50)
        await server.start()
        try:
            await body(server, f"http://127.0.0.1:{server.port}", values)
        finally:
            await server.stop()

    asyncio.run(main())


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        text = await r.text()
        return r.status, (json.loads(text) if text else None)


def test_namespace_covers_every_non_debug_address_with_its_type_and_range() -> None:
    """Every non-debug TABLE address is a node with its type tags and per-argument ranges."""
    tree = namespace(TABLE, _values())
    for a in TABLE:
        node = find_node(tree, a.path)
        if a.debug:
            assert node is None
            continue
        assert node is not None, a.path
        assert node["FULL_PATH"] == a.path
        assert node["TYPE"] == "".join(arg.type for arg in a.args)
        for arg, rng in zip(a.args, node.get("RANGE", [None] * len(a.args)), strict=True):
            if arg.choices:
                assert rng == {"VALS": list(arg.choices)}
            elif arg.lo is not None:
                assert rng == {"MIN": arg.lo, "MAX": arg.hi}
            else:
                assert rng is None
        assert node["ACCESS"] in (2, 3)
    gain = find_node(tree, "/master/gain")
    assert gain is not None
    assert gain["UNIT"] == ["dB"] and gain["CLIPMODE"] == ["both"] and gain["VALUE"] == [-6.0]
    lpf = find_node(tree, "/fx/lpf")
    assert lpf is not None and lpf["ACCESS"] == 3 and lpf["VALUE"] == [18000.0]


def test_namespace_has_a_read_only_status_node_per_pushed_field() -> None:
    """Each STATUS_FIELDS entry is a /status/<field> node, read-only, typed, with its value."""
    tree = namespace(TABLE, _values())
    for name, kind in STATUS_FIELDS:
        node = find_node(tree, f"/status/{name}")
        assert node is not None and node["TYPE"] == kind and node["ACCESS"] == 1
    bpm = find_node(tree, "/status/bpm")
    assert bpm is not None and bpm["VALUE"] == [72.0]


def test_host_info_and_root() -> None:
    """?HOST_INFO names the OSC port and transport and the extensions; / is the whole tree."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        status, info = await _get(base + "/?HOST_INFO")
        assert status == 200
        assert info["NAME"] == "bassd" and info["OSC_PORT"] == 8000
        assert info["OSC_TRANSPORT"] == "UDP"
        ext = info["EXTENSIONS"]
        assert ext["LISTEN"] is True and ext["TAGS"] is False and ext["PATH_CHANGED"] is False
        assert all(ext[k] for k in ("ACCESS", "VALUE", "RANGE", "DESCRIPTION", "CLIPMODE", "UNIT"))
        status, root = await _get(base + "/")
        assert status == 200 and "master" in root["CONTENTS"]

    _serve(body)


def test_value_query_returns_the_live_value() -> None:
    """?VALUE of /status/bpm reads get_values() at the time of the request."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        assert await _get(base + "/status/bpm?VALUE") == (200, {"VALUE": [72.0]})
        values["bpm"] = 80.5
        assert await _get(base + "/status/bpm?VALUE") == (200, {"VALUE": [80.5]})
        status, node = await _get(base + "/fx/lpf")
        assert (
            status == 200 and node["TYPE"] == "f" and node["RANGE"] == [{"MIN": 1000, "MAX": 20000}]
        )
        assert await _get(base + "/fx/lpf?TYPE") == (200, {"TYPE": "f"})

    _serve(body)


def test_vae_sliders_read_their_live_values_in_order() -> None:
    """/vae/slider/N?VALUE is the N-th slider of the playing model (the status keeps them
    keyed by their measured names); a slider the model lacks, and no model, have no value
    (204, as every control not known yet)."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        assert await _get(base + "/vae/slider/1?VALUE") == (204, None)
        values["vae_sliders"] = {"brightness": 0.7, "density": 0.25}
        assert await _get(base + "/vae/slider/1?VALUE") == (200, {"VALUE": [0.7]})
        assert await _get(base + "/vae/slider/2?VALUE") == (200, {"VALUE": [0.25]})
        assert await _get(base + "/vae/slider/3?VALUE") == (204, None)

    _serve(body)


def test_unknown_path_is_404_and_unknown_attribute_400() -> None:
    """An unknown node answers 404 JSON, an unknown attribute 400 JSON."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        status, err = await _get(base + "/no/such/node")
        assert status == 404 and "ERROR" in err
        status, err = await _get(base + "/master/gain?COLOUR")
        assert status == 400 and "ERROR" in err

    _serve(body)


def test_source_outside_allow_is_403() -> None:
    """A request from an address outside allow is refused with 403, WebSocket included."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        status, err = await _get(base + "/")
        assert status == 403 and "ERROR" in err
        async with aiohttp.ClientSession() as s:
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await s.ws_connect(base + "/")
            assert exc.value.status == 403

    _serve(body, allow=("10.0.0.0/8",))


async def _next_osc(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> Message | None:
    try:
        msg = await ws.receive(timeout=timeout)
    except TimeoutError:
        return None
    assert msg.type == aiohttp.WSMsgType.BINARY, msg
    packet = parse_packet(msg.data)
    assert isinstance(packet, Message)
    return packet


def test_listen_streams_changes_as_osc_and_ignore_stops_them() -> None:
    """LISTEN /status/bpm sends a binary OSC packet when bpm changes; IGNORE stops it."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        async with aiohttp.ClientSession() as s, s.ws_connect(base + "/status") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/status/bpm"}))
            await asyncio.sleep(0.1)  # let the command land before the change
            values["bpm"] = 90.0
            msg = await _next_osc(ws, timeout=5.0)
            assert msg is not None
            assert msg.address == "/status/bpm" and msg.typetags == "f" and msg.args == (90.0,)
            await ws.send_str(json.dumps({"COMMAND": "IGNORE", "DATA": "/status/bpm"}))
            await asyncio.sleep(0.1)
            values["bpm"] = 95.0
            assert await _next_osc(ws, timeout=0.3) is None  # 15 push periods, nothing sent

    _serve(body)


def test_unchanged_value_is_not_resent() -> None:
    """A listened value is sent once per change, not every push period."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        async with aiohttp.ClientSession() as s, s.ws_connect(base + "/") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/master/gain"}))
            await asyncio.sleep(0.1)
            values["master_gain_db"] = -12.0
            msg = await _next_osc(ws, timeout=5.0)
            assert msg is not None and msg.args == (-12.0,)
            assert await _next_osc(ws, timeout=0.3) is None

    _serve(body)


def test_malformed_websocket_input_gets_an_error_and_the_socket_stays_open() -> None:
    """Garbage, an unknown command or path each get a JSON error; LISTEN then still works."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        async with aiohttp.ClientSession() as s, s.ws_connect(base + "/") as ws:
            for bad in (
                "{not json",
                json.dumps({"COMMAND": "DANCE", "DATA": "/status/bpm"}),
                json.dumps({"COMMAND": "LISTEN", "DATA": "/no/such"}),
                json.dumps({"COMMAND": "LISTEN", "DATA": "/segment/skip"}),
                json.dumps([1, 2]),
            ):
                await ws.send_str(bad)
                reply = await ws.receive(timeout=5.0)
                assert reply.type == aiohttp.WSMsgType.TEXT
                assert "ERROR" in json.loads(reply.data)
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/status/bpm"}))
            await asyncio.sleep(0.1)
            values["bpm"] = 61.0
            msg = await _next_osc(ws, timeout=5.0)
            assert msg is not None and msg.args == (61.0,)

    _serve(body)


def test_malformed_http_gets_an_error_and_the_server_keeps_serving() -> None:
    """A raw socket sending garbage gets a 4xx response; the next request is served."""

    async def body(server: OscQueryServer, base: str, values: dict[str, Any]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.read(200), timeout=5.0)
        writer.close()
        assert head.startswith(b"HTTP/1.") and head.split()[1].startswith(b"4")
        status, _ = await _get(base + "/status/bpm?VALUE")
        assert status == 200

    _serve(body)


def test_advertiser_never_raises_without_multicast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zeroconf failure (no multicast) is logged and advertise returns False."""
    import zeroconf

    class Broken:
        def __init__(self, *a: Any, **k: Any) -> None:
            raise OSError("no multicast here")

    monkeypatch.setattr(zeroconf, "Zeroconf", Broken)

    async def main() -> None:
        adv = Advertiser()
        assert await adv.advertise("bassd", 8080, 8000, address="127.0.0.1") is False
        await adv.close()

    asyncio.run(main())


def test_advertiser_registers_both_services_or_reports_why_not() -> None:
    """With real zeroconf, advertise registers _oscjson._tcp and _osc._udp, or returns False."""

    async def main() -> None:
        adv = Advertiser()
        try:
            ok = await adv.advertise("bassd-test", 8080, 8000, address="127.0.0.1")
            names = sorted(s.name for s in adv.services)
            if ok:
                assert names == ["bassd-test._osc._udp.local.", "bassd-test._oscjson._tcp.local."]
            else:
                assert names == []
        finally:
            await adv.close()
        assert adv.services == []

    asyncio.run(main())
