"""Loading prompt bank files: the shipped bank and one-line file errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bassd.control.prompt_loading import (
    load_configured_bank,
    load_prompt_bank,
    load_shipped_prompt_bank,
)
from bassd.control.prompt_schema import (
    CORE_CATEGORIES,
    FIELDS,
    PromptBankError,
    PromptsConfig,
)
from tests.control.prompt_rows import make_rows, write_csv, write_json


def test_shipped_bank_loads_from_another_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default bank is found through the package, not the current directory."""
    monkeypatch.chdir(tmp_path)
    bank = load_prompt_bank()
    assert bank.source == "emotion_prompt_bank.json"
    assert 18 <= len(bank) <= 24


def test_shipped_json_and_csv_hold_identical_prompts() -> None:
    """The CSV copy of the shipped bank holds exactly the JSON's prompts, in order."""
    assert load_shipped_prompt_bank("json").prompts == load_shipped_prompt_bank("csv").prompts


def test_shipped_bank_covers_core_categories_with_musical_tempi() -> None:
    """Each core category has at least five prompts, tempi in its band, unique texts."""
    bank = load_prompt_bank()
    bands = {"calm": (50, 70), "neutral": (70, 90), "activating": (90, 128)}
    for category in CORE_CATEGORIES:
        pool = bank.in_category(category)
        assert len(pool) >= 5, category
        lo, hi = bands[category]
        assert all(lo <= p.tempo_bpm <= hi for p in pool), category
    assert len({p.text for p in bank}) == len(bank)


def test_csv_bad_tempo_names_file_row_and_field(tmp_path: Path) -> None:
    """A non-numeric tempo in data row 6 is reported as row 7 (header is row 1)."""
    rows = make_rows()
    rows[5]["tempo_bpm"] = "fast"
    path = write_csv(tmp_path / "bank.csv", rows)
    with pytest.raises(PromptBankError) as exc:
        load_prompt_bank(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: row 7: field 'tempo_bpm': ")
    assert "valid number" in msg and "(got 'fast')" in msg
    assert "\n" not in msg


def test_csv_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    """Header problems list the unknown and the missing columns."""
    header = [f for f in FIELDS if f != "mood"] + ["colour"]
    path = write_csv(tmp_path / "bank.csv", make_rows(), header)
    with pytest.raises(PromptBankError, match=r"row 1 \(header\)") as exc:
        load_prompt_bank(path)
    assert "missing column(s) 'mood'" in str(exc.value)
    assert "unknown column(s) 'colour'" in str(exc.value)


def test_csv_row_with_unquoted_comma_is_reported(tmp_path: Path) -> None:
    """A row with more cells than the header names its row and both counts."""
    path = write_csv(tmp_path / "bank.csv", make_rows())
    path.write_text(path.read_text() + "p9,calm,ambient,calm,pad,60,D,dorian,soft, slow\n")
    with pytest.raises(PromptBankError, match=r"row 10: has 10 values but the header has 9"):
        load_prompt_bank(path)


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    """A repeated id is reported at its second row with the first one."""
    rows = make_rows()
    rows[4]["id"] = "p1"
    with pytest.raises(
        PromptBankError, match=r"row 6: field 'id': duplicate id 'p1' \(first at row 3\)"
    ):
        load_prompt_bank(write_csv(tmp_path / "bank.csv", rows))
    with pytest.raises(PromptBankError, match=r"prompts\[4\]: field 'id': duplicate id 'p1'"):
        load_prompt_bank(write_json(tmp_path / "bank.json", rows))


def test_unknown_mode_lists_allowed_modes(tmp_path: Path) -> None:
    """An unknown mode names the prompt, the field, the value and the allowed modes."""
    rows = make_rows()
    rows[2]["mode"] = "lydianish"
    with pytest.raises(PromptBankError) as exc:
        load_prompt_bank(write_json(tmp_path / "bank.json", rows))
    msg = str(exc.value)
    assert "prompts[2] (id 'p2'): field 'mode': unknown mode (allowed: ionian, dorian" in msg
    assert "(got 'lydianish')" in msg


def test_json_missing_field_and_unknown_field(tmp_path: Path) -> None:
    """Missing and unknown fields of a JSON prompt are each one line."""
    rows = make_rows()
    del rows[1]["text"]
    rows[3]["colour"] = "blue"
    with pytest.raises(PromptBankError) as exc:
        load_prompt_bank(write_json(tmp_path / "bank.json", rows))
    lines = str(exc.value).splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("prompts[1] (id 'p1'): field 'text': Field required")
    assert "prompts[3] (id 'p3'): field 'colour': unknown field" in lines[1]


def test_malformed_json_reports_line(tmp_path: Path) -> None:
    """Broken JSON is reported with its line and column."""
    path = write_json(tmp_path / "bank.json", make_rows())
    lines = path.read_text().splitlines()
    assert lines[4].strip() == '"id": "p0",'
    lines[4] = lines[4].rstrip(",")  # drop the comma after the first prompt's id
    path.write_text("\n".join(lines))
    with pytest.raises(
        PromptBankError, match=rf"^{re.escape(str(path))}: line 6 column \d+: not valid JSON"
    ):
        load_prompt_bank(path)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_empty_file_is_reported(tmp_path: Path, suffix: str) -> None:
    """An empty (or blank) bank file says so."""
    path = tmp_path / f"bank{suffix}"
    path.write_text("\n  \n")
    with pytest.raises(PromptBankError, match="file is empty"):
        load_prompt_bank(path)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    """Only .json and .csv are read; an absent file is a PromptBankError."""
    with pytest.raises(PromptBankError, match=r"use \.json or \.csv"):
        load_prompt_bank(tmp_path / "bank.yaml")
    with pytest.raises(PromptBankError, match="cannot read it"):
        load_prompt_bank(tmp_path / "absent.json")


def test_configured_bank_needs_prompts_for_mapped_categories(tmp_path: Path) -> None:
    """Mapping a state to a category the bank lacks fails at load time."""
    path = write_json(tmp_path / "bank.json", make_rows())
    states = {"neutral": "neutral", "stress": "calm", "underaroused": "uplifting"}
    cfg = PromptsConfig(bank=path, state_categories=states)
    with pytest.raises(PromptBankError, match="state 'underaroused' maps to category 'uplifting'"):
        load_configured_bank(cfg)
    assert load_configured_bank(PromptsConfig(policy="cycle")).policy == "cycle"
