"""Load a MusicGen checkpoint and its processor from local files only, with a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bassd.adapters.lora_files import AdapterError


class ModelNotFound(AdapterError):
    """The model is neither a local folder nor in the local Hugging Face cache."""


def _not_found(model: str | Path, exc: BaseException) -> ModelNotFound:
    return ModelNotFound(
        f"model {str(model)!r} is not available locally (not a checkpoint folder, not in the "
        f"Hugging Face cache: {type(exc).__name__}); weights can be fetched with "
        f"`bassd models download {model}`"
    )


def load_musicgen(model: str | Path) -> Any:
    """``MusicgenForConditionalGeneration.from_pretrained(model, local_files_only=True)``."""
    from transformers import MusicgenForConditionalGeneration

    p = Path(model).expanduser()
    if (p.exists() or str(model).startswith((".", "/", "~"))) and not (p / "config.json").is_file():
        raise ModelNotFound(
            f"model folder {p} has no config.json; weights can be fetched with "
            "`bassd models download ID`"
        )
    try:
        return MusicgenForConditionalGeneration.from_pretrained(
            str(p) if p.is_dir() else str(model), local_files_only=True
        )
    except OSError as exc:
        raise _not_found(model, exc) from None


def load_processor(model: str | Path) -> Any:
    """The checkpoint's ``MusicgenProcessor`` (tokenizer + feature extractor), local files only."""
    from transformers import AutoProcessor

    p = Path(model).expanduser()
    try:
        return AutoProcessor.from_pretrained(
            str(p) if p.is_dir() else str(model), local_files_only=True
        )
    except OSError as exc:
        raise _not_found(model, exc) from None
