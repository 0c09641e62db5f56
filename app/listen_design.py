"""The SPEC of a blind listening test (``bassd listen prepare --pairs SPEC``).

A SPEC names the conditions (each a list of bassd ``--set`` overrides), the items every
condition is rendered for (a prompt category and a timeline seed, plus optional overrides),
the stimulus length and the trials: A/B preference pairs between conditions for the same
item, and MUSHRA-style pages (every condition of an item, a hidden reference and a
3.5 kHz low-passed anchor, as ITU-R BS.1534 does) rated on 0–100 scales.

Unknown keys are errors naming the key; every problem is one line naming the file and key.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bassd.control.prompt_schema import CATEGORIES
from bassd.control.yaml_text import load_yaml

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
#: the rating scales a MUSHRA page may ask for, with the words at each end of the slider
SCALES: dict[str, tuple[str, str]] = {
    "calmness": ("tense", "calm"),
    "valence": ("unpleasant", "pleasant"),
    "arousal": ("sleepy", "energetic"),
}
Scale = Literal["calmness", "valence", "arousal"]
DEFAULT_SCALES: tuple[Scale, ...] = ("calmness", "valence", "arousal")


class DesignError(ValueError):
    """A SPEC problem, one line per problem naming the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_overrides(v: list[str]) -> list[str]:
    for item in v:
        key, eq, _ = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"{item!r}: expected section.key=value")
    return v


class Item(_Strict):
    """One piece of music every condition is rendered for."""

    id: str | None = Field(None, pattern=NAME_PATTERN)  # default: CATEGORY-sSEED
    category: str = "neutral"  # the prompt category the session plays (prompt_schema)
    seed: int = Field(0, ge=0)  # timeline.seed
    set: list[str] = Field(default_factory=list)  # further overrides for this item only

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"unknown category {v!r} (allowed: {', '.join(CATEGORIES)})")
        return v

    @field_validator("set")
    @classmethod
    def _sets(cls, v: list[str]) -> list[str]:
        return _check_overrides(v)

    @property
    def name(self) -> str:
        return self.id or f"{self.category}-s{self.seed}"

    def overrides(self) -> list[str]:
        return [
            f"timeline.seed={self.seed}",
            f"prompts.state_categories.neutral={self.category}",
            *self.set,
        ]


class Mushra(_Strict):
    """One MUSHRA page per item: every condition, the hidden reference, the anchor."""

    reference: str  # the condition that is the (open and hidden) reference
    anchor: bool = True
    anchor_hz: float = Field(3500.0, gt=500.0, le=20000.0)


class Trials(_Strict):
    ab: bool = True  # A/B preference trials
    #: which condition pairs get A/B trials (default: every pair)
    ab_pairs: list[tuple[str, str]] | None = None
    mushra: Mushra | None = None


class Design(_Strict):
    """The whole SPEC."""

    name: str = Field("listening-test", min_length=1, max_length=80)
    seconds: float = Field(8.0, gt=0.5, le=60.0)  # length of every stimulus
    start_s: float = Field(1.0, ge=0.0, le=600.0)  # where the excerpt starts in the render
    fade_ms: float = Field(50.0, ge=0.0, le=1000.0)  # raised-cosine fade in and out
    target_lufs: float = Field(-23.0, ge=-40.0, le=-10.0)
    true_peak_ceiling_db: float = Field(-1.0, ge=-20.0, le=0.0)
    seed: int = Field(0, ge=0)  # the randomisation of trial orders and sides
    set: list[str] = Field(default_factory=list)  # overrides common to every condition
    conditions: dict[str, list[str]] = Field(min_length=2)
    items: list[Item] = Field(min_length=1)
    trials: Trials = Trials()
    scales: list[Scale] = Field(default_factory=lambda: list(DEFAULT_SCALES), min_length=1)
    question: str = "Which one do you prefer?"  # the A/B question

    @field_validator("set")
    @classmethod
    def _sets(cls, v: list[str]) -> list[str]:
        return _check_overrides(v)

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        import re

        for name, overrides in v.items():
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"{name!r}: a condition name must match {NAME_PATTERN}")
            if name == "anchor":
                raise ValueError("'anchor' is reserved for the MUSHRA anchor")
            try:
                _check_overrides(overrides)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        names = [i.name for i in self.items]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"items: repeated item {', '.join(dup)} (give each an id)")
        if len(set(self.scales)) != len(self.scales):
            raise ValueError("scales: a scale is named twice")
        t = self.trials
        for a, b in t.ab_pairs or []:
            for c in (a, b):
                if c not in self.conditions:
                    raise ValueError(
                        f"trials.ab_pairs: unknown condition {c!r} "
                        f"(conditions: {', '.join(self.conditions)})"
                    )
            if a == b:
                raise ValueError(f"trials.ab_pairs: {a!r} paired with itself")
        if t.mushra is not None and t.mushra.reference not in self.conditions:
            raise ValueError(
                f"trials.mushra.reference: unknown condition {t.mushra.reference!r} "
                f"(conditions: {', '.join(self.conditions)})"
            )
        if not t.ab and t.mushra is None:
            raise ValueError("trials: asks for no trials (ab: false and no mushra)")
        if self.fade_ms * 2 / 1000 >= self.seconds:
            raise ValueError(f"fade_ms ({self.fade_ms:g}) must be under half of seconds")
        return self

    def pairs(self) -> list[tuple[str, str]]:
        """The condition pairs of the A/B trials."""
        if not self.trials.ab:
            return []
        if self.trials.ab_pairs is not None:
            return [tuple(p) for p in self.trials.ab_pairs]  # type: ignore[misc]
        return list(itertools.combinations(self.conditions, 2))


def _format(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"{source}: {key}: unknown key")
            continue
        msg = e["msg"].removeprefix("Value error, ")
        got = e.get("input")
        plain = isinstance(got, dict | list) or e["type"].startswith("value_error")
        lines.append(f"{source}: {key}: {msg}" + ("" if plain else f" (got {got!r})"))
    return "\n".join(lines)


def parse_design(data: object, source: str = "spec") -> Design:
    """A SPEC from plain data; :class:`DesignError` with one line per problem."""
    if not isinstance(data, dict):
        raise DesignError(f"{source}: must be a mapping, got {type(data).__name__}")
    try:
        return Design.model_validate(data)
    except ValidationError as err:
        raise DesignError(_format(err, source)) from None


def load_design(path: str | Path) -> Design:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DesignError(f"{p}: cannot read it: {exc.strerror or exc}") from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise DesignError(
            f"{p}:{where} is not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    return parse_design(data, str(p))
