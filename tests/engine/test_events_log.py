"""Per-session events.csv: append-only, one header, csv-safe, each row on disk when written."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bassd.engine.events_log import SessionEvents


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_rows_land_under_the_session_folder(tmp_path: Path) -> None:
    """The file is <sessions_dir>/<session>/events.csv, folders created, t with 3 decimals."""
    log = SessionEvents(tmp_path / "sessions", "s1")
    log.write(1.23456, "hr", 72.5)
    log.write(2, "state", "stress", "hr 92.0 > baseline 75.0 + 15 for 30 s")
    log.write(3.0, "hr_stale", None)
    log.close()
    assert log.path == tmp_path / "sessions" / "s1" / "events.csv"
    assert _rows(log.path) == [
        {"t": "1.235", "kind": "hr", "value": "72.5", "detail": ""},
        {
            "t": "2.000",
            "kind": "state",
            "value": "stress",
            "detail": "hr 92.0 > baseline 75.0 + 15 for 30 s",
        },
        {"t": "3.000", "kind": "hr_stale", "value": "", "detail": ""},
    ]
    assert log.path.read_text().splitlines()[0] == "t,kind,value,detail"


def test_rows_are_readable_before_close(tmp_path: Path) -> None:
    """Each write is flushed: another reader sees the row while the log is still open."""
    log = SessionEvents(tmp_path, "live")
    log.write(0.5, "hr", 70)
    assert _rows(log.path) == [{"t": "0.500", "kind": "hr", "value": "70", "detail": ""}]
    log.close()


def test_reopening_appends_with_one_header(tmp_path: Path) -> None:
    """Opening an existing session appends after its rows and never repeats the header."""
    with SessionEvents(tmp_path, "s") as log:
        log.write(1, "a", "x")
    with SessionEvents(tmp_path, "s") as log:
        log.write(2, "b", "y")
    text = log.path.read_text()
    assert text.count("t,kind,value,detail") == 1
    assert [r["kind"] for r in _rows(log.path)] == ["a", "b"]


def test_hostile_strings_round_trip(tmp_path: Path) -> None:
    """Commas, quotes, newlines and non-ASCII in value/detail come back unchanged."""
    nasty = ["a,b", 'say "hi"', "line1\nline2", "cr\r\nlf", "  padded ", "ü ♥ 心", '",\n"']
    with SessionEvents(tmp_path, "s") as log:
        for i, s in enumerate(nasty):
            log.write(i, "note", s, s[::-1])
    rows = _rows(log.path)
    assert [r["value"] for r in rows] == nasty
    assert [r["detail"] for r in rows] == [s[::-1] for s in nasty]


def test_foreign_header_is_refused(tmp_path: Path) -> None:
    """An existing file with another header is not appended to."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "events.csv").write_text("time,what\n1,x\n")
    with pytest.raises(ValueError, match="header"):
        SessionEvents(tmp_path, "s")
    assert (tmp_path / "s" / "events.csv").read_text() == "time,what\n1,x\n"


@pytest.mark.parametrize("name", ["", "..", "a/b"])
def test_session_name_must_be_one_component(tmp_path: Path, name: str) -> None:
    """A session name cannot escape the sessions folder."""
    with pytest.raises(ValueError, match="session name"):
        SessionEvents(tmp_path, name)


def test_write_after_close_raises(tmp_path: Path) -> None:
    """A closed log refuses writes instead of silently dropping them."""
    log = SessionEvents(tmp_path, "s")
    log.close()
    with pytest.raises(ValueError, match="after close"):
        log.write(1, "hr", 70)


def test_rows_survive_sigkill(tmp_path: Path) -> None:
    """A process killed with SIGKILL right after writing leaves every row on disk."""
    n = 200
    child = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from bassd.engine.events_log import SessionEvents
        log = SessionEvents(Path(sys.argv[1]), "crash")
        for i in range({n}):
            log.write(i / 10, "hr", 60 + i % 40, "row, with \\"quotes\\"")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", child, str(tmp_path)], timeout=60, check=False)
    assert proc.returncode == -signal.SIGKILL
    rows = _rows(tmp_path / "crash" / "events.csv")
    assert len(rows) == n
    assert rows[-1] == {
        "t": f"{(n - 1) / 10:.3f}",
        "kind": "hr",
        "value": str(60 + (n - 1) % 40),
        "detail": 'row, with "quotes"',
    }
