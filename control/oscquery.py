"""OSCQuery (https://github.com/Vidvox/OSCQueryProposal): the OSC address table as JSON.

A client (Chataigne, ossia score, TouchOSC's browser, vezér) asks the HTTP port for the
namespace (``GET /`` or any node path), learns every address, its types, ranges, units and
help, and reads live values (``?VALUE``). A WebSocket on the same port takes
``{"COMMAND": "LISTEN", "DATA": "/status/bpm"}`` and then streams that node's value changes
as binary OSC packets; ``IGNORE`` stops them. The controls themselves are still sent to the
daemon's OSC port (UDP), which validates them: this server only describes and reports.

Node access: 2 (write-only) for a control whose value is not in the status record; 3
(read-write) for a control whose value is (see ``CONTROL_VALUES``); 1 (read-only) for the
``/status/<field>`` value nodes, one per pushed field of ``STATUS_FIELDS``.

``get_values()`` returns the status record as a mapping (``controller.status().as_dict()``);
it is called once per request and once per push period while someone listens.

``Advertiser`` announces ``_oscjson._tcp`` (this HTTP port) and ``_osc._udp`` (the OSC
port) over mDNS, so clients find the daemon without typing an address; a host without
multicast logs it and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from bassd.control.addresses import TABLE, Address, Arg
from bassd.control.osc_codec import encode_message
from bassd.control.status import FIELDS, STATUS_FIELDS

log = structlog.get_logger("bassd.oscquery")

#: the OSCQuery attributes a query string may ask for
ATTRIBUTES = frozenset(
    {"VALUE", "TYPE", "RANGE", "DESCRIPTION", "ACCESS", "FULL_PATH", "CONTENTS", "CLIPMODE",
     "UNIT", "HOST_INFO"}
)  # fmt: skip

EXTENSIONS = {
    "ACCESS": True,
    "VALUE": True,
    "RANGE": True,
    "DESCRIPTION": True,
    "TAGS": False,
    "CLIPMODE": True,
    "UNIT": True,
    "LISTEN": True,
    "PATH_CHANGED": False,
}

ACCESS_NONE, ACCESS_READ, ACCESS_WRITE, ACCESS_READ_WRITE = 0, 1, 2, 3

_Reader = Callable[[Mapping[str, Any]], Any]


def _key(*keys: str) -> _Reader:
    """A reader of one value nested in the status record (None when absent)."""

    def read(values: Mapping[str, Any]) -> Any:
        v: Any = values
        for k in keys:
            if not isinstance(v, Mapping):
                return None
            v = v.get(k)
        return v

    return read


def _nth(key: str, index: int) -> _Reader:
    """A reader of the ``index``-th value of a status mapping (the VAE's sliders, in their
    order, keyed by their measured names)."""

    def read(values: Mapping[str, Any]) -> Any:
        v = values.get(key)
        if not isinstance(v, Mapping) or index >= len(v):
            return None
        return list(v.values())[index]

    return read


#: controls whose current value the status record holds: path -> one reader per argument
CONTROL_VALUES: dict[str, tuple[_Reader, ...]] = {
    "/master/gain": (_key("master_gain_db"),),
    "/fx/hpf": (_key("fx", "hpf_hz"),),
    "/fx/lpf": (_key("fx", "lpf_hz"),),
    "/fx/drive": (_key("fx", "drive"),),
    "/fx/peak": (_key("fx", "peak"),),
    "/renderer/coupling": (_key("renderer_params", "coupling"),),
    "/renderer/brightness": (_key("renderer_params", "brightness"),),
    "/renderer/width": (_key("renderer_params", "width"),),
    "/renderer/density": (_key("renderer_params", "density"),),
    "/renderer/key": (_key("renderer_params", "key"),),
    "/renderer/mode": (_key("renderer_params", "mode"),),
    "/renderer/tempo": (_key("renderer_params", "tempo_bpm"),),
    "/renderer/partials_snap": (_key("renderer_params", "partials_snap"),),
    "/renderer/transpose": (_key("renderer_params", "partials_transpose"),),
    "/som/xy": (_key("som_x"), _key("som_y")),
    "/jam/accompaniment": (_key("jam_accompaniment"),),
    "/jam/style": (_key("jam_style"),),
    "/jam/program": (_key("jam_program"),),
    "/jam/fusion": (_key("jam_fusion_weight"),),
    "/jam/tempo": (_key("jam_tempo_bpm"),),
    "/jam/meter": (_key("jam_meter"),),
    "/jam/metronome": (_key("jam_metronome"),),
    "/jam/tempo_follow": (_key("jam_tempo_follow"),),
    **{f"/vae/slider/{n}": (_nth("vae_sliders", n - 1),) for n in range(1, 9)},
}

_FIELD_DOCS = {f.name: f.metadata["doc"] for f in FIELDS}


def _coerce(kind: str, value: Any) -> Any:
    """A value typed for its OSC type tag; None stays None (not known yet)."""
    if value is None:
        return None
    if kind == "f":
        return float(value)
    if kind == "i":
        return int(value)
    return str(value)


def _type_tags(a: Address) -> str:
    return "".join(arg.type for arg in a.args)


def _arg_range(arg: Arg) -> dict[str, Any] | None:
    if arg.choices:
        return {"VALS": list(arg.choices)}
    if arg.lo is not None and arg.hi is not None:
        lo: float | int = int(arg.lo) if arg.type == "i" else arg.lo
        hi: float | int = int(arg.hi) if arg.type == "i" else arg.hi
        return {"MIN": lo, "MAX": hi}
    return None


def _value_readers(path: str) -> tuple[_Reader, ...] | None:
    """The readers of a node's live value, or None for a node without one."""
    if path in CONTROL_VALUES:
        return CONTROL_VALUES[path]
    name = path.removeprefix("/status/")
    if path.startswith("/status/") and name in _STATUS_KINDS:
        return (_key(name),)
    return None


_STATUS_KINDS = dict(STATUS_FIELDS)


def _node_types(path: str, table: Iterable[Address]) -> str | None:
    if path.startswith("/status/") and path[8:] in _STATUS_KINDS:
        return _STATUS_KINDS[path[8:]]
    for a in table:
        if a.path == path:
            return _type_tags(a)
    return None


def read_value(path: str, types: str, values: Mapping[str, Any]) -> list[Any] | None:
    """The node's current value, one item per type tag, or None when any part is unknown."""
    readers = _value_readers(path)
    if readers is None:
        return None
    out = [_coerce(t, r(values)) for t, r in zip(types, readers, strict=True)]
    return None if any(v is None for v in out) else out


def _container(full_path: str, description: str = "") -> dict[str, Any]:
    node: dict[str, Any] = {"FULL_PATH": full_path, "ACCESS": ACCESS_NONE, "CONTENTS": {}}
    if description:
        node["DESCRIPTION"] = description
    return node


def _place(root: dict[str, Any], path: str) -> dict[str, Any]:
    """The node at ``path``, made (as containers) along the way."""
    node = root
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        contents = node.setdefault("CONTENTS", {})
        if part not in contents:
            contents[part] = _container("/" + "/".join(parts[: i + 1]))
        node = contents[part]
    return node


def namespace(
    table: Iterable[Address], values: Mapping[str, Any], *, include_debug: bool = False
) -> dict[str, Any]:
    """The OSCQuery tree of ``table`` (plus ``/status/<field>`` value nodes), with live values."""
    table = [a for a in table if include_debug or not a.debug]
    root = _container("/", "bassd: the adaptive music daemon's OSC address space")
    for a in table:
        node = _place(root, a.path)
        if not node["CONTENTS"]:
            del node["CONTENTS"]
        types = _type_tags(a)
        node["TYPE"] = types
        node["DESCRIPTION"] = f"{a.help} Arguments: {a.signature}."
        ranges = [_arg_range(arg) for arg in a.args]
        if any(r is not None for r in ranges):
            node["RANGE"] = ranges
            node["CLIPMODE"] = ["both" if r and "MIN" in r else "none" for r in ranges]
        if any(arg.unit for arg in a.args):
            node["UNIT"] = [arg.unit or None for arg in a.args]
        if a.path in CONTROL_VALUES:
            node["ACCESS"] = ACCESS_READ_WRITE
            value = read_value(a.path, types, values)
            if value is not None:
                node["VALUE"] = value
        else:
            node["ACCESS"] = ACCESS_WRITE
    for name, kind in STATUS_FIELDS:
        path = f"/status/{name}"
        node = _place(root, path)
        del node["CONTENTS"]
        node.update(TYPE=kind, ACCESS=ACCESS_READ, DESCRIPTION=_FIELD_DOCS[name])
        value = read_value(path, kind, values)
        node["VALUE"] = [None] if value is None else value
    return root


def find_node(tree: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = tree
    for part in (p for p in path.split("/") if p):
        contents = node.get("CONTENTS") if node is not None else None
        if not isinstance(contents, dict) or part not in contents:
            return None
        node = contents[part]
    return node


# -------------------------------------------------------------------- the server
def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ERROR": message, "STATUS": status}, status=status)


class _Client:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.listening: dict[str, tuple[str, list[Any] | None]] = {}  # path -> (types, last)


class OscQueryServer:
    """The OSCQuery HTTP + WebSocket server, on the daemon's asyncio loop."""

    def __init__(
        self,
        get_values: Callable[[], Mapping[str, Any]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        osc_port: int,
        name: str = "bassd",
        allow: Iterable[str] = ("127.0.0.0/8", "::1/128"),
        push_hz: float = 10.0,
        table: Iterable[Address] = TABLE,
    ) -> None:
        if push_hz <= 0:
            raise ValueError("push_hz must be > 0")
        self.get_values = get_values
        self.host = host
        self.port = port
        self.osc_port = osc_port
        self.name = name
        self.push_hz = push_hz
        self.table = [a for a in table if not a.debug]
        self._networks = [ipaddress.ip_network(n, strict=False) for n in allow]
        self._clients: set[_Client] = set()
        self._runner: web.AppRunner | None = None
        self._poller: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._poller = asyncio.create_task(self._poll(), name="oscquery-push")
        log.info("oscquery_listening", host=self.host, port=self.port, osc_port=self.osc_port)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        for client in list(self._clients):
            with contextlib.suppress(Exception):
                await client.ws.close()
        self._clients.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------ HTTP
    def allowed(self, remote: str | None) -> bool:
        if not remote:
            return False
        try:
            ip = ipaddress.ip_address(remote.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == n.version and ip in n for n in self._networks)

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if not self.allowed(request.remote):
            log.warning("oscquery_refused", remote=request.remote, path=request.path)
            return _error(403, "this address is not in osc.allow")
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400:
                return _error(exc.status, exc.reason)
            raise
        return response

    def host_info(self) -> dict[str, Any]:
        return {
            "NAME": self.name,
            "OSC_PORT": self.osc_port,
            "OSC_TRANSPORT": "UDP",
            "EXTENSIONS": dict(EXTENSIONS),
            "WS_PORT": self.port,
        }

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        attrs = list(request.query)
        if attrs and attrs[0] == "HOST_INFO":
            return web.json_response(self.host_info())
        tree = namespace(self.table, self.get_values())
        node = find_node(tree, request.path)
        if node is None:
            return _error(404, f"no node {request.path}")
        if not attrs:
            return web.json_response(node)
        attr = attrs[0]
        if attr not in ATTRIBUTES:
            return _error(400, f"unknown attribute {attr}")
        if attr not in node:
            return web.Response(status=204)
        return web.json_response({attr: node[attr]})

    # ------------------------------------------------------------ WebSocket
    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = _Client(ws)
        self._clients.add(client)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    error = self._command(client, msg.data)
                    if error:
                        await ws.send_json({"ERROR": error})
                elif msg.type == WSMsgType.BINARY:
                    await ws.send_json({"ERROR": "binary OSC goes to the OSC port (UDP)"})
        finally:
            self._clients.discard(client)
        return ws

    def _command(self, client: _Client, text: str) -> str | None:
        """Apply one JSON command; the error's text, or None."""
        try:
            cmd = json.loads(text)
        except ValueError:
            return "not JSON"
        if not isinstance(cmd, dict):
            return "expected a JSON object with COMMAND and DATA"
        command, path = cmd.get("COMMAND"), cmd.get("DATA")
        if command not in ("LISTEN", "IGNORE"):
            return f"unknown COMMAND {command!r} (LISTEN or IGNORE)"
        if not isinstance(path, str):
            return "DATA must be a node path"
        if command == "IGNORE":
            client.listening.pop(path, None)
            return None
        types = _node_types(path, self.table)
        if types is None or _value_readers(path) is None:
            return f"no readable node {path}"
        client.listening[path] = (types, read_value(path, types, self.get_values()))
        return None

    async def _poll(self) -> None:
        period = 1.0 / self.push_hz
        while True:
            await asyncio.sleep(period)
            if not any(c.listening for c in self._clients):
                continue
            try:
                values = self.get_values()
            except Exception:
                log.exception("oscquery_values_failed")
                continue
            for client in list(self._clients):
                await self._push(client, values)

    async def _push(self, client: _Client, values: Mapping[str, Any]) -> None:
        for path, (types, last) in list(client.listening.items()):
            value = read_value(path, types, values)
            if value is None or value == last:
                continue
            client.listening[path] = (types, value)
            try:
                await client.ws.send_bytes(encode_message(path, *value))
            except (ConnectionError, RuntimeError):
                self._clients.discard(client)
                return


# -------------------------------------------------------------------- mDNS
def _local_address() -> str:
    """This host's address on its default route (no packet is sent); loopback without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


class Advertiser:
    """Announces the OSCQuery HTTP port and the OSC port over mDNS (python-zeroconf).

    The synchronous ``Zeroconf`` runs in a thread (``asyncio.to_thread``): building it
    enumerates interfaces and opens sockets, and registering probes the network for
    about two seconds, none of which may happen on the loop that pumps the audio."""

    def __init__(self) -> None:
        self._zc: Any = None
        self.services: list[Any] = []

    async def advertise(
        self, name: str, http_port: int, osc_port: int, address: str | None = None
    ) -> bool:
        """Register ``_oscjson._tcp`` and ``_osc._udp``; False (logged) where mDNS fails."""
        try:
            ip = await asyncio.to_thread(self._register, name, http_port, osc_port, address)
        except Exception as exc:  # no multicast, no interface, a name clash: go on without
            log.warning("oscquery_mdns_failed", error=f"{type(exc).__name__}: {exc}")
            await self.close()
            return False
        log.info("oscquery_mdns", name=name, address=ip, http_port=http_port, osc_port=osc_port)
        return True

    def _register(self, name: str, http_port: int, osc_port: int, address: str | None) -> str:
        from zeroconf import ServiceInfo, Zeroconf

        ip = address or _local_address()
        server = f"{socket.gethostname().split('.')[0] or 'bassd'}.local."
        self._zc = Zeroconf()
        for kind, port in (("_oscjson._tcp.local.", http_port), ("_osc._udp.local.", osc_port)):
            info = ServiceInfo(kind, f"{name}.{kind}", port=port, parsed_addresses=[ip],
                               server=server, properties={"txtvers": "1"})  # fmt: skip
            self._zc.register_service(info)
            self.services.append(info)
        return ip

    async def close(self) -> None:
        zc, self._zc = self._zc, None
        self.services = []
        if zc is None:
            return

        def shut() -> None:
            with contextlib.suppress(Exception):
                zc.unregister_all_services()
            with contextlib.suppress(Exception):
                zc.close()

        await asyncio.to_thread(shut)
