"""OSCQuery live: the playing daemon serves its namespace and live values to an independent
HTTP client, streams a LISTENed value over a real WebSocket when it changes over UDP (sent
by liblo's oscsend), refuses malformed input, and the audio does not notice."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request

import pytest

from bassd.control.osc_codec import Message, parse_packet
from tests.health import assert_engine_healthy
from tests.osc_client import oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def _port(d) -> int:
    return int(d.wait_for_log("oscquery_listening")["port"])


def test_oscquery_serves_the_playing_daemon(jack_server, start_daemon) -> None:
    """HOST_INFO names the OSC port; the namespace holds /fx/lpf with its range and
    /status/bpm; LISTEN /status/bpm delivers an OSC packet with 72 after /hr/bpm 72;
    garbage over HTTP gets a 4xx; 0 dry callbacks throughout."""
    import aiohttp

    mark = jack_server.mark()
    d = start_daemon(jack_server)
    port = _port(d)
    base = f"http://127.0.0.1:{port}"
    info = json.loads(urllib.request.urlopen(f"{base}/?HOST_INFO", timeout=5).read())
    assert info["OSC_PORT"] == d.osc_port and info["EXTENSIONS"]["LISTEN"] is True
    lpf = json.loads(urllib.request.urlopen(f"{base}/fx/lpf", timeout=5).read())
    assert lpf["TYPE"] == "f" and lpf["RANGE"] == [{"MIN": 1000, "MAX": 20000}]

    async def listen() -> Message:
        async with aiohttp.ClientSession() as s, s.ws_connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send_str("not json")
            err = await asyncio.wait_for(ws.receive(), 5)
            assert "ERROR" in err.data
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/status/bpm"}))
            await asyncio.sleep(0.3)
            oscsend(d.osc_port, "/hr/bpm", "f", 72.0)
            while True:
                msg = await asyncio.wait_for(ws.receive(), 5)
                if msg.type == aiohttp.WSMsgType.BINARY:
                    packet = parse_packet(msg.data)
                    assert isinstance(packet, Message)
                    return packet

    packet = asyncio.run(listen())
    assert packet.address == "/status/bpm" and packet.args[0] == pytest.approx(72.0)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"\x16\x03garbage that is not HTTP\r\n\r\n")
        reply = raw.recv(200)
    assert reply.startswith(b"HTTP/1.") and b" 4" in reply[:13]
    st = query_status(d.osc_port, d.reply_port)
    assert st["bpm"] == 72.0
    assert_engine_healthy(st, jack_server, mark)
