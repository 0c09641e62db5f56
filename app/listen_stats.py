"""The few distributions a listening test's analysis needs, in plain Python (no scipy).

Student's t through the regularised incomplete beta function (continued fraction, Lentz's
method, as Numerical Recipes §6.4), its quantile by bisection on the CDF, and the exact
two-sided binomial (sign) test at p = ½. Checked against scipy in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _betacf(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(ln + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (bisection on :func:`t_cdf`, to 1e-12)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {q}")
    if q == 0.5:
        return 0.0
    lo, hi = -1.0, 1.0
    while t_cdf(lo, df) > q:
        lo *= 2.0
    while t_cdf(hi, df) < q:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


def mean_ci(x: Sequence[float], level: float = 0.95) -> tuple[float, float, int]:
    """Mean, the half-width of its ``level`` t confidence interval, and n (half-width NaN
    under two values)."""
    a = np.asarray(x, dtype=float)
    n = len(a)
    if n == 0:
        return math.nan, math.nan, 0
    m = float(a.mean())
    if n < 2:
        return m, math.nan, n
    half = t_ppf(0.5 + level / 2, n - 1) * float(a.std(ddof=1)) / math.sqrt(n)
    return m, half, n


def paired_t(x: Sequence[float], y: Sequence[float]) -> tuple[float, float, int]:
    """Paired t-test of x against y: (t, two-sided p, n pairs); NaN under two pairs, and
    p = 1 (t = 0) when every difference is the same zero."""
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    n = len(d)
    if n < 2:
        return math.nan, math.nan, n
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        m = float(d.mean())
        return (0.0, 1.0, n) if m == 0.0 else (math.copysign(math.inf, m), 0.0, n)
    t = float(d.mean()) / (sd / math.sqrt(n))
    return t, 2.0 * (1.0 - t_cdf(abs(t), n - 1)), n


def sign_test(k: int, n: int) -> float:
    """Exact two-sided binomial test of k successes in n at p = ½."""
    if n == 0:
        return math.nan
    lo = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(lo + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)
