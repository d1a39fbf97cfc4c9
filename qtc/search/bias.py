"""Selection bias of a search's winner: deflated Sharpe ratio and minimum backtest length.

A search that tries N variants and keeps the best one reports a Sharpe ratio that is
too high: the maximum of N noisy estimates exceeds the truth even when no variant has
skill. These two statistics put a number on that, from the true trial count of the
strategy family (`qtc.search.ledger`). The third, the probability of backtest
overfitting, lives in `qtc.search.cscv` and is re-exported here.

* Deflated Sharpe ratio (Bailey & López de Prado 2014): the probability that the
  winner's true Sharpe ratio exceeds the best one N skill-less trials would show.
* Minimum backtest length (Bailey, Borwein, López de Prado & Zhu 2014): the years of
  data needed before a given annual Sharpe ratio is not expected from N trials by luck.

Units: Sharpe ratios are per period (daily returns give a daily Sharpe) unless a
name says `annual`; kurtosis is raw (Pearson, 3 for a normal distribution).

nanobook 0.19.2's `py_deflated_sharpe(sharpe, n_trials, skewness, kurtosis)` is not
used. It returns Φ(SR·√(N−1)/√(1 − skew·SR + (kurt−1)/4·SR²) − E_N), with E_N the
expected maximum of N standard normals: the paper's formula with the sample length T
replaced by the trial count N and the trials' Sharpe variance V replaced by the
winner's own sampling variance over N observations. It takes neither T nor V, so it
equals the paper only when T = N and V = (1 − skew·SR + (kurt−1)/4·SR²)/(N−1); it also
returns the Sharpe ratio itself (not a probability) for N = 1, NaN for a negative
Sharpe ratio, and uses a normal CDF with an absolute error up to 7.5e-8. The paper's
formula is computed here instead (Φ from `math.erfc`, Φ⁻¹ from `statistics.NormalDist`);
`tests/search/test_deflated_sharpe.py` checks that it reproduces nanobook in that case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qtc.search.cscv import LogitSummary as LogitSummary
from qtc.search.cscv import Overfitting as Overfitting
from qtc.search.cscv import mean_over_std
from qtc.search.cscv import probability_of_overfitting as probability_of_overfitting
from qtc.search.errors import SelectionBiasError as SelectionBiasError

EULER_GAMMA = 0.5772156649015329
"""The Euler-Mascheroni constant γ of the expected-maximum approximation."""
_STANDARD_NORMAL = NormalDist()
"""Φ⁻¹ is its `inv_cdf` (Wichura's AS241, double precision)."""


@dataclass(frozen=True, slots=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio of a search's winner.

    Attributes:
        probability: DSR, the probability in [0, 1] that the winner's true Sharpe ratio
            exceeds `expected_max_sharpe`.
        sharpe: The winner's Sharpe ratio, per period.
        expected_max_sharpe: SR0, the highest Sharpe ratio (per period) expected from
            `n_trials` trials without skill.
        n_trials: Number of trials N in the family.
        n_observations: Number of returns T behind `sharpe`.
    """

    probability: float
    sharpe: float
    expected_max_sharpe: float
    n_trials: int
    n_observations: int

    def explain(self) -> str:
        """One plain sentence on what the number means."""
        return (
            f"After {self.n_trials} trial(s), the chance that the winner's true Sharpe ratio "
            f"beats the best one luck alone would produce is {self.probability:.0%}."
        )


@dataclass(frozen=True, slots=True)
class BacktestLength:
    """The minimum backtest length for an annual Sharpe ratio found among N trials.

    Attributes:
        years: MinBTL, years of data below which `annual_sharpe` is expected from
            `n_trials` trials without skill.
        n_trials: Number of trials N.
        annual_sharpe: The annualised Sharpe ratio being judged.
        years_of_data: Years the backtest actually covers, when known.
    """

    years: float
    n_trials: int
    annual_sharpe: float
    years_of_data: float | None = None

    @property
    def long_enough(self) -> bool | None:
        """Whether the backtest covers more than `years` (None when its length is unknown)."""
        return None if self.years_of_data is None else self.years_of_data > self.years

    def explain(self) -> str:
        """One plain sentence on what the number means."""
        core = (
            f"With {self.n_trials} trial(s), {self.years:.1f} years of data are needed before "
            f"an annual Sharpe ratio of {self.annual_sharpe:.2f} is more than what luck alone "
            "would show"
        )
        if self.years_of_data is None:
            return core + "."
        verdict = "enough" if self.long_enough else "not enough"
        return core + f"; this backtest covers {self.years_of_data:.1f} years, {verdict}."


def expected_max_z(n_trials: int) -> float:
    """Expected maximum of `n_trials` independent standard normals (the paper's approximation).

    E_N = (1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)); one trial gives 0 (nothing was
    selected), where the approximation itself would give −∞.

    Raises:
        SelectionBiasError: If `n_trials` is below 1.
    """
    n = _trial_count(n_trials)
    if n == 1:
        return 0.0
    quantile = _STANDARD_NORMAL.inv_cdf
    return (1 - EULER_GAMMA) * quantile(1 - 1 / n) + EULER_GAMMA * quantile(1 - 1 / (n * math.e))


def expected_max_sharpe(n_trials: int, trials_sharpe_variance: float) -> float:
    """SR0 = √V·E_N: the highest Sharpe ratio expected from N trials without skill.

    Args:
        n_trials: Number of trials N (at least 1).
        trials_sharpe_variance: Variance V of the trials' Sharpe ratios, in the units
            of the Sharpe ratio it will be compared with (per period, squared).

    Raises:
        SelectionBiasError: If N < 1 or V is negative or not finite.
    """
    variance = _finite(trials_sharpe_variance, "the variance of the trials' Sharpe ratios")
    if variance < 0:
        raise SelectionBiasError(
            f"the variance of the trials' Sharpe ratios must be >= 0, got {variance}"
        )
    return math.sqrt(variance) * expected_max_z(n_trials)


def deflated_sharpe(
    sharpe: float,
    *,
    n_observations: int,
    skewness: float,
    kurtosis: float,
    n_trials: int,
    trials_sharpe_variance: float,
) -> DeflatedSharpe:
    """Deflated Sharpe ratio: Φ((SR − SR0)·√(T−1) / √(1 − skew·SR + (kurt−1)/4·SR²)).

    Args:
        sharpe: The winner's Sharpe ratio SR, per period.
        n_observations: Number of returns T behind SR (at least 2).
        skewness: Skewness of the winner's returns.
        kurtosis: Raw kurtosis of the winner's returns (3 for a normal distribution).
        n_trials: Number of trials N in the family (at least 1).
        trials_sharpe_variance: Variance V of the trials' Sharpe ratios, per period.

    Returns:
        The DSR with SR0 = √V·E_N (`expected_max_sharpe`).

    Raises:
        SelectionBiasError: On an invalid input, or moments for which the Sharpe ratio's
            variance 1 − skew·SR + (kurt−1)/4·SR² is not positive.
    """
    sr = _finite(sharpe, "the Sharpe ratio")
    if n_observations < 2:
        raise SelectionBiasError(f"need at least 2 returns, got {n_observations}")
    spread = _sharpe_spread(sr, _finite(skewness, "skewness"), _finite(kurtosis, "kurtosis"))
    sr0 = expected_max_sharpe(n_trials, trials_sharpe_variance)
    z = (sr - sr0) * math.sqrt(n_observations - 1) / math.sqrt(spread)
    return DeflatedSharpe(_normal_cdf(z), sr, sr0, n_trials, n_observations)


def deflated_sharpe_of_returns(
    returns: ArrayLike, *, n_trials: int, trials_sharpe_variance: float
) -> DeflatedSharpe:
    """Deflated Sharpe ratio of the winner's returns (moments estimated from them).

    The Sharpe ratio is mean / standard deviation (n − 1 divisor), per period; skewness
    and kurtosis are the sample moments m3/m2^1.5 and m4/m2² (n divisor).

    Args:
        returns: The winner's periodic (daily) returns, finite, at least 2.
        n_trials: Number of trials N in the family.
        trials_sharpe_variance: Variance V of the trials' per-period Sharpe ratios,
            e.g. `np.var(sharpe_ratios(matrix), ddof=1)`.

    Raises:
        SelectionBiasError: If the returns are too few, not finite or constant.
    """
    r = _series(returns)
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    if m2 == 0:
        raise SelectionBiasError("the winner's returns do not vary: no Sharpe ratio")
    return deflated_sharpe(
        float(r.mean() / r.std(ddof=1)),
        n_observations=r.size,
        skewness=float(np.mean(centred**3)) / m2**1.5,
        kurtosis=float(np.mean(centred**4)) / m2**2,
        n_trials=n_trials,
        trials_sharpe_variance=trials_sharpe_variance,
    )


def sharpe_ratios(returns: ArrayLike) -> NDArray[np.float64]:
    """Per-period Sharpe ratio of each column of a (T, N) return matrix (n − 1 divisor).

    A column that does not vary has Sharpe 0 when its mean is 0, else ±inf.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] < 2:
        raise SelectionBiasError("need a (T, N) return matrix with T >= 2")
    return mean_over_std(matrix.mean(axis=0), matrix.std(axis=0, ddof=1))


def minimum_backtest_length(
    n_trials: int, annual_sharpe: float, *, years_of_data: float | None = None
) -> BacktestLength:
    """MinBTL ≈ E_N² / SR_annual²: years before SR_annual is not expected from N trials by luck.

    Args:
        n_trials: Number of trials N (one trial needs no minimum: 0 years).
        annual_sharpe: The annualised Sharpe ratio to judge (positive).
        years_of_data: Years the backtest covers, to compare with (optional).

    Raises:
        SelectionBiasError: If N < 1 or the Sharpe ratio is not positive.
    """
    sr = _finite(annual_sharpe, "the annual Sharpe ratio")
    if sr <= 0:
        raise SelectionBiasError(f"the annual Sharpe ratio must be positive, got {sr}")
    years = (expected_max_z(n_trials) / sr) ** 2
    return BacktestLength(years, n_trials, sr, years_of_data)


def _normal_cdf(z: float) -> float:
    """Φ(z) = erfc(−z/√2)/2, accurate in the lower tail too."""
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _sharpe_spread(sharpe: float, skewness: float, kurtosis: float) -> float:
    """1 − skew·SR + (kurt−1)/4·SR²: T−1 times the variance of the Sharpe estimate."""
    spread = 1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if spread <= 0:
        raise SelectionBiasError(
            f"skewness {skewness} and kurtosis {kurtosis} give the Sharpe ratio {sharpe} "
            "no positive variance (is the kurtosis raw, 3 for a normal distribution?)"
        )
    return spread


def _series(returns: ArrayLike) -> NDArray[np.float64]:
    """A finite 1-D float series of at least 2 returns."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or r.size < 2:
        raise SelectionBiasError("need a 1-D series of at least 2 returns")
    if not np.isfinite(r).all():
        raise SelectionBiasError("the returns contain NaN or infinite values")
    return r


def _trial_count(n_trials: int) -> int:
    """A trial count of at least 1."""
    if int(n_trials) != n_trials or n_trials < 1:
        raise SelectionBiasError(
            f"the number of trials must be a whole number >= 1, got {n_trials}"
        )
    return int(n_trials)


def _finite(value: float, what: str) -> float:
    """`value` as a float, refusing NaN and infinity."""
    number = float(value)
    if not math.isfinite(number):
        raise SelectionBiasError(f"{what} must be finite, got {value}")
    return number
