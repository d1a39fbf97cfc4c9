"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado & Zhu (2017), "The probability of backtest overfitting".
The (T, N) matrix of the trials' returns is cut into S blocks of consecutive rows. For
each of the C(S, S/2) ways to pick half of the blocks, the picked blocks are in sample
and the others out of sample; the trial n* with the best in-sample Sharpe ratio is
ranked among all N trials out of sample, ω = rank / (N + 1) (rank 1 = worst, ties share
their average rank), and λ = log(ω / (1 − ω)). PBO is the share of combinations with
λ ≤ 0: how often the in-sample winner lands at or below the out-of-sample median.

Blocks hold T // S rows each, the first T mod S blocks one row more (`np.array_split`).
The Sharpe ratio is mean / standard deviation (n − 1 divisor), per period; a trial
whose returns do not vary in a half scores 0 there (±inf if its mean is not 0). A tie
for the in-sample best goes to the lowest column.

Vectorised: every half's sums come from per-block sums (one matrix product), in chunks
of combinations so memory stays bounded for large N.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qtc.search.errors import SelectionBiasError

DEFAULT_BLOCKS = 16
CHUNK_CELLS = 2_000_000
"""Combinations x trials evaluated at once (bounds memory to a few arrays of this size)."""

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LogitSummary:
    """The distribution of the logits λ over the combinations."""

    mean: float
    std: float
    min: float
    q05: float
    q25: float
    median: float
    q75: float
    q95: float
    max: float


@dataclass(frozen=True, slots=True, eq=False)
class Overfitting:
    """The probability of backtest overfitting of a family of trials.

    Attributes:
        probability: PBO, the share of combinations whose in-sample winner ranks at or
            below the median out of sample (λ ≤ 0).
        logits: λ for each combination, in `itertools.combinations` order.
        n_trials: Number of trials N (columns).
        n_observations: Number of returns T (rows).
        n_blocks: Number of blocks S.
    """

    probability: float
    logits: FloatArray = field(repr=False)
    n_trials: int
    n_observations: int
    n_blocks: int

    @property
    def n_combinations(self) -> int:
        """C(S, S/2), the number of in-sample/out-of-sample splits."""
        return self.logits.size

    def summary(self) -> LogitSummary:
        """Mean, spread and quantiles of the logits."""
        lam = self.logits
        q05, q25, median, q75, q95 = (
            float(v) for v in np.quantile(lam, [0.05, 0.25, 0.5, 0.75, 0.95])
        )
        return LogitSummary(
            mean=float(lam.mean()),
            std=float(lam.std()),
            min=float(lam.min()),
            q05=q05,
            q25=q25,
            median=median,
            q75=q75,
            q95=q95,
            max=float(lam.max()),
        )

    def explain(self) -> str:
        """One plain sentence on what the number means."""
        return (
            f"In {self.probability:.0%} of {self.n_combinations} splits of the history, "
            f"the best of {self.n_trials} trials in one half did no better than the median "
            "trial in the other half."
        )


def probability_of_overfitting(returns: ArrayLike, n_blocks: int = DEFAULT_BLOCKS) -> Overfitting:
    """PBO of a (T, N) matrix of the trials' periodic returns, by CSCV with Sharpe ratios.

    Args:
        returns: T rows of returns (dates, oldest first) by N columns (trials).
        n_blocks: S, an even number of blocks, at most T.

    Raises:
        SelectionBiasError: If S is odd or below 2, T < S, a half would hold fewer than
            2 returns, N < 2, or the matrix holds NaN or infinite values.
    """
    matrix = _checked(returns, n_blocks)
    sums, squares, counts = _block_sums(matrix, n_blocks)
    mean = matrix.mean(axis=0)
    logits = np.concatenate(
        [
            _chunk_logits(picks, sums, squares, counts, mean)
            for picks in _combination_chunks(n_blocks, matrix.shape[1])
        ]
    )
    return Overfitting(
        probability=float(np.mean(logits <= 0)),
        logits=logits,
        n_trials=matrix.shape[1],
        n_observations=matrix.shape[0],
        n_blocks=n_blocks,
    )


def _checked(returns: ArrayLike, n_blocks: int) -> FloatArray:
    """The return matrix as float64, after every input check."""
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2:
        raise SelectionBiasError(f"need a (T, N) return matrix, got {matrix.ndim} dimension(s)")
    t, n = matrix.shape
    if n_blocks < 2 or n_blocks % 2:
        raise SelectionBiasError(f"the number of blocks must be even and >= 2, got {n_blocks}")
    if t < n_blocks:
        raise SelectionBiasError(f"{t} returns cannot fill {n_blocks} blocks (need T >= S)")
    if (t // n_blocks) * (n_blocks // 2) < 2:
        raise SelectionBiasError(f"{t} returns in {n_blocks} blocks leave a half with < 2")
    if n < 2:
        raise SelectionBiasError(f"need at least 2 trials to rank, got {n}")
    if not np.isfinite(matrix).all():
        bad = sorted(set(np.nonzero(~np.isfinite(matrix))[1].tolist()))[:5]
        raise SelectionBiasError(f"the returns of trial column(s) {bad} hold NaN or infinity")
    return matrix


def _block_sums(matrix: FloatArray, n_blocks: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-block sums and sums of squares of the mean-centred returns, and row counts."""
    counts = np.array([len(b) for b in np.array_split(np.arange(matrix.shape[0]), n_blocks)])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    centred = matrix - matrix.mean(axis=0)
    sums = np.add.reduceat(centred, starts, axis=0)
    squares = np.add.reduceat(centred**2, starts, axis=0)
    return sums, squares, counts.astype(np.float64)


def _combination_chunks(n_blocks: int, n_trials: int) -> list[FloatArray]:
    """0/1 masks (C, S) of the in-sample blocks, split into chunks of bounded size."""
    picks = _in_sample_masks(n_blocks)
    size = max(1, CHUNK_CELLS // max(n_trials, 1))
    return [picks[i : i + size] for i in range(0, picks.shape[0], size)]


@functools.cache
def _in_sample_masks(n_blocks: int) -> FloatArray:
    """One row per combination of S/2 blocks out of S: 1 for an in-sample block (read-only)."""
    combos = list(itertools.combinations(range(n_blocks), n_blocks // 2))
    picks = np.zeros((len(combos), n_blocks))
    rows = np.repeat(np.arange(len(combos)), n_blocks // 2)
    picks[rows, np.array(combos).ravel()] = 1.0
    picks.flags.writeable = False
    return picks


def _chunk_logits(
    picks: FloatArray,
    sums: FloatArray,
    squares: FloatArray,
    counts: FloatArray,
    mean: FloatArray,
) -> FloatArray:
    """λ for each combination of the chunk."""
    in_sample = _half_sharpe(picks @ sums, picks @ squares, picks @ counts, mean)
    rest = 1.0 - picks
    out_sample = _half_sharpe(rest @ sums, rest @ squares, rest @ counts, mean)
    rows = np.arange(picks.shape[0])
    best = out_sample[rows, np.argmax(in_sample, axis=1)][:, None]
    rank = (out_sample < best).sum(axis=1) + ((out_sample == best).sum(axis=1) + 1) / 2
    omega = rank / (sums.shape[1] + 1)
    logits: FloatArray = np.log(omega / (1 - omega))
    return logits


def _half_sharpe(
    sums: FloatArray, squares: FloatArray, counts: FloatArray, mean: FloatArray
) -> FloatArray:
    """Sharpe ratios (C, N) of the halves from their centred sums (rows = combinations)."""
    n = counts[:, None]
    variance = np.maximum(squares - sums**2 / n, 0.0) / (n - 1)
    return mean_over_std(sums / n + mean, np.sqrt(variance))


def mean_over_std(mean: FloatArray, std: FloatArray) -> FloatArray:
    """Sharpe ratios mean / std, elementwise, with 0/0 -> 0 and x/0 -> ±inf."""
    out = np.zeros_like(mean)
    np.divide(mean, std, out=out, where=std > 0)
    flat = (std == 0) & (mean != 0)
    out[flat] = np.copysign(math.inf, mean[flat])
    return out
