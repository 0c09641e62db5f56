"""The heart-rate state is audible: calm darker, slower, softer; activating brighter, faster."""

from __future__ import annotations

from statistics import median

import numpy as np
import pytest

from bassd.control.prompt_loading import load_shipped_prompt_bank
from bassd.control.prompt_mapping import renderer_params
from bassd.dsp.loudness import MasterChain
from bassd.dsp.metrics import integrated_loudness, spectral_centroid
from bassd.dsp.postfx import PostFX
from bassd.engine.config import LoudnessOffsets
from bassd.engine.renderer import KuramotoRenderer, Normaliser, RenderRequest

SR = 48000
SECONDS = 8.0


def _clip(params: dict[str, object], category: str, seed: int) -> np.ndarray:
    """A prompt's segment as heard: normalised bank through the master chain."""
    norm = Normaliser(-16.0, LoudnessOffsets().model_dump(), MasterChain)
    frames = round(SECONDS * SR)
    job = KuramotoRenderer(normaliser=norm).submit(
        RenderRequest(0, seed, frames, SR, dict(params), {"category": category})
    )
    fx = PostFX(SR)
    return np.concatenate([fx.process(job.read(1024)) for _ in range(frames // 1024)])


@pytest.fixture(scope="module")
def per_category() -> dict[str, dict[str, float]]:
    """Median centroid, loudness, tempo and seconds per chord of each core category."""
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for seed, prompt in enumerate(load_shipped_prompt_bank()):
        p = renderer_params(prompt)
        x = _clip(p, prompt.category, seed)
        chord_s = float(p["chord_beats"]) * 60.0 / float(p["tempo_bpm"])
        rows.setdefault(prompt.category, []).append(
            (spectral_centroid(x, SR), integrated_loudness(x, SR), p["tempo_bpm"], chord_s)
        )
    keys = ("centroid", "lufs", "tempo", "chord_s")
    return {
        cat: {k: median(r[i] for r in rs) for i, k in enumerate(keys)} for cat, rs in rows.items()
    }


def test_calm_is_at_least_a_quarter_darker_than_neutral(
    per_category: dict[str, dict[str, float]],
) -> None:
    """Median spectral centroid of calm clips ≤ 0.75 × neutral's."""
    assert per_category["calm"]["centroid"] <= 0.75 * per_category["neutral"]["centroid"]


def test_activating_is_at_least_a_quarter_brighter_than_neutral(
    per_category: dict[str, dict[str, float]],
) -> None:
    """Median spectral centroid of activating clips ≥ 1.25 × neutral's."""
    assert per_category["activating"]["centroid"] >= 1.25 * per_category["neutral"]["centroid"]


def test_calm_is_softer_and_activating_louder(per_category: dict[str, dict[str, float]]) -> None:
    """Calm clips measure ≥ 2 LU below neutral, activating above it."""
    neutral = per_category["neutral"]["lufs"]
    assert per_category["calm"]["lufs"] <= neutral - 2.0
    assert per_category["activating"]["lufs"] > neutral


def test_calm_changes_chord_and_pulses_slower(per_category: dict[str, dict[str, float]]) -> None:
    """Seconds per chord: calm ≥ 1.5 × neutral ≥ 1.5 × activating; the beat (tempo) likewise."""
    calm, neutral, act = (per_category[c] for c in ("calm", "neutral", "activating"))
    assert calm["chord_s"] >= 1.5 * neutral["chord_s"] >= 2.25 * act["chord_s"]
    assert calm["tempo"] < 0.8 * neutral["tempo"] and act["tempo"] > 1.2 * neutral["tempo"]


@pytest.mark.parametrize("category", ["calm", "activating"])
def test_state_clips_are_click_free(category: str) -> None:
    """No second-difference sample of a clip exceeds 12 × its RMS (what a click would make)."""
    prompt = next(p for p in load_shipped_prompt_bank() if p.category == category)
    x = _clip(renderer_params(prompt), category, 0).astype(np.float64)
    x = x[SR // 20 :]  # the master filters settled
    d2 = np.abs(np.diff(x, n=2, axis=0))
    assert d2.max() < 12.0 * np.sqrt(np.mean(d2**2))
