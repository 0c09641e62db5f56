"""LoRA adapter folders in peft's own format: find them, read them, parse blends.

An adapter is a folder holding ``adapter_config.json`` and
``adapter_model.safetensors`` as written by peft's ``save_pretrained``. Its keys
name modules of a ``MusicgenForConditionalGeneration`` (after the
``base_model.model.`` prefix peft adds), e.g.
``base_model.model.decoder.model.decoder.layers.0.self_attn.q_proj.lora_A.weight``.

:func:`load_adapter` turns the low-rank factors into one dense ΔW per module,
``s·B@A`` with ``s = lora_alpha / r`` (``lora_alpha / √r`` under ``use_rslora``),
honouring ``rank_pattern`` and ``alpha_pattern`` the way peft matches them, so a
blend is a plain weighted sum of these tensors (see :mod:`bassd.adapters.blend`).

This module imports torch only inside :func:`load_adapter`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"
#: the prefix peft puts in front of every module path of the wrapped model
PEFT_PREFIX = "base_model.model."

# the suffixes of peft's LoRA tensors: (factor, is_embedding)
_SUFFIXES = {
    ".lora_A.weight": ("A", False),
    ".lora_B.weight": ("B", False),
    ".lora_embedding_A": ("A", True),
    ".lora_embedding_B": ("B", True),
}

# config options whose adapters are not a plain s·B@A added to a weight
_UNSUPPORTED_TRUE = {
    "use_dora": "DoRA rescales the weight's columns, which is not a weight-space sum",
    "lora_bias": "a LoRA bias on lora_B changes the module's bias, not its weight",
    "fan_in_fan_out": "fan_in_fan_out (GPT-2 Conv1D) layouts do not occur in MusicGen",
}
_UNSUPPORTED_SET = {
    "modules_to_save": "full copies of modules cannot be blended",
    "target_parameters": "LoRA on bare nn.Parameters is not supported",
    "trainable_token_indices": "trainable token rows are not supported",
    "layer_replication": "layer replication changes the model's structure",
    "alora_invocation_tokens": "activated LoRA acts only after its invocation tokens",
}


class AdapterError(ValueError):
    """An adapter, a blend or training input is unusable; the message says which and why."""


@dataclass(frozen=True)
class LoraAdapter:
    """One adapter as dense per-module weight deltas for a blend weight of 1.

    ``deltas`` maps a module path relative to the ``MusicgenForConditionalGeneration``
    (e.g. ``"decoder.model.decoder.layers.0.self_attn.q_proj"``) to ``s·B@A`` in float32,
    shaped like that module's ``.weight`` (for an ``nn.Embedding``:
    ``(num_embeddings, embedding_dim)``).
    """

    name: str
    path: Path
    deltas: dict[str, torch.Tensor]

    def __repr__(self) -> str:
        n = len(self.deltas)
        return f"LoraAdapter(name={self.name!r}, path={str(self.path)!r}, modules={n})"


def shipped_dir() -> Path:
    """The folder of this package, where shipped adapters would live (``<name>/``)."""
    return Path(__file__).resolve().parent


def _search_path(search_dirs: Sequence[Path]) -> list[Path]:
    return [Path(d) for d in search_dirs] + [shipped_dir()]


def _is_adapter_dir(p: Path) -> bool:
    return (p / CONFIG_FILE).is_file()


def available_adapters(search_dirs: Sequence[Path] = ()) -> list[str]:
    """Names of the adapter folders (those with an ``adapter_config.json``) in the search path."""
    names: set[str] = set()
    for d in _search_path(search_dirs):
        if d.is_dir():
            names.update(p.name for p in d.iterdir() if p.is_dir() and _is_adapter_dir(p))
    return sorted(names)


def resolve_adapter(name_or_dir: str, search_dirs: Sequence[Path] = ()) -> Path:
    """The folder of an adapter given as a path or as a name.

    An existing folder path wins; otherwise ``<dir>/<name>/`` (holding an
    ``adapter_config.json``) in each of ``search_dirs`` in order, then in the shipped
    package folder. Raises :class:`AdapterError` listing where it looked.
    """
    if not name_or_dir.strip():
        raise AdapterError("empty adapter name")
    direct = Path(name_or_dir).expanduser()
    if direct.is_dir():
        return direct
    looked: list[str] = [str(direct)]
    if "/" not in name_or_dir and "\\" not in name_or_dir and name_or_dir not in (".", ".."):
        for d in _search_path(search_dirs):
            cand = d / name_or_dir
            if _is_adapter_dir(cand):
                return cand
            looked.append(str(cand))
    names = available_adapters(search_dirs)
    have = ", ".join(names) if names else "none"
    raise AdapterError(
        f"adapter {name_or_dir!r} not found (looked in: {'; '.join(looked)}); "
        f"available adapters: {have}"
    )


def parse_blend(items: Sequence[str]) -> list[tuple[str, float]]:
    """Parse ``"NAME_OR_DIR=WEIGHT"`` strings (CLI, config) into ``[(name_or_dir, weight)]``.

    The weight may be 0 or negative but must be finite; the name is split at the last
    ``=`` so folder paths may contain one. A name given twice is an error.
    """
    out: list[tuple[str, float]] = []
    seen: set[str] = set()
    for item in items:
        name, sep, weight_s = str(item).rpartition("=")
        name = name.strip()
        if not sep or not name:
            raise AdapterError(f"bad adapter blend item {item!r}: expected NAME_OR_DIR=WEIGHT")
        try:
            weight = float(weight_s)
        except ValueError:
            raise AdapterError(
                f"bad adapter blend item {item!r}: weight {weight_s.strip()!r} is not a number"
            ) from None
        if not math.isfinite(weight):
            raise AdapterError(f"bad adapter blend item {item!r}: weight must be finite")
        if name in seen:
            raise AdapterError(f"bad adapter blend item {item!r}: {name!r} is listed twice")
        seen.add(name)
        out.append((name, weight))
    return out


def _pattern_value(patterns: Mapping[str, Any], module: str, default: Any) -> Any:
    """peft's ``get_pattern_key``: the first pattern matching the end of ``module``."""
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def read_config(folder: Path) -> dict[str, Any]:
    """``adapter_config.json`` of ``folder``, checked for what a weight-space blend supports."""
    cfg_path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise AdapterError(f"adapter folder {folder} does not exist")
    if not cfg_path.is_file():
        raise AdapterError(f"{cfg_path} is missing: {folder} is not a peft adapter folder")
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdapterError(f"{cfg_path} is not readable JSON: {exc}") from None
    if not isinstance(cfg, dict):
        raise AdapterError(f"{cfg_path} must hold a JSON object")
    peft_type = cfg.get("peft_type", "LORA")
    if str(peft_type).upper() != "LORA":
        raise AdapterError(f"{cfg_path}: peft_type is {peft_type!r}, only LORA adapters blend")
    for key, why in _UNSUPPORTED_TRUE.items():
        if cfg.get(key):
            raise AdapterError(f"{cfg_path}: {key} is set; not supported ({why})")
    for key, why in _UNSUPPORTED_SET.items():
        if cfg.get(key):
            raise AdapterError(f"{cfg_path}: {key} is set; not supported ({why})")
    for key in ("r", "lora_alpha"):
        v = cfg.get(key)
        if not isinstance(v, int | float) or isinstance(v, bool) or v <= 0:
            raise AdapterError(f"{cfg_path}: {key} must be a positive number, got {v!r}")
    for key in ("rank_pattern", "alpha_pattern"):
        if not isinstance(cfg.get(key) or {}, dict):
            raise AdapterError(f"{cfg_path}: {key} must be an object")
    return cfg


def scale_for(cfg: Mapping[str, Any], module: str, rank: int) -> float:
    """peft's ``scaling`` of ``module``: ``alpha / r`` or ``alpha / √r`` under use_rslora."""
    alpha = float(_pattern_value(cfg.get("alpha_pattern") or {}, module, cfg["lora_alpha"]))
    return alpha / math.sqrt(rank) if cfg.get("use_rslora") else alpha / rank


def _read_tensors(wpath: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = wpath.parent
    if not wpath.is_file():
        other = ", ".join(p.name for p in folder.glob("adapter_model*")) or "none"
        raise AdapterError(
            f"{wpath} is missing (adapter files found: {other}); "
            "save the adapter with peft's save_pretrained (safe_serialization=True)"
        )
    try:
        return load_file(str(wpath), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise AdapterError(f"{wpath} is not a readable safetensors file: {exc}") from None


def load_adapter(path: Path, name: str | None = None) -> LoraAdapter:
    """Read a peft LoRA folder into a :class:`LoraAdapter` (``name`` defaults to the folder's).

    Raises :class:`AdapterError` for a missing or corrupt config or weights file, keys
    that are not LoRA factors, a module with only one factor, or ranks that disagree.
    """
    import torch

    folder = Path(path)
    cfg = read_config(folder)
    wpath = folder / WEIGHTS_FILE
    tensors = _read_tensors(wpath)
    if not tensors:
        raise AdapterError(f"{wpath} holds no tensors")

    factors: dict[str, dict[str, torch.Tensor]] = {}
    embedding: dict[str, bool] = {}
    for key, tensor in tensors.items():
        suffix = next((s for s in _SUFFIXES if key.endswith(s)), None)
        if not key.startswith(PEFT_PREFIX) or suffix is None:
            raise AdapterError(
                f"{wpath}: unexpected key {key!r} (expected "
                f"{PEFT_PREFIX}<module>.lora_A.weight / .lora_B.weight / .lora_embedding_A/B)"
            )
        module = key[len(PEFT_PREFIX) : -len(suffix)]
        which, is_emb = _SUFFIXES[suffix]
        if embedding.setdefault(module, is_emb) != is_emb:
            raise AdapterError(f"{wpath}: {module} mixes Linear and Embedding LoRA factors")
        if tensor.ndim != 2:
            raise AdapterError(f"{wpath}: {key} has shape {tuple(tensor.shape)}, expected 2-D")
        factors.setdefault(module, {})[which] = tensor

    deltas: dict[str, torch.Tensor] = {}
    for module, ab in sorted(factors.items()):
        if set(ab) != {"A", "B"}:
            missing = "lora_B" if "A" in ab else "lora_A"
            raise AdapterError(f"{wpath}: {module} has no {missing} factor")
        a, b = ab["A"].to(torch.float32), ab["B"].to(torch.float32)
        rank = a.shape[0]
        if b.shape[1] != rank:
            raise AdapterError(
                f"{wpath}: {module} lora_A has rank {rank} but lora_B has {b.shape[1]}"
            )
        want = int(_pattern_value(cfg.get("rank_pattern") or {}, module, cfg["r"]))
        if rank != want:
            raise AdapterError(f"{wpath}: {module} has rank {rank} but {CONFIG_FILE} says r={want}")
        delta = (b @ a) * scale_for(cfg, module, rank)
        # peft's Embedding LoRA: A (r, num_embeddings), B (embedding_dim, r), ΔW = (B@A)ᵀ·s
        deltas[module] = delta.T.contiguous() if embedding[module] else delta
    return LoraAdapter(name=name or folder.name, path=folder, deltas=deltas)
