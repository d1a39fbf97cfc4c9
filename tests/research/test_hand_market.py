"""Every statistic of `qtc validate` on a tiny market whose answers are worked out by hand.

Five symbols A..E, four trading days (rows 0..3), two signal dates (rows 0 and 1):

    row 0 and 1: every close is 100
    row 2: 101, 102, 103, 104, 110          (row 1 -> 2: +1 %, +2 %, +3 %, +4 %, +10 %)
    row 3: row 2 x (1.05, 1.04, 1.03, 1.02, 1.01)

Signal on row 0: factor (1, 2, 3, 4, 5); on row 1: (5, 4, 3, 2, 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qtc.research.factor_stats import study_signal
from qtc.research.forward import forward_returns, holding_returns
from qtc.research.ic import summarize
from qtc.research.ranks import SortedRows

ROW2 = np.array([101.0, 102.0, 103.0, 104.0, 110.0])
MARKS = np.vstack(
    [np.full(5, 100.0), np.full(5, 100.0), ROW2, ROW2 * [1.05, 1.04, 1.03, 1.02, 1.01]]
)
FACTOR = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
ROWS = np.array([0, 1])


def _study(lag: int, n_quantiles: int = 2):  # type: ignore[no-untyped-def]
    fwd = forward_returns(MARKS, ROWS, lag, 1)
    sorted_fwd = {1: SortedRows(fwd, np.isfinite(fwd))}
    holding = holding_returns(MARKS, ROWS, lag)
    eligible = np.ones(FACTOR.shape, bool)
    study, _ = study_signal("factor", "f", 1.0, FACTOR, eligible, sorted_fwd, holding, n_quantiles)
    return study, fwd


def test_next_close_forward_returns_start_after_the_signal() -> None:
    _, fwd = _study(lag=1)
    # signal row 0 trades at row 1 (100) and is marked at row 2: the row 1 -> 2 move
    assert fwd[0] == pytest.approx([0.01, 0.02, 0.03, 0.04, 0.10], abs=1e-15)
    # signal row 1 trades at row 2 and is marked at row 3
    assert fwd[1] == pytest.approx([0.05, 0.04, 0.03, 0.02, 0.01], abs=1e-15)


def test_same_close_execution_sees_the_signal_days_move() -> None:
    study, fwd = _study(lag=0)
    assert (fwd[0] == 0.0).all()  # row 0 -> 1: nothing moves, so no IC on the first date
    assert math.isnan(study.at(1).rank_ic[0])


def test_ic_rank_ic_and_summary() -> None:
    h = _study(lag=1)[0].at(1)
    # date 0: x = 1..5 (deviations -2..2), y = 1,2,3,4,10 % (deviations -3,-2,-1,0,6 %):
    # sxy = (-2)(-3) + (-1)(-2) + 0 + 0 + (2)(6) = 20 (x 1e-2), sxx = 4+1+0+1+4 = 10,
    # syy = 9+4+1+0+36 = 50 (x 1e-4): r = 0.2 / sqrt(10 * 0.005) = 2 / sqrt(5)
    assert h.ic[0] == pytest.approx(2 / math.sqrt(5), abs=1e-12)
    # date 1: x = 5..1, y = 5..1 %: a perfect line
    assert h.ic[1] == pytest.approx(1.0, abs=1e-12)
    assert h.rank_ic.tolist() == [1.0, 1.0]  # the orders agree on both dates
    assert h.rank_ic_summary.mean == 1.0 and h.rank_ic_summary.hit_rate == 1.0
    assert h.rank_ic_summary.icir is None  # std 0: undefined


def test_quantile_means_and_spread() -> None:
    h = _study(lag=1)[0].at(1)
    # 2 buckets of 5 names (pandas.qcut: the median 3 closes the lower bucket): {1,2,3}, {4,5}
    # date 0: low (1+2+3)/3 % = 2 %, high (4+10)/2 % = 7 %; date 1 (x = 5..1): low = the
    # names with x 1,2,3 = E, D, C: (1+2+3)/3 % = 2 %, high = B, A: (4+5)/2 % = 4.5 %
    assert h.quantile_means[0] == pytest.approx([0.02, 0.07], abs=1e-15)
    assert h.quantile_means[1] == pytest.approx([0.02, 0.045], abs=1e-15)
    assert h.spread == pytest.approx([0.05, 0.025], abs=1e-15)
    assert h.mean_by_quantile() == pytest.approx([0.02, 0.0575], abs=1e-15)
    assert h.mean_spread() == pytest.approx(0.0375, abs=1e-15)


def test_stability_coverage_and_cumulative() -> None:
    study, _ = _study(lag=1)
    assert math.isnan(study.autocorrelation[0])
    assert study.autocorrelation[1] == pytest.approx(-1.0)  # ranks reversed
    # top bucket {D, E} then {A, B}: both names new
    assert math.isnan(study.turnover[0]) and study.turnover[1] == 1.0
    assert study.coverage.tolist() == [1.0, 1.0]
    # holding period of signal 0: row 1 -> row 2 (the next signal's execution); signal 1
    # is the last, so it has none: growth stays
    assert study.cumulative[0] == pytest.approx([1.02, 1.07], abs=1e-15)
    assert study.cumulative[1] == pytest.approx([1.02, 1.07], abs=1e-15)


def test_coverage_counts_the_eligible_names_with_a_value() -> None:
    values = FACTOR.copy()
    values[0, 0] = np.nan
    eligible = np.ones(FACTOR.shape, bool)
    eligible[1, 4] = False
    values[1, 4] = np.nan
    fwd = forward_returns(MARKS, ROWS, 1, 1)
    study, _ = study_signal(
        "factor",
        "f",
        1.0,
        values,
        eligible,
        {1: SortedRows(fwd, np.isfinite(fwd))},
        holding_returns(MARKS, ROWS, 1),
        2,
    )
    assert study.coverage.tolist() == [0.8, 1.0]  # 4 of 5; 4 of the 4 eligible


def test_summary_by_hand() -> None:
    got = summarize(np.array([0.1, 0.3, -0.1, np.nan]))
    # mean 0.1; deviations 0, 0.2, -0.2: std = sqrt(0.08 / 2) = 0.2; ICIR 0.5; t = 0.5 * sqrt 3
    assert got.n_dates == 3
    assert got.mean == pytest.approx(0.1) and got.std == pytest.approx(0.2)
    assert got.icir == pytest.approx(0.5) and got.t_stat == pytest.approx(0.5 * math.sqrt(3))
    assert got.hit_rate == pytest.approx(2 / 3)
