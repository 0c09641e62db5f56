"""Recorded BLE heart-rate traces: CSV with the header line ``t,hex``.

Each row is one 0x2A37 notification as it arrived: ``t`` in seconds (since the
recording started; non-decreasing) and ``hex``, the raw payload in hexadecimal. The
format has no comments; blank lines are skipped. The payload is not parsed here (a
replay sends it through the bridge's parser, malformed ones included).
"""

from __future__ import annotations

import math
from pathlib import Path
from types import TracebackType
from typing import IO, Self

HEADER = "t,hex"


def read_ble_trace(path: str | Path) -> list[tuple[float, bytes]]:
    """The rows of a trace; a bad row raises ``ValueError`` naming ``file:line``."""
    rows: list[tuple[float, bytes]] = []
    with open(path, encoding="utf-8") as f:
        first = f.readline()
        if first.strip() != HEADER:
            raise ValueError(f"{path}:1: header must be {HEADER!r}, found {first.strip()!r}")
        for n, line in enumerate(f, start=2):
            line = line.strip()
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != 2:
                raise ValueError(f"{path}:{n}: expected 2 fields 't,hex', got {len(parts)}")
            t_text, hex_text = (p.strip() for p in parts)
            try:
                t = float(t_text)
            except ValueError:
                raise ValueError(f"{path}:{n}: t {t_text!r} is not a number") from None
            if not math.isfinite(t) or t < 0:
                raise ValueError(f"{path}:{n}: t must be finite and >= 0, got {t_text!r}")
            if rows and t < rows[-1][0]:
                raise ValueError(f"{path}:{n}: t {t:g} goes back (previous {rows[-1][0]:g})")
            try:
                payload = bytes.fromhex(hex_text)
            except ValueError:
                raise ValueError(f"{path}:{n}: hex {hex_text!r} is not hexadecimal bytes") from None
            rows.append((t, payload))
    return rows


class BleTraceWriter:
    """Writes a trace row by row, flushed after each (a killed recorder loses nothing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._f: IO[str] = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._f.write(HEADER + "\n")
        self._f.flush()
        self.rows = 0

    def write(self, t: float, payload: bytes | bytearray) -> None:
        self._f.write(f"{t:.3f},{bytes(payload).hex()}\n")
        self._f.flush()
        self.rows += 1

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
