"""Heart rate → state machine: calibration, sustained rules, hysteresis, staleness, artifacts."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from pathlib import Path

import pytest
from pydantic import ValidationError

from bassd.control.hr import HeartRateMonitor, HrConfig, HrEvent, read_hr_trace

# 1 Hz noise around 70 with high outliers: median 70, mean 73.6.
_NOISY_70 = [70, 69, 71, 88, 70, 68, 72, 70, 88, 70]


class Recorder:
    def __init__(self, cfg: HrConfig | None = None) -> None:
        self.events: list[HrEvent] = []
        self.mon = HeartRateMonitor(cfg or HrConfig(), self.events.append)

    def feed(self, trace: Iterable[tuple[float, float]]) -> None:
        """Samples plus the daemon's ticks in between."""
        for t, bpm in trace:
            self.mon.sample(t, bpm)
            self.mon.tick(t + 0.5)

    def kinds(self, kind: str) -> list[HrEvent]:
        return [e for e in self.events if e.kind == kind]

    def states(self) -> list[tuple[float, str]]:
        return [(e.t, e.value) for e in self.kinds("state")]


def flat(start: int, stop: int, bpm: float) -> list[tuple[float, float]]:
    return [(float(t), bpm) for t in range(start, stop)]


def test_full_session_timeline() -> None:
    """Median baseline from 180 s, then stress at run start + 30 s, exit after 10 s below 82, under at +20 s."""
    r = Recorder()
    r.mon.start_baseline(0.0)
    r.feed((float(t), _NOISY_70[t % 10]) for t in range(180))
    r.feed(flat(180, 300, 70))
    r.feed(flat(300, 400, 100))  # 300: +30 bpm in 1 s is rejected; 301 is accepted (15 bpm/s)
    r.feed(flat(400, 500, 72))  # 400 rejected likewise; the exit run starts at 401
    r.feed(flat(500, 600, 55))  # 72 → 55 is 17 bpm/s: accepted, the under run starts at 500
    (base,) = r.kinds("baseline")
    assert (base.t, base.value, base.detail) == (
        180.0,
        "70.0",
        "calibrated from 180 samples (median)",
    )
    assert r.mon.baseline == 70.0 and not r.mon.calibrating
    assert r.states() == [(331.0, "stress"), (411.0, "neutral"), (520.0, "underaroused")]
    assert r.kinds("state")[0].detail == "hr 100.0 > baseline 70.0 + 15 for 30 s"
    assert r.kinds("state")[1].detail == "hr 72.0 < baseline 70.0 + 15 - 3 for 10 s"
    assert r.kinds("state")[2].detail == "hr 55.0 < baseline 70.0 - 10 for 20 s"
    assert [e.t for e in r.kinds("hr_rejected")] == [300.0, 400.0]
    assert r.mon.state == "underaroused" and r.mon.accepted == 598 and r.mon.rejected == 2


def test_no_state_change_without_baseline() -> None:
    """Until a baseline exists the state stays neutral, whatever the heart rate."""
    r = Recorder()
    r.feed(flat(0, 200, 150))
    assert r.states() == [] and r.mon.state == "neutral" and r.mon.baseline is None


def test_accepted_sample_inside_threshold_restarts_sustain() -> None:
    """One accepted sample at or below the threshold breaks the run; the 30 s restart after it."""
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    r.feed([*flat(0, 15, 100), (15.0, 85.0), *flat(16, 60, 100)])
    assert r.states() == [(46.0, "stress")]


def test_rejected_sample_does_not_break_sustain() -> None:
    """Artifacts inside a run are ignored: the onset stays at first sample + 30 s."""
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    r.feed([*flat(0, 15, 100), (15.0, math.nan), (16.0, 250.0), *flat(17, 40, 100)])
    assert r.states() == [(30.0, "stress")]


@pytest.mark.parametrize(("hysteresis", "flaps"), [(3.0, False), (0.0, True)])
def test_hovering_at_threshold_never_flaps(hysteresis: float, flaps: bool) -> None:
    """Even with zero sustain times, 85 ± 1 bpm enters stress once and stays: hysteresis holds it."""
    cfg = HrConfig(stress_sustain_s=0, exit_sustain_s=0, hysteresis_bpm=hysteresis)
    r = Recorder(cfg)
    r.mon.set_baseline(0.0, 70.0)
    r.feed((float(t), 84.0 if t % 2 else 86.0) for t in range(300))
    if flaps:  # the control: without hysteresis every crossing is a state change
        assert len(r.states()) == 300
    else:
        assert r.states() == [(0.0, "stress")]


def test_noisy_hover_with_default_rules() -> None:
    """Default rules: HR jittering in baseline+15 ± 1 never enters stress, and once in stress never leaves."""
    rng = random.Random(1)
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    r.feed((float(t), 85.0 + rng.uniform(-1.0, 1.0)) for t in range(599))
    r.feed([(599.0, 84.0)])  # so the stress run below starts at 600
    assert r.states() == []
    r.feed(flat(600, 640, 95))
    r.feed((float(t), 85.0 + rng.uniform(-1.0, 1.0)) for t in range(640, 1240))
    assert r.states() == [(630.0, "stress")]
    # 85 → 60 at 1240 is a rejected jump; from 1241 the exit run lasts 10 s. 60 ± 1 never
    # stays below baseline - 10 for 20 s, so under-aroused is never entered either.
    r.feed((float(t), 60.0 + rng.uniform(-1.0, 1.0)) for t in range(1240, 1840))
    assert r.states() == [(630.0, "stress"), (1251.0, "neutral")]


def test_heart_rate_gone_ten_minutes_and_back() -> None:
    """The sensor silent for 10 minutes in stress (the daemon ticking at 10 Hz throughout):
    one hr_stale and one fall back to neutral after 10 s, nothing repeated for 10 minutes,
    the baseline kept; back in stress: hr_resumed, and stress again after the 30 s rule."""
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    r.feed(flat(0, 51, 100))  # stress at 30
    for k in range(511, 6510):  # 10 minutes of ticks, no samples, until t = 650.9
        r.mon.tick(k / 10)
    assert r.mon.state == "neutral" and r.mon.stale and r.mon.baseline == 70.0
    r.feed(flat(651, 700, 100))
    assert r.states() == [(30.0, "stress"), (60.0, "neutral"), (681.0, "stress")]
    assert [e.t for e in r.kinds("hr_stale")] == [60.0]
    assert [e.t for e in r.kinds("hr_resumed")] == [651.0]
    assert len(r.events) == len({(e.t, e.kind) for e in r.events})  # no repeats


def test_stale_data_falls_back_and_resumes() -> None:
    """No valid HR for 10 s → hr_stale and neutral; data back → hr_resumed, sustain restarts."""
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    r.feed(flat(0, 51, 100))  # stress at 30
    for k in range(511, 700):  # ticks at 10 Hz, with artifacts only, until t = 69.9
        r.mon.tick(k / 10)
        if k % 10 == 5:
            r.mon.sample(k / 10, math.nan)
    assert r.mon.state == "neutral" and r.mon.stale
    r.feed(flat(70, 120, 100))
    assert r.states() == [(30.0, "stress"), (60.0, "neutral"), (100.0, "stress")]
    assert r.kinds("state")[1].detail == "stale data"
    assert [e.t for e in r.kinds("hr_stale")] == [60.0]
    assert [e.t for e in r.kinds("hr_resumed")] == [70.0]
    at_70 = [e.kind for e in r.events if e.t == 70.0]
    assert at_70 == ["hr_resumed", "hr"]


def test_stale_detected_by_a_late_sample_without_ticks() -> None:
    """A sample after a gap ≥ stale_seconds reports the gap itself and restarts sustain timers."""
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    for t in [*range(0, 20), *range(35, 80)]:
        r.mon.sample(float(t), 100.0)
    assert [e.kind for e in r.events if e.t == 35.0] == ["hr_stale", "hr_resumed", "hr"]
    assert r.states() == [(65.0, "stress")]


@pytest.mark.parametrize(
    ("t", "bpm", "reason"),
    [
        (11.0, 25.0, "out of range 30-220 bpm"),
        (11.0, 250.0, "out of range 30-220 bpm"),
        (11.0, math.nan, "not a finite number"),
        (11.0, math.inf, "not a finite number"),
        (11.0, 110.0, "jump of 40.0 bpm/s exceeds 20"),
        (10.5, 85.0, "jump of 30.0 bpm/s exceeds 20"),
        (9.0, 70.0, "time went backwards (9 < 10)"),
        (10.0, 70.0, "duplicate timestamp 10"),
        (math.nan, 70.0, "time is not a finite number"),
    ],
)
def test_artifacts_are_rejected_with_reason(t: float, bpm: float, reason: str) -> None:
    """Each kind of artifact is rejected, counted and reported with its reason."""
    r = Recorder()
    r.mon.sample(10.0, 70.0)
    ev = r.mon.sample(t, bpm)
    assert (ev.kind, ev.value, ev.detail) == ("hr_rejected", str(bpm), reason)
    assert r.events[-1] == ev
    assert r.mon.rejected == 1 and r.mon.accepted == 1 and r.mon.last_bpm == 70.0


def test_jump_at_the_limit_is_accepted() -> None:
    """A change of exactly max_jump_bpm_per_s is a real change, not an artifact."""
    r = Recorder()
    r.mon.sample(10.0, 70.0)
    ev = r.mon.sample(11.0, 90.0)
    assert (ev.kind, ev.value) == ("hr", "90.0") and r.mon.last_bpm == 90.0


def test_rr_intervals_validated_one_by_one() -> None:
    """Good RR intervals are logged as rr; each bad one is rejected with its reason."""
    r = Recorder()
    ev = r.mon.sample(1.0, 70.0, [850.0, 5000.0, math.nan, 870.0])
    assert ev.kind == "hr"
    assert [(e.kind, e.value, e.detail) for e in r.events[1:]] == [
        ("hr_rejected", "5000.0", "rr interval out of range 273-2000 ms"),
        ("hr_rejected", "nan", "rr interval not a finite number"),
        ("rr", "850 870", ""),
    ]
    assert r.mon.rejected == 0


def test_forced_state_overrides_until_auto() -> None:
    """force_state pins the state; the rules keep running underneath and show again on release."""
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    r.feed(flat(0, 10, 70))
    r.mon.force_state(10.0, "stress")
    r.feed(flat(10, 60, 70))
    assert r.mon.state == "stress" and r.mon.forced
    r.mon.force_state(60.0, None)
    assert r.mon.state == "neutral" and not r.mon.forced
    r.mon.force_state(100.0, "underaroused")
    r.feed(flat(100, 140, 100))  # the rules reach stress at 130, hidden by the force
    r.mon.force_state(140.0, None)
    assert [(e.t, e.value, e.detail) for e in r.kinds("state")] == [
        (10.0, "stress", "forced"),
        (60.0, "neutral", "auto"),
        (100.0, "underaroused", "forced"),
        (140.0, "stress", "auto"),
    ]


def test_set_baseline_explicitly() -> None:
    """An explicit baseline ends calibration, resets to neutral and moves the thresholds."""
    r = Recorder()
    r.mon.set_baseline(0.0, 70.0)
    r.feed(flat(0, 40, 90))  # stress at 30 against 70
    r.mon.start_baseline(40.0)
    r.mon.set_baseline(41.0, 80.0)
    assert not r.mon.calibrating and r.mon.baseline == 80.0
    r.feed(flat(41, 100, 90))  # 90 is not above 80 + 15
    r.feed(flat(100, 140, 96))
    assert r.states() == [(30.0, "stress"), (41.0, "neutral"), (130.0, "stress")]
    assert r.kinds("state")[1].detail == "baseline set"
    assert [(e.value, e.detail) for e in r.kinds("baseline")][-1] == ("80.0", "set explicitly")
    with pytest.raises(ValueError, match="30-220"):
        r.mon.set_baseline(150.0, 10.0)


def test_calibration_with_too_few_samples_keeps_calibrating() -> None:
    """A window with < min_baseline_samples says so once and ends when the count is reached."""
    r = Recorder()
    r.mon.start_baseline(0.0, 60.0)
    r.feed((float(t), 70.0 + (t // 5) % 3) for t in range(0, 60, 5))  # 12 samples
    r.mon.tick(60.0)
    assert r.mon.calibrating and r.mon.baseline is None
    pending = [e for e in r.kinds("calibration") if e.detail != "started"]
    assert [(e.t, e.detail) for e in pending] == [
        (60.0, "only 12 of 30 samples; still calibrating")
    ]
    r.feed((float(t), 71.0) for t in range(60, 200, 5))
    (base,) = r.kinds("baseline")
    assert (base.t, base.value, base.detail) == (
        145.0,
        "71.0",
        "calibrated from 30 samples (median)",
    )
    assert len([e for e in r.kinds("calibration") if e.detail != "started"]) == 1


def test_config_validation() -> None:
    """Unknown keys, out-of-range values and inconsistent thresholds are refused."""
    with pytest.raises(ValidationError, match="extra"):
        HrConfig(stress_delta=15)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="stress_sustain_s"):
        HrConfig(stress_sustain_s=-1)
    with pytest.raises(ValidationError, match="min_bpm"):
        HrConfig(min_bpm=200, max_bpm=100)
    with pytest.raises(ValidationError, match="under_delta_bpm"):
        HrConfig(hysteresis_bpm=10)
    assert HrConfig(hysteresis_bpm=9.5).hysteresis_bpm == 9.5


def test_read_hr_trace(tmp_path: Path) -> None:
    """t,bpm with optional rr_ms (spaces or semicolons) parse into (t, bpm, rr) tuples."""
    p = tmp_path / "trace.csv"
    p.write_text("t,bpm,rr_ms\n0,70,850 860\n1,71.5,840;830\n2,nan,\n")
    rows = read_hr_trace(p)
    assert rows[:2] == [(0.0, 70.0, [850.0, 860.0]), (1.0, 71.5, [840.0, 830.0])]
    assert rows[2][0] == 2.0 and math.isnan(rows[2][1]) and rows[2][2] == []
    q = tmp_path / "plain.csv"
    q.write_text("t,bpm\n0,70\n")
    assert read_hr_trace(q) == [(0.0, 70.0, [])]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t,bpm\n0,70\n1,fast\n", "row 3: field 'bpm': 'fast' is not a number"),
        ("t,bpm\n0,70\n,71\n", "row 3: field 't': missing"),
        ("t,bpm\ninf,70\n", "row 2: field 't': must be finite"),
        ("t,bpm,rr_ms\n0,70,800 x\n", "row 2: field 'rr_ms': 'x' is not a number"),
        ("time,bpm\n0,70\n", "header needs columns 't' and 'bpm'"),
    ],
)
def test_read_hr_trace_errors_name_file_row_field(tmp_path: Path, text: str, message: str) -> None:
    """Bad traces raise ValueError naming the file, the row and the field."""
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValueError) as err:
        read_hr_trace(p)
    assert str(err.value).startswith(f"{p}: ") and message in str(err.value)


# -- model: bayes (the HMM of bassd.dsp.arousal_hmm decides the state) ------------------
BAYES = HrConfig(model="bayes")


def ramp(start: int, frm: float, to: float, seconds: int) -> list[tuple[float, float]]:
    """A linear change at 1 Hz from ``frm`` (at ``start``) to ``to`` over ``seconds``."""
    return [(float(start + k), frm + (to - frm) * k / seconds) for k in range(seconds + 1)]


def test_default_model_is_thresholds() -> None:
    """The threshold rules stay the default; an unknown model name is refused."""
    assert HrConfig().model == "thresholds"
    with pytest.raises(ValidationError):
        HrConfig(model="kalman")  # type: ignore[arg-type]


def test_bayes_sustained_rise_reaches_stress_and_recovers() -> None:
    """model=bayes: a sustained +25 reaches stress after a delay, the return reaches neutral."""
    r = Recorder(BAYES)
    r.mon.set_baseline(0.0, 70.0)
    r.feed(flat(0, 100, 70))
    r.feed(ramp(100, 70, 95, 10)[1:])
    r.feed(flat(111, 250, 95))
    r.feed(ramp(250, 95, 70, 10)[1:])
    r.feed(flat(261, 400, 70))
    states = r.states()
    assert [v for _, v in states] == ["stress", "neutral"]
    assert 110 < states[0][0] < 141 and 255 < states[1][0] < 300
    assert r.kinds("state")[0].detail.startswith("p(stress) ")


def test_bayes_short_spike_does_not_flip() -> None:
    """model=bayes: a 3-sample spike to +25 (within the jump limit) leaves the state neutral."""
    r = Recorder(BAYES)
    r.mon.set_baseline(0.0, 70.0)
    r.feed(flat(0, 100, 70))
    r.feed([(100.0, 85.0), (101.0, 95.0), (102.0, 85.0)])
    r.feed(flat(103, 200, 70))
    r.feed([(200.0, 58.0), (201.0, 52.0), (202.0, 58.0)])
    r.feed(flat(203, 300, 70))
    assert r.states() == [] and r.mon.state == "neutral"
    assert r.mon.rejected == 0


def test_bayes_sustained_drop_reaches_underaroused() -> None:
    """model=bayes: a sustained -18 reaches under-aroused, not at once."""
    r = Recorder(BAYES)
    r.mon.set_baseline(0.0, 76.0)
    r.feed(flat(0, 100, 76))
    r.feed(flat(100, 200, 58))
    ((t_under, v),) = r.states()
    assert v == "underaroused" and 105 < t_under < 140


def test_bayes_emits_the_same_kinds_of_events() -> None:
    """model=bayes and thresholds on one trace with artifacts and a dropout: same event kinds."""
    trace = [(float(t), 72.0 + (30.0 if 300 <= t < 400 else 0.0)) for t in range(0, 500)]
    trace = [s for s in trace if not 420 <= s[0] < 435] + [(440.0, float("nan"))]
    trace.sort()
    kinds = []
    for cfg in (HrConfig(), BAYES):
        r = Recorder(cfg)
        r.mon.start_baseline(0.0)
        r.feed(trace)
        r.mon.force_state(480.0, "stress")
        r.mon.force_state(481.0, None)
        kinds.append({e.kind for e in r.events})
        assert [v for _, v in r.states()][:2] == ["stress", "neutral"]
        assert r.kinds("hr_stale") and r.kinds("hr_resumed") and r.kinds("hr_rejected")
    assert kinds[0] == kinds[1]


def test_bayes_stale_restarts_the_filter() -> None:
    """model=bayes: stale data → neutral, and evidence from before the gap does not carry over."""
    r = Recorder(BAYES)
    r.mon.set_baseline(0.0, 70.0)
    r.feed(flat(0, 60, 70))
    r.feed(flat(60, 66, 100))  # 70 → 100 is rejected at 60 (30 bpm/s); 61..65 build evidence
    r.feed(flat(80, 84, 100))  # after the 14 s gap: stale, then 4 samples are not enough
    assert r.kinds("hr_stale") and r.mon.state == "neutral"
    assert r.states() == []
