"""Prompt selection per category: policies, repeats, lookups."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from bassd.control.prompt_loading import (
    load_prompt_bank,
)
from bassd.control.prompt_schema import (
    PromptBankError,
)
from tests.control.prompt_rows import make_bank, make_row, make_rows, write_csv


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
        bank = make_bank([*make_rows(), make_row("lift", "uplifting")], policy=policy, avoid_last=4)
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


def test_category_without_prompts_is_reported(tmp_path: Path) -> None:
    """A bank lacking a core category names that category."""
    rows = [r for r in make_rows() if r["category"] != "activating"]
    with pytest.raises(PromptBankError, match="no prompts in category 'activating'"):
        load_prompt_bank(write_csv(tmp_path / "bank.csv", rows))
