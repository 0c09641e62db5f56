"""Session protocols: a study's plan as stages, loaded and validated like a config.

A protocol is a list of stages played one after another. Each stage lasts a number of
seconds or of segments and says what plays: the renderer (the session's, or the DSP
renderer ``kuramoto`` in a neural session), a fixed prompt category or prompt, renderer
parameters, a LoRA adapter blend, a scene; and whether heart rate steers it
(``adaptive: true``) or not (a fixed control condition: the heart rate is still recorded,
the music ignores it).

A known baseline (``bassd session run --baseline-bpm``, or one the daemon already has)
skips the calibration; otherwise the protocol's first stage calibrates (for
``baseline_seconds``, the hr section's length unless the protocol gives its own).

Errors are one line naming the protocol, the stage and the key. Pure: the only I/O is
``load_protocol`` reading its file.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from bassd.control.prompt_schema import CATEGORIES, ID_PATTERN
from bassd.control.steering import _check_params
from bassd.control.yaml_text import load_yaml
from bassd.engine.config import Strict

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
RENDERERS = ("kuramoto", "musicgen", "vae", "layers")


class ProtocolError(ValueError):
    """A protocol that cannot run, as one line for the user."""


class Stage(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    seconds: float | None = Field(None, gt=0, le=24 * 3600)
    segments: int | None = Field(None, ge=1, le=10_000)
    adaptive: bool = True  # heart rate steers the music; false: a fixed control condition
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    prompt: str | None = Field(None, pattern=ID_PATTERN)  # a prompt of the bank, by id
    renderer: Literal[RENDERERS] | None = None  # type: ignore[valid-type]  # None: the session's
    params: dict[str, Any] = Field(default_factory=dict)  # renderer parameters (KuramotoParams)
    adapters: dict[str, float] = Field(default_factory=dict)  # LoRA adapter -> blend weight
    scene: str | None = Field(None, min_length=1, max_length=64)
    description: str = ""

    _p = field_validator("params")(classmethod(lambda cls, v: _check_params(v)))

    @field_validator("adapters")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        for name, w in v.items():
            if not -4.0 <= w <= 4.0:
                raise ValueError(f"adapter {name!r}: weight {w} is outside -4..4")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Stage:
        if (self.seconds is None) == (self.segments is None):
            raise ValueError("give seconds or segments (one of them)")
        if self.category is not None and self.prompt is not None:
            raise ValueError("give category or prompt, not both")
        if self.adaptive and (self.category is not None or self.prompt is not None):
            raise ValueError(
                "an adaptive stage takes its category from the heart rate: "
                "set adaptive: false to fix the category or prompt"
            )
        return self

    @property
    def fixed(self) -> bool:
        return not self.adaptive


class ProtocolConfig(Strict):
    """The ``protocol`` section: a protocol the session follows from its start (``bassd
    session run``/``render`` set it), and where ``/session/start NAME`` looks."""

    file: str | None = Field(None, min_length=1)  # a YAML path or a protocol's name
    dir: Path | None = None  # where /session/start finds names (None: the shipped protocols)
    listener: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
    baseline_bpm: float | None = Field(None, ge=25.0, le=240.0)  # known: no calibration
    exit_at_end: bool = False  # the daemon stops when the protocol ends (bassd session run)


class Protocol(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    renderer: Literal[RENDERERS] | None = None  # type: ignore[valid-type]  # what the session plays
    baseline_seconds: float | None = Field(None, ge=1.0, le=3600.0)  # the calibration's length
    segment_seconds: float | None = Field(None, ge=2.0, le=600.0)
    crossfade_seconds: float | None = Field(None, ge=0.0, le=60.0)
    stages: list[Stage] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _stages(self) -> Protocol:
        seen: set[str] = set()
        for s in self.stages:
            if s.name in seen:
                raise ValueError(f"two stages are called {s.name!r}")
            seen.add(s.name)
        first = self.stages[0]
        if (
            self.baseline_seconds is not None
            and first.seconds is not None
            and first.seconds < self.baseline_seconds
        ):
            raise ValueError(
                f"the first stage ({first.name!r}, {first.seconds:g} s) calibrates: it must "
                f"last at least baseline_seconds ({self.baseline_seconds:g} s)"
            )
        if (
            self.segment_seconds is not None
            and self.crossfade_seconds is not None
            and self.crossfade_seconds * 2 > self.segment_seconds
        ):
            raise ValueError("crossfade_seconds must be at most half of segment_seconds")
        return self

    def planned_seconds(self, segment_seconds: float) -> float:
        """The protocol's length with segments of ``segment_seconds`` (its own if set)."""
        seg = self.segment_seconds or segment_seconds
        return sum(s.seconds if s.seconds is not None else (s.segments or 0) * seg
                   for s in self.stages)  # fmt: skip


def _one_line(source: str, data: Any, exc: ValidationError) -> str:
    """The first error, naming the stage (by name where it has one) and the key."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "stages" and isinstance(loc[1], int):
        i = loc[1]
        stages = data.get("stages") if isinstance(data, dict) else None
        entry = stages[i] if isinstance(stages, list) and i < len(stages) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"stage {name!r}" if name else f"stage {i + 1}"
        loc = loc[2:]
    key = ".".join(str(p) for p in loc)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {key!r}"
        key = ""
    parts = [p for p in (where, key) if p]
    return f"protocol {source}: {' '.join(parts) + ': ' if parts else ''}{msg}"


def parse_protocol(data: Any, source: str = "<data>") -> Protocol:
    if not isinstance(data, dict):
        raise ProtocolError(f"protocol {source}: expected a mapping with name and stages")
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(_one_line(source, data, exc)) from None


def shipped_protocols_dir() -> Path:
    return Path(str(files("bassd.configs.protocols")))


def shipped_protocols() -> list[str]:
    return sorted(p.stem for p in shipped_protocols_dir().glob("*.yaml"))


def find_protocol(name_or_path: str | Path, folder: Path | None = None) -> Path:
    """A protocol file: a path to a YAML file, or a name in ``folder`` (the shipped
    protocols where None). ProtocolError naming what is available otherwise."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p
    name = str(name_or_path)
    base = folder or shipped_protocols_dir()
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ProtocolError(f"protocol {name!r}: not a file, and not a protocol name")
    for ext in (".yaml", ".yml"):
        candidate = base / f"{name}{ext}"
        if candidate.is_file():
            return candidate
    known = ", ".join(sorted(q.stem for q in base.glob("*.y*ml"))) or "none"
    raise ProtocolError(f"no protocol {name!r} in {base} (there: {known})")


def load_protocol(name_or_path: str | Path, folder: Path | None = None) -> Protocol:
    path = find_protocol(name_or_path, folder)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"protocol {path}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError: one line with its mark
        raise ProtocolError(f"protocol {path}: not YAML: {str(exc).splitlines()[0]}") from None
    return parse_protocol(data, str(path))
