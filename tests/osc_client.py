"""Independent OSC clients for tests: liblo's ``oscsend``/``oscdump`` and helpers."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def read_events(path: Path) -> list[dict[str, Any]]:
    """JSON log lines of a daemon (non-JSON lines are skipped)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def have_liblo() -> bool:
    return shutil.which("oscsend") is not None and shutil.which("oscdump") is not None


def oscsend(port: int, address: str, types: str = "", *args: object) -> None:
    cmd = ["oscsend", "127.0.0.1", str(port), address]
    if types:
        cmd += [types, *[str(a) for a in args]]
    subprocess.run(cmd, check=True, timeout=5)


class OscDump:
    """``oscdump`` listening on a port; collects the messages it prints."""

    def __init__(self, port: int) -> None:
        import queue
        import threading

        self.port = port
        self.proc = subprocess.Popen(
            ["oscdump", "-L", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.2)  # let it bind

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, address: str, timeout: float = 5.0) -> str:
        """The argument text of the next message to ``address``."""
        import queue

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            parts = line.rstrip("\n").split(" ", 3)
            # "<timetag> <address> <types> <args...>"
            if len(parts) >= 3 and parts[1] == address:
                return parts[3] if len(parts) > 3 else ""
        raise AssertionError(f"no {address} message on port {self.port} within {timeout} s")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)

    def __enter__(self) -> OscDump:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def query_status(osc_port: int, reply_port: int, timeout: float = 5.0) -> dict[str, Any]:
    """Ask the daemon for /status with oscsend and read /status/json with oscdump."""
    with OscDump(reply_port) as dump:
        oscsend(osc_port, "/status")
        text = dump.wait_for("/status/json", timeout)
    # oscdump prints a string argument in double quotes
    assert text.startswith('"') and text.endswith('"'), text
    result: dict[str, Any] = json.loads(text[1:-1])
    return result


def status_json(osc_port: int, reply_port: int, timeout: float = 5.0) -> dict[str, Any]:
    """/status → /status/json over a plain socket (no liblo: for loops in benchmarks)."""
    from bassd.control.osc_codec import Message, encode_message, parse_packet

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", reply_port))
        s.settimeout(timeout)
        s.sendto(encode_message("/status"), ("127.0.0.1", osc_port))
        while True:
            msg = parse_packet(s.recvfrom(65536)[0])
            if isinstance(msg, Message) and msg.address == "/status/json":
                result: dict[str, Any] = json.loads(msg.args[0])
                return result


def wait_status(
    d: Any, ok: Callable[[dict[str, Any]], bool], timeout: float = 40.0, every: float = 0.2
) -> dict[str, Any]:
    """Poll daemon ``d``'s /status until ``ok(status)``; on timeout fail with the last status
    and the tail of its log."""
    deadline = time.monotonic() + timeout
    st = query_status(d.osc_port, d.reply_port)
    while not ok(st):
        if time.monotonic() > deadline:
            tail = d.log_path.read_text()[-4000:]
            raise AssertionError(f"status never matched within {timeout} s: {st}\nlog: {tail}")
        time.sleep(every)
        st = query_status(d.osc_port, d.reply_port)
    return st
