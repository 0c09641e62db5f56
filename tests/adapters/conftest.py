"""Fixtures: one tiny random MusicGen checkpoint and synthetic peft adapters for it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.synth import SPECS, make_adapter


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random MusicGen checkpoint (model + processor) written once per session
    (its EnCodec has seeded codebooks, so clips encode to varied codes)."""
    from bassd.models.random_init import write_random_musicgen

    return write_random_musicgen(tmp_path_factory.mktemp("tiny") / "musicgen", "tiny")


@pytest.fixture(scope="session")
def _loaded(tiny_dir: Path) -> Any:
    from transformers import MusicgenForConditionalGeneration

    return MusicgenForConditionalGeneration.from_pretrained(tiny_dir, local_files_only=True).eval()


@pytest.fixture
def fresh_model(_loaded: Any) -> Callable[[], Any]:
    """Returns a new, unmodified copy of the tiny model at each call."""
    return lambda: copy.deepcopy(_loaded)


@pytest.fixture(scope="session")
def adapter_dirs(_loaded: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic adapters of ``SPECS`` saved with peft, by name, in one folder."""
    root = tmp_path_factory.mktemp("adapters")
    return {s.name: make_adapter(_loaded, s, root) for s in SPECS}
