"""The emotion prompt bank: shipped data, file errors, renderer mapping, selection."""

from __future__ import annotations

import csv
import itertools
import json
import random
import re
from pathlib import Path
from statistics import mean
from typing import Any

import pytest
from pydantic import ValidationError

from bassd.control.prompt_bank import (
    CORE_CATEGORIES,
    FIELDS,
    Prompt,
    PromptBank,
    PromptBankError,
    PromptsConfig,
    load_configured_bank,
    load_prompt_bank,
    load_shipped_prompt_bank,
    renderer_params,
)
from bassd.engine.config import KuramotoParams


def _row(id_: str, category: str = "calm", **over: Any) -> dict[str, Any]:
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


def _rows() -> list[dict[str, Any]]:
    """Eight valid prompts covering every core category."""
    cats = ["calm", "calm", "neutral", "neutral", "activating", "activating", "calm", "neutral"]
    return [_row(f"p{i}", c) for i, c in enumerate(cats)]


def _write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    header = header or list(FIELDS)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in rows:
            cells = {**r, "instruments": ";".join(r.get("instruments", []))}
            writer.writerow([cells.get(h, "") for h in header])
    return path


def _write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"version": 1, "prompts": rows}, indent=2), encoding="utf-8")
    return path


def _bank(prompts: list[dict[str, Any]], **kw: Any) -> PromptBank:
    return PromptBank([Prompt.model_validate(p) for p in prompts], **kw)


# ------------------------------------------------------------ shipped bank


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


def test_every_shipped_prompt_derives_valid_renderer_params() -> None:
    """Derived parameters are exactly KuramotoParams' keys and validate against it."""
    for prompt in load_prompt_bank():
        params = renderer_params(prompt)
        assert set(params) == set(KuramotoParams.model_fields)
        model = KuramotoParams(**params)
        assert (model.key, model.mode, model.tempo_bpm) == (
            prompt.key,
            prompt.mode,
            prompt.tempo_bpm,
        )


def test_calm_prompts_derive_slower_darker_and_more_locked_than_activating() -> None:
    """Calm prompts average slower tempo, lower brightness, coupling above lock."""
    bank = load_prompt_bank()

    def avg(category: str, name: str) -> float:
        return mean(renderer_params(p)[name] for p in bank.in_category(category))

    assert avg("calm", "tempo_bpm") < avg("neutral", "tempo_bpm") < avg("activating", "tempo_bpm")
    assert avg("calm", "brightness") < avg("activating", "brightness") - 0.2
    assert avg("calm", "coupling") > 1.0 > avg("activating", "coupling")


# --------------------------------------------------------- renderer mapping


def test_renderer_params_keep_base_where_prompt_is_silent() -> None:
    """Unknown instruments leave base density/width; non-renderer base keys are dropped."""
    prompt = Prompt.model_validate(_row("x", instruments=["kazoo"], mood="mysterious"))
    base = {"density": 77, "width": 0.33, "brightness": 0.9, "chord_beats": 4}
    params = renderer_params(prompt, base)
    assert params["density"] == 77 and params["width"] == 0.33
    assert "chord_beats" not in params
    assert params["brightness"] < 0.5  # category 'calm' stands in for the unknown mood


def test_renderer_params_follow_mood_and_instruments() -> None:
    """Sustained ensembles are denser/wider than solo voices; bright moods shimmer."""
    choir = renderer_params(Prompt.model_validate(_row("a", instruments=["choir", "strings"])))
    flute = renderer_params(Prompt.model_validate(_row("b", instruments=["flute"])))
    assert choir["density"] > 4 * flute["density"] and choir["width"] > flute["width"]
    bright = renderer_params(Prompt.model_validate(_row("c", mood="bright, energetic")))
    assert bright["coupling"] < 1.0 < choir["coupling"]
    assert bright["brightness"] > choir["brightness"]


def test_renderer_params_clamp_into_range() -> None:
    """Out-of-range base values and stacked brightness shifts end up within range."""
    prompt = Prompt.model_validate(
        _row("x", mood="bright", instruments=["bells", "glockenspiel", "brass", "synth"])
    )
    params = renderer_params(prompt, {"density": 100_000, "width": 3.0, "coupling": -1})
    KuramotoParams(**params)
    assert params["brightness"] <= 1.0


# ------------------------------------------------------------- file errors


def test_csv_bad_tempo_names_file_row_and_field(tmp_path: Path) -> None:
    """A non-numeric tempo in data row 6 is reported as row 7 (header is row 1)."""
    rows = _rows()
    rows[5]["tempo_bpm"] = "fast"
    path = _write_csv(tmp_path / "bank.csv", rows)
    with pytest.raises(PromptBankError) as exc:
        load_prompt_bank(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: row 7: field 'tempo_bpm': ")
    assert "valid number" in msg and "(got 'fast')" in msg
    assert "\n" not in msg


def test_csv_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    """Header problems list the unknown and the missing columns."""
    header = [f for f in FIELDS if f != "mood"] + ["colour"]
    path = _write_csv(tmp_path / "bank.csv", _rows(), header)
    with pytest.raises(PromptBankError, match=r"row 1 \(header\)") as exc:
        load_prompt_bank(path)
    assert "missing column(s) 'mood'" in str(exc.value)
    assert "unknown column(s) 'colour'" in str(exc.value)


def test_csv_row_with_unquoted_comma_is_reported(tmp_path: Path) -> None:
    """A row with more cells than the header names its row and both counts."""
    path = _write_csv(tmp_path / "bank.csv", _rows())
    path.write_text(path.read_text() + "p9,calm,ambient,calm,pad,60,D,dorian,soft, slow\n")
    with pytest.raises(PromptBankError, match=r"row 10: has 10 values but the header has 9"):
        load_prompt_bank(path)


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    """A repeated id is reported at its second row with the first one."""
    rows = _rows()
    rows[4]["id"] = "p1"
    with pytest.raises(
        PromptBankError, match=r"row 6: field 'id': duplicate id 'p1' \(first at row 3\)"
    ):
        load_prompt_bank(_write_csv(tmp_path / "bank.csv", rows))
    with pytest.raises(PromptBankError, match=r"prompts\[4\]: field 'id': duplicate id 'p1'"):
        load_prompt_bank(_write_json(tmp_path / "bank.json", rows))


def test_unknown_mode_lists_allowed_modes(tmp_path: Path) -> None:
    """An unknown mode names the prompt, the field, the value and the allowed modes."""
    rows = _rows()
    rows[2]["mode"] = "lydianish"
    with pytest.raises(PromptBankError) as exc:
        load_prompt_bank(_write_json(tmp_path / "bank.json", rows))
    msg = str(exc.value)
    assert "prompts[2] (id 'p2'): field 'mode': unknown mode (allowed: ionian, dorian" in msg
    assert "(got 'lydianish')" in msg


def test_json_missing_field_and_unknown_field(tmp_path: Path) -> None:
    """Missing and unknown fields of a JSON prompt are each one line."""
    rows = _rows()
    del rows[1]["text"]
    rows[3]["colour"] = "blue"
    with pytest.raises(PromptBankError) as exc:
        load_prompt_bank(_write_json(tmp_path / "bank.json", rows))
    lines = str(exc.value).splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("prompts[1] (id 'p1'): field 'text': Field required")
    assert "prompts[3] (id 'p3'): field 'colour': unknown field" in lines[1]


def test_malformed_json_reports_line(tmp_path: Path) -> None:
    """Broken JSON is reported with its line and column."""
    path = _write_json(tmp_path / "bank.json", _rows())
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


def test_category_without_prompts_is_reported(tmp_path: Path) -> None:
    """A bank lacking a core category names that category."""
    rows = [r for r in _rows() if r["category"] != "activating"]
    with pytest.raises(PromptBankError, match="no prompts in category 'activating'"):
        load_prompt_bank(_write_csv(tmp_path / "bank.csv", rows))


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    """Only .json and .csv are read; an absent file is a PromptBankError."""
    with pytest.raises(PromptBankError, match=r"use \.json or \.csv"):
        load_prompt_bank(tmp_path / "bank.yaml")
    with pytest.raises(PromptBankError, match="cannot read it"):
        load_prompt_bank(tmp_path / "absent.json")


def test_prompt_model_rejects_bad_id_and_long_text() -> None:
    """Ids are lowercase slugs and texts are at most 500 characters."""
    with pytest.raises(ValidationError, match="String should match pattern"):
        Prompt.model_validate(_row("Calm Pad"))
    with pytest.raises(ValidationError, match="at most 500"):
        Prompt.model_validate(_row("ok", text="x" * 501))


# --------------------------------------------------------------- selection


def test_no_repeat_never_repeats_immediately_and_is_deterministic() -> None:
    """Over 200 seeded draws no prompt follows itself, and equal seeds give equal runs."""
    runs = []
    for _ in range(2):
        bank = load_prompt_bank()
        rng = random.Random(7)
        runs.append([bank.select("calm", rng).id for _ in range(200)])
    assert runs[0] == runs[1]
    assert all(a != b for a, b in itertools.pairwise(runs[0]))
    assert len(set(runs[0])) == len(load_prompt_bank().in_category("calm"))


def test_no_repeat_avoid_last_spans_several_draws() -> None:
    """With avoid_last=3 a prompt does not come back within three draws."""
    bank = load_prompt_bank(avoid_last=3, seed=1)
    ids = [bank.select("activating").id for _ in range(200)]
    assert all(len(set(ids[i : i + 4])) == 4 for i in range(len(ids) - 3))


def test_cycle_visits_all_prompts_in_bank_order() -> None:
    """The cycle policy goes round the category in order, then starts again."""
    bank = load_prompt_bank(policy="cycle")
    pool = [p.id for p in bank.in_category("neutral")]
    assert [bank.next("neutral").id for _ in range(2 * len(pool))] == pool * 2


def test_single_prompt_category_repeats_without_error() -> None:
    """A category with one prompt yields it every time under every policy."""
    for policy in ("no_repeat", "cycle", "random"):
        bank = _bank([*_rows(), _row("lift", "uplifting")], policy=policy, avoid_last=4)
        assert {bank.select("uplifting").id for _ in range(5)} == {"lift"}


def test_random_policy_may_repeat() -> None:
    """The random policy draws independently, so repeats happen."""
    bank = load_prompt_bank(policy="random", seed=3)
    ids = [bank.select("calm").id for _ in range(200)]
    assert any(a == b for a, b in itertools.pairwise(ids))


def test_lookup_errors_are_helpful() -> None:
    """Unknown ids suggest close and example ids; unknown categories list the real ones."""
    bank = load_prompt_bank()
    assert bank.by_id("calm-felt-piano").category == "calm"
    with pytest.raises(KeyError, match=r"did you mean calm-felt-piano\?.*e\.g\. calm-"):
        bank.by_id("calm-felt-pianos")
    with pytest.raises(KeyError, match="categories: neutral, calm, activating"):
        bank.select("stress")


# ------------------------------------------------------------------ config


def test_prompts_config_defaults_and_state_validation() -> None:
    """States map to calm/activating by default; keys must be exactly the three states."""
    cfg = PromptsConfig()
    assert cfg.bank is None and cfg.policy == "no_repeat" and cfg.avoid_last == 1
    assert cfg.state_categories["stress"] == "calm"
    with pytest.raises(ValidationError, match="missing underaroused"):
        PromptsConfig(state_categories={"neutral": "neutral", "stress": "calm"})
    with pytest.raises(ValidationError, match="unknown category 'happy'"):
        PromptsConfig(
            state_categories={"neutral": "neutral", "stress": "happy", "underaroused": "activating"}
        )
    with pytest.raises(ValidationError, match="Extra inputs"):
        PromptsConfig.model_validate({"policy": "cycle", "shuffle": True})


def test_configured_bank_needs_prompts_for_mapped_categories(tmp_path: Path) -> None:
    """Mapping a state to a category the bank lacks fails at load time."""
    path = _write_json(tmp_path / "bank.json", _rows())
    states = {"neutral": "neutral", "stress": "calm", "underaroused": "uplifting"}
    cfg = PromptsConfig(bank=path, state_categories=states)
    with pytest.raises(PromptBankError, match="state 'underaroused' maps to category 'uplifting'"):
        load_configured_bank(cfg)
    assert load_configured_bank(PromptsConfig(policy="cycle")).policy == "cycle"
