"""Schedule, scoring and selection on tiny inputs with obvious answers."""

from __future__ import annotations

from typing import Any

import numpy as np

from qtc.compile.stages import Score
from qtc.manifest.scoring import ScoringSection, SelectionSection
from qtc.pipeline.schedule import signal_rows
from qtc.pipeline.scoring import score
from qtc.pipeline.selection import select

DAYS = np.array(
    ["2021-01-28", "2021-01-29", "2021-02-01", "2021-02-26", "2021-03-01", "2021-03-31"],
    dtype="datetime64[D]",
)


def test_monthly_signals_are_first_day_and_month_ends() -> None:
    rows = signal_rows(DAYS, 0, "monthly", "next_close")
    # first day, Jan 29 (month end), Feb 26; Mar 31 is dropped: its execution is after the data
    assert rows.tolist() == [0, 1, 3]
    assert signal_rows(DAYS, 0, "monthly", "close").tolist() == [0, 1, 3, 5]
    assert signal_rows(DAYS, 2, "quarterly", "next_close").tolist() == [2]
    assert signal_rows(DAYS, 0, "daily", "next_close").tolist() == [0, 1, 2, 3, 4]


def test_zscore_composite_and_missing_policy() -> None:
    f = {"a": np.array([[1.0, 2.0, 3.0, np.nan]]), "b": np.array([[3.0, 2.0, 1.0, 5.0]])}
    eligible = np.ones((1, 4), bool)
    spec = Score(scoring=ScoringSection(winsorize=None), factor_weights={"a": 1.0, "b": 0.5})
    s = score(spec, f, np.array([0]), eligible, ["x"] * 4)
    za = np.array([-1.0, 0.0, 1.0]) / np.std([1, 2, 3])
    zb = (np.array([3.0, 2, 1, 5]) - 2.75) / np.std([3, 2, 1, 5])
    np.testing.assert_allclose(s[0, :3], za + 0.5 * zb[:3])
    assert np.isnan(s[0, 3])  # missing "a" -> dropped
    zero = Score(
        scoring=ScoringSection(winsorize=None, missing="zero"), factor_weights={"a": 1.0, "b": 0.5}
    )
    assert score(zero, f, np.array([0]), eligible, ["x"] * 4)[0, 3] == 0.5 * zb[3]


def test_rank_and_sector_neutral() -> None:
    f = {"a": np.array([[10.0, 20.0, 30.0, 40.0]])}
    spec = Score(
        scoring=ScoringSection(method="rank", neutralize="sector"), factor_weights={"a": 1.0}
    )
    s = score(spec, f, np.array([0]), np.ones((1, 4), bool), ["x", "x", "y", "y"])
    # ranks -0.5, -1/6, 1/6, 0.5; sector means -1/3 and 1/3 removed
    np.testing.assert_allclose(s[0], [-1 / 6, 1 / 6, -1 / 6, 1 / 6])


def test_top_n_with_buffer_keeps_incumbents() -> None:
    scores = np.array([[5.0, 4, 3, 2, 1], [3.0, 5, 4, 2, 1], [1.0, 5, 4, 2, 3]])
    plain = select(SelectionSection(top_n=2), scores)
    assert plain.astype(int).tolist() == [[1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0]]
    buffered = select(SelectionSection(top_n=2, buffer=1), scores)
    # rebalance 2: name 0 ranks 3rd (within top_n + buffer) so it stays; name 1 ranks 1st
    assert buffered.astype(int).tolist() == [[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [0, 1, 1, 0, 0]]


def test_quantile_min_score_and_empty() -> None:
    scores = np.array([[1.0, 2, 3, 4, 5], [np.nan] * 5])
    q = select(SelectionSection(quantile=0.3), scores)
    assert q[0].astype(int).tolist() == [0, 0, 0, 1, 1]  # ceil(0.3 * 5) = 2
    assert not q[1].any()
    m = select(SelectionSection(min_score=3.5), scores)
    assert m[0].astype(int).tolist() == [0, 0, 0, 1, 1]


def test_ranking_all_rebalances_at_once_equals_the_row_by_row_selection() -> None:
    """Without a buffer, select() ranks every row at once; the per-row rule is the reference."""
    from qtc.pipeline import selection

    rng = np.random.default_rng(1)
    for trial in range(200):
        rows, cols = int(rng.integers(1, 30)), int(rng.integers(1, 40))
        ties = rng.choice([-1.0, 0.0, -0.0, 0.5, 1.0, 2.0], size=(rows, cols))
        scores = ties if trial % 2 else rng.normal(size=(rows, cols))
        scores[rng.random((rows, cols)) < 0.2] = np.nan
        rule: dict[str, Any] = [
            {"top_n": int(rng.integers(1, 10))},
            {"quantile": float(rng.uniform(0.05, 1.0))},
            {},
        ][trial % 3]
        if trial % 5 == 0:
            rule["min_score"] = 0.0
        spec = SelectionSection(**rule)
        expected = np.array([selection._one(spec, row, np.zeros(cols, bool)) for row in scores])
        np.testing.assert_array_equal(select(spec, scores), expected)


def test_first_rebalance_and_the_last_row_follow_the_calendar() -> None:
    """Month ends of complete months; the first day only with window_start; the last row only
    when its month is complete (or live)."""
    dates = np.array(
        ["2023-08-30", "2023-08-31", "2023-09-01", "2023-09-28", "2023-09-29", "2023-10-02",
         "2023-10-17", "2023-10-18"],
        dtype="datetime64[D]",
    )  # fmt: skip
    rows = signal_rows(dates, 0, "monthly", "close")
    assert rows.tolist() == [0, 1, 4]  # 2023-10-18 (a Wednesday) closes no month
    assert signal_rows(dates, 0, "monthly", "close", first="first_period_end").tolist() == [1, 4]
    assert signal_rows(dates, 2, "monthly", "close", first="first_period_end").tolist() == [4]
    assert signal_rows(dates, 0, "monthly", "close", keep_last=True).tolist() == [0, 1, 4, 7]
    # the lake's next trading day decides: 2023-10-18 closes October if the next day is November
    november = np.datetime64("2023-11-01")
    assert signal_rows(dates, 0, "monthly", "close", next_date=november).tolist() == [0, 1, 4, 7]
    assert signal_rows(dates, 0, "monthly", "next_close").tolist() == [0, 1, 4]
    # data ending on the month's last weekday closes the month without a next day
    ends_in_month = np.array(["2023-10-30", "2023-10-31"], dtype="datetime64[D]")
    assert signal_rows(ends_in_month, 0, "monthly", "close").tolist() == [0, 1]
    assert signal_rows(ends_in_month, 0, "daily", "close").tolist() == [0, 1]
