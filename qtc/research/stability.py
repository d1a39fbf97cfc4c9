"""How a signal moves from one signal date to the next, and how much of the universe it covers.

* Rank autocorrelation (alphalens' `factor_rank_autocorrelation`): each date's values are
  ranked over its own sample (average ranks), and date t's ranks are correlated (Pearson)
  with date t-1's over the names present on both dates.
* Top-quantile turnover (alphalens' `quantile_turnover`): the share of the names in the
  top bucket on date t that were not in it on date t-1.
* Coverage: the share of the eligible names (the strategy's universe on that date) that
  have a finite value.

The first date has no previous one: its autocorrelation and turnover are NaN.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qtc.research.ranks import Array, Mask, pearson_rows


def rank_autocorrelation(ranks: Array, mask: Mask) -> Array:
    """(R,) correlation of each date's ranks with the previous date's (NaN for the first).

    Args:
        ranks: Each date's average ranks over its sample (`ranks.average_ranks`).
        mask: The sample.
    """
    out = np.full(ranks.shape[0], np.nan)
    if ranks.shape[0] < 2:
        return out
    both = mask[1:] & mask[:-1]
    out[1:] = pearson_rows(ranks[1:], ranks[:-1], both)
    return out


def top_turnover(bucket: npt.NDArray[np.int64], n_quantiles: int) -> Array:
    """(R,) share of the top bucket's names that are new since the previous date."""
    out = np.full(bucket.shape[0], np.nan)
    top = bucket == n_quantiles - 1
    if bucket.shape[0] < 2:
        return out
    held = top[1:].sum(axis=1)
    new = (top[1:] & ~top[:-1]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[1:] = np.where(held > 0, new / np.maximum(held, 1), np.nan)
    return out


def coverage(values: Array, eligible: Mask) -> Array:
    """(R,) share of eligible names with a finite value (NaN on a date with none eligible)."""
    size = eligible.sum(axis=1)
    have = (eligible & np.isfinite(values)).sum(axis=1)
    out = np.full(values.shape[0], np.nan)
    np.divide(have, size, out=out, where=size > 0)
    return out
