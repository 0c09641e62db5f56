"""The emotion prompt bank: structured text prompts chosen per heart-rate state.

The bank ships inside the package (``bassd/prompts/emotion_prompt_bank.json``,
with the same prompts in ``.csv``) and is found through ``importlib.resources``,
never through the working directory. Each prompt carries the text a neural
renderer (MusicGen) uses, plus structured fields (tempo, key, mode, mood words,
instruments) from which :func:`renderer_params` derives the Kuramoto bank's
parameters, so the bank audibly steers the embedded default renderer too.

Every problem in a bank file is reported as one line naming the file, the row
(CSV, header = row 1) or prompt index (JSON) and the field.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import random
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bassd.dsp.bank_params import KuramotoParams
from bassd.dsp.scales import KEYS, MODES

#: the categories the heart-rate states need; a bank must hold prompts for each
CORE_CATEGORIES = ("neutral", "calm", "activating")
#: optional extra categories a bank may use and a state may be mapped to
CATEGORIES = (*CORE_CATEGORIES, "uplifting", "grounding")
STATES = ("neutral", "stress", "underaroused")
DEFAULT_STATE_CATEGORIES = {"neutral": "neutral", "stress": "calm", "underaroused": "activating"}
FIELDS = ("id", "category", "genre", "mood", "instruments", "tempo_bpm", "key", "mode", "text")
SHIPPED = {"json": "emotion_prompt_bank.json", "csv": "emotion_prompt_bank.csv"}
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_REPORTED = 20  # problems listed in one PromptBankError

Policy = Literal["no_repeat", "cycle", "random"]
POLICIES: tuple[str, ...] = ("no_repeat", "cycle", "random")


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


# ---------------------------------------------------------------------- bank


class PromptBank:
    """The validated prompts, with per-category selection that avoids recent repeats.

    ``no_repeat`` draws at random but never one of the last ``avoid_last`` prompts of the
    category (fewer when the category is small, so a one-prompt category just repeats);
    ``cycle`` goes round the category in bank order; ``random`` draws uniformly.
    Draws use the ``rng`` passed to :meth:`select`, else the bank's own, seeded by ``seed``.
    """

    def __init__(
        self,
        prompts: Iterable[Prompt],
        *,
        policy: Policy = "no_repeat",
        avoid_last: int = 1,
        seed: int | None = 0,
        source: str = "prompt bank",
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r} (allowed: {', '.join(POLICIES)})")
        if avoid_last < 0:
            raise ValueError(f"avoid_last must be >= 0, got {avoid_last}")
        self.prompts: tuple[Prompt, ...] = tuple(prompts)
        self.source = source
        self.policy: Policy = policy
        self.avoid_last = avoid_last
        self._by_id: dict[str, Prompt] = {}
        for p in self.prompts:
            if p.id in self._by_id:
                raise PromptBankError(f"{source}: duplicate id {p.id!r}")
            self._by_id[p.id] = p
        self._pools = {
            c: tuple(p for p in self.prompts if p.category == c)
            for c in CATEGORIES
            if any(p.category == c for p in self.prompts)
        }
        empty = [c for c in CORE_CATEGORIES if c not in self._pools]
        if empty:
            raise PromptBankError(
                f"{source}: no prompts in category {', '.join(map(repr, empty))} "
                f"(each of {', '.join(CORE_CATEGORIES)} needs at least one)"
            )
        self._rng = random.Random(seed)
        self._recent: dict[str, deque[str]] = {}
        self._cursor: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.prompts)

    def __iter__(self) -> Iterator[Prompt]:
        return iter(self.prompts)

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories that hold at least one prompt, in :data:`CATEGORIES` order."""
        return tuple(self._pools)

    def in_category(self, category: str) -> tuple[Prompt, ...]:
        if category not in self._pools:
            raise KeyError(
                f"no prompts in category {category!r} in {self.source} "
                f"(categories: {', '.join(self._pools)})"
            )
        return self._pools[category]

    def by_id(self, prompt_id: str) -> Prompt:
        try:
            return self._by_id[prompt_id]
        except KeyError:
            close = difflib.get_close_matches(prompt_id, self._by_id, n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            some = ", ".join(list(self._by_id)[:5])
            raise KeyError(
                f"unknown prompt id {prompt_id!r}; {hint}e.g. {some} ({len(self)} in all)"
            ) from None

    def select(self, category: str, rng: random.Random | None = None) -> Prompt:
        """The next prompt of ``category`` under the bank's policy."""
        pool = self.in_category(category)
        r = rng if rng is not None else self._rng
        if self.policy == "cycle":
            i = self._cursor.get(category, 0)
            self._cursor[category] = (i + 1) % len(pool)
            choice = pool[i]
        elif self.policy == "random":
            choice = r.choice(pool)
        else:
            recent = self._recent.setdefault(category, deque(maxlen=max(self.avoid_last, 1)))
            k = min(self.avoid_last, len(pool) - 1)
            avoid = set(list(recent)[-k:]) if k > 0 else set()
            choice = r.choice([p for p in pool if p.id not in avoid])
            recent.append(choice.id)
        return choice

    next = select

    def reset(self) -> None:
        """Forget the selection history (recent prompts and cycle positions)."""
        self._recent.clear()
        self._cursor.clear()


# ------------------------------------------------------------------- loading


class _Raw(NamedTuple):
    where: str  # "row 7" or "prompts[3]"
    data: dict[str, Any]


def _format_errors(err: ValidationError, where: str, source: str) -> list[str]:
    lines = []
    for e in err.errors():
        loc = e["loc"]
        name = str(loc[0]) + "".join(f"[{p}]" for p in loc[1:]) if loc else "(prompt)"
        if e["type"] == "extra_forbidden":
            lines.append(
                f"{source}: {where}: field {name!r}: unknown field (allowed: {', '.join(FIELDS)})"
            )
            continue
        msg = e["msg"].removeprefix("Value error, ")
        got = "" if e["type"] == "missing" else f" (got {e.get('input')!r})"
        lines.append(f"{source}: {where}: field {name!r}: {msg}{got}")
    return lines


def _validate(raws: Iterable[_Raw], source: str) -> list[Prompt]:
    prompts: list[Prompt] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for raw in raws:
        rid = raw.data.get("id")
        where = raw.where + (f" (id {rid!r})" if raw.where.startswith("prompts[") and rid else "")
        try:
            prompt = Prompt.model_validate(raw.data)
        except ValidationError as err:
            problems += _format_errors(err, where, source)
            continue
        if prompt.id in first_seen:
            problems.append(
                f"{source}: {raw.where}: field 'id': duplicate id {prompt.id!r} "
                f"(first at {first_seen[prompt.id]})"
            )
            continue
        first_seen[prompt.id] = raw.where
        prompts.append(prompt)
    if problems:
        extra = len(problems) - MAX_REPORTED
        more = [f"{source}: ... and {extra} more problem(s)"] if extra > 0 else []
        raise PromptBankError("\n".join(problems[:MAX_REPORTED] + more))
    if not prompts:
        raise PromptBankError(f"{source}: holds no prompts")
    return prompts


def _json_raws(text: str, source: str) -> list[_Raw]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PromptBankError(
            f"{source}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    shape = 'expected {"version": 1, "prompts": [...]}'
    if not isinstance(doc, dict):
        raise PromptBankError(f"{source}: top level is a {type(doc).__name__}; {shape}")
    unknown = [k for k in doc if k not in ("version", "prompts")]
    if unknown:
        raise PromptBankError(f"{source}: unknown top-level key {unknown[0]!r}; {shape}")
    for key in ("version", "prompts"):
        if key not in doc:
            raise PromptBankError(f"{source}: missing top-level key {key!r}; {shape}")
    if doc["version"] != 1:
        raise PromptBankError(f"{source}: unsupported version {doc['version']!r} (supported: 1)")
    items = doc["prompts"]
    if not isinstance(items, list):
        raise PromptBankError(f"{source}: 'prompts' is a {type(items).__name__}; {shape}")
    raws = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PromptBankError(
                f"{source}: prompts[{i}]: must be an object, got {type(item).__name__}"
            )
        raws.append(_Raw(f"prompts[{i}]", item))
    return raws


def _csv_raws(text: str, source: str) -> list[_Raw]:
    rows = list(csv.reader(io.StringIO(text)))
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise PromptBankError(
            f"{source}: file is empty (expected a header row: {','.join(FIELDS)})"
        )
    header = [h.strip() for h in rows[0]]
    dupes = sorted({h for h in header if header.count(h) > 1})
    missing = [f for f in FIELDS if f not in header]
    unknown = [h for h in header if h not in FIELDS]
    problems = [f"duplicate column(s) {', '.join(map(repr, dupes))}"] if dupes else []
    problems += [f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []
    problems += [f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []
    if problems:
        raise PromptBankError(
            f"{source}: row 1 (header): {'; '.join(problems)} (expected: {', '.join(FIELDS)})"
        )
    raws = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            raise PromptBankError(
                f"{source}: row {number}: has {len(row)} values but the header has "
                f"{len(header)} columns (quote values that contain commas)"
            )
        data: dict[str, Any] = dict(zip(header, row, strict=True))
        data["instruments"] = [s for s in (x.strip() for x in data["instruments"].split(";")) if s]
        raws.append(_Raw(f"row {number}", data))
    return raws


def parse_prompt_bank(text: str, fmt: Literal["json", "csv"], source: str) -> list[Prompt]:
    """The validated prompts of a bank file's text (``source`` names it in errors)."""
    if not text.strip():
        raise PromptBankError(f"{source}: file is empty")
    raws = _json_raws(text, source) if fmt == "json" else _csv_raws(text, source)
    return _validate(raws, source)


def load_shipped_prompt_bank(
    fmt: Literal["json", "csv"] = "json",
    *,
    policy: Policy = "no_repeat",
    avoid_last: int = 1,
    seed: int | None = 0,
) -> PromptBank:
    """The bank shipped inside the package, from its JSON or its CSV copy."""
    name = SHIPPED[fmt]
    text = files("bassd.prompts").joinpath(name).read_text(encoding="utf-8-sig")
    prompts = parse_prompt_bank(text, fmt, name)
    return PromptBank(prompts, policy=policy, avoid_last=avoid_last, seed=seed, source=name)


def load_prompt_bank(
    path: Path | str | None = None,
    *,
    policy: Policy = "no_repeat",
    avoid_last: int = 1,
    seed: int | None = 0,
) -> PromptBank:
    """A bank from ``path`` (``.json`` or ``.csv``), or the shipped JSON when None."""
    if path is None:
        return load_shipped_prompt_bank(policy=policy, avoid_last=avoid_last, seed=seed)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise PromptBankError(f"{p}: unknown prompt bank format {p.suffix!r} (use .json or .csv)")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PromptBankError(f"{p}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PromptBankError(f"{p}: not UTF-8 text: {exc.reason}") from None
    fmt: Literal["json", "csv"] = "json" if suffix == ".json" else "csv"
    prompts = parse_prompt_bank(text, fmt, str(p))
    return PromptBank(prompts, policy=policy, avoid_last=avoid_last, seed=seed, source=str(p))


def load_configured_bank(config: PromptsConfig, seed: int | None = 0) -> PromptBank:
    """The configured bank, checked to hold prompts for every state's category."""
    bank = load_prompt_bank(
        config.bank, policy=config.policy, avoid_last=config.avoid_last, seed=seed
    )
    for state, category in config.state_categories.items():
        if category not in bank.categories:
            raise PromptBankError(
                f"{bank.source}: state {state!r} maps to category {category!r}, which has no "
                f"prompts (categories: {', '.join(bank.categories)})"
            )
    return bank


# ------------------------------------------------- prompt → Kuramoto renderer

#: mood word → (brightness 0..1, coupling K/K_c). Low brightness = darker tilt; coupling
#: above 1 locks the detuned voices into a steady chord, below 1 lets them drift and shimmer.
MOOD_WORDS: dict[str, tuple[float, float]] = {
    "serene": (0.25, 2.5),
    "grounded": (0.20, 2.5),
    "deep": (0.20, 2.5),
    "calm": (0.30, 2.0),
    "peaceful": (0.30, 2.2),
    "warm": (0.35, 1.8),
    "gentle": (0.35, 1.6),
    "soft": (0.35, 1.6),
    "dreamy": (0.40, 1.5),
    "reflective": (0.45, 1.3),
    "relaxed": (0.45, 1.4),
    "steady": (0.50, 1.3),
    "balanced": (0.50, 1.1),
    "focused": (0.50, 1.1),
    "curious": (0.55, 0.9),
    "hopeful": (0.70, 0.7),
    "playful": (0.75, 0.6),
    "lively": (0.75, 0.6),
    "uplifting": (0.80, 0.6),
    "energetic": (0.80, 0.4),
    "driving": (0.75, 0.3),
    "bright": (0.85, 0.5),
}
#: used only when none of the mood words is known
CATEGORY_MOOD: dict[str, tuple[float, float]] = {
    "calm": (0.30, 2.0),
    "grounding": (0.25, 2.2),
    "neutral": (0.50, 1.0),
    "uplifting": (0.75, 0.6),
    "activating": (0.80, 0.4),
}


class Voicing(NamedTuple):
    """What an instrument word asks of the bank: partials, stereo width, brightness shift."""

    density: int | None  # None: no say on density/width
    width: float | None
    brightness_shift: float


#: instrument word (singular; a trailing "s" is dropped when that matches) → voicing.
#: Sustained ensembles are dense and wide; plucked/struck/solo voices sparse; bass/drone darken.
INSTRUMENT_WORDS: dict[str, Voicing] = {
    "choir": Voicing(512, 0.95, 0.0),
    "string": Voicing(384, 0.90, 0.0),
    "pad": Voicing(320, 0.90, 0.0),
    "organ": Voicing(256, 0.60, 0.0),
    "brass": Voicing(256, 0.70, 0.05),
    "cello": Voicing(192, 0.70, -0.05),
    "synth": Voicing(160, 0.80, 0.05),
    "drone": Voicing(128, 0.50, -0.15),
    "guitar": Voicing(64, 0.60, 0.0),
    "harp": Voicing(64, 0.70, 0.0),
    "piano": Voicing(48, 0.50, 0.0),
    "marimba": Voicing(40, 0.60, 0.0),
    "vibraphone": Voicing(40, 0.60, 0.05),
    "bell": Voicing(32, 0.60, 0.10),
    "glockenspiel": Voicing(32, 0.60, 0.10),
    "flute": Voicing(24, 0.40, 0.0),
    "bass": Voicing(None, None, -0.10),
}

RENDERER_KEYS = tuple(KuramotoParams.model_fields)
MAX_INSTRUMENT_SHIFT = 0.15  # cap on the summed brightness shift of the instruments


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _instrument(word: str) -> Voicing | None:
    if word in INSTRUMENT_WORDS:
        return INSTRUMENT_WORDS[word]
    return INSTRUMENT_WORDS.get(word[:-1]) if word.endswith("s") else None


def _bounds(name: str) -> tuple[float, float]:
    """The (ge, le) bounds KuramotoParams declares for a numeric field."""
    lo, hi = -math.inf, math.inf
    for meta in KuramotoParams.model_fields[name].metadata:
        lo = float(getattr(meta, "ge", lo))
        hi = float(getattr(meta, "le", hi))
    return lo, hi


def _clamp(name: str, value: float) -> float:
    lo, hi = _bounds(name)
    return min(max(float(value), lo), hi)


def renderer_params(prompt: Prompt, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Kuramoto renderer parameters for ``prompt``, over ``base`` (the configured defaults).

    tempo, key and mode come from the prompt; mood words (see :data:`MOOD_WORDS`, else the
    category) set brightness and coupling; instrument words (:data:`INSTRUMENT_WORDS`) set
    density (geometric mean) and width (mean) and shift brightness (by at most ±0.15). What
    the prompt does not determine keeps its ``base`` value. Only KuramotoParams' keys, each
    clamped to its range.
    """
    out: dict[str, Any] = KuramotoParams().model_dump()
    out.update({k: v for k, v in (base or {}).items() if k in RENDERER_KEYS})
    out.update(tempo_bpm=prompt.tempo_bpm, key=prompt.key, mode=prompt.mode)

    moods = [MOOD_WORDS[w] for w in _words(prompt.mood) if w in MOOD_WORDS]
    if not moods and prompt.category in CATEGORY_MOOD:
        moods = [CATEGORY_MOOD[prompt.category]]
    if moods:
        out["brightness"] = sum(b for b, _ in moods) / len(moods)
        out["coupling"] = sum(c for _, c in moods) / len(moods)

    voicings = [v for item in prompt.instruments for w in _words(item) if (v := _instrument(w))]
    sized = [v for v in voicings if v.density is not None and v.width is not None]
    if sized:
        log_mean = sum(math.log(v.density or 1) for v in sized) / len(sized)
        out["density"] = round(math.exp(log_mean))
        out["width"] = sum(v.width or 0.0 for v in sized) / len(sized)
    shift = sum(v.brightness_shift for v in voicings)
    shift = min(max(shift, -MAX_INSTRUMENT_SHIFT), MAX_INSTRUMENT_SHIFT)
    out["brightness"] = float(out["brightness"]) + shift

    for name in ("tempo_bpm", "brightness", "coupling", "width"):
        out[name] = round(_clamp(name, out[name]), 3)
    out["density"] = int(_clamp("density", round(float(out["density"]))))
    return out
