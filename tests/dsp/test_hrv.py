"""HRV: rejection rule, time-domain figures, the live window and the sliding windows.

The reference is hrv-analysis (see tests/dsp/hrv_reference.py); the real data are the
MIT-BIH NSRDB NN series shipped in pyhrv's wheel. Either missing, those tests skip.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bassd.dsp.hrv import HrvWindow, accepted_mask, hrv_windows, time_domain
from tests.dsp.hrv_reference import inject_artifacts, load_series, reference, series_folder

REF = reference()
needs_data = pytest.mark.skipif(
    series_folder() is None, reason="pyhrv (its sample NN series) is not installed"
)
needs_ref = pytest.mark.skipif(REF is None, reason="hrv-analysis is not installed")


def test_hand_computed_figures() -> None:
    """RMSSD, SDNN (ddof=1), pNN50 (%) and 60000/mean NN of 800, 860, 780, 800 by hand."""
    f = time_domain([800.0, 860.0, 780.0, 800.0])
    assert f is not None
    # differences 60, -80, 20: mean square (3600 + 6400 + 400) / 3
    assert f.rmssd_ms == pytest.approx(math.sqrt(10400 / 3))
    # mean 810; squared deviations 100 + 2500 + 900 + 100 = 3600, / (4 - 1)
    assert f.sdnn_ms == pytest.approx(math.sqrt(1200))
    assert f.pnn50 == pytest.approx(100 * 2 / 3)
    assert f.mean_hr == pytest.approx(60000 / 810)
    assert (f.beats, f.rejected) == (4, 0)


def test_differences_across_a_rejected_beat_are_not_used() -> None:
    """Only differences between two accepted adjacent beats count: 800,[400],900,950 -> 50."""
    f = time_domain([800.0, 400.0, 900.0, 950.0], [True, False, True, True])
    assert f is not None
    assert f.rmssd_ms == pytest.approx(50.0)
    assert f.pnn50 == 0.0  # 50 is not more than 50
    assert f.sdnn_ms == pytest.approx(float(np.std([800, 900, 950], ddof=1)))
    assert (f.beats, f.rejected) == (3, 1)
    assert time_domain([800.0, 400.0, 900.0], [True, False, True]) is None


def test_ectopic_beat_and_its_compensatory_pause_are_rejected() -> None:
    """A premature beat (-25 %) and the compensatory long one are both rejected."""
    rr = np.full(21, 800.0)
    rr[10], rr[11] = 600.0, 1000.0
    ok = accepted_mask(rr)
    assert np.flatnonzero(~ok).tolist() == [10, 11]


def test_missed_beat_and_out_of_range_are_rejected() -> None:
    """Two intervals merged (1600 ms) fail the median rule; 250 / 2100 ms / nan fail range."""
    rr = np.array([800.0, 810, 790, 805, 1600, 795, 800, 250, 810, 2100, 800, math.nan, 790])
    assert np.flatnonzero(~accepted_mask(rr)).tolist() == [4, 7, 9, 11]


def test_normal_variability_is_kept() -> None:
    """A slow 15 % sinus swing stays accepted: the median follows the rhythm."""
    rr = 800 + 120 * np.sin(np.arange(60) * 2 * np.pi / 12)
    assert accepted_mask(rr).all()


def test_window_counts_rejections_and_waits_for_enough_beats() -> None:
    """None below min_beats; then the window's figures count its rejected beats."""
    win = HrvWindow(window_seconds=30.0, min_beats=10)
    t = 0.0
    for k in range(9):
        t += 0.8
        win.add(t, 800.0 + (k % 2) * 20)
    assert win.figures(t) is None
    for rr in (800.0, 500.0, 1100.0, 800.0, 820.0, 1700.0, 800.0, 820.0):
        t += rr / 1000
        win.add(t, rr)
    f = win.figures(t)
    assert f is not None
    assert (f.beats, f.rejected) == (14, 3)
    assert f.t_end == t


def test_window_forgets_beats_older_than_its_length() -> None:
    """Beats older than window_seconds leave the figures (and the buffer)."""
    win = HrvWindow(window_seconds=10.0)
    for k in range(160):  # 80 s of steady 800 ms, then 20 s cycling 760/800/840/800
        win.add(0.5 * (k + 1), 800.0)
    for k in range(40):
        win.add(80.0 + 0.5 * (k + 1), (760.0, 800.0, 840.0, 800.0)[k % 4])
    f = win.figures(100.0)
    assert f is not None
    assert (f.beats, f.rejected) == (20, 0)
    assert f.rmssd_ms == pytest.approx(40.0)
    assert len(win._beats) <= 20 + 5


def test_sliding_windows_equal_the_live_window() -> None:
    """hrv_windows gives what an HrvWindow fed live gives at each window end."""
    rng = np.random.default_rng(3)
    rr = 800 + rng.normal(0, 40, 400)
    rr[::37] *= 1.8
    t = np.cumsum(rr) / 1000
    got = hrv_windows(t, rr, 60.0, 15.0)
    assert got[0].t_end == pytest.approx(t[0] + 60)
    assert np.diff([g.t_end for g in got]) == pytest.approx(15.0)
    live = HrvWindow(60.0)
    i = 0
    for g in got:
        while i < t.size and t[i] <= g.t_end:
            live.add(t[i], rr[i])
            i += 1
        assert live.figures(g.t_end) == g


@needs_data
@needs_ref
@pytest.mark.parametrize("name", ["short", "long"])
def test_figures_equal_the_reference_on_real_series(name: str) -> None:
    """On each whole series and each 60 s window (no rejection), the figures equal
    hrv-analysis' rmssd, sdnn, pnni_50 and 60000/mean_nni to 1e-9."""
    assert REF is not None
    t, rr = load_series(name)
    whole = time_domain(rr)
    windows = hrv_windows(t, rr, 60.0, 30.0, reject=False)
    assert whole is not None and len(windows) >= 8
    cases = [(whole, rr), *((w, rr[(t > w.t_end - 60) & (t <= w.t_end)]) for w in windows)]
    for ours, nn in cases:
        ref = REF(list(nn))
        assert ours.rmssd_ms == pytest.approx(ref["rmssd"], rel=1e-9)
        assert ours.sdnn_ms == pytest.approx(ref["sdnn"], rel=1e-9)
        assert ours.pnn50 == pytest.approx(ref["pnni_50"], rel=1e-9)
        assert ours.mean_hr == pytest.approx(60000 / ref["mean_nni"], rel=1e-9)
        assert ours.beats == nn.size


@needs_data
def test_rmssd_is_robust_to_two_percent_artifacts() -> None:
    """With 2 % of beats corrupted (ectopic / missed, alternating), RMSSD stays within
    10 % of the clean series' in >= 95 % of 60 s windows (both series, seeds 0-7 pooled);
    without rejection it does in under 10 % of them."""
    within = without = total = 0
    for name in ("short", "long"):
        t, rr = load_series(name)
        clean = {w.t_end: w.rmssd_ms for w in hrv_windows(t, rr, 60.0, 10.0)}
        for seed in range(8):
            bt, brr, n = inject_artifacts(t, rr, 0.02, seed)
            assert n >= rr.size // 50 - 1
            for reject in (True, False):
                for w in hrv_windows(bt, brr, 60.0, 10.0, reject=reject):
                    close = abs(w.rmssd_ms / clean[w.t_end] - 1) <= 0.10
                    if reject:
                        within += close
                        total += 1
                    else:
                        without += close
    assert within / total >= 0.95
    assert without / total < 0.10
