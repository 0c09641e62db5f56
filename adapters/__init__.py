"""LoRA adapters of the neural renderer: files, exact weight-space blends, merging, training.

An adapter is a peft LoRA folder (``adapter_config.json`` + ``adapter_model.safetensors``)
on MusicGen's decoder. This package's top level imports no torch: the file helpers
below are light, and :mod:`bassd.adapters.blend`, :mod:`~bassd.adapters.merge`,
:mod:`~bassd.adapters.train` and :mod:`~bassd.adapters.cli` are imported when needed.
"""

from bassd.adapters.lora_files import (
    AdapterError,
    LoraAdapter,
    available_adapters,
    load_adapter,
    parse_blend,
    resolve_adapter,
)

__all__ = [
    "AdapterError",
    "LoraAdapter",
    "available_adapters",
    "load_adapter",
    "parse_blend",
    "resolve_adapter",
]
