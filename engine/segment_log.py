"""Per-segment records: one row of ``metrics.csv`` and, optionally, the clip as WAV.

Rows are appended and flushed one at a time, so a crash never loses a
finished segment's row.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import structlog

from bassd.dsp.metrics import measure
from bassd.engine.core import SegmentRecord
from bassd.engine.durable_lines import DISK, LineAppender
from bassd.engine.wavfile import write_wav

log = structlog.get_logger("bassd.segments")

COLUMNS = (
    "time",
    "session",
    "segment_index",
    "start_s",
    "renderer",
    "state",
    "prompt",
    "params",
    "adapters",
    "fallback",
    "render_s",
    "rtf",
    "rms_dbfs",
    "crest_db",
    "centroid_hz",
    "lufs",
    "peak_dbfs",
    "clip",
)


def _num(x: float, digits: int = 3) -> str:
    return "" if not math.isfinite(x) else f"{x:.{digits}f}"


class SegmentLog:
    def __init__(
        self,
        metrics_csv: Path,
        audio_dir: Path | None,
        sample_rate: int,
        session: str | None = None,
    ) -> None:
        self.metrics_csv = Path(metrics_csv)
        self.audio_dir = Path(audio_dir) if audio_dir is not None else None
        self.sample_rate = sample_rate
        self.session = session or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.rows = 0
        self._out: LineAppender | None = None  # opened where it writes (the worker)
        self._buf = io.StringIO()
        self.metrics_csv.parent.mkdir(parents=True, exist_ok=True)
        if self.audio_dir is not None:
            self.audio_dir.mkdir(parents=True, exist_ok=True)

    def __getstate__(self) -> dict[str, object]:  # to the worker: no open file, no buffer
        return {**self.__dict__, "_out": None, "_buf": None}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._buf = io.StringIO()

    def _rotate_if_foreign(self) -> None:
        """A metrics file with other columns (an older bassd) is moved aside, not mixed."""
        p = self.metrics_csv
        if not p.exists() or p.stat().st_size == 0:
            return
        with p.open(encoding="utf-8") as f:
            header = f.readline().strip()
        if header != ",".join(COLUMNS):
            aside = p.with_name(f"{p.stem}.{datetime.now(UTC):%Y%m%dT%H%M%S}.old{p.suffix}")
            p.rename(aside)
            log.warning("metrics_csv_rotated", old=str(aside), reason="different columns")

    def write(self, rec: SegmentRecord) -> dict[str, str]:
        """Measure one finished segment and append its row (blocking: run off the loop).

        Frees the segment's captured audio afterwards, whatever happens.
        """
        try:
            return self._write(rec)
        finally:
            rec.release()

    def _write(self, rec: SegmentRecord) -> dict[str, str]:
        m = measure(rec.audio, self.sample_rate)
        clip = ""
        if self.audio_dir is not None and len(rec.audio):
            path = self.audio_dir / f"{self.session}_seg{rec.index:04d}.wav"
            try:
                write_wav(path, rec.audio, self.sample_rate)
                clip = str(path)
                DISK.recovered("clips", path, 1)
            except OSError as exc:  # a full disk: the row is kept, the clip is not
                DISK.failed("clips", path, exc)
                with contextlib.suppress(OSError):
                    path.unlink()
        row = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "session": self.session,
            "segment_index": str(rec.index),
            "start_s": _num(rec.start_frame / self.sample_rate),
            "renderer": rec.renderer,
            "state": str(rec.meta.get("state", "")),
            "prompt": str(rec.meta.get("prompt", "")),
            "params": json.dumps(rec.params, sort_keys=True),
            "adapters": json.dumps(rec.meta["adapters"], sort_keys=True)
            if rec.meta.get("adapters") is not None
            else "",
            "fallback": "1" if rec.fallback else "0",
            "render_s": _num(rec.render_seconds, 4),
            "rtf": _num(rec.rtf, 4),
            "rms_dbfs": _num(m.rms_dbfs, 2),
            "crest_db": _num(m.crest_db, 2),
            "centroid_hz": _num(m.centroid_hz, 1),
            "lufs": _num(m.lufs, 2),
            "peak_dbfs": _num(m.peak_dbfs, 2),
            "clip": clip,
        }
        if self._out is None:
            self._rotate_if_foreign()
            self._out = LineAppender(self.metrics_csv, "metrics", header=",".join(COLUMNS) + "\r\n")
        self._buf.seek(0)
        self._buf.truncate()
        csv.DictWriter(self._buf, fieldnames=COLUMNS).writerow(row)
        self._out.append(self._buf.getvalue())  # on a full disk it waits for the next one
        self.rows += 1
        log.info("segment_logged", segment=rec.index, lufs=row["lufs"], rtf=row["rtf"])
        return {**row, "_disk": json.dumps(DISK.figures())}  # the worker's disk, to the daemon
