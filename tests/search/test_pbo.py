"""Probability of backtest overfitting (CSCV): a plain loop written here is the reference."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from qtc.search.bias import SelectionBiasError, probability_of_overfitting


def pbo_by_loop(returns: np.ndarray, n_blocks: int) -> tuple[float, list[float]]:
    """Bailey et al. (2017), step by step: blocks, halves, argmax in sample, rank out of sample."""
    t, n = returns.shape
    sizes = [t // n_blocks + (1 if i < t % n_blocks else 0) for i in range(n_blocks)]
    edges = [0]
    for size in sizes:
        edges.append(edges[-1] + size)
    blocks = [returns[edges[i] : edges[i + 1]] for i in range(n_blocks)]
    logits = []
    for chosen in itertools.combinations(range(n_blocks), n_blocks // 2):
        ins = np.vstack([blocks[i] for i in chosen])
        outs = np.vstack([blocks[i] for i in range(n_blocks) if i not in chosen])
        ins_sharpe = [ins[:, j].mean() / ins[:, j].std(ddof=1) for j in range(n)]
        outs_sharpe = [outs[:, j].mean() / outs[:, j].std(ddof=1) for j in range(n)]
        best = int(np.argmax(ins_sharpe))
        omega = stats.rankdata(outs_sharpe)[best] / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
    return sum(lam <= 0 for lam in logits) / len(logits), logits


@pytest.mark.parametrize(("t", "n", "s", "seed"), [(40, 5, 4, 0), (103, 7, 6, 1), (64, 3, 8, 2)])
def test_matches_a_plain_loop_exactly(t: int, n: int, s: int, seed: int) -> None:
    returns = np.random.default_rng(seed).normal(0.0005, 0.01, size=(t, n))
    pbo, logits = pbo_by_loop(returns, s)
    got = probability_of_overfitting(returns, s)
    assert got.probability == pbo
    np.testing.assert_allclose(got.logits, logits, rtol=0, atol=1e-12)
    assert got.n_combinations == math.comb(s, s // 2)
    assert (got.n_trials, got.n_observations, got.n_blocks) == (n, t, s)


def test_summary_describes_the_logits() -> None:
    returns = np.random.default_rng(5).normal(0, 0.01, size=(80, 6))
    _, logits = pbo_by_loop(returns, 8)
    summary = probability_of_overfitting(returns, 8).summary()
    assert summary.median == pytest.approx(np.median(logits), abs=1e-12)
    assert summary.mean == pytest.approx(sum(logits) / len(logits), abs=1e-12)
    assert summary.min == pytest.approx(min(logits), abs=1e-12)
    assert summary.max == pytest.approx(max(logits), abs=1e-12)
    assert summary.q05 <= summary.q25 <= summary.median <= summary.q75 <= summary.q95


def test_pure_noise_overfits_half_the_time() -> None:
    """iid trials without skill: the in-sample winner is a coin flip out of sample (PBO ≈ 1/2).
    One data set's PBO has a standard deviation near 0.2, so the mean of 20 is checked:
    its standard deviation is about 0.045, and the band is more than three of them."""
    values = [
        probability_of_overfitting(np.random.default_rng(seed).normal(0, 0.01, size=(400, 20)))
        for seed in range(20)
    ]
    mean = sum(v.probability for v in values) / len(values)
    assert 0.35 < mean < 0.65


def test_one_real_edge_among_noise_does_not_overfit() -> None:
    returns = np.random.default_rng(7).normal(0, 0.01, size=(1000, 20))
    returns[:, 13] += 0.003  # a daily Sharpe ratio of 0.3: about 4.8 a year
    got = probability_of_overfitting(returns)
    assert got.probability < 0.05
    assert got.summary().median > 1.0


def test_identical_trials_tie_at_the_median() -> None:
    """All trials equal: every one ranks (N+1)/2 out of sample, ω = 1/2, λ = 0, so PBO = 1."""
    column = np.random.default_rng(0).normal(0, 0.01, size=(48, 1))
    got = probability_of_overfitting(np.repeat(column, 4, axis=1), 6)
    assert got.probability == 1.0
    assert np.all(got.logits == 0.0)


def test_108_trials_of_4700_days_use_every_split() -> None:
    """The sweep's size: C(16, 8) = 12,870 splits, one logit each (speed: benchmarks, not here)."""
    returns = np.random.default_rng(1).normal(0.0003, 0.01, size=(4700, 108))
    got = probability_of_overfitting(returns, 16)
    assert got.n_combinations == 12_870
    assert got.logits.shape == (12_870,)


@pytest.mark.parametrize(
    ("shape", "blocks", "message"),
    [
        ((100, 5), 7, "even"),
        ((100, 5), 0, "even"),
        ((10, 5), 16, "T >= S"),
        ((3, 5), 2, "< 2"),
        ((100, 1), 16, "at least 2 trials"),
        ((100,), 4, "dimension"),
    ],
)
def test_bad_input_is_a_clear_error(shape: tuple[int, ...], blocks: int, message: str) -> None:
    with pytest.raises(SelectionBiasError, match=message):
        probability_of_overfitting(np.zeros(shape), blocks)


def test_nan_names_the_trial_column() -> None:
    returns = np.zeros((64, 4))
    returns[10, 2] = math.nan
    with pytest.raises(ValueError, match=r"column\(s\) \[2\] hold NaN"):
        probability_of_overfitting(returns, 4)


def test_explanation() -> None:
    column = np.random.default_rng(0).normal(0, 0.01, size=(48, 1))
    got = probability_of_overfitting(np.repeat(column, 4, axis=1), 6)
    assert got.explain() == (
        "In 100% of 20 splits of the history, the best of 4 trials in one half did no better "
        "than the median trial in the other half."
    )
