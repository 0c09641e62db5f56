"""The prompt bank's schema: one prompt, the categories and states, and the prompts config.

A prompt carries the text a neural renderer (MusicGen) uses plus structured fields
(tempo, key, mode, mood words, instruments) that :mod:`bassd.control.prompt_mapping`
turns into Kuramoto bank parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bassd.dsp.scales import KEYS, MODES

#: the categories the heart-rate states need; a bank must hold prompts for each
CORE_CATEGORIES = ("neutral", "calm", "activating")
#: optional extra categories a bank may use and a state may be mapped to
CATEGORIES = (*CORE_CATEGORIES, "uplifting", "grounding")
STATES = ("neutral", "stress", "underaroused")
DEFAULT_STATE_CATEGORIES = {"neutral": "neutral", "stress": "calm", "underaroused": "activating"}
FIELDS = ("id", "category", "genre", "mood", "instruments", "tempo_bpm", "key", "mode", "text")
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

# learn: the closed loop (control/prompt_bandit.py) picks within the category from this
# listener's responses; the bank's own choice (no_repeat) is its fallback
Policy = Literal["no_repeat", "cycle", "random", "learn"]
POLICIES: tuple[str, ...] = ("no_repeat", "cycle", "random", "learn")


class PromptBankError(ValueError):
    """A prompt bank problem, one line per problem naming file, row and field."""


class Prompt(BaseModel):
    """One structured prompt of the bank."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=ID_PATTERN)
    category: str
    genre: str = Field(min_length=1, max_length=80)
    mood: str = Field(min_length=1, max_length=200)
    instruments: tuple[Annotated[str, Field(min_length=1, max_length=60)], ...] = Field(
        min_length=1, max_length=16
    )
    tempo_bpm: float = Field(ge=20.0, le=240.0)
    key: str
    mode: str
    text: str = Field(min_length=1, max_length=500)

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        return _one_of(v, CATEGORIES, "category")

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return _one_of(v, KEYS, "key")

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        return _one_of(v, tuple(MODES), "mode")


def _one_of(value: str, allowed: Iterable[str], what: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"unknown {what} (allowed: {', '.join(allowed)})")
    return value


class PromptsConfig(BaseModel):
    """Which bank to load, how to pick from a category, and which category each state uses."""

    model_config = ConfigDict(extra="forbid")

    bank: Path | None = None  # None: the bank shipped in the package
    policy: Policy = "no_repeat"
    avoid_last: int = Field(1, ge=0, le=64)
    # with policy learn: whose responses are learnt (bassd run --listener NAME), and where
    # each listener's posteriors are kept (None: $XDG_DATA_HOME/bassd/listeners)
    listener: str | None = Field(None, min_length=1, max_length=64)
    listeners_dir: Path | None = None
    state_categories: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STATE_CATEGORIES))

    @field_validator("state_categories")
    @classmethod
    def _states(cls, v: dict[str, str]) -> dict[str, str]:
        if set(v) != set(STATES):
            missing = [s for s in STATES if s not in v]
            unknown = [s for s in v if s not in STATES]
            parts = [f"missing {', '.join(missing)}"] if missing else []
            parts += [f"unknown {', '.join(unknown)}"] if unknown else []
            raise ValueError(f"keys must be exactly {', '.join(STATES)} ({'; '.join(parts)})")
        for state, category in v.items():
            if category not in CATEGORIES:
                raise ValueError(
                    f"{state}: unknown category {category!r} (allowed: {', '.join(CATEGORIES)})"
                )
        return v
