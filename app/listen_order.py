"""Per-listener trial order and A/B sides: counterbalanced, reproducible from the seed.

Listener ``k`` (the k-th listener to start the test, numbered from 0 and kept in the test's
``listeners.json``) takes row ``k`` of a balanced Latin square (Williams design: every
trial appears once in every position, and every trial follows every other equally often;
an odd number of trials needs two squares, so the rows repeat every 2n listeners). Which
trial is which letter of the square is a permutation drawn from the test's seed. A/B sides
swap by the parity of ``k`` plus the trial's position, so each pair is heard A-first by
half the listeners; the order of the stimuli on a MUSHRA page is drawn from
``(seed, k, trial)``.
"""

from __future__ import annotations

import numpy as np


def williams_rows(n: int) -> list[list[int]]:
    """The rows of a balanced Latin square over ``n`` treatments (2n rows when n is odd)."""
    if n < 1:
        return []
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:
        first.append(lo)
        lo += 1
        if len(first) < n:
            first.append(hi)
            hi -= 1
    rows = [[(x + r) % n for x in first] for r in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


def trial_order(n_trials: int, seed: int, listener_index: int) -> list[int]:
    """Listener ``listener_index``'s order of the trials (indices into the trial list)."""
    rows = williams_rows(n_trials)
    perm = np.random.default_rng([seed, 0x5EED]).permutation(n_trials)
    return [int(perm[x]) for x in rows[listener_index % len(rows)]]


def ab_swapped(listener_index: int, position: int) -> bool:
    """Whether the A/B trial at ``position`` of this listener's order plays its pair
    second-first."""
    return (listener_index + position) % 2 == 1


def mushra_order(n_stimuli: int, seed: int, listener_index: int, trial_index: int) -> list[int]:
    """The order of a MUSHRA page's blinded stimuli for this listener."""
    rng = np.random.default_rng([seed, listener_index, trial_index])
    return [int(i) for i in rng.permutation(n_stimuli)]
