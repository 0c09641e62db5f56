"""Bake a blend of adapters into a standalone MusicGen checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import structlog

from bassd.adapters.blend import WeightBlender
from bassd.adapters.lora_files import LoraAdapter, load_adapter, resolve_adapter
from bassd.adapters.model_io import load_musicgen, load_processor

log = structlog.get_logger("bassd.adapters")


def load_blend(
    blend: Sequence[tuple[str, float]], search_dirs: Sequence[Path] = ()
) -> list[tuple[LoraAdapter, float]]:
    """Resolve and load every ``(name_or_dir, weight)`` of a parsed blend."""
    return [(load_adapter(resolve_adapter(n, search_dirs)), w) for n, w in blend]


def merge_checkpoint(
    model: str | Path,
    blend: Sequence[tuple[str, float]],
    out_dir: Path,
    search_dirs: Sequence[Path] = (),
) -> Path:
    """Write ``model`` with ``blend`` added to its weights to ``out_dir``; returns ``out_dir``.

    ``model`` is a local checkpoint folder or a hub id already in the local cache. The
    result (weights, configs, generation config, processor) loads with stock
    ``MusicgenForConditionalGeneration.from_pretrained(out_dir)`` — no peft needed.
    """
    adapters = load_blend(blend, search_dirs)  # fail on a bad adapter before loading weights
    mg = load_musicgen(model)
    processor = load_processor(model)
    blender = WeightBlender(mg)
    blender.apply(adapters)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mg.save_pretrained(out)
    processor.save_pretrained(out)
    log.info("adapters_merged", model=str(model), blend=blender.current, out=str(out))
    return out
