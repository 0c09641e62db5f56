"""The disk under outputs/ fills up while the daemon plays (a small tmpfs, filled to the
last byte): the music goes on, the failure is logged once per kind and counted in /status,
no row of events.csv or metrics.csv is torn, and writing resumes when space returns."""

from __future__ import annotations

import csv
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.health import assert_engine_healthy
from tests.osc_client import oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


@pytest.fixture
def small_outputs(tmp_path: Path):
    """tmp_path/outputs on a 4 MiB tmpfs of its own (skipped where mounting is not allowed)."""
    mnt = tmp_path / "outputs"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                      capture_output=True, check=False).returncode:  # fmt: skip
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def _wait(d, ok, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    st = query_status(d.osc_port, d.reply_port)
    while not ok(st) and time.monotonic() < deadline:
        time.sleep(0.2)
        st = query_status(d.osc_port, d.reply_port)
    return st


def test_a_full_disk_never_stops_the_music_nor_tears_a_row(
    jack_server, start_daemon, small_outputs: Path
) -> None:
    """Filled: OSC rows and 2 s segments' rows and clips are refused (disk_failing names
    events, metrics, clips; one disk_write_failed per kind in the log), 0 dry callbacks.
    Freed: the waiting rows are written in order and every line of both files parses."""
    mark = jack_server.mark()
    d = start_daemon(jack_server, "--set", "timeline.segment_seconds=2",
                     "--set", "timeline.crossfade_seconds=0.5")  # fmt: skip
    _wait(d, lambda s: s["segment_index"] >= 1)
    filler = small_outputs / "filler"
    _fill(filler)
    for hz in (5000.0, 6000.0, 7000.0):
        oscsend(d.osc_port, "/fx/lpf", "f", hz)
        time.sleep(0.1)
    # a file's last tmpfs page takes appended rows until it is full: up to 4 KiB, ~15
    # metrics rows of ~280 bytes, one per segment (a fresh clone waited 20 s in vain)
    st = _wait(d, lambda s: {"events", "metrics", "clips"} <= set(s["disk_failing"].split(",")),
               timeout=75.0)  # fmt: skip
    assert {"events", "metrics", "clips"} <= set(st["disk_failing"].split(","))
    assert st["disk_errors"] >= 3 and st["disk_waiting_rows"] >= 1  # (a page may take a few)
    assert st["stream"] == "playing"
    assert_engine_healthy(st, jack_server, mark)
    failed = [e for e in d.events() if e.get("event") == "disk_write_failed"]
    assert sorted(e["kind"] for e in failed) == ["clips", "events", "metrics"]
    filler.unlink()
    oscsend(d.osc_port, "/fx/lpf", "f", 8000.0)
    st = _wait(d, lambda s: s["disk_failing"] == "" and s["disk_waiting_rows"] == 0)
    assert st["disk_failing"] == "" and st["disk_waiting_rows"] == 0
    assert any(e.get("event") == "disk_write_resumed" for e in d.events())
    events = small_outputs / "sessions" / st["session"] / "events.csv"
    with events.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t", "kind", "value", "detail"] and all(len(r) == 4 for r in rows)
    lpf = [r[3] for r in rows if r[1] == "osc" and r[2] == "/fx/lpf"]
    assert lpf == ["5000.0", "6000.0", "7000.0", "8000.0"]  # none lost, in order
    with (small_outputs / "metrics.csv").open(newline="", encoding="utf-8") as f:
        metrics = list(csv.DictReader(f))
    assert metrics and all(r["clip"] is not None and r["lufs"] != "" for r in metrics)
    assert [int(r["segment_index"]) for r in metrics] == sorted(
        int(r["segment_index"]) for r in metrics
    )
    assert_engine_healthy(query_status(d.osc_port, d.reply_port), jack_server, mark)
