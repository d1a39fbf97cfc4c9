"""Deflated Sharpe ratio: the paper's formula, written here with scipy, on several cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from qtc.search.bias import (
    SelectionBiasError,
    deflated_sharpe,
    deflated_sharpe_of_returns,
    expected_max_sharpe,
    expected_max_z,
    sharpe_ratios,
)

GAMMA = 0.5772156649015329


def paper_dsr(sr: float, t: int, skew: float, kurt: float, n: int, v: float) -> float:
    """Bailey & López de Prado (2014), eq. 2 with SR0 from the expected maximum of N trials."""
    emax = (1 - GAMMA) * stats.norm.ppf(1 - 1 / n) + GAMMA * stats.norm.ppf(1 - 1 / (n * math.e))
    sr0 = math.sqrt(v) * emax
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    return float(stats.norm.cdf(z))


CASES = [
    # sharpe per day, T, skew, raw kurtosis, N, V (per day²)
    (0.1581, 1250, -3.0, 10.0, 100, 0.002),
    (0.05, 4700, 0.0, 3.0, 10, 0.0005),
    (0.2, 60, 0.5, 4.0, 1000, 0.01),
    (-0.03, 2500, -0.2, 6.0, 45, 0.0001),
    (0.08, 300, 0.1, 3.5, 2, 0.003),
    (0.12, 1000, -1.0, 8.0, 100_000, 0.0004),
]


@pytest.mark.parametrize(("sr", "t", "skew", "kurt", "n", "v"), CASES)
def test_matches_the_paper_formula(
    sr: float, t: int, skew: float, kurt: float, n: int, v: float
) -> None:
    got = deflated_sharpe(
        sr, n_observations=t, skewness=skew, kurtosis=kurt, n_trials=n, trials_sharpe_variance=v
    )
    assert got.probability == pytest.approx(paper_dsr(sr, t, skew, kurt, n, v), abs=1e-12)
    assert got.n_trials == n
    assert got.n_observations == t


def test_the_papers_numerical_example() -> None:
    """Section 5 of the paper: annual SR 2.5 over 5 years (T=1250), N=100, annual V=1/2,
    skew -3, kurtosis 10: SR0 = 0.1132 a day and DSR = 0.9004."""
    got = deflated_sharpe(
        2.5 / math.sqrt(250),
        n_observations=1250,
        skewness=-3,
        kurtosis=10,
        n_trials=100,
        trials_sharpe_variance=0.5 / 250,
    )
    assert got.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert got.probability == pytest.approx(0.9004, abs=5e-4)


def test_expected_max_z_by_hand() -> None:
    # N = 2: (1-γ)·Φ⁻¹(1/2) + γ·Φ⁻¹(1 - 1/(2e)) = γ·Φ⁻¹(0.816060...) = γ·0.900...
    assert expected_max_z(2) == pytest.approx(GAMMA * stats.norm.ppf(1 - 1 / (2 * math.e)))
    assert expected_max_z(2) == pytest.approx(0.5198, abs=1e-4)
    assert expected_max_z(1) == 0.0
    assert expected_max_sharpe(100, 0.04) == pytest.approx(0.2 * expected_max_z(100))


def test_one_trial_is_the_probabilistic_sharpe_ratio_against_zero() -> None:
    got = deflated_sharpe(
        0.05, n_observations=501, skewness=0, kurtosis=3, n_trials=1, trials_sharpe_variance=0.3
    )
    z = 0.05 * math.sqrt(500) / math.sqrt(1 + 0.5 * 0.05**2)
    assert got.expected_max_sharpe == 0.0
    assert got.probability == pytest.approx(stats.norm.cdf(z), abs=1e-12)


def test_zero_variance_of_trials_means_no_selection_bar() -> None:
    got = deflated_sharpe(
        0.0, n_observations=100, skewness=0, kurtosis=3, n_trials=500, trials_sharpe_variance=0
    )
    assert got.expected_max_sharpe == 0.0
    assert got.probability == 0.5


def test_two_observations_is_the_smallest_sample() -> None:
    got = deflated_sharpe(
        0.3, n_observations=2, skewness=0, kurtosis=3, n_trials=10, trials_sharpe_variance=0.01
    )
    assert got.probability == pytest.approx(paper_dsr(0.3, 2, 0, 3, 10, 0.01), abs=1e-12)
    with pytest.raises(SelectionBiasError, match="at least 2 returns"):
        deflated_sharpe(
            0.3, n_observations=1, skewness=0, kurtosis=3, n_trials=10, trials_sharpe_variance=0.01
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_trials": 0}, "whole number >= 1"),
        ({"n_trials": 2.5}, "whole number >= 1"),
        ({"trials_sharpe_variance": -1e-6}, ">= 0"),
        ({"trials_sharpe_variance": math.nan}, "finite"),
        ({"sharpe": math.inf}, "finite"),
        # excess kurtosis passed by mistake: 1 + (0 - 1)/4 · 2² = 0
        ({"sharpe": 2.0, "kurtosis": 0.0}, "kurtosis raw"),
    ],
)
def test_invalid_inputs_are_clear_errors(kwargs: dict[str, float], message: str) -> None:
    args: dict[str, float] = {
        "sharpe": 0.1,
        "n_observations": 100,
        "skewness": 0.0,
        "kurtosis": 3.0,
        "n_trials": 10,
        "trials_sharpe_variance": 0.01,
    }
    args.update(kwargs)
    sharpe = args.pop("sharpe")
    with pytest.raises(SelectionBiasError, match=message):
        deflated_sharpe(sharpe, **args)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        deflated_sharpe(sharpe, **args)  # type: ignore[arg-type]


def test_from_returns_estimates_the_moments_like_scipy() -> None:
    rng = np.random.default_rng(3)
    returns = rng.standard_t(5, size=1500) * 0.01 + 0.0006
    sr = returns.mean() / returns.std(ddof=1)
    skew = stats.skew(returns)
    kurt = stats.kurtosis(returns, fisher=False)
    got = deflated_sharpe_of_returns(returns, n_trials=40, trials_sharpe_variance=0.0008)
    assert got.sharpe == pytest.approx(sr, rel=1e-12)
    assert got.probability == pytest.approx(paper_dsr(sr, 1500, skew, kurt, 40, 0.0008), abs=1e-12)


def test_from_returns_refuses_flat_nan_and_short_series() -> None:
    with pytest.raises(SelectionBiasError, match="do not vary"):
        deflated_sharpe_of_returns(np.full(50, 0.001), n_trials=3, trials_sharpe_variance=0.1)
    with pytest.raises(SelectionBiasError, match="NaN"):
        deflated_sharpe_of_returns([0.01, math.nan, 0.0], n_trials=3, trials_sharpe_variance=0.1)
    with pytest.raises(SelectionBiasError, match="at least 2"):
        deflated_sharpe_of_returns([0.01], n_trials=3, trials_sharpe_variance=0.1)


def test_sharpe_ratios_per_column() -> None:
    matrix = np.array([[0.01, 0.0, 0.02], [0.03, 0.0, 0.02], [-0.01, 0.0, 0.02]])
    # column 0: mean 0.01, sample sd 0.02 -> 0.5; column 1 flat at 0 -> 0; column 2 flat > 0 -> inf
    np.testing.assert_allclose(sharpe_ratios(matrix), [0.5, 0.0, math.inf])


@pytest.mark.parametrize(("sr", "n", "skew", "kurt"), [(0.3, 10, 0.0, 3.0), (0.05, 250, -0.5, 6.0)])
def test_nanobook_is_the_special_case_t_equals_n(
    sr: float, n: int, skew: float, kurt: float
) -> None:
    """nanobook 0.19.2's py_deflated_sharpe(SR, N, skew, kurt) uses N as the sample length and
    the winner's own sampling variance as V: our formula with T = N and that V."""
    import nanobook

    spread = 1 - skew * sr + (kurt - 1) / 4 * sr**2
    ours = deflated_sharpe(
        sr,
        n_observations=n,
        skewness=skew,
        kurtosis=kurt,
        n_trials=n,
        trials_sharpe_variance=spread / (n - 1),
    )
    assert ours.probability == pytest.approx(
        nanobook.py_deflated_sharpe(sr, n, skew, kurt), abs=2e-7
    )
    assert nanobook.py_deflated_sharpe(0.3, 1, 0.0, 3.0) == 0.3  # not a probability: why we don't


def test_explanation_names_the_trials_and_the_probability() -> None:
    got = deflated_sharpe(
        0.0, n_observations=100, skewness=0, kurtosis=3, n_trials=7, trials_sharpe_variance=0
    )
    assert got.explain() == (
        "After 7 trial(s), the chance that the winner's true Sharpe ratio beats the best one "
        "luck alone would produce is 50%."
    )
