"""A picture of every session: ``report.json`` (the summary) and ``report.png`` (the figure).

:func:`build_report` reads a session folder's ``events.csv`` and the session's rows of
``metrics.csv`` and returns the summary as plain data (no drawing, no writing):
duration, the arousal states as bands, the baseline and the state thresholds, heart-rate
and HRV summaries, the segments (prompt, renderer, fallback, loudness) and the control
events. :func:`draw_report` draws it, :func:`make_report` writes both files and raises
:class:`ReportError` (one line naming the file) on bad input; :func:`write_report` is the
same for the end of a session: it never raises, it logs ``report_failed`` and returns None.

matplotlib is imported only when drawing (``Figure`` + ``FigureCanvasAgg``, no pyplot),
so the daemon pays for it once, at its shutdown.
"""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import structlog

from bassd.control.hr import HrConfig
from bassd.engine.events_log import COLUMNS as EVENT_COLUMNS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = structlog.get_logger("bassd.report")

REPORT_JSON: Final = "report.json"
REPORT_PNG: Final = "report.png"
MAX_CONTROL_EVENTS: Final[int] = 1000  # in the JSON (a flood keeps its count, not every row)
MAX_CONTROL_LABELS: Final[int] = 40  # labelled ticks in the figure
MAX_PLOT_POINTS: Final[int] = 20_000  # heart-rate points drawn (a days-long session is thinned)
STATE_COLOURS: Final = {"neutral": "#9ecae1", "stress": "#fc9272", "underaroused": "#a1d99b"}
DPI: Final[int] = 100


class ReportError(ValueError):
    """A session folder or one of its files cannot be read; one line naming the file."""


# ------------------------------------------------------------------ reading
def _float(text: str | None) -> float | None:
    try:
        v = float(text or "")
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def read_events(path: Path) -> tuple[list[tuple[float, str, str, str]], int]:
    """The rows (t, kind, value, detail) of an ``events.csv`` and how many were skipped
    (a torn last line, as a killed process leaves). ReportError names the file otherwise."""
    if not path.is_file():
        raise ReportError(f"{path}: no such file (not a session folder?)")
    rows: list[tuple[float, str, str, str]] = []
    bad: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise ReportError(f"{path}: empty file (no header {','.join(EVENT_COLUMNS)})")
            if tuple(header) != EVENT_COLUMNS:
                raise ReportError(
                    f"{path}: header {','.join(header)!r} is not {','.join(EVENT_COLUMNS)!r}"
                )
            for rec in reader:
                t = _float(rec[0]) if len(rec) == len(EVENT_COLUMNS) else None
                if t is None:
                    bad.append(reader.line_num)
                    continue
                rows.append((t, rec[1], rec[2], rec[3]))
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ReportError(f"{path}: not a CSV file ({exc})") from None
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror or exc}") from None
    # only the last line may be torn; a bad row before it is a corrupt file
    if bad and (len(bad) > 1 or bad[0] != reader.line_num):
        raise ReportError(f"{path}: row {bad[0]}: not a t,kind,value,detail row")
    return rows, len(bad)


def read_metrics(path: Path, session: str) -> dict[int, dict[str, str]]:
    """The session's rows of ``metrics.csv`` by segment index ({} when the file is absent)."""
    if not path.is_file():
        return {}
    out: dict[int, dict[str, str]] = {}
    try:
        with path.open(newline="", encoding="utf-8") as f:
            for rec in csv.DictReader(f):
                if rec.get("session") != session:
                    continue
                try:
                    out[int(rec.get("segment_index") or "")] = rec
                except ValueError:
                    continue
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ReportError(f"{path}: not a CSV file ({exc})") from None
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror or exc}") from None
    return out


def default_metrics_csv(session_dir: Path) -> Path:
    """Where the session's ``metrics.csv`` is when no config says: in the folder, else
    beside the sessions folder (``outputs/sessions/<S>`` → ``outputs/metrics.csv``)."""
    inside = session_dir / "metrics.csv"
    return inside if inside.is_file() else session_dir.parent.parent / "metrics.csv"


# ------------------------------------------------------------------ the summary
def _stats(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "min": None, "max": None, "mean": None, "median": None}
    return {
        "count": len(values),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
        "median": round(statistics.median(values), 2),
    }


def _thresholds(hr: HrConfig, baseline: float | None) -> dict[str, float | None]:
    def at(delta: float) -> float | None:
        return round(baseline + delta, 2) if baseline is not None else None

    return {
        "stress_delta_bpm": hr.stress_delta_bpm,
        "under_delta_bpm": hr.under_delta_bpm,
        "hysteresis_bpm": hr.hysteresis_bpm,
        "stress_sustain_s": hr.stress_sustain_s,
        "under_sustain_s": hr.under_sustain_s,
        "stress_bpm": at(hr.stress_delta_bpm),
        "stress_exit_bpm": at(hr.stress_delta_bpm - hr.hysteresis_bpm),
        "under_bpm": at(-hr.under_delta_bpm),
        "under_exit_bpm": at(-hr.under_delta_bpm + hr.hysteresis_bpm),
    }


def build_report(
    session_dir: str | os.PathLike[str],
    *,
    metrics_csv: str | os.PathLike[str] | None = None,
    hr: HrConfig | None = None,
    duration_s: float | None = None,
) -> dict[str, Any]:
    """The summary of one session folder (pure: reads, never writes).

    ``metrics_csv`` is used where it has this session's rows, else :func:`default_metrics_csv`;
    ``hr`` (the thresholds' rules) defaults to the shipped rules; ``duration_s`` to the one
    the session's end-of-session report.json recorded, else the last event's time."""
    folder = Path(session_dir)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such session folder")
    events_csv = folder / "events.csv"
    rows, torn = read_events(events_csv)
    # the configured metrics.csv, else the one beside the sessions folder
    metrics_path = default_metrics_csv(folder)
    metrics: dict[int, dict[str, str]] = {}
    for candidate in dict.fromkeys(
        ([Path(metrics_csv)] if metrics_csv is not None else []) + [metrics_path]
    ):
        metrics = read_metrics(candidate, folder.name)
        if metrics:
            metrics_path = candidate
            break
    rules = hr or HrConfig()

    last = max((r[0] for r in rows), default=0.0)
    end = max(duration_s, 0.0) if duration_s is not None else _recorded_duration(folder, last)

    # states: the monitor starts neutral; each `state` row starts a band
    bands: list[dict[str, Any]] = [{"state": "neutral", "start_s": 0.0, "end_s": end}]
    baselines: list[dict[str, Any]] = []
    hr_series: list[tuple[float, float]] = []
    stale: list[float] = []
    hrv: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    control: list[dict[str, Any]] = []
    control_total = 0
    rejected: Counter[str] = Counter()
    stages: list[dict[str, Any]] = []  # a session protocol's stages (control/protocol_runner.py)
    protocol: dict[str, Any] | None = None
    for t, kind, value, detail in rows:
        if kind in ("stage", "protocol_end", "protocol_stop") and stages:
            stages[-1]["end_s"] = t
        if kind == "protocol":
            protocol = {"name": value, "start_s": t, "end_s": None, "outcome": None,
                        **_json_object(detail)}  # fmt: skip
        elif kind == "stage":
            settings = _json_object(detail)
            stages.append({"name": value, "start_s": t, "end_s": None,
                           "adaptive": bool(settings.get("adaptive", True)),
                           "settings": settings})  # fmt: skip
        elif kind in ("protocol_end", "protocol_stop") and protocol is not None:
            protocol.update(end_s=t, outcome="end" if kind == "protocol_end" else "stop")
        if kind == "state":
            if value == bands[-1]["state"]:
                continue
            if t <= bands[-1]["start_s"]:  # a change at the band's own start replaces it
                bands.pop()
                if bands and bands[-1]["state"] == value:
                    continue
            else:
                bands[-1]["end_s"] = t
            bands.append({"state": value, "start_s": t, "end_s": end, "reason": detail})
        elif kind == "baseline":
            bpm = _float(value)
            if bpm is not None:
                baselines.append({"t": t, "bpm": bpm, "detail": detail})
        elif kind == "hr":
            bpm = _float(value)
            if bpm is not None:
                hr_series.append((t, bpm))
        elif kind == "hr_stale":
            stale.append(t)
        elif kind == "hrv":
            rmssd = _float(value)
            if rmssd is not None:
                hrv.append({"t": t, "rmssd_ms": rmssd})
        elif kind == "segment":
            segments.append(_segment(t, value, detail, metrics))
        elif kind == "osc":
            control_total += 1
            if len(control) < MAX_CONTROL_EVENTS:
                control.append({"t": t, "address": value, "value": detail})
        if kind == "hr_rejected":
            rejected["rr" if detail.startswith("rr interval") else "hr"] += 1
        elif kind.endswith("_rejected") or kind.endswith("_failed"):
            rejected[kind] += 1
    for seg, nxt in zip(segments, [*segments[1:], None], strict=True):
        seg["end_s"] = nxt["start_s"] if nxt is not None else max(end, seg["start_s"])
    bands[-1]["end_s"] = max(end, bands[-1]["start_s"])
    if stages and stages[-1]["end_s"] is None:
        stages[-1]["end_s"] = max(end, stages[-1]["start_s"])
    for b in bands:
        b.setdefault("reason", "session start")

    last_baseline = baselines[-1]["bpm"] if baselines else None
    rmssds = [h["rmssd_ms"] for h in hrv]
    return {
        "session": folder.name,
        "events_csv": str(events_csv),
        "metrics_csv": str(metrics_path) if metrics else None,
        "duration_s": round(end, 3),
        "events": len(rows),
        "torn_rows": torn,
        "states": bands,
        "state_seconds": {
            s: round(sum(b["end_s"] - b["start_s"] for b in bands if b["state"] == s), 3)
            for s in dict.fromkeys(b["state"] for b in bands)
        },
        "baseline_bpm": last_baseline,
        "baselines": baselines,
        "thresholds": _thresholds(rules, last_baseline),
        "hr": {
            **_stats([b for _, b in hr_series]),
            "first_s": hr_series[0][0] if hr_series else None,
            "last_s": hr_series[-1][0] if hr_series else None,
            "stale_at_s": stale,
        },
        "hrv": {**_stats(rmssds), "last_rmssd_ms": rmssds[-1] if rmssds else None} if hrv else None,
        "segments": segments,
        "fallbacks": sum(1 for s in segments if s["fallback"]),
        "control_events": control,
        "control_events_total": control_total,
        "rejected": dict(sorted(rejected.items())),
        "protocol": protocol,
        "stages": stages,
        # drawn, not summarised: kept out of the JSON by write_report
        "_hr_series": hr_series,
        "_hrv_series": [(h["t"], h["rmssd_ms"]) for h in hrv],
    }


def _recorded_duration(folder: Path, last: float) -> float:
    """The duration the session's own end-of-session report recorded (it knew when the
    session stopped), where one exists and covers every row; else the last row's time."""
    try:
        recorded = json.loads((folder / REPORT_JSON).read_text(encoding="utf-8"))["duration_s"]
    except (OSError, ValueError, KeyError, TypeError):
        return last
    ok = isinstance(recorded, int | float) and math.isfinite(recorded) and recorded >= last
    return float(recorded) if ok else last


def _segment(
    t: float, value: str, detail: str, metrics: dict[int, dict[str, str]]
) -> dict[str, Any]:
    try:
        meta = json.loads(detail) if detail else {}
    except json.JSONDecodeError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    try:
        index: int | None = int(value)
    except ValueError:
        index = None
    row = metrics.get(index, {}) if index is not None else {}
    return {
        "index": index,
        "start_s": t,
        "prompt": str(meta.get("prompt") or row.get("prompt") or ""),
        "renderer": str(meta.get("renderer") or row.get("renderer") or ""),
        "state": str(meta.get("state") or row.get("state") or ""),
        "category": str(meta.get("category") or ""),
        "fallback": bool(meta.get("fallback")) or row.get("fallback") == "1",
        "reason": str(meta.get("reason") or ""),
        "loudness_lufs": _float(row.get("lufs")),
    }


# ------------------------------------------------------------------ drawing
def _no_data(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=11,
        color="0.45",
        style="italic",
    )
    ax.set_yticks([])


def _thin(series: list[tuple[float, float]]) -> list[tuple[float, float]]:
    step = -(-len(series) // MAX_PLOT_POINTS)
    return series if step <= 1 else series[::step]


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def draw_report(report: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the report's PNG: stacked panels on one time axis (seconds)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    end = max(float(report["duration_s"]), 1.0)
    has_hrv = report["hrv"] is not None
    ratios = [3.0] + ([1.6] if has_hrv else []) + [1.6, 1.3, 1.2]
    fig = Figure(figsize=(14.0, 2.0 + 1.6 * len(ratios)), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    ax_hr, rest = axes[0], list(axes[1:])
    ax_hrv = rest.pop(0) if has_hrv else None
    ax_seg, ax_lufs, ax_ctl = rest
    n_seg, n_fb = len(report["segments"]), report["fallbacks"]
    fig.suptitle(
        f"bassd session {report['session']}: {end:.0f} s, {n_seg} segments "
        f"({n_fb} fallbacks), {report['control_events_total']} control events",
        fontsize=13,
        fontweight="bold",
    )

    # state bands behind every panel, labelled once (the heart-rate panel's legend)
    seen: dict[str, Patch] = {}
    for band in report["states"]:
        colour = STATE_COLOURS.get(band["state"], "#dddddd")
        for ax in axes:
            ax.axvspan(band["start_s"], band["end_s"], color=colour, alpha=0.35, lw=0)
        seen.setdefault(
            band["state"], Patch(color=colour, alpha=0.5, label=f"state: {band['state']}")
        )

    # a protocol's stages: a line at each boundary, named along the top of the HR panel
    for st in report.get("stages", []):
        for ax in axes:
            ax.axvline(st["start_s"], color="#333333", lw=0.8, ls="--", alpha=0.7)
        mid = (st["start_s"] + st["end_s"]) / 2
        ax_hr.annotate(
            f"stage {st['name']}: {'heart rate steers' if st['adaptive'] else 'fixed'}",
            xy=(mid, 0.0), xycoords=("data", "axes fraction"), xytext=(0, 3),
            textcoords="offset points", ha="center", va="bottom", fontsize=9,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#999999", "alpha": 0.8},
        )  # fmt: skip

    # heart rate, baseline, thresholds
    series = _thin(report["_hr_series"])
    ax_hr.set_title("Heart rate and arousal state", loc="left")
    ax_hr.set_ylabel("heart rate (bpm)")
    handles: list[Any] = []
    if series:
        ts, bpm = [t for t, _ in series], [b for _, b in series]
        stale = set(report["hr"]["stale_at_s"])
        # break the line where the data went stale
        xs: list[float] = []
        ys: list[float] = []
        for i, (t, b) in enumerate(zip(ts, bpm, strict=True)):
            if i and any(ts[i - 1] < s <= t for s in stale):
                xs.append(math.nan)
                ys.append(math.nan)
            xs.append(t)
            ys.append(b)
        (line,) = ax_hr.plot(xs, ys, color="black", lw=1.0, label="heart rate")
        handles.append(line)
        th = report["thresholds"]
        steps = report["baselines"]
        if steps:
            bx = [s["t"] for s in steps] + [end]
            for key, style, colour, label in (
                (0.0, "-", "tab:blue", "baseline"),
                (th["stress_delta_bpm"], "--", "tab:red", f"stress (+{th['stress_delta_bpm']:g})"),
                (
                    -th["under_delta_bpm"],
                    "--",
                    "tab:green",
                    f"under-aroused (−{th['under_delta_bpm']:g})",
                ),
            ):
                by = [s["bpm"] + key for s in steps]
                (ln,) = ax_hr.step(
                    bx, [*by, by[-1]], where="post", ls=style, color=colour, lw=1.4, label=label
                )
                handles.append(ln)
        else:
            ax_hr.text(
                0.01,
                0.92,
                "no baseline (still calibrating)",
                transform=ax_hr.transAxes,
                fontsize=9,
                color="0.4",
            )
        # the thresholds stay in view even when the heart rate never reaches them
        marks = [b for b in (th["stress_bpm"], th["under_bpm"]) if b is not None]
        ax_hr.set_ylim(min(bpm + marks) - 5, max(bpm + marks) + 8)
    else:
        _no_data(ax_hr, "no heart rate")
    ax_hr.legend(
        handles=handles + list(seen.values()),
        loc="upper left",
        fontsize=8,
        ncol=min(4, len(handles) + len(seen)),
        framealpha=0.85,
    )
    rej = report["rejected"]
    if rej:
        ax_hr.text(
            0.995,
            0.03,
            "rejected: " + ", ".join(f"{k} {v}" for k, v in rej.items()),
            transform=ax_hr.transAxes,
            ha="right",
            fontsize=8,
            color="0.3",
        )

    if ax_hrv is not None:
        ax_hrv.set_title("Heart-rate variability", loc="left")
        ax_hrv.set_ylabel("RMSSD (ms)")
        hs = report["_hrv_series"]
        ax_hrv.plot(
            [t for t, _ in hs], [v for _, v in hs], color="tab:purple", lw=1.2, marker=".", ms=3
        )

    # segments: one bar each, labelled with prompt and renderer; fallbacks hatched red
    ax_seg.set_title("Segments (prompt / renderer; hatched red = fallback)", loc="left")
    ax_seg.set_yticks([])
    ax_seg.set_ylim(0, 1)
    segs = report["segments"]
    if segs:
        for s in segs:
            width = max(s["end_s"] - s["start_s"], 1e-3)
            fb = s["fallback"]
            ax_seg.barh(
                0.5,
                width,
                left=s["start_s"],
                height=0.9,
                color="#fee0d2" if fb else "#f0f0f0",
                edgecolor="red" if fb else "0.4",
                hatch="///" if fb else None,
                lw=1.4 if fb else 0.6,
            )
            label = f"{s['prompt'] or '?'}\n{s['renderer']}" + (" (fallback)" if fb else "")
            size = 7 if width / end > 0.02 else 5
            ax_seg.text(
                s["start_s"] + width / 2,
                0.5,
                label,
                rotation=90 if width / end < 0.08 else 0,
                ha="center",
                va="center",
                fontsize=size,
                clip_on=True,
                color="darkred" if fb else "black",
            )
    else:
        _no_data(ax_seg, "no segments")

    ax_lufs.set_title("Loudness per segment", loc="left")
    ax_lufs.set_ylabel("LUFS")
    measured = [s for s in segs if s["loudness_lufs"] is not None]
    if measured:
        ax_lufs.hlines(
            [s["loudness_lufs"] for s in measured],
            [s["start_s"] for s in measured],
            [s["end_s"] for s in measured],
            color="tab:orange",
            lw=2.5,
        )
        ax_lufs.plot(
            [(s["start_s"] + s["end_s"]) / 2 for s in measured],
            [s["loudness_lufs"] for s in measured],
            "o",
            color="tab:orange",
            ms=3,
        )
        vals = [s["loudness_lufs"] for s in measured]
        ax_lufs.set_ylim(min(vals) - 2, max(vals) + 2)
    else:
        _no_data(ax_lufs, "no loudness (no metrics.csv rows for this session)")

    ax_ctl.set_title("Control events (OSC)", loc="left")
    ax_ctl.set_yticks([])
    ax_ctl.set_ylim(0, 1)
    ctl = report["control_events"]
    if ctl:
        ax_ctl.vlines([c["t"] for c in ctl], 0, 0.25, color="tab:blue", lw=1)
        for i, c in enumerate(ctl[:MAX_CONTROL_LABELS]):
            text = f"{c['address']} {c['value']}".strip()
            ax_ctl.text(
                c["t"],
                0.3 + 0.22 * (i % 3),
                text if len(text) <= 28 else text[:27] + "…",
                fontsize=7,
                ha="left",
                va="bottom",
                clip_on=True,
            )
        more = report["control_events_total"] - min(len(ctl), MAX_CONTROL_LABELS)
        if more > 0:
            ax_ctl.text(
                0.995,
                0.9,
                f"+{more} more",
                transform=ax_ctl.transAxes,
                ha="right",
                va="top",
                fontsize=8,
                color="0.3",
            )
    else:
        _no_data(ax_ctl, "no control events")
    ax_ctl.set_xlabel("time since the session started (s)")
    ax_ctl.set_xlim(0, end)
    FigureCanvasAgg(fig)
    fig.savefig(Path(path), dpi=DPI, format="png")


# ------------------------------------------------------------------ writing
def _paths(folder: Path, out_png: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    if out_png is None:
        return folder / REPORT_PNG, folder / REPORT_JSON
    png = Path(out_png)
    return png, png.with_suffix(".json")


def make_report(
    session_dir: str | os.PathLike[str],
    out_png: str | os.PathLike[str] | None = None,
    *,
    metrics_csv: str | os.PathLike[str] | None = None,
    hr: HrConfig | None = None,
    duration_s: float | None = None,
) -> tuple[Path, Path]:
    """Write the session's PNG and JSON (into the folder, or ``out_png`` and the JSON beside
    it); returns their paths. ReportError (one line naming the file) on bad input."""
    report = build_report(session_dir, metrics_csv=metrics_csv, hr=hr, duration_s=duration_s)
    png, js = _paths(Path(session_dir), out_png)
    try:
        png.parent.mkdir(parents=True, exist_ok=True)
        public = {k: v for k, v in report.items() if not k.startswith("_")}
        tmp = js.with_name(js.name + ".tmp")
        tmp.write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
        tmp.replace(js)
        draw_report(report, png)
    except OSError as exc:
        raise ReportError(
            f"{exc.filename or png}: cannot write the report: {exc.strerror or exc}"
        ) from None
    return png, js


def write_report(
    session_dir: str | os.PathLike[str],
    out_png: str | os.PathLike[str] | None = None,
    *,
    metrics_csv: str | os.PathLike[str] | None = None,
    hr: HrConfig | None = None,
    duration_s: float | None = None,
) -> tuple[Path, Path] | None:
    """:func:`make_report` for the end of a session: never raises (bad data, a full disk,
    a drawing failure), logs ``report_failed`` and returns None instead."""
    try:
        png, js = make_report(
            session_dir, out_png, metrics_csv=metrics_csv, hr=hr, duration_s=duration_s
        )
    except Exception as exc:  # a report must never take the session down
        log.error(
            "report_failed", session=str(session_dir), error=str(exc), kind=type(exc).__name__
        )
        return None
    log.info("report_written", png=str(png), json=str(js))
    return png, js


def latest_session(sessions_dir: str | os.PathLike[str]) -> Path:
    """The newest session folder (by its events.csv's modification time, else the folder's)."""
    root = Path(sessions_dir)
    if not root.is_dir():
        raise ReportError(f"{root}: no sessions folder (outputs.sessions_dir)")
    folders = [p for p in root.iterdir() if p.is_dir()]
    if not folders:
        raise ReportError(f"{root}: no sessions yet")

    def mtime(p: Path) -> float:
        ev = p / "events.csv"
        return (ev if ev.is_file() else p).stat().st_mtime

    return max(folders, key=lambda p: (mtime(p), p.name))
