"""The live HRV monitor: RR intervals into the window, figures once a second, hrv rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from bassd.control.hrv_monitor import HrvConfig, HrvMonitor
from bassd.dsp.hrv import HrvWindow


def test_figures_follow_the_window_and_rows_are_recorded_on_change() -> None:
    """Beats fed as messages give /status figures equal to dsp.hrv's own window, updated
    once per update_seconds, and an hrv row (value RMSSD) each time they change."""
    rows: list[tuple[float, str, object, str]] = []
    mon = HrvMonitor(HrvConfig(window_seconds=30.0), lambda *r: rows.append(r))
    ref = HrvWindow(30.0)
    rng = np.random.default_rng(1)
    t = 0.0
    for _ in range(90):
        rr = float(800 + 40 * rng.standard_normal())
        t += rr / 1000
        mon.add(t, [rr])
        ref.add(t, rr)
        mon.tick(t)
    f = ref.figures(t)
    assert f is not None
    figs = mon.figures()
    assert mon.latest is not None
    assert abs(mon.latest.rmssd_ms - ref.figures(mon.latest.t_end).rmssd_ms) < 1e-9
    assert figs["hrv_beats"] > 0 and figs["hrv_rmssd_ms"] is not None
    assert rows and all(r[1] == "hrv" for r in rows)
    assert len(rows) <= int(t) + 1  # at most once per second
    detail = json.loads(rows[-1][3])
    assert {"sdnn_ms", "pnn50", "mean_hr", "beats", "rejected"} <= set(detail)
    assert float(rows[-1][2]) == pytest.approx(mon.latest.rmssd_ms, abs=0.01)


def test_nothing_before_enough_beats_and_off_when_disabled() -> None:
    """Fewer than min_beats: no figures and no row; hrv.enabled false ignores beats."""
    rows: list = []
    mon = HrvMonitor(HrvConfig(min_beats=10), lambda *r: rows.append(r))
    for i in range(5):
        mon.add(i * 0.8, [800.0])
        mon.tick(i * 0.8)
    assert mon.figures()["hrv_rmssd_ms"] is None and rows == []
    off = HrvMonitor(HrvConfig(enabled=False))
    off.add(1.0, [800.0] * 20)
    off.tick(2.0)
    assert off.beats == 0


def test_config_rejects_unknown_keys_and_bad_windows() -> None:
    """An unknown key and a window outside 10..600 s are errors."""
    for bad in ({"windoww": 60}, {"window_seconds": 5}):
        with pytest.raises(ValidationError):
            HrvConfig.model_validate(bad)
