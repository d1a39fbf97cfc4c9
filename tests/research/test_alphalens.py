"""The factor statistics equal alphalens-reloaded's on the same factor and prices (1e-10).

A synthetic panel: 36 names over 90 business days, prices a random walk whose next-day
moves lean on the factor, 6 % of the factor values missing. alphalens measures forward
returns from the signal's own close; qtc's `next_close` convention starts them one close
later, which is alphalens fed the prices shifted by one day. Each horizon is given to
alphalens on its own (its clean sample drops a date when any horizon is missing there,
qtc keeps each horizon's dates). alphalens-reloaded 0.5 halves its top-minus-bottom
spread (a dollar-neutral book at 100 % gross); qtc's spread is the raw difference of the
two quantiles' means (as nanobook's `py_quintile_spread`), so it is twice alphalens'.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from qtc.research.factor_stats import SignalStudy, study_signal
from qtc.research.forward import forward_returns, holding_returns
from qtc.research.ranks import SortedRows

N_DATES, N_NAMES, Q = 90, 36, 5
TOL = 1e-10


@pytest.fixture(scope="module")
def panel() -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(17)
    dates = pd.bdate_range("2021-01-04", periods=N_DATES)
    factor = rng.normal(size=(N_DATES, N_NAMES))
    moves = 0.004 * np.roll(factor, 1, axis=0) + rng.normal(scale=0.02, size=factor.shape)
    moves[0] = 0.0
    prices = 50.0 * np.cumprod(1.0 + moves, axis=0)
    factor[rng.random(factor.shape) < 0.06] = np.nan
    return dates, factor, prices


def _qtc(factor: np.ndarray, prices: np.ndarray, lag: int, horizon: int) -> SignalStudy:
    rows = np.arange(N_DATES)
    fwd = forward_returns(prices, rows, lag, horizon)
    study, _ = study_signal(
        "factor",
        "f",
        1.0,
        factor,
        np.ones(factor.shape, bool),
        {horizon: SortedRows(fwd, np.isfinite(fwd))},
        holding_returns(prices, rows, lag),
        Q,
    )
    return study


def _alphalens(dates: Any, factor: np.ndarray, prices: np.ndarray, lag: int, horizon: int) -> Any:
    import alphalens.utils as au

    names = [f"N{i:02d}" for i in range(N_NAMES)]
    kept = N_DATES - lag  # the shifted prices end `lag` days early (no made-up closes)
    frame = pd.DataFrame(factor[:kept], index=dates[:kept], columns=names).stack()
    frame = frame.rename("factor")
    frame.index.names = ["date", "asset"]
    close = pd.DataFrame(prices, index=dates, columns=names).shift(-lag).iloc[:kept]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return au.get_clean_factor_and_forward_returns(
            frame, close, periods=(horizon,), quantiles=Q, max_loss=1.0
        )


def _rows(dates: Any, index: Any) -> np.ndarray:
    return np.asarray(dates.get_indexer(pd.DatetimeIndex(index)))


@pytest.mark.parametrize(("lag", "horizon"), [(1, 1), (1, 5), (0, 3)])
def test_ic_quantiles_and_spread_equal_alphalens(panel: Any, lag: int, horizon: int) -> None:
    import alphalens.performance as ap

    dates, factor, prices = panel
    ours = _qtc(factor, prices, lag, horizon).at(horizon)
    clean = _alphalens(dates, factor, prices, lag, horizon)
    column = f"{horizon}D"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ic = ap.factor_information_coefficient(clean)[column]
        by_date, _ = ap.mean_return_by_quantile(clean, by_date=True, demeaned=False)
        mean, _ = ap.mean_return_by_quantile(clean, by_date=False, demeaned=False)
        spread, _ = ap.compute_mean_returns_spread(by_date, Q, 1)
    rows = _rows(dates, ic.index)
    assert rows.size == N_DATES - lag - horizon  # the dates with a forward return
    assert np.isnan(ours.rank_ic[np.setdiff1d(np.arange(N_DATES), rows)]).all()
    assert np.abs(ours.rank_ic[rows] - ic.to_numpy()).max() < TOL
    for (quantile, day), value in by_date[column].items():
        row = dates.get_loc(day)
        assert abs(ours.quantile_means[row, int(quantile) - 1] - value) < TOL
    assert np.abs(np.array(ours.mean_by_quantile()) - mean[column].to_numpy()).max() < TOL
    rows = _rows(dates, spread.index)
    raw = 2.0 * spread[column]  # alphalens' spread is half the difference
    assert np.abs(ours.spread[rows] - raw.to_numpy()).max() < TOL
    assert abs(ours.mean_spread() - raw.mean()) < TOL  # type: ignore[operator]


def test_pearson_ic_equals_numpy(panel: Any) -> None:
    _, factor, prices = panel
    ours = _qtc(factor, prices, 1, 5).at(5)
    fwd = forward_returns(prices, np.arange(N_DATES), 1, 5)
    for row in range(N_DATES - 6):
        ok = np.isfinite(factor[row]) & np.isfinite(fwd[row])
        assert abs(ours.ic[row] - np.corrcoef(factor[row, ok], fwd[row, ok])[0, 1]) < TOL


def test_turnover_autocorrelation_and_cumulative_equal_alphalens(panel: Any) -> None:
    import alphalens.performance as ap

    dates, factor, prices = panel
    ours = _qtc(factor, prices, 1, 1)
    clean = _alphalens(dates, factor, prices, 1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        turnover = ap.quantile_turnover(clean["factor_quantile"], Q, period=1).dropna()
        autocorr = ap.factor_rank_autocorrelation(clean, period=1).dropna()
        by_date, _ = ap.mean_return_by_quantile(clean, by_date=True, demeaned=False)
    rows = _rows(dates, turnover.index)
    assert np.abs(ours.turnover[rows] - turnover.to_numpy()).max() < TOL
    rows = _rows(dates, autocorr.index)
    assert np.abs(ours.autocorrelation[rows] - autocorr.to_numpy()).max() < TOL
    # on daily signal dates the holding period is the 1-day forward return: the growth
    # of each quantile is alphalens' cumulative_returns of its mean 1-day returns
    for quantile in range(1, Q + 1):
        series = by_date["1D"].xs(quantile, level="factor_quantile")
        growth = ap.cumulative_returns(series)
        rows = _rows(dates, growth.index)
        assert np.abs(ours.cumulative[rows, quantile - 1] - growth.to_numpy()).max() < TOL
