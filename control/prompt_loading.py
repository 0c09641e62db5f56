"""Reading prompt bank files (JSON or CSV), shipped or the user's, into a PromptBank.

The bank ships inside the package (``bassd/prompts/emotion_prompt_bank.json``, with the
same prompts in ``.csv``) and is found through ``importlib.resources``, never through the
working directory. Every problem in a bank file is reported as one line naming the file,
the row (CSV, header = row 1) or prompt index (JSON) and the field.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from bassd.control.prompt_schema import (
    FIELDS,
    Policy,
    Prompt,
    PromptBankError,
    PromptsConfig,
)
from bassd.control.prompt_selection import PromptBank

SHIPPED = {"json": "emotion_prompt_bank.json", "csv": "emotion_prompt_bank.csv"}
MAX_REPORTED = 20  # problems listed in one PromptBankError


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


def shipped_prompts_dir() -> Path:
    """The folder of the prompt banks shipped in the package."""
    return Path(str(files("bassd.prompts")))


def load_shipped_prompt_bank(
    fmt: Literal["json", "csv"] = "json",
    *,
    policy: Policy = "no_repeat",
    avoid_last: int = 1,
    seed: int | None = 0,
) -> PromptBank:
    """The bank shipped inside the package, from its JSON or its CSV copy."""
    name = SHIPPED[fmt]
    text = (shipped_prompts_dir() / name).read_text(encoding="utf-8-sig")
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
