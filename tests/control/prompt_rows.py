"""Prompt rows and bank files for the prompt bank tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from bassd.control.prompt_schema import FIELDS, Prompt
from bassd.control.prompt_selection import PromptBank


def make_row(id_: str, category: str = "calm", **over: Any) -> dict[str, Any]:
    """A valid prompt as a JSON object."""
    row: dict[str, Any] = {
        "id": id_,
        "category": category,
        "genre": "ambient",
        "mood": "calm",
        "instruments": ["pad"],
        "tempo_bpm": 60,
        "key": "D",
        "mode": "dorian",
        "text": f"prompt {id_}",
    }
    row.update(over)
    return row


def make_rows() -> list[dict[str, Any]]:
    """Eight valid prompts covering every core category."""
    cats = ["calm", "calm", "neutral", "neutral", "activating", "activating", "calm", "neutral"]
    return [make_row(f"p{i}", c) for i, c in enumerate(cats)]


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    header = header or list(FIELDS)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in rows:
            cells = {**r, "instruments": ";".join(r.get("instruments", []))}
            writer.writerow([cells.get(h, "") for h in header])
    return path


def write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"version": 1, "prompts": rows}, indent=2), encoding="utf-8")
    return path


def make_bank(prompts: list[dict[str, Any]], **kw: Any) -> PromptBank:
    return PromptBank([Prompt.model_validate(p) for p in prompts], **kw)
