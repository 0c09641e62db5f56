"""The metrics sink records segments in a worker process and survives losing it."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from bassd.engine.metrics_sink import MetricsSink


@dataclass
class Rec:
    index: int
    released: bool = False

    def release(self) -> None:
        self.released = True


@dataclass
class DiesOnce:
    """Writes a line per record; the first worker process dies on its first record."""

    out: Path
    marker: Path

    def write(self, rec: Rec) -> None:
        if not self.marker.exists():
            self.marker.write_text("died")
            os._exit(9)  # the worker process vanishes, as under SIGKILL
        with self.out.open("a") as f:
            f.write(f"{rec.index}\n")


@dataclass
class Fails:
    def write(self, rec: Rec) -> None:
        raise OSError("disk full")


def test_a_lost_worker_is_replaced_and_the_segment_retried(tmp_path: Path) -> None:
    """The worker dies mid-record: a new pool takes the same record; nothing is lost."""
    out, marker = tmp_path / "rows.txt", tmp_path / "marker"

    async def go() -> MetricsSink:
        sink = MetricsSink(DiesOnce(out, marker))  # type: ignore[arg-type]
        sink.submit(Rec(0))  # type: ignore[arg-type]
        await sink.drain()
        sink.submit(Rec(1))  # type: ignore[arg-type]
        await sink.drain()
        return sink

    sink = asyncio.run(go())
    sink.close()
    assert out.read_text().split() == ["0", "1"]
    assert sink.pool_restarts == 1 and sink.written == 2 and sink.errors == 0


def test_a_failing_write_is_counted_and_releases_the_audio(tmp_path: Path) -> None:
    """A writer error is counted and logged; the record's shared memory is freed."""
    rec = Rec(3)

    async def go() -> MetricsSink:
        sink = MetricsSink(Fails())  # type: ignore[arg-type]
        sink.submit(rec)  # type: ignore[arg-type]
        await sink.drain()
        return sink

    sink = asyncio.run(go())
    sink.close()
    assert sink.errors == 1 and sink.written == 0 and rec.released
