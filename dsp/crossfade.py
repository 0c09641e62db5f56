"""Equal-power crossfade curves.

With ``x`` running 0 → 1 over the fade, the outgoing gain is cos(πx/2) and the
incoming gain sin(πx/2): their squares sum to one, so two uncorrelated signals
keep their summed power; two identical signals rise by at most √2 (+3 dB) at
the midpoint and never dip below the unfaded level.
"""

from __future__ import annotations

import numpy as np


def equal_power_gains(position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gains (out, in) for fade positions in [0, 1] (clipped)."""
    x = np.clip(position, 0.0, 1.0) * (np.pi / 2)
    return np.cos(x), np.sin(x)


def fade_positions(start: int, n: int, length: int) -> np.ndarray:
    """Fade positions of frames ``start .. start+n`` of a fade ``length`` frames long.

    Frame i of the fade sits at (i + 0.5) / length, so the curve is symmetric and
    the first and last frames of the fade are one half-step from 0 and 1.
    """
    idx = np.arange(start, start + n, dtype=np.float64)
    return (idx + 0.5) / float(length)


def crossfade(outgoing: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    """Crossfade two equally long (frames, channels) blocks over their whole length."""
    n = len(outgoing)
    g_out, g_in = equal_power_gains(fade_positions(0, n, n))
    return (outgoing * g_out[:, None] + incoming * g_in[:, None]).astype(outgoing.dtype)
