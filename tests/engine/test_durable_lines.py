"""Whole-line appends on a full disk: no torn row, rows wait and go out in order, each
kind's failure logged once and its recovery once, the wait bounded."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bassd.engine import durable_lines
from bassd.engine.durable_lines import DiskHealth, LineAppender


def _full_disk(monkeypatch: pytest.MonkeyPatch, mode: str) -> list[bool]:
    """Make os.write fail (ENOSPC) or write half (a short write) while the flag is set."""
    full = [True]
    real = os.write

    def write(fd: int, data: bytes) -> int:
        if not full[0]:
            return real(fd, data)
        if mode == "short":
            return real(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(durable_lines.os, "write", write)
    return full


@pytest.mark.parametrize("mode", ["enospc", "short"])
def test_no_torn_row_and_waiting_rows_go_out_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """While the disk is full the file keeps only whole rows (a short write is cut back);
    when it takes writes again the waiting rows are written first, in order."""
    health = DiskHealth()
    out = LineAppender(tmp_path / "e.csv", "events", header="a,b\n", health=health)
    assert out.append("1,x\n")
    full = _full_disk(monkeypatch, mode)
    assert not out.append("2,y\n") and not out.append("3,z\n")
    assert (tmp_path / "e.csv").read_text() == "a,b\n1,x\n"
    assert out.waiting == 2 and health.figures()["disk_waiting_rows"] == 2
    full[0] = False
    assert out.retry()
    assert (tmp_path / "e.csv").read_text() == "a,b\n1,x\n2,y\n3,z\n"
    assert health.figures() == {"disk_errors": 2, "disk_failing": "", "disk_waiting_rows": 0,
                                "disk_dropped_rows": 0}  # fmt: skip


def test_each_kind_is_logged_once_until_it_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten refused rows log one disk_write_failed naming the kind, path and error; the
    recovery logs one disk_write_resumed with the rows that waited."""
    health = DiskHealth()
    out = LineAppender(tmp_path / "m.csv", "metrics", health=health)
    full = _full_disk(monkeypatch, "enospc")
    with capture_logs() as logs:
        for i in range(10):
            out.append(f"{i}\n")
        full[0] = False
        out.append("10\n")
    failed = [e for e in logs if e["event"] == "disk_write_failed"]
    resumed = [e for e in logs if e["event"] == "disk_write_resumed"]
    assert len(failed) == 1 and failed[0]["kind"] == "metrics"
    assert failed[0]["error"] == os.strerror(errno.ENOSPC) and "m.csv" in failed[0]["path"]
    assert len(resumed) == 1 and resumed[0]["rows_written"] == 11
    assert health.errors == {"metrics": 10}


def test_the_wait_is_bounded_and_drops_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past max_waiting the oldest waiting row goes (counted); the newest ones are kept."""
    health = DiskHealth()
    out = LineAppender(tmp_path / "e.csv", "events", max_waiting=3, health=health)
    full = _full_disk(monkeypatch, "enospc")
    for i in range(5):
        out.append(f"{i}\n")
    full[0] = False
    out.retry()
    assert (tmp_path / "e.csv").read_text() == "2\n3\n4\n"
    assert health.figures()["disk_dropped_rows"] == 2


def test_a_real_full_filesystem(tmp_path: Path) -> None:
    """On a 64 KiB tmpfs filled to the last byte: no torn row, rows wait; a freed file lets
    them out (skipped where mounting is not allowed)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                      capture_output=True, check=False).returncode:  # fmt: skip
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        health = DiskHealth()
        out = LineAppender(mnt / "e.csv", "events", header="t,x\n", health=health)
        filler = mnt / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with pytest.raises(OSError):
            while True:
                os.write(fd, b"\0" * 512)
        os.close(fd)
        row = "1.000," + "y" * 10_000 + "\n"  # more than the page the file already has
        assert not out.append(row)
        assert (mnt / "e.csv").read_text() == "t,x\n" and out.waiting == 1
        filler.unlink()
        assert out.append("2.000,z\n")
        assert (mnt / "e.csv").read_text() == "t,x\n" + row + "2.000,z\n"
        out.close()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
