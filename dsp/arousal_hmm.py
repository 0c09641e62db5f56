"""A Bayesian estimate of the arousal state: a 3-state hidden Markov model (pure numpy).

The hidden state is one of ``STATES`` (under-aroused, neutral, stress); the observation
is ``d`` = HR − baseline in bpm, one per accepted sample. ``ArousalHmm.update(d, dt)``
runs one step of the forward filter (predict with the sticky transition matrix for
``dt`` seconds, weight by the emission likelihood, normalise) and returns the posterior.
``ArousalHmm.state`` is the decision, with hysteresis: the state changes only when
another state's posterior reaches ``p_enter``; a posterior hovering around 0.5 never
flaps. ``p_enter`` plays the part of the threshold rules' hold times.

Where the numbers come from (``ArousalHmmParams.from_thresholds``):

* Emission means: neutral 0; stress ``2 × stress_delta`` (+30 for the rules' +15) and
  under-aroused ``−2 × under_delta`` (−20 for −10); with one shared ``sd`` the
  likelihoods of two neighbouring states are equal exactly at the midpoint, so the
  model's decision boundaries sit at the rules' own thresholds (+15 / −10 bpm).
* ``sd`` 5 bpm: the spread of HR within a state (the synthetic scenarios' noise is
  ~1 bpm; real beat-to-beat HR at rest wanders by a few bpm).
* Evidence saturates: ``d`` is clipped to the range of the means before the likelihood
  is taken, so an implausible excursion (a missed beat, a motion artefact that passed
  the jump limit) counts no more than a value at the extreme state's mean.
* Successive HR samples are strongly correlated, so treating them as independent would
  over-count the evidence (a 3 s spike would be decisive). The log-likelihood of a
  sample is scaled by ``min(1, dt / corr_s)``: evidence accrues per second, not per
  sample, whatever the sensor's rate. With ``corr_s`` 20 s, ``dwell_s`` 60 s and
  ``p_enter`` 0.9, a step to +26 bpm (the stress scenario's plateau) takes ~11 s to
  reach stress, +20 bpm ~25 s, and a 3-sample spike at any height stays short of it.
* Transitions: leaving the current state within ``dt`` has probability
  ``1 − exp(−dt / dwell_s)`` (an expected dwell of ``dwell_s``), split evenly over the
  two other states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Self

import numpy as np
from numpy.typing import NDArray

ArousalState = Literal["underaroused", "neutral", "stress"]
STATES: tuple[ArousalState, ArousalState, ArousalState] = ("underaroused", "neutral", "stress")
NEUTRAL = 1


@dataclass(frozen=True)
class ArousalHmmParams:
    """Emission means (bpm relative to baseline, in ``STATES`` order), shared sd, dynamics."""

    means: tuple[float, float, float] = (-20.0, 0.0, 30.0)
    sd: float = 5.0
    corr_s: float = 20.0
    dwell_s: float = 60.0
    p_enter: float = 0.9
    initial: tuple[float, float, float] = field(default=(0.01, 0.98, 0.01))
    nominal_dt: float = 1.0  # the dt of an update without one (the first after a reset)

    def __post_init__(self) -> None:
        lo, mid, hi = self.means
        if not lo < mid < hi:
            raise ValueError(f"means must be increasing (under < neutral < stress): {self.means}")
        for name in ("sd", "corr_s", "dwell_s", "nominal_dt"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0.5 < self.p_enter < 1.0:
            raise ValueError(f"p_enter must be in (0.5, 1), got {self.p_enter}")
        if min(self.initial) < 0 or not math.isclose(sum(self.initial), 1.0):
            raise ValueError(f"initial must be a probability vector, got {self.initial}")

    @classmethod
    def from_thresholds(cls, stress_delta: float, under_delta: float, **kw: float) -> Self:
        """Means at twice the thresholds, so the decision boundaries fall on them."""
        return cls(means=(-2.0 * under_delta, 0.0, 2.0 * stress_delta), **kw)  # type: ignore[arg-type]


class ArousalHmm:
    """Forward filter over ``STATES`` with a hysteretic decision (see the module docstring)."""

    def __init__(self, params: ArousalHmmParams | None = None) -> None:
        self.params = params or ArousalHmmParams()
        self._means = np.asarray(self.params.means, dtype=np.float64)
        self.reset()

    def reset(self) -> None:
        """Back to the initial posterior and the neutral decision."""
        self._post: NDArray[np.float64] = np.asarray(self.params.initial, dtype=np.float64)
        self._state = NEUTRAL

    @property
    def posterior(self) -> NDArray[np.float64]:
        """A copy of the current posterior, in ``STATES`` order."""
        return self._post.copy()

    @property
    def state(self) -> ArousalState:
        return STATES[self._state]

    def transition(self, dt: float) -> NDArray[np.float64]:
        """The 3×3 transition matrix over ``dt`` seconds (rows: from, columns: to)."""
        leave = -math.expm1(-dt / self.params.dwell_s)
        m = np.full((3, 3), leave / 2.0)
        np.fill_diagonal(m, 1.0 - leave)
        return m

    def log_likelihood(self, d: float, dt: float) -> NDArray[np.float64]:
        """Tempered Gaussian log-likelihood of ``d`` under each state (up to a constant)."""
        p = self.params
        x = min(max(d, p.means[0]), p.means[2])
        w = min(1.0, dt / p.corr_s)
        return -w * (x - self._means) ** 2 / (2.0 * p.sd**2)

    def update(self, d: float, dt: float | None = None) -> NDArray[np.float64]:
        """One filter step: ``d`` = HR − baseline (bpm), ``dt`` seconds since the last one."""
        if not math.isfinite(d):
            raise ValueError(f"d must be finite, got {d}")
        step = self.params.nominal_dt if dt is None else dt
        if not step > 0:
            raise ValueError(f"dt must be positive, got {dt}")
        prior = self._post @ self.transition(step)
        ll = self.log_likelihood(d, step)
        w = prior * np.exp(ll - ll.max())
        self._post = w / w.sum()
        best = int(np.argmax(self._post))
        if best != self._state and self._post[best] >= self.params.p_enter:
            self._state = best
        return self.posterior
