"""A simulated listener, to measure how fast a prompt policy learns what calms them.

Model (one simulated listener, drawn once from a seed):

* Resting heart rate ``baseline`` ~ N(68, 6) bpm, known to the tracker (as after
  calibration).
* Each segment is planned in a heart-rate state; the session's states follow a sticky
  Markov chain (stay with probability 0.6, else one of the other two), the first uniform.
  A segment starts with an arousal offset a0 ~ N(+20, 4) bpm in ``stress``,
  N(-12, 3) in ``underaroused``, N(0, 2) in ``neutral``.
* Each prompt p has a true effect e_p (bpm/min) on the heart rate's trajectory while it
  plays, drawn once per listener: calm prompts are null (e ~ N(0, 0.3)) with probability
  1/3, else calming (e ~ N(-4, 2)); activating prompts null with probability 1/3, else
  exciting (e ~ N(+4, 2)); neutral prompts e ~ N(0, 2) (the best keeps HR steady).
* HR(t) = baseline + a0 + e_p * t/60 + w(t) + v(t), sampled at 1 Hz from the segment's
  start: w is physiological wander, an AR(1) with sd 1.5 bpm and time constant 15 s,
  v Gaussian sensor noise with sd 1 bpm.

The states, offsets and noise of every segment come from the listener's seed and the
session and segment numbers only, so every policy meets the same sessions (common random
numbers): differences between policies are the choices alone.

The *expected reward* of a prompt in a segment is the reward
(:func:`bassd.control.listener_response.goal_reward`) of the noise-free trajectory from
that segment's a0. The best fixed prompt of a state (the oracle) maximises the expected
reward averaged over the state's a0 distribution (21 quantiles). Regret of a choice =
expected reward of the oracle's prompt - expected reward of the chosen prompt, from the
same a0; summed over segments it is the cumulative regret.

Policies: :class:`BanditPolicy` (:class:`~bassd.control.prompt_bandit.PromptBandit`),
:class:`NoRepeatPolicy` (bassd's own :class:`~bassd.control.prompt_selection.PromptBank`
with ``policy="no_repeat"``), :class:`OraclePolicy`. Rewards reach a policy the way they
will in the daemon: 1 Hz samples through a :class:`ResponseTracker`.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field
from typing import Protocol

from bassd.control.listener_response import ResponseTracker, SegmentResponse, goal_reward
from bassd.control.prompt_bandit import PromptBandit
from bassd.control.prompt_schema import DEFAULT_STATE_CATEGORIES, STATES
from bassd.control.prompt_selection import PromptBank

START_OFFSET = {"stress": (20.0, 4.0), "underaroused": (-12.0, 3.0), "neutral": (0.0, 2.0)}
STAY = 0.6
WANDER_SD, WANDER_TAU_S, SENSOR_SD = 1.5, 15.0, 1.0
_Z = [statistics.NormalDist().inv_cdf((i + 0.5) / 21) for i in range(21)]


def _effect(category: str, rng: random.Random) -> float:
    if category == "calm":
        return rng.gauss(0.0, 0.3) if rng.random() < 1 / 3 else rng.gauss(-4.0, 2.0)
    if category == "activating":
        return rng.gauss(0.0, 0.3) if rng.random() < 1 / 3 else rng.gauss(4.0, 2.0)
    return rng.gauss(0.0, 2.0)


def _window_times(seconds: int) -> tuple[list[int], list[int]]:
    """Sample times of the first and last thirds, as the tracker splits them."""
    ts = list(range(seconds))
    span = ts[-1] - ts[0]
    return [t for t in ts if t <= span / 3], [t for t in ts if t >= ts[-1] - span / 3]


def expected_reward(a0: float, effect: float, seconds: int) -> float:
    """The reward of the noise-free trajectory a0 + effect*t/60 over one segment."""
    first, last = _window_times(seconds)
    traj = [a0 + effect * t / 60.0 for t in range(seconds)]
    early = sum(traj[t] for t in first) / len(first)
    late = sum(traj[t] for t in last) / len(last)
    minutes = (sum(last) / len(last) - sum(first) / len(first)) / 60.0
    return goal_reward(early, late, 0.0, minutes)


@dataclass(frozen=True)
class SimListener:
    """One simulated listener: resting HR and the true effect of every prompt."""

    seed: int
    baseline: float
    effects: dict[str, float]
    categories: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STATE_CATEGORIES))

    @classmethod
    def draw(cls, bank: PromptBank, seed: int) -> SimListener:
        rng = random.Random(f"listener:{seed}")
        baseline = rng.gauss(68.0, 6.0)
        effects = {p.id: _effect(p.category, rng) for p in bank}
        return cls(seed, baseline, effects)

    def oracle(self, bank: PromptBank, state: str, seconds: int) -> str:
        """The best fixed prompt of ``state``: highest expected reward over its a0 spread."""
        mu, sd = START_OFFSET[state]
        pool = [p.id for p in bank.in_category(self.categories[state])]

        def value(pid: str) -> float:
            return sum(expected_reward(mu + sd * z, self.effects[pid], seconds) for z in _Z)

        return max(pool, key=value)

    def segment(self, session: int, index: int, state: str, seconds: int) -> tuple[float, list]:
        """The a0 and the noise (wander + sensor) of one segment, the same for every policy."""
        rng = random.Random(f"segment:{self.seed}:{session}:{index}")
        mu, sd = START_OFFSET[state]
        a0 = rng.gauss(mu, sd)
        phi = math.exp(-1.0 / WANDER_TAU_S)
        w = rng.gauss(0.0, WANDER_SD)
        noise = []
        for _ in range(seconds):
            noise.append(w + rng.gauss(0.0, SENSOR_SD))
            w = phi * w + rng.gauss(0.0, WANDER_SD * math.sqrt(1 - phi * phi))
        return a0, noise

    def states(self, session: int, segments: int) -> list[str]:
        rng = random.Random(f"states:{self.seed}:{session}")
        out = [rng.choice(STATES)]
        while len(out) < segments:
            prev = out[-1]
            out.append(
                prev if rng.random() < STAY else rng.choice([s for s in STATES if s != prev])
            )
        return out


class SimPolicy(Protocol):
    def choose(
        self, category: str, state: str, candidates: list[str], rng: random.Random
    ) -> str: ...

    def observe(self, response: SegmentResponse) -> None: ...


class BanditPolicy:
    """The Thompson bandit; it keeps learning across the sessions it is used for."""

    def __init__(self, bandit: PromptBandit | None = None, avoid_repeat: bool = False) -> None:
        self.bandit = bandit or PromptBandit()
        self.avoid_repeat = avoid_repeat
        self.last: dict[str, str] = {}

    def choose(self, category: str, state: str, candidates: list[str], rng: random.Random) -> str:
        avoid = self.last.get(state) if self.avoid_repeat else None
        pid = self.bandit.choose(state, candidates, rng, avoid=avoid).prompt_id
        self.last[state] = pid
        return pid

    def observe(self, response: SegmentResponse) -> None:
        self.bandit.update(response.state, response.prompt_id, response.reward)


class NoRepeatPolicy:
    """bassd's current selection: ``PromptBank.select`` with ``policy="no_repeat"``."""

    def __init__(self, bank: PromptBank, avoid_last: int = 1) -> None:
        self.bank = PromptBank(bank.prompts, policy="no_repeat", avoid_last=avoid_last)

    def choose(self, category: str, state: str, candidates: list[str], rng: random.Random) -> str:
        return self.bank.select(category, rng).id

    def observe(self, response: SegmentResponse) -> None:
        pass


class OraclePolicy:
    """Always the best fixed prompt of the state (knows the listener's true effects)."""

    def __init__(self, listener: SimListener, bank: PromptBank, seconds: int) -> None:
        self.best = {s: listener.oracle(bank, s, seconds) for s in STATES}

    def choose(self, category: str, state: str, candidates: list[str], rng: random.Random) -> str:
        return self.best[state]

    def observe(self, response: SegmentResponse) -> None:
        pass


@dataclass(frozen=True)
class SessionResult:
    """One simulated session: per segment the state, the prompt, the observed reward (None
    when the tracker gave no response), its expected reward and the oracle's."""

    states: list[str]
    choices: list[str]
    rewards: list[float | None]
    expected: list[float]
    oracle: list[float]

    @property
    def regret(self) -> float:
        """Cumulative regret against the best fixed prompt of each state."""
        return sum(o - e for o, e in zip(self.oracle, self.expected, strict=True))


def simulate_session(
    policy: SimPolicy,
    listener: SimListener,
    bank: PromptBank,
    segments: int,
    seconds_per_segment: int,
    rng: random.Random,
    session: int = 0,
) -> SessionResult:
    """Play ``segments`` segments to ``listener``; the policy learns from each response."""
    secs = seconds_per_segment
    oracle = {s: listener.oracle(bank, s, secs) for s in STATES}
    tracker = ResponseTracker(listener.baseline)
    states = listener.states(session, segments)
    choices: list[str] = []
    expected: list[float] = []
    best: list[float] = []
    rewards: list[float | None] = []

    def observe(out: object) -> None:
        if isinstance(out, SegmentResponse):
            policy.observe(out)
            rewards.append(out.reward)
        else:
            rewards.append(None)

    for i, state in enumerate(states):
        category = listener.categories[state]
        candidates = [p.id for p in bank.in_category(category)]
        pid = policy.choose(category, state, candidates, rng)
        t0 = float(i * secs)
        out = tracker.segment_started(t0, pid, state)
        if out is not None:
            observe(out)
        a0, noise = listener.segment(session, i, state, secs)
        e = listener.effects[pid]
        for k in range(secs):
            tracker.hr_sample(t0 + k, listener.baseline + a0 + e * k / 60.0 + noise[k])
        choices.append(pid)
        expected.append(expected_reward(a0, e, secs))
        best.append(expected_reward(a0, listener.effects[oracle[state]], secs))
    observe(tracker.finish(float(segments * secs)))
    return SessionResult(states, choices, rewards, expected, best)
