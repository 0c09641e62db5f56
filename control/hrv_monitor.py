"""HRV of the listener, live: RR intervals (``/hr/rr`` or the BLE bridge) into a sliding window.

The figures (``dsp/hrv.py``: artifact and ectopic beats rejected by the local-median 20 %
rule, then RMSSD, SDNN, pNN50 and mean HR over ``hrv.window_seconds``) are recomputed once a
second on the session clock (``update_seconds``), published in ``/status`` and subscriptions,
and written to events.csv as ``kind=hrv`` rows (value: RMSSD in ms; detail: the others as
JSON) whenever they change. Every beat of one message is stamped with the message's time,
as ``bassd hrv`` stamps every RR value of a trace row with the row's time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bassd.dsp.hrv import HrvFigures, HrvWindow


class HrvConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    enabled: bool = True
    window_seconds: float = Field(60.0, ge=10.0, le=600.0)
    update_seconds: float = Field(1.0, gt=0.0, le=60.0)
    min_beats: int = Field(10, ge=2, le=1000)


#: (t, kind, value, detail): a row for events.csv
Record = Callable[[float, str, object, str], None]


class HrvMonitor:
    def __init__(self, config: HrvConfig, record: Record | None = None) -> None:
        self.config = config
        self.window = HrvWindow(config.window_seconds, min_beats=config.min_beats)
        self.record = record
        self.latest: HrvFigures | None = None
        self.beats = 0
        self._next_update = float("-inf")
        self._last_t: float | None = None

    def add(self, t: float, rr_ms: Iterable[float]) -> None:
        """The RR intervals of one message (already range-checked), stamped ``t``."""
        if not self.config.enabled:
            return
        if self._last_t is not None and t < self._last_t:
            t = self._last_t  # a message stamped earlier than the last: taken as now
        for rr in rr_ms:
            self.window.add(t, rr)
            self.beats += 1
        self._last_t = t

    def tick(self, t: float) -> None:
        """Recompute the figures once per ``update_seconds``; record them when they change."""
        if not self.config.enabled or t < self._next_update:
            return
        self._next_update = t + self.config.update_seconds
        if self._last_t is None:
            return
        figures = self.window.figures(min(t, self._last_t))
        if figures is None or figures == self.latest:
            return
        changed = self.latest is None or (
            (figures.rmssd_ms, figures.beats, figures.rejected)
            != (self.latest.rmssd_ms, self.latest.beats, self.latest.rejected)
        )
        self.latest = figures
        if changed and self.record is not None:
            detail = json.dumps({
                "sdnn_ms": round(figures.sdnn_ms, 2), "pnn50": round(figures.pnn50, 2),
                "mean_hr": round(figures.mean_hr, 2), "beats": figures.beats,
                "rejected": figures.rejected, "window_s": self.config.window_seconds,
            }, sort_keys=True)  # fmt: skip
            self.record(t, "hrv", f"{figures.rmssd_ms:.2f}", detail)

    def figures(self) -> dict[str, Any]:
        f = self.latest
        return {
            "hrv_rmssd_ms": round(f.rmssd_ms, 2) if f else None,
            "hrv_sdnn_ms": round(f.sdnn_ms, 2) if f else None,
            "hrv_pnn50": round(f.pnn50, 2) if f else None,
            "hrv_mean_hr": round(f.mean_hr, 2) if f else None,
            "hrv_beats": f.beats if f else 0,
            "hrv_rejected": f.rejected if f else 0,
        }
