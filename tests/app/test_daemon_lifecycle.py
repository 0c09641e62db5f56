"""The daemon's lifetime on a real JACK server: bassd status, signals to the whole
process group, a forced exit, exit codes, stale shared memory, a lost metrics worker."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.daemon import DaemonProcess
from tests.health import assert_engine_healthy
from tests.osc_client import free_udp_port, oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]

SHORT = ["--set", "timeline.segment_seconds=2", "--set", "timeline.crossfade_seconds=0.5"]


@pytest.fixture
def group_daemon(tmp_path: Path, jack_server):
    """Factory: ``bassd run`` in a process group of its own (as a terminal or systemd runs it)."""
    started: list[DaemonProcess] = []

    def start(*extra: str) -> DaemonProcess:
        d = DaemonProcess(
            tmp_path, jack_server, free_udp_port(), free_udp_port(), list(extra), own_group=True
        )
        started.append(d)
        d.wait_for_log("osc_listening")
        return d

    yield start
    for d in started:
        d.stop()  # SIGTERM, then SIGKILL after 10 s
        with contextlib.suppress(ProcessLookupError):  # and any child left behind
            os.killpg(d.proc.pid, signal.SIGKILL)


def _log_lines(d: DaemonProcess) -> list[str]:
    return [ln for ln in d.log_path.read_text(errors="replace").splitlines() if ln.strip()]


def _metrics_rows(d: DaemonProcess) -> list[dict[str, str]]:
    path = d.workdir / "outputs" / "metrics.csv"
    return list(csv.DictReader(path.open())) if path.exists() else []


def test_bassd_status_prints_the_running_daemons_status(jack_server, start_daemon) -> None:
    """`bassd status` asks the daemon over OSC and prints its status as JSON (exit 0)."""
    d = start_daemon(jack_server)
    time.sleep(0.5)
    r = subprocess.run(
        [sys.executable, "-m", "bassd", "status", "--set", f"osc.port={d.osc_port}",
         "--set", f"osc.reply_port={d.reply_port}"],
        cwd=d.workdir, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["stream"] == "playing" and st["callbacks"] > 0
    assert st["dry_callbacks"] == 0 and st["session"]


def test_bassd_status_without_a_daemon_says_so(tmp_path: Path) -> None:
    """With no daemon listening, `bassd status` says so in one line and exits 1."""
    port = free_udp_port()
    r = subprocess.run(
        [sys.executable, "-m", "bassd", "status", "--timeout", "0.5", "--set", f"osc.port={port}",
         "--set", f"osc.reply_port={free_udp_port()}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert r.returncode == 1
    assert f"no answer from 127.0.0.1:{port}" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_whole_group_loses_nothing(jack_server, group_daemon, sig) -> None:
    """Ctrl-C / systemctl stop signal the process group: every child leaves its lifetime to
    the daemon, which fades out, drains the device, writes the last segment's row and the
    session's report (PNG and JSON with both segments), leaves no shared memory; every log
    line is JSON (no traceback from a worker)."""
    mark = jack_server.mark()
    d = group_daemon(*SHORT)
    d.wait_for_log("segment_start")
    time.sleep(2.6)  # into segment 1: segment 0's row goes through the metrics worker
    children = d.children()
    assert any("device_host" in cmd for _, cmd in children), children
    os.killpg(d.proc.pid, sig)
    assert d.proc.wait(15) == 0
    names = [e["event"] for e in d.events()]
    assert names.index("daemon_stopping") < names.index("device_stopped")
    assert names.index("device_stopped") < names.index("daemon_stopped")
    stopped = next(e for e in d.events() if e["event"] == "device_stopped")
    assert stopped["exit_code"] == 0  # the device process stopped its stream, not killed
    assert "stream_lost" not in names and "segment_log_failed" not in names
    rows = _metrics_rows(d)
    assert [int(r["segment_index"]) for r in rows] == [0, 1]  # 1 was still playing
    for line in _log_lines(d):
        json.loads(line)  # no console text, no traceback from a child
    assert d.shm_blocks() == [] and d.semaphores() == []
    status = next(e for e in d.events() if e["event"] == "daemon_stopped")["status"]
    assert_engine_healthy(status, jack_server, mark)
    folder = d.workdir / "outputs" / "sessions" / status["session"]
    report = json.loads((folder / "report.json").read_text())
    assert [s["index"] for s in report["segments"]] == [0, 1]
    assert (folder / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    deadline = time.monotonic() + 5.0  # every process it started ends with it
    left = children
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [(pid, cmd) for pid, cmd in left if _running(pid)]
    assert not left, left


def _running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_a_second_signal_forces_a_quick_exit(jack_server, group_daemon) -> None:
    """A second signal during the shutdown forces exit 130, still without shared memory left."""
    d = group_daemon(*SHORT)
    d.wait_for_log("segment_start")
    os.kill(d.proc.pid, signal.SIGINT)
    os.kill(d.proc.pid, signal.SIGTERM)  # a different signal: both are delivered
    assert d.proc.wait(10) == 130
    assert "forced_stop" in [e["event"] for e in d.events()]
    assert d.shm_blocks() == []


def test_a_failed_task_exits_nonzero(jack_server, group_daemon) -> None:
    """A daemon task that fails stops the daemon with exit code 1 (so systemd restarts it),
    after the usual orderly shutdown."""
    d = group_daemon("--set", "debug.fault_injection=true")
    oscsend(d.osc_port, "/debug/fail_task")
    assert d.proc.wait(15) == 1
    ev = [e for e in d.events() if e["event"] == "task_failed"]
    assert ev and ev[0]["task"] == "heartbeat" and "injected" in ev[0]["error"]
    assert "daemon_stopped" in [e["event"] for e in d.events()]
    assert d.shm_blocks() == []


def test_stale_blocks_of_dead_daemons_are_removed_at_start(
    tmp_path, jack_server, group_daemon
) -> None:
    """Blocks named for a daemon that no longer runs are removed at start; a running
    process's blocks are left alone."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = Path(f"/dev/shm/bassd_{gone.pid}_capture_0123456789ab")
    alive = Path(f"/dev/shm/bassd_{os.getpid()}_capture_0123456789ab")
    stale.write_bytes(b"\0" * 4096)
    alive.write_bytes(b"\0" * 4096)
    try:
        d = group_daemon()
        assert not stale.exists() and alive.exists()
        ev = next(e for e in d.events() if e["event"] == "stale_shared_memory_removed")
        assert stale.name in ev["blocks"]
    finally:
        for p in (stale, alive):
            p.unlink(missing_ok=True)


def test_no_respawn_once_stopping(jack_server, group_daemon) -> None:
    """The device process dies and a stop is requested at once: the daemon stops without
    starting a new device process."""
    d = group_daemon()
    time.sleep(0.5)
    device = next(pid for pid, cmd in d.children() if "device_host" in cmd)
    os.kill(device, signal.SIGKILL)
    os.kill(d.proc.pid, signal.SIGTERM)
    assert d.proc.wait(15) == 0
    names = [e["event"] for e in d.events()]
    stopping = names.index("daemon_stopping")
    assert "stream_reopened" not in names[stopping:]
    assert d.shm_blocks() == []


def test_a_killed_metrics_worker_is_replaced(jack_server, group_daemon) -> None:
    """The metrics worker killed between segments: the pool is replaced, no row is lost."""
    d = group_daemon(*SHORT)
    deadline = time.monotonic() + 15
    while not _metrics_rows(d) and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [pid for pid, cmd in d.children() if "multiprocessing" in cmd and "spawn_main" in cmd]
    assert workers, d.children()
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    while len(_metrics_rows(d)) < 3 and time.monotonic() < deadline + 10:
        time.sleep(0.1)
    st = query_status(d.osc_port, d.reply_port)
    assert st["metrics_pool_restarts"] >= 1 and st["segment_log_errors"] == 0
    indices = [int(r["segment_index"]) for r in _metrics_rows(d)]
    assert indices[:3] == [0, 1, 2]


def test_sigkill_keeps_the_records_and_a_restart_starts_clean(jack_server, group_daemon) -> None:
    """SIGKILL of the whole group mid-session: events.csv and metrics.csv hold only whole
    rows (every line parses, the last one ends in a newline); a new daemon in the same
    folder removes the dead one's shared-memory blocks and semaphores, starts a new
    session and plays without a dry callback."""
    d = group_daemon(*SHORT)
    deadline = time.monotonic() + 15
    while len(_metrics_rows(d)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    for bpm in (70, 71, 72):
        oscsend(d.osc_port, "/hr/bpm", "f", bpm)
    time.sleep(0.2)
    session = query_status(d.osc_port, d.reply_port)["session"]
    dead = d.shm_blocks()
    assert dead  # the ring, the player, captures ...
    os.killpg(d.proc.pid, signal.SIGKILL)
    d.proc.wait(10)
    dead += d.semaphores()  # the metrics pool's queues: the resource tracker died too
    assert any(p.startswith("sem.") for p in dead)
    for path in (d.workdir / "outputs" / "sessions" / session / "events.csv",
                 d.workdir / "outputs" / "metrics.csv"):  # fmt: skip
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), path
        rows = list(csv.reader(text.splitlines()))
        assert all(len(r) == len(rows[0]) for r in rows), path
    mark = jack_server.mark()
    again = group_daemon(*SHORT)
    removed = next(e for e in again.events() if e["event"] == "stale_shared_memory_removed")
    assert set(dead) <= set(removed["blocks"])
    assert not [p for p in dead if (Path("/dev/shm") / p).exists()]
    time.sleep(1.0)
    st = query_status(again.osc_port, again.reply_port)
    assert st["session"] != session and st["stream"] == "playing"
    assert_engine_healthy(st, jack_server, mark)


def test_sighup_to_the_whole_group_reloads_and_every_child_lives(jack_server, group_daemon) -> None:
    """A closed terminal (or kill -HUP of the group) sends SIGHUP to every process: the daemon
    reloads its config, and every child (the device process, the metrics worker) ignores it
    and plays on with the same pid."""
    mark = jack_server.mark()
    d = group_daemon(*SHORT)
    deadline = time.monotonic() + 15
    while not _metrics_rows(d) and time.monotonic() < deadline:
        time.sleep(0.1)
    children = [(pid, cmd) for pid, cmd in d.children() if cmd]  # (not one already gone)
    assert any("device_host" in cmd for _, cmd in children), children
    assert any("spawn_main" in cmd for _, cmd in children), children
    os.killpg(d.proc.pid, signal.SIGHUP)
    d.wait_for_log("config_reloaded")
    time.sleep(1.0)
    assert all(_running(pid) for pid, _ in children), (children, d.children())
    st = query_status(d.osc_port, d.reply_port)
    assert st["stream"] == "playing" and st["stream_restarts"] == 0
    assert st["metrics_pool_restarts"] == 0
    assert_engine_healthy(st, jack_server, mark)
