"""Fixtures of the control tests: the in-process OSC harness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.control.harness import Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """A real controller, engine and OSC server on UDP, with a prompts folder of its own."""
    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path)
    yield h
    h.close()
