"""Ranks, correlations and quantile buckets against scipy, pandas, numpy and nanobook."""

from __future__ import annotations

import nanobook as nb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qtc.research import quantiles
from qtc.research.ranks import SortedRows, pearson_rows, spearman_rows


def _panel(seed: int, rows: int = 40, cols: int = 30, ties: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols))
    if ties:
        x[::2] = np.round(x[::2], 1)  # every other date has ties
    x[rng.random(x.shape) < 0.15] = np.nan
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranks_of_any_subset_equal_scipy(seed: int) -> None:
    x = _panel(seed)
    present = np.isfinite(x)
    subset = present & (np.random.default_rng(seed + 10).random(x.shape) < 0.7)
    average, first = SortedRows(x, present).ranks(subset)
    for r in range(x.shape[0]):
        values = x[r, subset[r]]
        assert np.array_equal(average[r, subset[r]], stats.rankdata(values))
        assert np.array_equal(first[r, subset[r]], stats.rankdata(values, method="min") - 1)
        assert np.isnan(average[r, ~subset[r]]).all() and np.isnan(first[r, ~subset[r]]).all()


def test_pearson_equals_numpy_and_spearman_equals_nanobook_and_scipy() -> None:
    x, y = _panel(3), _panel(4)
    mask = np.isfinite(x) & np.isfinite(y)
    pearson, spearman = pearson_rows(x, y, mask), spearman_rows(x, y, mask)
    for r in range(x.shape[0]):
        a, b = x[r, mask[r]], y[r, mask[r]]
        assert pearson[r] == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)
        rho, _ = nb.py_spearman(a.tolist(), b.tolist())
        assert spearman[r] == pytest.approx(rho, abs=1e-12)
        assert spearman[r] == pytest.approx(stats.spearmanr(a, b)[0], abs=1e-12)


def test_too_few_names_or_constant_rows_give_nan() -> None:
    x = np.array([[1.0, 2.0, np.nan, np.nan], [1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]])
    y = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    got = spearman_rows(x, y, np.isfinite(x) & np.isfinite(y))
    assert np.isnan(got[0]) and np.isnan(got[1])  # 2 names; a constant signal
    assert got[2] == -1.0


@pytest.mark.parametrize("n_quantiles", [2, 3, 5, 10])
def test_buckets_equal_pandas_qcut(n_quantiles: int) -> None:
    rng = np.random.default_rng(n_quantiles)
    checked = 0
    for n in range(n_quantiles, 70):
        values = rng.normal(size=n)
        if n % 3 == 0:
            values = np.round(values, 1)  # ties, also on the edges
        try:
            expected = pd.qcut(values, n_quantiles, labels=False)
        except ValueError:  # pandas refuses duplicate edges
            continue
        got = quantiles.buckets(values[None, :], np.ones((1, n), bool), n_quantiles)[0]
        assert np.array_equal(got, expected), (n, values)
        checked += 1
    assert checked > 40


def test_a_date_with_fewer_names_than_quantiles_has_no_buckets() -> None:
    values = np.array([[1.0, 2.0, 3.0, np.nan], [1.0, 2.0, 3.0, 4.0]])
    got = quantiles.buckets(values, np.isfinite(values), 4)
    assert (got[0] == quantiles.NO_BUCKET).all()
    assert got[1].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("n", [10, 25, 50])
def test_spread_equals_nanobook_quintile_spread_when_names_divide(n: int) -> None:
    """nanobook cuts equal counts (array_split); qcut agrees when n is a multiple of q."""
    rng = np.random.default_rng(n)
    scores, returns = rng.normal(size=n), rng.normal(scale=0.02, size=n)
    bucket = quantiles.buckets(scores[None, :], np.ones((1, n), bool), 5)
    means = quantiles.bucket_means(bucket, returns[None, :], 5)
    got = quantiles.spread(means)[0]
    assert got == pytest.approx(
        nb.py_quintile_spread(scores.tolist(), returns.tolist(), 5), abs=1e-15
    )
