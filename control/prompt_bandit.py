"""Learn which prompts work for this listener: a contextual Thompson-sampling bandit.

Context: the heart-rate state the segment is planned for (``neutral``, ``stress``,
``underaroused``); arms: the prompts of the state's category; reward: the listener's
response (:mod:`bassd.control.listener_response`, the normalised rate of approach to the
baseline, about -1..+1).

Model, per (state, prompt): rewards ~ Normal(mu, sigma^2) with a Normal-Inverse-Gamma
posterior over (mu, sigma^2). Why not a Normal with known noise: the reward's noise (heart
rate wander, sensor noise, segment length) differs between listeners, sensors and
settings and is not known in advance; with NIG it is learned per arm, and while an arm has
few observations its mean's marginal is a Student t, heavier-tailed than a Normal, so
Thompson sampling keeps trying it until the evidence is in. The conjugate update is exact
and cheap (four numbers per arm), so the file stays small and a reload is bit-identical.

Prior (``Prior``: m0 = 0, kappa0 = 1, alpha0 = 2, beta0 = 0.5): an unseen prompt is
believed neutral (no effect) with a wide spread (the mean's t has scale 0.5 and 4 degrees
of freedom, prior noise sd ~0.7), so its samples often beat a mediocre known arm and every
prompt gets tried; a prompt added to the bank later starts from the prior too. With
``pooled`` (the default) an unseen prompt's prior mean is instead the state's mean reward so
far (shrunk toward m0): when every prompt helps a little, a 0 prior would make an untried
one look worse than the known ones and it might never be tried (measured on the simulated
listener: without pooling one clearly best prompt in 8 runs was never found).

Choosing: draw sigma^2 ~ InvGamma(alpha, beta), then mu ~ N(m, sigma^2 / kappa) for each
candidate, play the largest draw. ``avoid`` drops one candidate (the prompt just played)
when others remain. Draws come from the ``random.Random`` passed in: the same posterior
and rng state give the same choice.

Persisted per listener as ``listeners_dir/<listener>.json``, written atomically (a temp
file in the same folder, fsync, ``os.replace``). :class:`LearningPolicy` is the adapter the
planner and controller call (``prompts.policy: learn``).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bassd.control.listener_response import NoResponse, ResponseTracker, SegmentResponse

FORMAT = "bassd-prompt-bandit"
VERSION = 1
LISTENER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class BanditFileError(ValueError):
    """A listener file that cannot be read as a bandit's state (names the file and why)."""


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    m: float
    kappa: float = Field(gt=0)
    alpha: float = Field(gt=0)
    beta: float = Field(gt=0)


class Prior(_Params):
    """The Normal-Inverse-Gamma prior of every (state, prompt) not seen yet."""

    m: float = 0.0
    kappa: float = 1.0
    alpha: float = 2.0
    beta: float = 0.5


class Arm(_Params):
    """The posterior of one (state, prompt) and how many rewards it has seen."""

    n: int = Field(0, ge=0)

    @property
    def mean(self) -> float:
        return self.m

    def updated(self, reward: float) -> Arm:
        """The conjugate NIG update with one observation."""
        k = self.kappa + 1.0
        return Arm(
            m=(self.kappa * self.m + reward) / k,
            kappa=k,
            alpha=self.alpha + 0.5,
            beta=self.beta + self.kappa * (reward - self.m) ** 2 / (2.0 * k),
            n=self.n + 1,
        )

    def sample(self, rng: random.Random) -> float:
        """One Thompson draw of the mean reward."""
        variance = 1.0 / rng.gammavariate(self.alpha, 1.0 / self.beta)
        return rng.gauss(self.m, math.sqrt(variance / self.kappa))


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str
    version: int
    listener: str | None = None
    pooled: bool = True
    prior: Prior
    arms: dict[str, dict[str, Arm]]


@dataclass(frozen=True)
class Choice:
    """The prompt chosen, its posterior mean reward, the Thompson draw that won, its count."""

    prompt_id: str
    posterior_mean: float
    sample: float
    n: int


class PromptBandit:
    """Thompson sampling over prompts, one Normal-Inverse-Gamma posterior per (state, prompt)."""

    def __init__(
        self, prior: Prior | None = None, listener: str | None = None, pooled: bool = True
    ) -> None:
        self.prior = prior or Prior()
        self.pooled = pooled
        self.listener = listener
        self.arms: dict[str, dict[str, Arm]] = {}

    def arm(self, state: str, prompt_id: str) -> Arm:
        """The posterior of ``prompt_id`` in ``state`` (the prior when never played there)."""
        found = self.arms.get(state, {}).get(prompt_id)
        if found is not None:
            return found
        p = self.prior
        return Arm(m=self.prior_mean(state), kappa=p.kappa, alpha=p.alpha, beta=p.beta)

    def prior_mean(self, state: str) -> float:
        """The prior mean of an unseen prompt in ``state``: with ``pooled``, the mean reward
        of the prompts seen in that state, shrunk toward ``prior.m`` by ``prior.kappa``."""
        arms = self.arms.get(state)
        if not self.pooled or not arms:
            return self.prior.m
        total = sum(a.m * a.n for a in arms.values())
        count = sum(a.n for a in arms.values())
        return (self.prior.kappa * self.prior.m + total) / (self.prior.kappa + count)

    def choose(
        self,
        state: str,
        candidates: Sequence[str],
        rng: random.Random,
        avoid: str | None = None,
    ) -> Choice:
        """Draw each candidate's mean from its posterior; the largest draw wins."""
        pool = list(dict.fromkeys(candidates))
        if not pool:
            raise ValueError(f"no candidate prompts for state {state!r}")
        if avoid is not None and avoid in pool and len(pool) > 1:
            pool.remove(avoid)
        best: Choice | None = None
        for pid in pool:
            arm = self.arm(state, pid)
            draw = arm.sample(rng)
            if best is None or draw > best.sample:
                best = Choice(pid, arm.mean, draw, arm.n)
        assert best is not None
        return best

    def update(self, state: str, prompt_id: str, reward: float) -> Arm:
        """Fold one reward into the posterior of (state, prompt); returns the new posterior."""
        if not math.isfinite(reward):
            raise ValueError(f"reward must be finite, got {reward}")
        arm = self.arm(state, prompt_id).updated(reward)
        self.arms.setdefault(state, {})[prompt_id] = arm
        return arm

    def best(self, state: str, candidates: Sequence[str]) -> str:
        """The candidate with the highest posterior mean (no exploration)."""
        return max(candidates, key=lambda p: self.arm(state, p).mean)

    # ------------------------------------------------------------ persistence
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "listener": self.listener,
            "pooled": self.pooled,
            "prior": self.prior.model_dump(),
            "arms": {
                s: {p: a.model_dump() for p, a in sorted(arms.items())}
                for s, arms in sorted(self.arms.items())
            },
        }

    def save(self, path: Path | str) -> Path:
        """Write the posteriors to ``path`` atomically (temp file, fsync, ``os.replace``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: Path | str) -> PromptBandit:
        """The bandit saved at ``path``; :class:`BanditFileError` when it is not one."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise BanditFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise BanditFileError(f"{path}: not UTF-8 text: {exc.reason}") from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BanditFileError(
                f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BanditFileError(f"{path}: not a prompt-bandit file (no format {FORMAT!r})")
        if raw.get("version") != VERSION:
            raise BanditFileError(
                f"{path}: unsupported version {raw.get('version')!r} (this bassd reads {VERSION})"
            )
        try:
            doc = _File.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise BanditFileError(f"{path}: {problems}") from None
        bandit = cls(doc.prior, doc.listener, pooled=doc.pooled)
        bandit.arms = {s: dict(arms) for s, arms in doc.arms.items()}
        return bandit


def listener_path(listeners_dir: Path | str, listener: str) -> Path:
    """``listeners_dir/<listener>.json``; the name must be a plain word (no paths)."""
    if not re.fullmatch(LISTENER_PATTERN, listener):
        raise ValueError(
            f"listener name {listener!r} must be 1-64 letters, digits, '_' or '-' "
            "starting with a letter or digit"
        )
    return Path(listeners_dir) / f"{listener}.json"


class EventRow(NamedTuple):
    """A row for events.csv: ``controller.record(row.kind, row.value, row.detail, t=row.t)``."""

    kind: str
    value: object
    detail: str
    t: float | None = None


class LearningPolicy:
    """The closed loop for the daemon: choose prompts, watch the response, learn, persist.

    The planner calls :meth:`choose` instead of ``bank.select`` when ``prompts.policy`` is
    ``learn``; the controller calls :meth:`on_hr` with every accepted heart-rate sample,
    :meth:`on_segment_start` when a segment starts playing and :meth:`close` when the
    session ends. Each returns the rows to record. The posteriors are saved after every
    update; a failed save is reported as a row, never raised (the music goes on).
    """

    def __init__(
        self,
        bandit: PromptBandit,
        tracker: ResponseTracker,
        listeners_dir: Path | str | None,
        listener: str | None,
        *,
        rng: random.Random | None = None,
        avoid_repeat: bool = False,
    ) -> None:
        self.bandit = bandit
        self.tracker = tracker
        self.path = (
            listener_path(listeners_dir, listener)
            if listeners_dir is not None and listener is not None
            else None
        )
        self.rng = rng if rng is not None else random.Random()
        self.avoid_repeat = avoid_repeat
        self.last: dict[str, str] = {}  # state -> the prompt last started in that state

    @classmethod
    def open(
        cls,
        listeners_dir: Path | str,
        listener: str,
        *,
        baseline: Callable[[], float | None],
        hrv: Callable[[], float | None] | None = None,
        seed: int | None = None,
        avoid_repeat: bool = False,
        prior: Prior | None = None,
    ) -> LearningPolicy:
        """The listener's saved bandit (a fresh one when there is no file yet).

        Raises :class:`BanditFileError` on a corrupt file and ``ValueError`` on a bad name."""
        path = listener_path(listeners_dir, listener)
        bandit = PromptBandit.load(path) if path.exists() else PromptBandit(prior, listener)
        tracker = ResponseTracker(baseline, hrv=hrv)
        return cls(
            bandit, tracker, listeners_dir, listener,
            rng=random.Random(seed), avoid_repeat=avoid_repeat,
        )  # fmt: skip

    def choose(
        self, category: str, state: str, candidates: Sequence[str]
    ) -> tuple[Choice, list[EventRow]]:
        """The prompt for a segment planned in ``state``, and a ``bandit_choice`` row."""
        avoid = self.last.get(state) if self.avoid_repeat else None
        c = self.bandit.choose(state, candidates, self.rng, avoid=avoid)
        detail = json.dumps(
            {
                "category": category,
                "state": state,
                "posterior_mean": round(c.posterior_mean, 4),
                "sample": round(c.sample, 4),
                "n": c.n,
                "candidates": len(candidates),
            },
            sort_keys=True,
        )
        return c, [EventRow("bandit_choice", c.prompt_id, detail)]

    def on_hr(self, t: float, bpm: float) -> None:
        self.tracker.hr_sample(t, bpm)

    def on_segment_start(self, t: float, prompt_id: str | None, state: str) -> list[EventRow]:
        """A segment started (``prompt_id`` None when it plays no bank prompt): the
        previous segment's response is learnt from; returns the rows to record."""
        if prompt_id is not None:
            self.last[state] = prompt_id
        return self._learn(self.tracker.segment_started(t, prompt_id, state), t)

    def close(self, t: float) -> list[EventRow]:
        """The session ended at ``t``: judge the last segment and save."""
        return self._learn(self.tracker.finish(t), t)

    def _learn(self, outcome: SegmentResponse | NoResponse | None, t: float) -> list[EventRow]:
        if outcome is None:
            return []
        if isinstance(outcome, NoResponse):
            return [EventRow("response_skipped", outcome.prompt_id or "", outcome.reason, t)]
        arm = self.bandit.update(outcome.state, outcome.prompt_id, outcome.reward)
        detail = json.dumps(
            {**outcome.as_dict(), "posterior_mean": round(arm.mean, 4), "n": arm.n},
            sort_keys=True,
        )
        rows = [EventRow("response", f"{outcome.reward:.4f}", detail, t)]
        if self.path is not None:
            try:
                self.bandit.save(self.path)
            except OSError as exc:
                rows.append(EventRow("bandit_save_failed", str(self.path), str(exc), t))
        return rows
