"""Loop points (dsp/loop_points.py): the loop found by similarity joins without a click
and without a level dip or bump, for tones, noises and click trains."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.loop_points import find_loop, make_loop, seam_gains
from tests.library_sounds import clicks, noise, tone

SR = 48000


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x)))


SOURCES = {
    "tone": lambda: tone(220.3, 8.0, SR, 0.3, 2),  # the period does not divide the file
    "chord": lambda: tone(110.7, 8.0, SR, 0.2, 1) + tone(164.9, 8.0, SR, 0.15),
    "pink": lambda: noise("pink", 8.0, SR, seed=3),
    "brown": lambda: noise("brown", 8.0, SR, seed=4),
    "clicks": lambda: clicks(3.0, 8.0, SR, seed=5),
}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_the_loop_joins_without_a_click(kind: str) -> None:
    """Played three times over, the loop's largest sample-to-sample jump is no larger than
    the source's own (plus 5 %): the seam adds no click."""
    x = SOURCES[kind]()
    body = make_loop(x, find_loop(x, SR))
    played = np.concatenate([body, body, body])
    assert np.abs(np.diff(played)).max() <= 1.05 * np.abs(np.diff(x)).max()
    # and across the wrap itself, the step is a typical step of the audio
    n = len(body)
    wrap = abs(played[n] - played[n - 1])
    assert wrap <= np.percentile(np.abs(np.diff(x)), 99.9) + 1e-9


@pytest.mark.parametrize("kind", ["tone", "chord", "pink", "brown"])
def test_no_level_dip_or_bump_at_the_seam(kind: str) -> None:
    """In 500 ms windows across the seam's crossfade and the wrap, the RMS stays within
    ±1 dB of the loop's RMS (steady sources; equal power compensated for correlation), or,
    where the source's own 500 ms level wanders more than that (brown noise: ±1.7 dB),
    within its own wander away from the seam plus 0.25 dB."""
    x = SOURCES[kind]()
    points = find_loop(x, SR)
    body = make_loop(x, points)
    played = np.concatenate([body, body])
    n, w, ref = len(body), SR // 2, _rms(body)
    own = [abs(20 * np.log10(_rms(body[c : c + w]) / ref))
           for c in range(0, n - points.fade - w, w // 2)]  # fmt: skip
    bound = max(1.0, max(own) + 0.25)
    for c in range(n - points.fade, n + points.fade - w + 1, w // 2):
        db = 20 * np.log10(_rms(played[c : c + w]) / ref)
        assert abs(db) <= bound, (c - n, db)


def test_a_periodic_tone_loops_on_a_matching_phase() -> None:
    """For a pure tone the search finds an end whose window matches the start's
    (correlation ~1), so the seam mixes two nearly identical signals at equal gain."""
    x = tone(440.0, 6.0, SR)
    p = find_loop(x, SR)
    assert p.score > 0.999 and p.rho > 0.99
    assert p.length >= 2 * p.fade


def test_seam_gains_keep_power_or_amplitude() -> None:
    """Uncorrelated (rho 0): out² + in² = 1; identical (rho 1): out + in = 1."""
    g_out, g_in = seam_gains(1000, 0.0)
    assert np.allclose(g_out**2 + g_in**2, 1.0)
    g_out, g_in = seam_gains(1000, 1.0)
    assert np.allclose(g_out + g_in, 1.0)


def test_short_files_shorten_the_fade_and_too_short_is_refused() -> None:
    """A 1 s file gets a fade of at most a quarter of it; 0.1 s cannot be looped."""
    p = find_loop(noise("white", 1.0, SR), SR, fade_seconds=2.0)
    assert p.fade <= SR // 4 and p.end <= SR
    with pytest.raises(ValueError, match="too short"):
        find_loop(np.zeros(SR // 10), SR)
