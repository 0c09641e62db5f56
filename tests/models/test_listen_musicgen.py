"""``bassd listen prepare`` with MusicGen conditions, as a study compares its adapters: the
base model, the base with a LoRA blend and the DSP renderer, for one prompt and seed (a tiny
random MusicGen and a random adapter saved to a temp dir: the real loading code)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from bassd.app.listen_design import parse_design
from bassd.app.listen_prepare import SAMPLE_RATE, prepare, render_design
from tests.adapters.synth import SPECS, make_adapter


@pytest.fixture(scope="module")
def adapters(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import MusicgenForConditionalGeneration

    base = MusicgenForConditionalGeneration.from_pretrained(tiny_model_dir, local_files_only=True)
    out = tmp_path_factory.mktemp("adapters")
    make_adapter(base, SPECS[0], out)
    return out


def test_base_adapter_and_dsp_are_rendered_blinded_and_loudness_matched(
    tiny_model_dir: Path, adapters: Path, tmp_path: Path
) -> None:
    """Three conditions of one calm item, each rendered through its own config (the tiny
    model and its adapter loaded from folders): every stimulus within ±0.5 LU of the target
    by pyloudnorm, the DSP render differs from the neural ones, and the key names the three
    conditions (the stimuli only by token). (The tiny random model's tokens barely move with
    a random adapter: what a blend does to MusicGen is tested in test_musicgen_adapters.)"""
    neural = ["renderer.name=musicgen", f"musicgen.model={tiny_model_dir}",
              f"musicgen.adapters_dir={adapters}", "musicgen.clip_seconds=4",
              "musicgen.adaptive=false"]  # fmt: skip
    spec = {
        "name": "adapter study", "seconds": 2.0, "start_s": 1.0, "fade_ms": 40, "seed": 1,
        "set": ["timeline.segment_seconds=4", "timeline.crossfade_seconds=0.5"],
        "conditions": {"base": neural, "calm": [*neural, f"musicgen.adapters={{{SPECS[0].name}: 1.0}}"],
                       "dsp": ["renderer.name=kuramoto"]},
        "items": [{"category": "calm", "seed": 5}],
        "trials": {"mushra": {"reference": "base"}},
    }  # fmt: skip
    plan = render_design(parse_design(spec), tmp_path)
    result = prepare(plan, tmp_path)
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    key = json.loads((tmp_path / "key.json").read_text())
    by_condition: dict[str, np.ndarray] = {}
    for wav in sorted((tmp_path / "stimuli").glob("*.wav")):
        x, _ = sf.read(wav, always_2d=True)
        assert abs(meter.integrated_loudness(x) - result.target_lufs) <= 0.5, wav.name
        entry = key["stimuli"][wav.stem]
        if entry.get("role", "condition") == "condition":
            by_condition[entry["condition"]] = x
        assert entry["condition"] not in wav.stem
    assert set(by_condition) == {"base", "calm", "dsp"}
    assert not np.allclose(by_condition["base"], by_condition["dsp"], atol=1e-3)
