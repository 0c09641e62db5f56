"""The ``library:`` config section: the sound library's file and its searches (no heavy
imports: the daemon reads it at start)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bassd.engine.config import Strict


class LibraryConfig(Strict):
    enabled: bool = True  # /library/* over OSC (bassd library works either way)
    path: Path | None = None  # None: $XDG_DATA_HOME/bassd/library.sqlite
    top: int = Field(5, ge=1, le=50)  # results in /library/results and the CLI's default
    busy_timeout_seconds: float = Field(30.0, gt=0, le=600)  # wait for another writer

    def resolved_path(self) -> Path:
        from bassd.app.library import default_path

        return self.path if self.path is not None else default_path()
