"""The daemon under a stand-in systemd (a real Unix datagram socket as NOTIFY_SOCKET) and
SIGHUP's reload, on a real JACK server."""

from __future__ import annotations

import csv
import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.health import assert_engine_healthy
from tests.osc_client import query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


class FakeSystemd:
    """An abstract Unix datagram socket that collects what the daemon notifies."""

    def __init__(self) -> None:
        self.name = f"@bassd-notify-{uuid.uuid4().hex[:12]}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + self.name[1:].encode())
        self.sock.setblocking(False)
        self.messages: list[str] = []

    def drain(self) -> list[str]:
        """Every datagram received since the last drain (also kept in ``messages``)."""
        new = []
        while True:
            try:
                new.append(self.sock.recv(65536).decode())
            except BlockingIOError:
                break
        self.messages += new
        return new

    def wait_for(self, line: str, timeout: float = 15.0) -> list[str]:
        """Drain until a datagram holding ``line`` arrives; what arrived meanwhile."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got += self.drain()
            if any(line in m.split("\n") for m in got):
                return got
            time.sleep(0.02)
        raise AssertionError(f"no {line!r} within {timeout} s: {got[-5:]}")


def pings(messages: list[str]) -> int:
    return sum("WATCHDOG=1" in m.split("\n") for m in messages)


@pytest.fixture
def systemd(monkeypatch) -> Iterator[FakeSystemd]:
    fake = FakeSystemd()
    monkeypatch.setenv("NOTIFY_SOCKET", fake.name)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # a ping every 0.5 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield fake
    fake.sock.close()


def test_ready_watchdog_and_stopping(private_jack_server, start_daemon, systemd) -> None:
    """READY=1 after the audio started; WATCHDOG=1 pings while it plays, none while the
    sound server is gone, pings again once the device is back; STOPPING=1 on SIGTERM."""
    d = start_daemon(private_jack_server)
    systemd.wait_for("READY=1")
    names = [e["event"] for e in d.events()]
    assert "daemon_started" in names  # the device was playing before READY
    ready = next(m for m in systemd.messages if "READY=1" in m.split("\n"))
    assert "STATUS=stream=playing" in ready
    assert pings(systemd.messages[: systemd.messages.index(ready)]) == 0
    systemd.wait_for("WATCHDOG=1", timeout=5)
    systemd.wait_for("WATCHDOG=1", timeout=5)  # periodic
    private_jack_server.stop()
    d.wait_for_log("stream_lost", timeout=5)
    time.sleep(0.7)  # a check that straddled the loss has passed
    systemd.drain()
    time.sleep(2.0)  # four ping periods without a device
    gone = systemd.drain()
    assert pings(gone) == 0, gone
    assert any("STATUS=unhealthy" in m for m in gone), gone
    assert "watchdog_withheld" in [e["event"] for e in d.events()]
    private_jack_server.start()
    d.wait_for_log("stream_reopened", timeout=20)
    systemd.wait_for("WATCHDOG=1", timeout=5)
    d.wait_for_log("watchdog_resumed", timeout=5)
    assert query_status(d.osc_port, d.reply_port)["watchdog_pings"] >= 3
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(15) == 0
    assert systemd.drain() and any("STOPPING=1" in m.split("\n") for m in systemd.messages)


def _events_rows(workdir: Path) -> list[list[str]]:
    files = sorted((workdir / "outputs" / "sessions").glob("*/events.csv"))
    assert files, "no events.csv"
    with files[-1].open() as f:
        return list(csv.reader(f))


def test_sighup_reloads_and_a_bad_file_keeps_the_old_config(
    tmp_path, jack_server, start_daemon
) -> None:
    """SIGHUP re-reads --config: a new fx.lpf_hz is applied live (and a restart-only key
    listed, not applied); a broken file is rejected with one line, the old value stays and
    the music plays on without a dry callback. Both reloads are rows of events.csv."""
    cfg = tmp_path / "bassd.yaml"
    cfg.write_text("fx:\n  lpf_hz: 8000\n")
    d = start_daemon(jack_server, "--config", str(cfg))
    mark = jack_server.mark()
    assert query_status(d.osc_port, d.reply_port)["fx"]["lpf_hz"] == 8000
    cfg.write_text("fx:\n  lpf_hz: 5000\nosc:\n  push_hz: 20\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    ev = d.wait_for_log("config_reloaded")
    assert ev["applied"] == ["fx.lpf_hz"] and ev["needs_restart"] == ["osc.push_hz"]
    st = query_status(d.osc_port, d.reply_port)
    assert st["fx"]["lpf_hz"] == 5000 and st["config_reloads"] == 1
    cfg.write_text("fx:\n  lpf_hz: banana\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    bad = d.wait_for_log("config_reload_rejected")
    assert "fx.lpf_hz" in bad["error"] and "\n" not in bad["error"]
    c0 = query_status(d.osc_port, d.reply_port)["callbacks"]
    time.sleep(1.0)
    st = query_status(d.osc_port, d.reply_port)
    assert st["fx"]["lpf_hz"] == 5000
    assert st["config_reloads"] == 1 and st["config_reload_rejected"] == 1
    assert st["stream"] == "playing" and st["callbacks"] > c0 + 100
    assert_engine_healthy(st, jack_server, mark)
    kinds = [row[1] for row in _events_rows(d.workdir)]
    assert "config_reloaded" in kinds and "config_reload_rejected" in kinds
    assert d.proc.poll() is None
