"""Finding, reading and naming adapters; parsing blends: every error names its cause."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

import bassd.adapters
from bassd.adapters.lora_files import (
    AdapterError,
    available_adapters,
    load_adapter,
    parse_blend,
    resolve_adapter,
)
from tests.adapters.synth import expected_deltas


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_package_import_is_torch_free() -> None:
    """Importing bassd.adapters (and its CLI module) does not import torch."""
    import subprocess

    code = "import sys, bassd.adapters, bassd.adapters.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_load_adapter_deltas_shapes_and_values(adapter_dirs: dict[str, Path]) -> None:
    """load_adapter gives float32 s·B@A per module shaped like the weight (embeddings transposed)."""
    a = load_adapter(adapter_dirs["rs_emb"])
    assert a.name == "rs_emb" and a.path == adapter_dirs["rs_emb"]
    emb = "decoder.model.decoder.embed_tokens.3"
    assert a.deltas[emb].shape == (65, 32) and a.deltas[emb].dtype == torch.float32
    assert a.deltas["enc_to_dec_proj"].shape == (32, 16)
    want = expected_deltas(adapter_dirs["rs_emb"])
    assert set(a.deltas) == set(want)
    for m, d in want.items():
        torch.testing.assert_close(a.deltas[m].double(), d, rtol=1e-5, atol=1e-7)
    assert load_adapter(adapter_dirs["plain"], name="other").name == "other"


def test_resolve_order_and_available(adapter_dirs: dict[str, Path], tmp_path: Path) -> None:
    """An existing folder path wins; names are looked up in search dirs in order."""
    first, second = tmp_path / "first", tmp_path / "second"
    _copy(adapter_dirs["plain"], first / "calm")
    _copy(adapter_dirs["rs_emb"], second / "calm")
    _copy(adapter_dirs["patterned"], second / "neutral")
    (second / "notes").mkdir()  # a folder without adapter_config.json is no adapter
    assert resolve_adapter("calm", [first, second]) == first / "calm"
    assert resolve_adapter("neutral", [first, second]) == second / "neutral"
    assert resolve_adapter(str(adapter_dirs["plain"]), [first]) == adapter_dirs["plain"]
    assert available_adapters([first, second]) == ["calm", "neutral"]


def test_resolve_unknown_lists_places_and_names(
    adapter_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """An unknown name raises AdapterError naming the places looked in and the adapters available."""
    _copy(adapter_dirs["plain"], tmp_path / "calm")
    with pytest.raises(AdapterError) as err:
        resolve_adapter("happy", [tmp_path])
    msg = str(err.value)
    assert "'happy' not found" in msg
    assert str(tmp_path / "happy") in msg
    assert str(Path(bassd.adapters.__file__).parent / "happy") in msg
    assert "available adapters: calm" in msg
    with pytest.raises(AdapterError, match="not found"):
        resolve_adapter("/no/such/folder", [tmp_path])


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ("calm", "expected NAME_OR_DIR=WEIGHT"),
        ("=0.5", "expected NAME_OR_DIR=WEIGHT"),
        ("calm=", "is not a number"),
        ("calm=lots", "'lots' is not a number"),
        ("calm=nan", "must be finite"),
        ("calm=inf", "must be finite"),
    ],
)
def test_parse_blend_rejects_bad_items(item: str, why: str) -> None:
    """A malformed blend item raises AdapterError quoting the item and the problem."""
    with pytest.raises(AdapterError) as err:
        parse_blend(["neutral=1", item])
    assert repr(item) in str(err.value) and why in str(err.value)


def test_parse_blend_accepts_zero_negative_and_paths() -> None:
    """Weights may be 0 or negative; a path containing '=' splits at the last '='; duplicates are refused."""
    got = parse_blend(["calm=0.012", "neutral = -0.5", "/a/b=c/x=0", "z=1e-3"])
    assert got == [("calm", 0.012), ("neutral", -0.5), ("/a/b=c/x", 0.0), ("z", 0.001)]
    assert parse_blend([]) == []
    with pytest.raises(AdapterError, match="listed twice"):
        parse_blend(["calm=1", "calm=2"])


def test_load_errors_name_file_and_problem(adapter_dirs: dict[str, Path], tmp_path: Path) -> None:
    """Missing/corrupt config or weights, foreign keys, half pairs and unsupported options are named."""
    src = adapter_dirs["plain"]

    def case(name: str) -> Path:
        return _copy(src, tmp_path / name)

    with pytest.raises(AdapterError, match="does not exist"):
        load_adapter(tmp_path / "nothing")
    p = case("noconfig")
    (p / "adapter_config.json").unlink()
    with pytest.raises(AdapterError, match=r"noconfig/adapter_config.json is missing"):
        load_adapter(p)
    p = case("badjson")
    (p / "adapter_config.json").write_text("{not json")
    with pytest.raises(AdapterError, match=r"badjson/adapter_config.json is not readable JSON"):
        load_adapter(p)
    p = case("noweights")
    (p / "adapter_model.safetensors").unlink()
    with pytest.raises(AdapterError, match=r"noweights/adapter_model.safetensors is missing"):
        load_adapter(p)
    p = case("corrupt")
    (p / "adapter_model.safetensors").write_bytes(b"\x00garbage" * 20)
    with pytest.raises(AdapterError, match=r"corrupt/adapter_model.safetensors is not a readable"):
        load_adapter(p)
    p = case("dora")
    cfg = json.loads((p / "adapter_config.json").read_text())
    (p / "adapter_config.json").write_text(json.dumps({**cfg, "use_dora": True}))
    with pytest.raises(AdapterError, match="use_dora is set"):
        load_adapter(p)
    p = case("rank")
    (p / "adapter_config.json").write_text(json.dumps({**cfg, "r": 5}))
    with pytest.raises(AdapterError, match=r"has rank 4 but adapter_config.json says r=5"):
        load_adapter(p)


def test_load_rejects_foreign_and_unpaired_keys(
    adapter_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """A key that is not a LoRA factor, or a module with only lora_A, raises AdapterError naming it."""
    from safetensors.torch import load_file, save_file

    sd = load_file(str(adapter_dirs["plain"] / "adapter_model.safetensors"))
    p = _copy(adapter_dirs["plain"], tmp_path / "foreign")
    save_file({**sd, "base_model.model.decoder.lm_heads.0.weight": torch.ones(64, 32)},
              str(p / "adapter_model.safetensors"))  # fmt: skip
    with pytest.raises(
        AdapterError, match=r"unexpected key 'base_model.model.decoder.lm_heads.0.weight'"
    ):
        load_adapter(p)
    p = _copy(adapter_dirs["plain"], tmp_path / "half")
    drop = "base_model.model.decoder.lm_heads.0.lora_B.weight"
    save_file({k: v for k, v in sd.items() if k != drop}, str(p / "adapter_model.safetensors"))
    with pytest.raises(AdapterError, match=r"decoder.lm_heads.0 has no lora_B"):
        load_adapter(p)
