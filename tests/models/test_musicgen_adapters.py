"""LoRA blends inside MusicGen and the renderer: they change the output through our decode
loop (its fused weights refreshed), an all-zero blend is the base model, and the blend of a
clip comes from config, heart-rate state and OSC in that order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bassd.engine.renderer import RenderRequest
from bassd.models.config import MusicgenConfig
from bassd.models.musicgen import MusicGen
from bassd.models.neural_renderer import NeuralRenderer
from tests.adapters.synth import SPECS, make_adapter

PROMPT = "bright energetic synth arpeggio"


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import MusicgenForConditionalGeneration

    base = MusicgenForConditionalGeneration.from_pretrained(tiny_model_dir, local_files_only=True)
    out = tmp_path_factory.mktemp("adapters")
    for spec in SPECS[:2]:
        make_adapter(base, spec, out)
    return out


def test_blend_changes_output_and_zero_blend_is_the_base(
    tiny_model_dir: Path, adapter_dir: Path
) -> None:
    """A blend changes the greedy codes (the decode loop sees the blended weights); weight 0,
    and clearing the blend, give the base model's codes exactly."""
    mg = MusicGen.load(tiny_model_dir, device="cpu", adapter_dirs=[adapter_dir])
    base = mg.generate(PROMPT, 1.0, greedy=True).codes
    blended = mg.generate(PROMPT, 1.0, greedy=True, adapters={"plain": 1.0, "rs_emb": -0.5}).codes
    assert not np.array_equal(base, blended)
    zero = mg.generate(PROMPT, 1.0, greedy=True, adapters={"plain": 0.0, "rs_emb": 0.0}).codes
    np.testing.assert_array_equal(zero, base)
    again = mg.generate(PROMPT, 1.0, greedy=True, adapters={"plain": 1.0, "rs_emb": -0.5}).codes
    np.testing.assert_array_equal(again, blended)
    mg.set_adapters(None)
    np.testing.assert_array_equal(mg.generate(PROMPT, 1.0, greedy=True).codes, base)


def test_unknown_adapter_is_a_specific_error(tiny_model_dir: Path, adapter_dir: Path) -> None:
    """Naming an adapter that does not exist says which and where it looked."""
    from bassd.adapters.lora_files import AdapterError

    mg = MusicGen.load(tiny_model_dir, device="cpu", adapter_dirs=[adapter_dir])
    with pytest.raises(AdapterError, match="nope"):
        mg.generate(PROMPT, 0.5, adapters={"nope": 1.0})


def test_clip_blend_is_config_then_state_then_osc() -> None:
    """A clip's blend: the configured one, the HR state's over it, OSC's over both; clear
    drops only OSC's."""
    cfg = MusicgenConfig(adapters={"neutral": 0.01, "calm": 0.0},
                         state_adapters={"stress": {"calm": 0.015}})  # fmt: skip
    r = NeuralRenderer(cfg, start=False)
    assert r.blend_for({"state": "neutral"}) == {"neutral": 0.01, "calm": 0.0}
    assert r.blend_for({"state": "stress"}) == {"neutral": 0.01, "calm": 0.015}
    r.set_blend("calm", -0.2)
    assert r.blend_for({"state": "stress"}) == {"neutral": 0.01, "calm": -0.2}
    r.clear_blend()
    assert r.blend_for({"state": "stress"}) == {"neutral": 0.01, "calm": 0.015}


def test_a_protocol_stage_blend_sits_over_the_state_and_a_fixed_stage_ignores_the_state() -> None:
    """A stage's adapters (in the clip's meta) go over the configured and state blends; in a
    fixed stage the HR state's blend is left out (the heart rate does not steer it)."""
    cfg = MusicgenConfig(adapters={"neutral": 0.01}, state_adapters={"stress": {"calm": 0.015}})
    r = NeuralRenderer(cfg, start=False)
    adaptive = {"state": "stress", "stage": "a", "fixed": False, "adapters": {"neutral": 0.012}}
    assert r.blend_for(adaptive) == {"neutral": 0.012, "calm": 0.015}
    fixed = {"state": "stress", "stage": "b", "fixed": True}
    assert r.blend_for(fixed) == {"neutral": 0.01}


def request(seconds: float) -> RenderRequest:
    return RenderRequest(index=0, seed=0, frames=round(seconds * 48000), sample_rate=48000)


def test_clip_length_adapts_to_the_measured_speed() -> None:
    """The shortest allowed until a speed is measured; then longer when the fixed costs would
    eat the margin, nominal when they do not, the shortest when the machine cannot keep up;
    never past the model; nominal offline and when not adaptive."""
    cfg = MusicgenConfig(min_clip_seconds=8, max_clip_seconds=30)
    r = NeuralRenderer(cfg, start=False)
    assert r._clip_frames(request(20)) == 8 * 48000
    r._rtf_avg, r._overhead_avg = 0.5, 6.0  # keeps up, but 6 s of fixed cost per clip
    assert r._clip_frames(request(20)) == 24 * 48000  # 2 · 6 / (1 − 0.5)
    r._rtf_avg = 0.2
    assert r._clip_frames(request(20)) == 20 * 48000
    r._rtf_avg = 4.0  # a 2-core CPU with musicgen-small
    assert r._clip_frames(request(20)) == 8 * 48000
    r._rtf_avg, r.worker_info = 0.5, {"max_seconds": 20.0}
    assert r._clip_frames(request(20)) == round(19.95 * 48000)
    offline = NeuralRenderer(cfg, start=False, blocking=True)
    offline._rtf_avg = 4.0
    assert offline._clip_frames(request(20)) == 20 * 48000  # offline: deterministic lengths
    fixed = NeuralRenderer(MusicgenConfig(adaptive=False), start=False)
    assert fixed._clip_frames(request(20)) == 20 * 48000
