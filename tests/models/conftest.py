"""Tiny randomly initialised MusicGen checkpoints, saved once per test session and loaded
through the same path as real weights."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bassd.models.random_init import write_random_musicgen

    return write_random_musicgen(tmp_path_factory.mktemp("musicgen") / "tiny", "tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_stereo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bassd.models.random_init import write_random_musicgen

    out = tmp_path_factory.mktemp("musicgen") / "tiny-stereo"
    return write_random_musicgen(out, "tiny", seed=1, stereo=True)
