"""Minimum backtest length (Bailey, Borwein, López de Prado & Zhu 2014), by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from qtc.search.bias import SelectionBiasError, minimum_backtest_length

GAMMA = 0.5772156649015329


def expected_max(n: int) -> float:
    return (1 - GAMMA) * stats.norm.ppf(1 - 1 / n) + GAMMA * stats.norm.ppf(1 - 1 / (n * math.e))


def test_45_trials_need_five_years_for_a_sharpe_of_one() -> None:
    """The paper's example (paraphrased): with 5 years of data, trying more than 45
    independent configurations makes an annual Sharpe ratio of 1 expected from luck."""
    got = minimum_backtest_length(45, 1.0)
    assert got.years == pytest.approx(5.0, abs=0.01)
    assert got.years == pytest.approx(expected_max(45) ** 2, rel=1e-12)


@pytest.mark.parametrize(("n", "sr"), [(2, 0.5), (10, 1.5), (1000, 2.0), (10**6, 1.0)])
def test_formula_and_the_papers_upper_bound(n: int, sr: float) -> None:
    got = minimum_backtest_length(n, sr)
    assert got.years == pytest.approx((expected_max(n) / sr) ** 2, rel=1e-12)
    assert got.years < 2 * math.log(n) / sr**2  # MinBTL < 2 ln N / SR²


def test_doubling_the_sharpe_quarters_the_length() -> None:
    assert minimum_backtest_length(100, 2.0).years == pytest.approx(
        minimum_backtest_length(100, 1.0).years / 4
    )


def test_one_trial_needs_no_minimum() -> None:
    assert minimum_backtest_length(1, 0.8).years == 0.0


def test_invalid_inputs() -> None:
    with pytest.raises(SelectionBiasError, match="positive"):
        minimum_backtest_length(10, 0.0)
    with pytest.raises(SelectionBiasError, match="positive"):
        minimum_backtest_length(10, -0.5)
    with pytest.raises(SelectionBiasError, match=">= 1"):
        minimum_backtest_length(0, 1.0)


def test_compares_with_the_data_it_has() -> None:
    short = minimum_backtest_length(45, 1.0, years_of_data=3.0)
    long = minimum_backtest_length(45, 1.0, years_of_data=18.7)
    assert short.long_enough is False
    assert long.long_enough is True
    assert minimum_backtest_length(45, 1.0).long_enough is None
    assert short.explain() == (
        "With 45 trial(s), 5.0 years of data are needed before an annual Sharpe ratio of 1.00 "
        "is more than what luck alone would show; this backtest covers 3.0 years, not enough."
    )
