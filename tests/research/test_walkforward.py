"""Folds, the walk-forward's pick on training days, the stitched out-of-sample series, gates."""

from __future__ import annotations

import numpy as np
import pytest

from qtc.manifest.gates import GatesSection
from qtc.research import gates
from qtc.research.folds import Fold, split
from qtc.research.walkforward import Candidate, walk_forward
from qtc.search.objective import STRATEGY_METRICS, parse_objective


def test_expanding_folds_are_sklearn_time_series_splits() -> None:
    # 12 days, 3 folds: test folds of 12 // 4 = 3 days at the end, training on all before
    assert split(12, 3, "expanding") == [
        Fold(1, (0, 3), (3, 6)),
        Fold(2, (0, 6), (6, 9)),
        Fold(3, (0, 9), (9, 12)),
    ]


def test_rolling_folds_keep_the_first_training_length() -> None:
    assert [f.train for f in split(12, 3, "rolling")] == [(0, 3), (3, 6), (6, 9)]


def test_too_few_days_for_the_folds() -> None:
    with pytest.raises(ValueError, match="cannot make"):
        split(5, 3, "expanding")  # 5 // 4 = 1 day per test fold


# A earns 1 % a day on days 0-5 and loses 1 % on days 6-11; B earns nothing on days 0-2,
# then 0.5 % a day.
A = np.array([0.01] * 6 + [-0.01] * 6)
B = np.array([0.0] * 3 + [0.005] * 9)
CANDIDATES = [Candidate(1, {"k": "A"}, A), Candidate(2, {"k": "B"}, B)]
TOTAL = parse_objective("total_return", STRATEGY_METRICS)


def test_each_fold_picks_on_its_training_days_only() -> None:
    done = walk_forward(
        CANDIDATES,
        split(12, 3, "expanding"),
        np.zeros(12),
        TOTAL,
        scheme="expanding",
        reselect=True,
    )
    # fold 1 trains on days 0-2: A 1.01^3 - 1 > B 0          -> A
    # fold 2 trains on days 0-5: A 1.01^6 - 1 = 6.2 % > B 1.5 % -> A
    # fold 3 trains on days 0-8: A 1.01^6 * 0.99^3 - 1 = 2.9992 % < B 1.005^6 - 1 = 3.0378 % -> B
    assert [f.chosen for f in done.folds] == [1, 1, 2]
    assert [f.params for f in done.folds] == [{"k": "A"}, {"k": "A"}, {"k": "B"}]
    stitched = np.concatenate([A[3:6], A[6:9], B[9:12]])
    assert np.array_equal(done.oos_returns, stitched)
    assert done.oos_days == (3, 12)
    assert done.oos["total_return"] == pytest.approx(np.prod(1 + stitched) - 1, abs=1e-15)
    fold_is = [f.in_sample["total_return"] for f in done.folds]
    assert fold_is == pytest.approx([1.01**3 - 1, 1.01**6 - 1, 1.005**6 - 1], abs=1e-15)
    assert done.in_sample["total_return"] == pytest.approx(np.mean(fold_is), abs=1e-15)


def test_rolling_training_windows_forget_the_past() -> None:
    done = walk_forward(
        CANDIDATES, split(12, 3, "rolling"), np.zeros(12), TOTAL, scheme="rolling", reselect=True
    )
    # fold 3 trains on days 6-8 only: A -2.97 %, B +1.5 % -> B
    assert [f.chosen for f in done.folds] == [1, 1, 2]
    assert done.folds[2].in_sample["total_return"] == pytest.approx(1.005**3 - 1)


def test_efficiency_is_oos_over_in_sample_sharpe() -> None:
    rng = np.random.default_rng(3)
    returns = rng.normal(0.001, 0.01, size=300)
    sharpe = parse_objective("sharpe", STRATEGY_METRICS)
    done = walk_forward(
        [Candidate(0, {}, returns)],
        split(300, 4, "expanding"),
        np.zeros(300),
        sharpe,
        scheme="expanding",
        reselect=False,
    )
    tail = returns[60:]  # 4 test folds of 300 // 5 = 60 days after the first 60
    expected = tail.mean() / tail.std(ddof=1) * np.sqrt(252)
    assert done.oos["sharpe"] == pytest.approx(expected, rel=1e-12)
    assert done.efficiency == pytest.approx(done.oos["sharpe"] / done.in_sample["sharpe"])


def test_gates_pass_fail_and_not_evaluable() -> None:
    section = GatesSection(min_rank_ic=0.02, max_turnover=0.5, max_pbo=0.4, min_icir=0.1)
    figures = {name: gates.Figure(None, name, "no ledger") for name, _ in gates.GATES}
    figures["min_rank_ic"] = gates.Figure(0.03, "rank IC")
    figures["max_turnover"] = gates.Figure(0.6, "turnover")
    figures["min_icir"] = gates.Figure(0.1, "ICIR")  # on the threshold: passes
    table = gates.evaluate(section, figures)
    assert [(g.gate, g.status) for g in table] == [
        ("min_rank_ic", "PASS"),
        ("min_icir", "PASS"),
        ("max_turnover", "FAIL"),
        ("max_pbo", "NOT EVALUABLE"),
    ]
    assert table[3].reason == "no ledger"
    assert not gates.verdict(table, strict=False)
    passing = [g for g in table if g.status != "FAIL"]
    assert gates.verdict(passing, strict=False) and not gates.verdict(passing, strict=True)
