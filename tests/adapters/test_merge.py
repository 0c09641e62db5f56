"""merge_checkpoint: a standalone checkpoint whose weights are the blend."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from bassd.adapters.blend import WeightBlender
from bassd.adapters.lora_files import AdapterError, load_adapter
from bassd.adapters.merge import merge_checkpoint
from bassd.adapters.model_io import ModelNotFound


def test_merged_checkpoint_loads_stock_and_equals_blend(
    tiny_dir: Path, adapter_dirs: dict[str, Path], fresh_model: Callable[[], Any], tmp_path: Path
) -> None:
    """Stock from_pretrained loads the merged folder and its weights equal base + Σ w·Δ."""
    from transformers import AutoProcessor, MusicgenForConditionalGeneration

    search = tmp_path / "adapters"
    shutil.copytree(adapter_dirs["rs_emb"], search / "calm")
    blend = [(str(adapter_dirs["plain"]), 0.7), ("calm", -0.3)]
    out = merge_checkpoint(tiny_dir, blend, tmp_path / "merged", search_dirs=[search])
    merged = MusicgenForConditionalGeneration.from_pretrained(out, local_files_only=True)
    AutoProcessor.from_pretrained(out, local_files_only=True)  # the processor came along

    want = fresh_model()
    WeightBlender(want).apply(
        [(load_adapter(adapter_dirs["plain"]), 0.7), (load_adapter(search / "calm"), -0.3)]
    )
    base = fresh_model().state_dict()
    got_sd, want_sd = merged.state_dict(), want.state_dict()
    assert set(got_sd) == set(want_sd)
    changed = 0
    for k, v in want_sd.items():
        assert torch.equal(got_sd[k], v), k
        changed += not torch.equal(v, base[k])
    assert changed > 10


def test_merge_errors(tiny_dir: Path, adapter_dirs: dict[str, Path], tmp_path: Path) -> None:
    """An unknown adapter or a missing model raise errors naming them (the latter pointing to `bassd models download`)."""
    with pytest.raises(AdapterError, match="'nope' not found"):
        merge_checkpoint(tiny_dir, [("nope", 1.0)], tmp_path / "m")
    with pytest.raises(ModelNotFound, match=r"bassd models download"):
        merge_checkpoint(tmp_path / "no_model", [(str(adapter_dirs["plain"]), 1.0)], tmp_path / "m")
    with pytest.raises(
        ModelNotFound, match=r"'example/not-cached'.*bassd models download example/not-cached"
    ):
        merge_checkpoint("example/not-cached", [(str(adapter_dirs["plain"]), 1.0)], tmp_path / "m")
    assert not (tmp_path / "m").exists()
