"""The pieces of `qtc diff` on inputs small enough to check by hand."""

from __future__ import annotations

import pytest

from qtc.review import markdown
from qtc.review.model import RunRef
from qtc.review.plan_diff import compare_plans, flatten
from qtc.review.results import by_year, data_warning, overlap, overlap_by_rebalance, weight_changes
from qtc.review.values import compare_values


def test_overlap_of_two_books() -> None:
    # A holds X, Y at 50 % each; B holds X at 50 %, Z at 50 %: one name of three in both,
    # and the shared weight is min(0.5, 0.5) on X alone.
    row = overlap("2020-01-31", {"X": 0.5, "Y": 0.5}, {"X": 0.5, "Z": 0.5})
    assert (row.names_a, row.names_b, row.common) == (2, 2, 1)
    assert row.jaccard == pytest.approx(1 / 3)
    assert row.shared_weight == pytest.approx(0.5)
    same = overlap("2020-01-31", {"X": 0.3, "Y": 0.7}, {"X": 0.3, "Y": 0.7})
    assert (same.jaccard, same.shared_weight) == (1.0, pytest.approx(1.0))
    # Same names, other weights: Jaccard 1, shared weight min(.2,.6) + min(.8,.4) = 0.6.
    tilted = overlap("2020-01-31", {"X": 0.2, "Y": 0.8}, {"X": 0.6, "Y": 0.4})
    assert (tilted.jaccard, tilted.shared_weight) == (1.0, pytest.approx(0.6))


def test_rebalances_on_one_side_only_are_listed_apart() -> None:
    a = {"2020-01-31": {"X": 1.0}, "2020-02-28": {"X": 1.0}}
    b = {"2020-02-28": {"Y": 1.0}, "2020-03-31": {"Y": 1.0}}
    rows, only_a, only_b = overlap_by_rebalance(a, b)
    assert [(r.date, r.jaccard, r.shared_weight) for r in rows] == [("2020-02-28", 0.0, 0.0)]
    assert (only_a, only_b) == (["2020-01-31"], ["2020-03-31"])


def test_weight_changes_largest_first() -> None:
    rows = weight_changes({"A": 0.5, "B": 0.3, "C": 0.2}, {"A": 0.5, "B": 0.1, "D": 0.4})
    # A unchanged; D +0.4, C -0.2, B -0.2 (ties in symbol order).
    assert [(w.symbol, round(w.delta, 12)) for w in rows] == [("D", 0.4), ("B", -0.2), ("C", -0.2)]


def test_years_return_and_worst_drawdown() -> None:
    dates = ["2019-12-30", "2019-12-31", "2020-06-30", "2020-12-31", "2021-03-31", "2021-12-31"]
    equity = [100.0, 110.0, 88.0, 121.0, 96.8, 133.1]
    years = by_year(dates, equity)
    # 2019: 110/100 - 1, no drawdown; 2020: 121/110 - 1, low 88 against the peak 110;
    # 2021: 133.1/121 - 1, low 96.8 against the peak 121.
    assert years[2019] == pytest.approx((0.10, 0.0))
    assert years[2020] == pytest.approx((0.10, 0.20))
    assert years[2021] == pytest.approx((0.10, 0.20))


def test_plan_parameters_are_keyed_by_stage_and_factor_name() -> None:
    a = {"fingerprint": "sha256:a", "stages": [
        {"stage": "compute_factors", "factors": [{"name": "mom", "lookback": 252}]},
        {"stage": "select", "selection": {"top_n": 50, "buffer": 10}},
    ]}  # fmt: skip
    b = {"fingerprint": "sha256:b", "stages": [
        {"stage": "compute_factors", "factors": [{"name": "mom", "lookback": 126}]},
        {"stage": "select", "selection": {"top_n": 50, "buffer": 10}},
        {"stage": "new_stage", "x": 1},
    ]}  # fmt: skip
    assert flatten(a["stages"][0]) == {"stage": "compute_factors", "factors.mom.name": "mom",
                                       "factors.mom.lookback": 252}  # fmt: skip
    diff = compare_plans(a, b)
    assert not diff.same
    assert [(c.stage, c.key, c.old, c.new) for c in diff.changes] == [
        ("compute_factors", "factors.mom.lookback", "252", "126"),
        ("new_stage", "", None, "present"),
    ]


def test_values_old_new_and_absent_keys() -> None:
    a = {"selection.top_n": ("50", "a.toml:3"), "factors.vol.window": ("63", "a.toml:9")}
    b = {"selection.top_n": ("30", "--set selection.top_n=30"), "name": ('"x"', "b.toml:1")}
    rows = [(v.key, v.old, v.new, v.old_from, v.new_from) for v in compare_values(a, b)]
    assert rows == [
        ("selection.top_n", "50", "30", "a.toml:3", "--set selection.top_n=30"),
        ("name", None, '"x"', "(absent)", "b.toml:1"),
        ("factors.vol.window", "63", None, "a.toml:9", "(absent)"),
    ]


def test_different_data_names_both_hashes() -> None:
    a = RunRef("a", "a", "2020-01-01", "2020-12-31", 12, {"prices": "1" * 64, "rates": "r" * 64})
    b = RunRef("b", "b", "2020-01-01", "2020-12-31", 12, {"prices": "2" * 64, "rates": "r" * 64})
    text = data_warning(a, b)
    assert text is not None and f"prices {'1' * 12} vs {'2' * 12}" in text
    assert "rates" not in text
    assert data_warning(a, a) is None


def test_markdown_cells_survive_pipes_and_backticks() -> None:
    assert markdown.cell("a|b") == "a\\|b"
    assert markdown.code("x`y") == "`` x`y ``"
    assert markdown.code("plain") == "`plain`"
