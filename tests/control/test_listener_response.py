"""The listener's response to a segment: reward signs per state, the tracker's reasons."""

from __future__ import annotations

import pytest

from bassd.control.listener_response import (
    NoResponse,
    ResponseTracker,
    SegmentResponse,
    goal_reward,
)


def play(tracker: ResponseTracker, t0: float, seconds: int, start: float, per_min: float) -> None:
    """1 Hz samples of a straight line from ``start`` bpm at ``per_min`` bpm/min."""
    for k in range(seconds):
        tracker.hr_sample(t0 + k, start + per_min * k / 60.0)


def judge(state: str, start: float, per_min: float, baseline: float = 70.0) -> SegmentResponse:
    tracker = ResponseTracker(baseline)
    assert tracker.segment_started(0.0, "p", state) is None
    play(tracker, 0.0, 30, start, per_min)
    out = tracker.finish(30.0)
    assert isinstance(out, SegmentResponse)
    return out


@pytest.mark.parametrize(
    ("state", "start", "per_min", "sign"),
    [
        ("stress", 90.0, -6.0, 1),  # falling toward the baseline: good
        ("stress", 90.0, 6.0, -1),  # rising further: bad
        ("underaroused", 58.0, 6.0, 1),  # rising toward the baseline: good
        ("underaroused", 58.0, -6.0, -1),  # falling further: bad
        ("neutral", 70.0, 6.0, -1),  # drifting up, away from the baseline: bad
        ("neutral", 70.0, -6.0, -1),  # drifting down, away: bad
    ],
)
def test_reward_sign_follows_the_state_goal(
    state: str, start: float, per_min: float, sign: int
) -> None:
    """The reward is positive when HR moves toward the baseline, negative when away."""
    assert judge(state, start, per_min).reward * sign > 0


def test_steady_heart_rate_in_neutral_scores_zero() -> None:
    """A neutral listener whose HR stays at the baseline gets reward 0."""
    assert judge("neutral", 70.0, 0.0).reward == pytest.approx(0.0)


def test_reward_is_the_normalised_approach_rate() -> None:
    """Approaching the baseline at 5 bpm/min (the rate scale) is reward +1."""
    assert judge("stress", 90.0, -5.0).reward == pytest.approx(1.0)
    assert goal_reward(90.0, 85.0, 70.0, 1.0, rate_scale=5.0) == pytest.approx(1.0)


def test_overshooting_the_baseline_is_not_rewarded_more() -> None:
    """Falling past the baseline earns less than landing on it."""
    landing = goal_reward(80.0, 70.0, 70.0, 1.0)
    overshoot = goal_reward(80.0, 60.0, 70.0, 1.0)
    assert overshoot < landing


def test_reward_is_clipped() -> None:
    """An implausible jump cannot push the reward past the clip."""
    assert goal_reward(150.0, 70.0, 70.0, 0.1, clip=3.0) == 3.0


def test_response_figures_of_a_straight_line() -> None:
    """Mean, deltas and least-squares slope are those of the samples."""
    tracker = ResponseTracker(70.0)
    tracker.segment_started(0.0, "a", "stress")
    play(tracker, 0.0, 31, 90.0, -6.0)
    first = tracker.segment_started(31.0, "b", "stress")
    play(tracker, 31.0, 31, 87.0, -6.0)
    second = tracker.finish(62.0)
    assert isinstance(first, SegmentResponse) and isinstance(second, SegmentResponse)
    assert first.prompt_id == "a" and first.state == "stress" and first.n_samples == 31
    assert first.mean_bpm == pytest.approx(90.0 - 6.0 * 15 / 60)
    assert first.delta_vs_baseline == pytest.approx(first.mean_bpm - 70.0)
    assert first.slope_bpm_per_min == pytest.approx(-6.0)
    assert first.delta_vs_previous is None
    assert second.delta_vs_previous == pytest.approx(-3.0)
    assert (first.t_start, first.t_end) == (0.0, 31.0)


def test_too_few_samples_gives_no_response_with_the_reason() -> None:
    """A segment with fewer samples than min_samples is not judged, and says why."""
    tracker = ResponseTracker(70.0, min_samples=10)
    tracker.segment_started(0.0, "p", "stress")
    play(tracker, 0.0, 6, 90.0, -6.0)
    out = tracker.segment_started(24.0, "q", "stress")
    assert isinstance(out, NoResponse)
    assert out.n_samples == 6 and out.prompt_id == "p"
    assert "too few heart-rate samples (6 < 10)" in out.reason


def test_no_baseline_gives_no_response() -> None:
    """Without a baseline (still calibrating) a segment is not judged."""
    tracker = ResponseTracker(lambda: None)
    tracker.segment_started(0.0, "p", "neutral")
    play(tracker, 0.0, 30, 70.0, 0.0)
    out = tracker.finish(30.0)
    assert isinstance(out, NoResponse) and out.reason == "no baseline yet"


def test_segment_without_bank_prompt_is_not_credited() -> None:
    """A segment playing no bank prompt (prompt_id None) gives a reason, not a reward."""
    tracker = ResponseTracker(70.0)
    tracker.segment_started(0.0, None, "stress")
    play(tracker, 0.0, 30, 90.0, -6.0)
    out = tracker.finish(30.0)
    assert isinstance(out, NoResponse) and "no bank prompt" in out.reason


def test_samples_bunched_at_one_end_give_a_reason() -> None:
    """Samples all in the segment's first seconds but one are too uneven to judge."""
    tracker = ResponseTracker(70.0)
    tracker.segment_started(0.0, "p", "stress")
    for k in range(12):
        tracker.hr_sample(k * 0.1, 90.0)
    tracker.hr_sample(20.0, 89.0)
    out = tracker.finish(24.0)
    assert isinstance(out, NoResponse) and "uneven" in out.reason


def test_samples_outside_a_segment_are_ignored() -> None:
    """Samples before the first segment or stamped before the open one's start don't count."""
    tracker = ResponseTracker(70.0)
    tracker.hr_sample(-5.0, 200.0)
    tracker.segment_started(10.0, "p", "stress")
    tracker.hr_sample(9.0, 200.0)
    play(tracker, 10.0, 20, 80.0, 0.0)
    out = tracker.finish(30.0)
    assert isinstance(out, SegmentResponse)
    assert out.n_samples == 20 and out.mean_bpm == pytest.approx(80.0)


def test_baseline_and_hrv_are_read_when_the_segment_closes() -> None:
    """The baseline and RMSSD callables are read at close time and reported."""
    baseline = [60.0]
    tracker = ResponseTracker(lambda: baseline[0], hrv=lambda: 42.5)
    tracker.segment_started(0.0, "p", "stress")
    play(tracker, 0.0, 30, 80.0, 0.0)
    baseline[0] = 70.0
    out = tracker.finish(30.0)
    assert isinstance(out, SegmentResponse)
    assert out.baseline == 70.0 and out.hrv_rmssd == 42.5
    assert out.delta_vs_baseline == pytest.approx(10.0)
