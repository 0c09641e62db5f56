"""The ``t,hex`` BLE trace format: writer, reader, errors, the shipped example."""

from __future__ import annotations

from pathlib import Path

import pytest

from bassd.control.ble_trace import BleTraceWriter, read_ble_trace
from bassd.control.hr_measurement import parse_heart_rate_measurement

EXAMPLE = Path(__file__).resolve().parents[2] / "configs/ble_traces/polar_example.csv"


def test_round_trip(tmp_path: Path) -> None:
    """What the writer writes the reader reads back: times (ms precision) and bytes."""
    p = tmp_path / "t.csv"
    with BleTraceWriter(p) as w:
        w.write(0.0, b"\x16\x48\x00\x04")
        w.write(1.0004, bytearray(b"\x00\x3c"))
        assert p.read_text().count("\n") == 3  # flushed per row, before closing
    assert read_ble_trace(p) == [(0.0, b"\x16\x48\x00\x04"), (1.0, b"\x00\x3c")]
    assert p.read_text().splitlines()[0] == "t,hex"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("t,bpm\n0,1646\n", ":1:", "header"),
        ("t,hex\n0,1646\nx,1646\n", ":3:", "not a number"),
        ("t,hex\n0,1646\n1,16g6\n", ":3:", "not hexadecimal"),
        ("t,hex\n0,1646\n1,164\n", ":3:", "not hexadecimal"),
        ("t,hex\n2,1646\n1,1646\n", ":3:", "goes back"),
        ("t,hex\n0,1646,7\n", ":2:", "2 fields"),
        ("t,hex\nnan,1646\n", ":2:", "finite"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, text: str, where: str, what: str) -> None:
    """Every bad row is a ValueError naming the file, the line and the fault."""
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValueError, match=what) as err:
        read_ble_trace(p)
    assert f"{p}{where}" in str(err.value)


def test_shipped_example_parses() -> None:
    """The synthesized example: 120 valid notifications, 62..86 bpm, RR in every contact row."""
    rows = read_ble_trace(EXAMPLE)
    assert len(rows) == 120
    ms = [parse_heart_rate_measurement(p) for _, p in rows]
    assert min(m.bpm for m in ms) >= 60 and max(m.bpm for m in ms) <= 90
    assert all(m.rr_ms for m in ms if m.contact) and sum(m.contact is False for m in ms) == 3
