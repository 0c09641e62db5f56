"""Seamless loops of a recording: loop points found by similarity, a level-true seam.

A loop plays ``body = x[start:end]`` over and over. Its join is made inaudible in two steps:

1. **Where.** The seam crossfades the body's last ``fade`` frames into the ``fade`` frames
   that precede ``start`` (``x[start - fade:start]``), so at the wrap the audio already is
   what comes just before ``start`` and continues into ``x[start]`` sample by sample. The
   two regions should sound alike: ``start`` and ``end`` are searched (a few start
   candidates in the first quarter of the file, every end in its last quarter, each at
   most ``search_seconds``) for the highest
   normalised cross-correlation between the window before ``start`` and the window
   before ``end`` (FFT correlation, normalised by the sliding energy).
2. **How.** The crossfade's equal-power gains (cos, sin) are divided by
   ``sqrt(1 + 2 rho cos sin)``, ``rho`` the correlation of the two faded regions
   (clipped to 0..1): uncorrelated audio keeps its power (equal power), identical audio
   its amplitude (equal gain), and anything between neither dips nor bumps.

All of it runs once per file, off the audio loop (numpy, a few ms for a minute of audio).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bassd.dsp.crossfade import equal_power_gains, fade_positions


@dataclass(frozen=True)
class LoopPoints:
    start: int  # the first frame of the body
    end: int  # one past its last
    fade: int  # frames of the seam's crossfade (before the wrap)
    score: float  # normalised cross-correlation of the two seam windows (-1..1)
    rho: float  # correlation of the two faded regions, as compensated (0..1)

    @property
    def length(self) -> int:
        return self.end - self.start


def _ncc(region: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of ``template`` at every offset of ``region``."""
    m, n = len(template), len(region)
    if n < m:
        return np.zeros(0)
    size = 1 << int(np.ceil(np.log2(n + m)))
    t = template - template.mean()
    corr = np.fft.irfft(np.fft.rfft(region, size) * np.conj(np.fft.rfft(t, size)), size)[
        : n - m + 1
    ]
    c = np.concatenate(([0.0], np.cumsum(region)))
    c2 = np.concatenate(([0.0], np.cumsum(region * region)))
    s, s2 = c[m:] - c[:-m], c2[m:] - c2[:-m]
    energy = np.maximum(s2 - s * s / m, 0.0) * float(t @ t)
    return np.where(energy > 1e-18, corr / np.sqrt(np.maximum(energy, 1e-18)), 0.0)


def find_loop(
    x: np.ndarray,
    sample_rate: int,
    *,
    fade_seconds: float = 1.0,
    window_seconds: float = 0.1,
    search_share: float = 0.25,
    search_seconds: float = 6.0,
    starts: int = 8,
) -> LoopPoints:
    """Loop points of mono ``x``: the (start, end) whose preceding windows correlate best.

    The fade is shortened for short files (at most a quarter of the file); ValueError for a
    file under 0.2 s."""
    n = len(x)
    if n < 0.2 * sample_rate:
        raise ValueError(f"too short to loop ({n / sample_rate:.3f} s)")
    fade = max(16, min(round(fade_seconds * sample_rate), n // 4))
    w = max(16, min(round(window_seconds * sample_rate), fade))
    span = max(1, min(round(search_share * n), round(search_seconds * sample_rate)))
    lo_start, hi_start = fade, min(fade + span, n - 2 * fade)
    cands = np.unique(np.linspace(lo_start, max(lo_start, hi_start), starts).round().astype(int))
    end_lo = max(cands[-1] + 2 * fade, n - span)  # the body is at least 2 fades long
    best = (-2.0, int(cands[0]), n)
    for a in cands:
        template = x[a - w : a]
        if end_lo > n:
            break
        region = x[end_lo - w : n]  # windows ending at end_lo .. n
        ncc = _ncc(region, template)
        if ncc.size == 0:
            continue
        k = int(np.argmax(ncc))
        if ncc[k] > best[0]:
            best = (float(ncc[k]), int(a), end_lo + k)
    score, start, end = best
    if end - start < 2 * fade:
        start, end = fade, n
    a, b = x[start - fade : start], x[end - fade : end]
    den = float(np.sqrt((a @ a) * (b @ b)))
    rho = float(np.clip((a @ b) / den, 0.0, 1.0)) if den > 0 else 0.0
    return LoopPoints(int(start), int(end), int(fade), float(score), rho)


def seam_gains(fade: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """The seam's (out, in) gains: equal power compensated for correlation ``rho``."""
    g_out, g_in = equal_power_gains(fade_positions(0, fade, fade))
    norm = np.sqrt(1.0 + 2.0 * rho * g_out * g_in)
    return g_out / norm, g_in / norm


def make_loop(x: np.ndarray, points: LoopPoints) -> np.ndarray:
    """The loop body, its seam crossfaded: played cyclically, it has no join."""
    s, e, f = points.start, points.end, points.fade
    body = np.array(x[s:e], dtype=np.float64)
    g_out, g_in = seam_gains(f, points.rho)
    body[-f:] = body[-f:] * g_out + x[s - f : s] * g_in
    return body
