"""``bassd hrv FILE.csv [--window S] [--step S]``: HRV figures of a recorded RR series.

The file is a CSV with a header: either ``t,rr_ms`` (one RR interval per row, ``t`` the
beat's time in seconds) or a heart-rate trace ``t,bpm,rr_ms`` as ``bassd render
--hr-trace`` reads it (:func:`bassd.control.hr.read_hr_trace`: ``rr_ms`` holds zero or
more intervals separated by spaces or semicolons). The intervals of one row are beats
stamped with that row's ``t``, as a live ``/hr/rr`` message's are on arrival. Prints one
CSV row per window (:func:`bassd.dsp.hrv.hrv_windows`, with its rejection rule):
``t_end,rmssd_ms,sdnn_ms,pnn50,mean_hr,beats,rejected`` (pnn50 in percent). A bad file
is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

COLUMNS = "t_end,rmssd_ms,sdnn_ms,pnn50,mean_hr,beats,rejected"


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``hrv`` on the top-level parser's subparsers (``config_args`` is unused)."""
    del config_args
    p = sub.add_parser("hrv", help="HRV figures (RMSSD, SDNN, pNN50, HR) of an RR-interval CSV")
    p.add_argument("file", type=Path, metavar="FILE.csv", help="t,rr_ms or t,bpm,rr_ms")
    p.add_argument("--window", type=float, default=60.0, metavar="S", help="window (60 s)")
    p.add_argument("--step", type=float, default=10.0, metavar="S", help="step (10 s)")
    p.set_defaults(func=cmd_hrv)


def read_beats(path: Path) -> tuple[list[float], list[float]]:
    """(beat times, RR intervals in ms) of a file; ValueError/OSError name what is wrong."""
    with open(path, newline="", encoding="utf-8") as f:
        fields = [c.strip() for c in next(csv.reader(f), [])]
    if "t" not in fields or "rr_ms" not in fields:
        raise ValueError(f"{path}: header needs columns 't' and 'rr_ms', found {fields}")
    if "bpm" in fields:
        from bassd.control.hr import read_hr_trace

        rows = [(t, rr) for t, _, rr in read_hr_trace(path)]
    else:
        rows = _read_rr_rows(path)
    times: list[float] = []
    rrs: list[float] = []
    for t, rr in rows:
        if times and t < times[-1]:
            raise ValueError(f"{path}: time {t:g} is before the previous row's {times[-1]:g}")
        for v in rr:
            times.append(t)
            rrs.append(v)
    if not times:
        raise ValueError(f"{path}: no RR intervals")
    return times, rrs


def _read_rr_rows(path: Path) -> list[tuple[float, list[float]]]:
    from bassd.control.hr import _RR_SPLIT

    rows: list[tuple[float, list[float]]] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
        for rec in reader:
            n = reader.line_num
            values: list[float] = []
            for field, text in [("t", rec.get("t") or "")] + [
                ("rr_ms", x) for x in _RR_SPLIT.split((rec.get("rr_ms") or "").strip()) if x
            ]:
                if not text.strip():
                    raise ValueError(f"{path}: row {n}: field '{field}': missing")
                try:
                    values.append(float(text))
                except ValueError:
                    raise ValueError(
                        f"{path}: row {n}: field '{field}': {text.strip()!r} is not a number"
                    ) from None
            if not math.isfinite(values[0]):
                raise ValueError(f"{path}: row {n}: field 't': must be finite, got {values[0]}")
            rows.append((values[0], values[1:]))
    return rows


def cmd_hrv(args: argparse.Namespace) -> int:
    """Print the windows' CSV; 2 with one line on a bad file or option."""
    for name in ("window", "step"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v > 0):
            print(f"bassd: --{name} must be a positive number of seconds, not {v}", file=sys.stderr)
            return 2
    try:
        times, rr = read_beats(args.file)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    from bassd.dsp.hrv import hrv_windows

    print(COLUMNS)
    for w in hrv_windows(times, rr, args.window, args.step):
        print(
            f"{w.t_end:.3f},{w.rmssd_ms:.2f},{w.sdnn_ms:.2f},{w.pnn50:.2f},{w.mean_hr:.2f},"
            f"{w.beats},{w.rejected}"
        )
    return 0
