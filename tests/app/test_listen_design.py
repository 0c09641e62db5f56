"""The listening test's SPEC model (app/listen_design.py) and trial orders (app/listen_order.py)."""

from __future__ import annotations

import itertools
from collections import Counter
from importlib.resources import files
from pathlib import Path

import pytest

from bassd.app.config import load_config
from bassd.app.listen_design import DesignError, load_design, parse_design
from bassd.app.listen_order import ab_swapped, mushra_order, trial_order, williams_rows

BASE = {
    "conditions": {"dark": ["fx.lpf_hz=2500"], "bright": ["fx.lpf_hz=12000"]},
    "items": [{"category": "calm", "seed": 1}],
}


def shipped_specs() -> list[Path]:
    folder = files("bassd.configs").joinpath("listening")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


def test_shipped_specs_validate() -> None:
    """Every SPEC shipped in configs/listening/ validates, and asks for at least one trial."""
    specs = shipped_specs()
    assert {p.name for p in specs} >= {"dsp_brightness.yaml", "musicgen_calm_adapter.yaml"}
    for p in specs:
        d = load_design(p)
        assert d.pairs() or d.trials.mushra is not None, p


def test_shipped_dsp_spec_conditions_are_valid_configs() -> None:
    """Each condition × item of the shipped DSP SPEC is a config bassd loads (the overrides
    name real keys with allowed values)."""
    d = load_design(next(p for p in shipped_specs() if p.name == "dsp_brightness.yaml"))
    for cond, sets in d.conditions.items():
        for item in d.items:
            cfg = load_config(None, [*d.set, *sets, *item.overrides()])
            assert cfg.timeline.seed == item.seed
            assert cfg.prompts.state_categories["neutral"] == item.category
            if cond == "dark":
                assert cfg.fx.lpf_hz == 1200


def test_unknown_key_is_named(tmp_path: Path) -> None:
    """An unknown key anywhere is an error naming the file and the key's full path."""
    p = tmp_path / "s.yaml"
    p.write_text("conditions: {a: [], b: []}\nitems:\n  - {seed: 1, colour: red}\n")
    with pytest.raises(DesignError) as e:
        load_design(p)
    assert str(e.value) == f"{p}: items.0.colour: unknown key"


def test_errors_are_one_line_and_name_the_key() -> None:
    """Bad values are one line each, naming the key: an override without '=', an unknown
    MUSHRA reference, an unknown A/B pair condition, a repeated item, an unknown category."""
    cases = [
        ({"conditions": {"a": ["fx.lpf_hz"], "b": []}}, "conditions: Value", "'fx.lpf_hz'"),
        ({"trials": {"mushra": {"reference": "nope"}}}, "trials.mushra.reference", "'nope'"),
        ({"trials": {"ab_pairs": [["dark", "zzz"]]}}, "trials.ab_pairs", "'zzz'"),
        ({"items": [{"seed": 1}, {"seed": 1}]}, "repeated item", "neutral-s1"),
        ({"items": [{"category": "sleepy"}]}, "items.0.category", "'sleepy'"),
        ({"scales": ["loudness"]}, "scales.0", "loudness"),
        ({"trials": {"ab": False}}, "asks for no trials", ""),
    ]
    for change, where, what in cases:
        with pytest.raises(DesignError) as e:
            parse_design({**BASE, **change}, "s.yaml")
        msg = str(e.value)
        assert "\n" not in msg and msg.startswith("s.yaml: "), msg
        assert where.split(":")[0] in msg and what in msg, msg


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    """A SPEC that is not YAML is refused naming the file and the line."""
    p = tmp_path / "s.yaml"
    p.write_text("conditions:\n  a: [\n")
    with pytest.raises(DesignError, match=r"s\.yaml: line \d+ is not valid YAML"):
        load_design(p)


def test_pairs_default_to_every_pair_and_follow_ab_pairs() -> None:
    """Without ab_pairs every condition pair gets A/B trials; with them, only those."""
    three = {**BASE, "conditions": {"a": [], "b": [], "c": []}}
    assert parse_design(three).pairs() == [("a", "b"), ("a", "c"), ("b", "c")]
    chosen = parse_design({**three, "trials": {"ab_pairs": [["c", "a"]]}})
    assert chosen.pairs() == [("c", "a")]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_williams_square_is_balanced(n: int) -> None:
    """Each trial takes each position equally often, and each ordered pair of trials is
    adjacent equally often (carry-over balance), over the square's rows."""
    rows = williams_rows(n)
    assert len(rows) == (2 * n if n % 2 else n)
    for pos in range(n):
        assert Counter(r[pos] for r in rows) == {t: len(rows) // n for t in range(n)}
    if n > 1:
        follows = Counter((r[i], r[i + 1]) for r in rows for i in range(n - 1))
        assert set(follows) == set(itertools.permutations(range(n), 2))
        assert len(set(follows.values())) == 1


def test_orders_are_reproducible_and_counterbalanced() -> None:
    """A listener's order depends only on the seed and the listener's number; every trial
    is first for some listener; A/B sides swap for half the listeners at each position."""
    n = 6
    orders = [trial_order(n, 7, k) for k in range(n)]
    assert orders == [trial_order(n, 7, k) for k in range(n)]
    assert trial_order(n, 8, 0) != orders[0] or trial_order(n, 8, 1) != orders[1]
    assert {o[0] for o in orders} == set(range(n))
    assert all(sorted(o) == list(range(n)) for o in orders)
    for pos in range(n):
        assert sum(ab_swapped(k, pos) for k in range(4)) == 2
    assert mushra_order(4, 7, 0, 2) == mushra_order(4, 7, 0, 2)
    assert sorted(mushra_order(4, 7, 1, 2)) == [0, 1, 2, 3]
