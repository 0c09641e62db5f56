"""The daemon on a real device: JACK's dummy backend, driven by liblo's OSC tools."""

from __future__ import annotations

import csv
import os
import signal
import time

import pytest

from tests.health import assert_engine_healthy
from tests.osc_client import oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def test_plays_ten_seconds_without_underrun(jack_server, start_daemon) -> None:
    """≥ 10 s on the JACK dummy device: no dry callback, bassd's client never late,
    and one callback per 256-frame period, with the C heap trimmed every second."""
    mark = jack_server.mark()
    d = start_daemon(jack_server, "--set", "audio.heap_trim_seconds=1")
    first = query_status(d.osc_port, d.reply_port)
    t0 = time.monotonic()
    time.sleep(10.0)
    last = query_status(d.osc_port, d.reply_port)
    wall = time.monotonic() - t0
    assert_engine_healthy(last, jack_server, mark)
    assert last["stream"] == "playing" and last["renderer"] == "kuramoto"
    assert (last["sample_rate"], last["block_size"]) == (48000, 256)
    expected = wall * 48000 / 256
    got = last["callbacks"] - first["callbacks"]
    assert abs(got - expected) < 0.03 * expected, (got, expected)
    assert last["frames_out"] == last["callbacks"] * 256
    assert last["uptime_s"] >= 10.0
    assert last["heap_trims"] >= 8 and last["heap_trim_max_ms"] > 0


def test_sigterm_fades_out_flushes_and_exits_zero(jack_server, start_daemon) -> None:
    """SIGTERM: a ~100 ms fade-out, the playing segment's metrics row written, exit code 0."""
    mark = jack_server.mark()
    d = start_daemon(
        jack_server,
        "--set",
        "timeline.segment_seconds=2",
        "--set",
        "timeline.crossfade_seconds=0.5",
    )
    time.sleep(3.0)
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(10) == 0
    names = [e["event"] for e in d.events()]
    assert names.index("daemon_stopping") < names.index("daemon_stopped")
    stopped = next(e for e in d.events() if e["event"] == "daemon_stopped")
    assert_engine_healthy(stopped["status"], jack_server, mark)
    rows = list(csv.DictReader((d.workdir / "outputs" / "metrics.csv").open()))
    assert [int(r["segment_index"]) for r in rows] == [0, 1]  # segment 1 was still playing


def test_sigint_also_exits_zero(jack_server, start_daemon) -> None:
    """Ctrl-C (SIGINT) is a clean stop too."""
    d = start_daemon(jack_server)
    d.proc.send_signal(signal.SIGINT)
    assert d.proc.wait(10) == 0


def test_watchdog_reopens_after_callback_abort(jack_server, start_daemon) -> None:
    """A callback that aborts the stream is noticed within a second and the device reopened;
    the timeline keeps its place."""
    d = start_daemon(jack_server, "--set", "debug.fault_injection=true")
    time.sleep(1.0)
    before = query_status(d.osc_port, d.reply_port)
    oscsend(d.osc_port, "/debug/fail_callback")
    t0 = time.monotonic()
    d.wait_for_log("stream_lost", timeout=5)
    assert time.monotonic() - t0 < 1.5
    d.wait_for_log("stream_reopened", timeout=5)
    time.sleep(1.0)
    after = query_status(d.osc_port, d.reply_port)
    assert after["stream_restarts"] == 1 and after["stream"] == "playing"
    assert after["callbacks"] > before["callbacks"] + 100
    assert after["engine_frame"] > before["engine_frame"]
    assert after["segment_index"] >= before["segment_index"]


def test_survives_jack_server_restart(private_jack_server, start_daemon) -> None:
    """Stopping the sound server under the daemon and starting it again: it reconnects;
    heart-rate samples that arrive meanwhile are accepted on the running session clock."""
    d = start_daemon(private_jack_server)
    time.sleep(1.0)
    frame_before = query_status(d.osc_port, d.reply_port)["engine_frame"]
    private_jack_server.stop()
    d.wait_for_log("stream_lost", timeout=5)
    hr_before = query_status(d.osc_port, d.reply_port)
    for bpm in (70, 71, 72):  # while the device is down the session clock keeps running
        oscsend(d.osc_port, "/hr/bpm", "f", bpm)
        time.sleep(0.3)
    time.sleep(0.2)
    during = query_status(d.osc_port, d.reply_port)
    assert during["hr_accepted"] == hr_before["hr_accepted"] + 3, during
    assert during["hr_rejected"] == hr_before["hr_rejected"]
    assert during["session_t"] > hr_before["session_t"] + 0.8
    assert d.proc.poll() is None  # still alive without a device
    private_jack_server.start()
    d.wait_for_log("stream_reopened", timeout=20)
    time.sleep(1.0)
    after = query_status(d.osc_port, d.reply_port)
    assert after["stream"] == "playing" and after["stream_restarts"] >= 1
    assert after["engine_frame"] > frame_before
    c0 = after["callbacks"]
    time.sleep(1.0)
    assert query_status(d.osc_port, d.reply_port)["callbacks"] > c0 + 100


def test_status_answers_malformed_input_with_a_count(jack_server, start_daemon) -> None:
    """Garbage datagrams and unknown addresses are counted as dropped; the daemon plays on."""
    import socket

    mark = jack_server.mark()
    d = start_daemon(jack_server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for payload in (b"\x00\x01garbage", b"/status\x00,i\x00\x00", b"#bundle\x00\xff"):
            s.sendto(payload, ("127.0.0.1", d.osc_port))
    oscsend(d.osc_port, "/no/such/address", "f", 1.0)
    time.sleep(0.3)
    st = query_status(d.osc_port, d.reply_port)
    assert st["osc_dropped"] == 4 and st["stream"] == "playing"
    assert_engine_healthy(st, jack_server, mark)
    assert any(
        e["event"] == "osc_rejected" and e.get("peer", "").startswith("127.0.0.1:")
        for e in d.events()
    )


def test_osc_port_in_use_is_a_clear_error(jack_server, tmp_path) -> None:
    """If the OSC port is taken, `bassd run` says so in one line and exits 3."""
    import socket
    import subprocess
    import sys

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        env = dict(os.environ, JACK_DEFAULT_SERVER=jack_server.name)
        r = subprocess.run(
            [sys.executable, "-m", "bassd", "run", "--set", f"osc.port={port}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert r.returncode == 3
    assert f"bassd: cannot listen for OSC on 127.0.0.1:{port}" in r.stderr
