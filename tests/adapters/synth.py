"""Synthetic LoRA adapters made with peft itself on the tiny random MusicGen.

peft initialises lora_B to zero (an adapter that does nothing), so every factor is
refilled with ``randn * 0.1``. :func:`expected_deltas` recomputes ΔW = s·B@A straight
from the saved files, independently of :mod:`bassd.adapters.lora_files`.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file


@dataclass(frozen=True)
class Spec:
    """How one synthetic adapter is configured."""

    name: str
    r: int
    alpha: float
    targets: list[str]
    seed: int
    rslora: bool = False
    rank_pattern: dict[str, int] = field(default_factory=dict)
    alpha_pattern: dict[str, float] = field(default_factory=dict)


SPECS = [
    # plain: attention and FFN of the decoder, two LM heads
    Spec("plain", r=4, alpha=8, seed=1,
         targets=["q_proj", "v_proj", "fc1", "fc2", "lm_heads.0", "lm_heads.2"]),
    # rsLoRA with the codebook embeddings and the text projection as targets
    Spec("rs_emb", r=2, alpha=6, seed=2, rslora=True,
         targets=["k_proj", "out_proj", "embed_tokens.0", "embed_tokens.3", "enc_to_dec_proj"]),
    # per-module ranks and alphas
    Spec("patterned", r=8, alpha=16, seed=3, targets=["q_proj", "fc1", "lm_heads.0", "lm_heads.1"],
         rank_pattern={"fc1": 2}, alpha_pattern={"lm_heads.0": 3}),
]  # fmt: skip


def make_adapter(base: Any, spec: Spec, out_dir: Path) -> Path:
    """Save a peft adapter of ``spec`` for a copy of ``base`` with random non-zero factors."""
    cfg = LoraConfig(
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=0.0,
        target_modules=spec.targets,
        use_rslora=spec.rslora,
        rank_pattern=dict(spec.rank_pattern),
        alpha_pattern=dict(spec.alpha_pattern),
    )
    pm = get_peft_model(copy.deepcopy(base), cfg)
    gen = torch.Generator().manual_seed(spec.seed)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_" in n:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    path = out_dir / spec.name
    pm.save_pretrained(str(path))
    return path


def expected_deltas(folder: Path) -> dict[str, torch.Tensor]:
    """ΔW per module (float64) from the files: s·B@A, s = alpha/r or alpha/√r (rsLoRA),
    r from the tensor, alpha from ``alpha_pattern`` keys that end the module path."""
    cfg = json.loads((folder / "adapter_config.json").read_text())
    sd = load_file(str(folder / "adapter_model.safetensors"))
    out: dict[str, torch.Tensor] = {}
    prefix = "base_model.model."
    for key in sd:
        for a_suffix, b_suffix, emb in ((".lora_A.weight", ".lora_B.weight", False),
                                        (".lora_embedding_A", ".lora_embedding_B", True)):  # fmt: skip
            if key.endswith(a_suffix):
                module = key[len(prefix) : -len(a_suffix)]
                a = sd[key].double()
                b = sd[key[: -len(a_suffix)] + b_suffix].double()
                r = a.shape[0]
                alpha = cfg["lora_alpha"]
                for pat, val in cfg["alpha_pattern"].items():
                    if module == pat or module.endswith("." + pat):
                        alpha = val
                s = alpha / math.sqrt(r) if cfg["use_rslora"] else alpha / r
                d = s * (b @ a)
                out[module] = d.T if emb else d
    return out


# random checkpoints get usable codebooks where they are made (models/random_init.py)
