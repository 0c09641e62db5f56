"""``bassd ble``: replay to an independent OSC listener, scan without an adapter."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

TRACE = """t,hex
0.0,164600040002
0.05,104601
0.10,044b
0.15,112c010003
"""


def _bassd(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bassd", *args], capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


class Listener:
    """A python-osc UDP server on a free port, collecting (address, args) in order."""

    def __init__(self) -> None:
        self.got: list[tuple[str, tuple[Any, ...]]] = []
        d = Dispatcher()
        d.set_default_handler(lambda address, *args: self.got.append((address, args)))
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[tuple[str, tuple[Any, ...]]]:
        deadline = time.monotonic() + timeout  # a hang guard, not a measurement
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.got)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_replay_sends_bpm_rr_contact_to_a_listener(tmp_path: Path) -> None:
    """A trace replays as /hr/contact, /hr/bpm and /hr/rr (ms); a malformed row sends
    nothing; no-contact sends only /hr/contact 0; a uint16 HR arrives whole."""
    trace = tmp_path / "t.csv"
    trace.write_text(TRACE)
    listener = Listener()
    try:
        r = _bassd("ble", "replay", str(trace), "--to", f"127.0.0.1:{listener.port}",
                   "--speed", "20")  # fmt: skip
        assert r.returncode == 0, r.stderr
        got = listener.wait_for(6)
    finally:
        listener.close()
    assert got == [
        ("/hr/contact", (1,)),
        ("/hr/bpm", (70.0,)),
        ("/hr/rr", (1000.0, 500.0)),
        ("/hr/contact", (0,)),
        ("/hr/bpm", (300.0,)),
        ("/hr/rr", (750.0,)),
    ]
    assert "3 samples (1 malformed)" in r.stdout


def test_replay_of_a_bad_trace_is_one_line(tmp_path: Path) -> None:
    """A trace with a bad row exits 2 with the file and line, and no traceback."""
    trace = tmp_path / "bad.csv"
    trace.write_text("t,hex\n0.0,1646\n1.0,zz\n")
    r = _bassd("ble", "replay", str(trace), "--to", "127.0.0.1:9")
    assert r.returncode == 2
    assert f"{trace}:3:" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_scan_without_adapter_is_one_clear_line() -> None:
    """On a machine without Bluetooth, scan exits 1 with one line saying so."""
    r = _bassd("ble", "scan", "--seconds", "1")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("bassd: no Bluetooth")


def test_sender_splits_long_rr_lists() -> None:
    """More than 16 RR intervals go out as several /hr/rr messages (the address takes 16)."""
    from bassd.app.ble_cli import OscSender
    from bassd.control.hr_measurement import HrMeasurement

    listener = Listener()
    sender = OscSender("127.0.0.1", listener.port)
    try:
        sender(0.0, HrMeasurement(60, None, None, tuple(float(500 + i) for i in range(20))))
        got = listener.wait_for(3)
    finally:
        sender.close()
        listener.close()
    assert [a for a, _ in got] == ["/hr/bpm", "/hr/rr", "/hr/rr"]
    assert got[1][1] == tuple(float(500 + i) for i in range(16))
    assert got[2][1] == (516.0, 517.0, 518.0, 519.0)
