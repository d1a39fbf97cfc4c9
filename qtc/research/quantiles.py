"""Quantile buckets of a signal per date, and the buckets' mean forward returns.

Buckets follow `pandas.qcut(values, q)`, which alphalens' `quantize_factor` uses: the
edges are the sample quantiles 0, 1/q, ..., 1 (linear interpolation) and bins are closed
on the right. For the value whose tie group starts at sorted position a (0-based) among n
values that is the bucket max(0, ceil(a q / (n - 1)) - 1), computed here in integers,
so values on an edge fall exactly where pandas puts them. Where ties make two edges
equal, pandas refuses ("bin edges must be unique") and qtc keeps the formula (a bucket
may then be empty). A date with fewer than q names has no buckets.

Buckets are numbered 0 (lowest values) to q - 1 (highest); reports show them as 1..q.
nanobook's `py_quintile_spread` cuts the sorted names into q groups of equal count
(`array_split`); it agrees with these buckets when n is a multiple of q (tests/research),
but not otherwise, so the spread here is computed from the qcut buckets to match
alphalens' mean quantile returns. The spread is the raw top-minus-bottom difference
(nanobook's convention); alphalens-reloaded 0.5 reports half of it (a dollar-neutral
book at 100 % gross).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qtc.research.ranks import Array, Mask, first_ranks

NO_BUCKET = -1


def buckets(values: Array, mask: Mask, n_quantiles: int) -> npt.NDArray[np.int64]:
    """(R, N) bucket of each masked cell (0..q-1), `NO_BUCKET` elsewhere."""
    return buckets_of_ranks(first_ranks(values, mask), mask, n_quantiles)


def buckets_of_ranks(start: Array, mask: Mask, n_quantiles: int) -> npt.NDArray[np.int64]:
    """Buckets from `first_ranks` (0-based first rank of each cell's tie group)."""
    n = mask.sum(axis=1)
    out = np.full(start.shape, NO_BUCKET, dtype=np.int64)
    enough = (n >= max(n_quantiles, 2))[:, None] & mask
    a = np.where(enough, start, 0).astype(np.int64)
    span = np.maximum(n - 1, 1)[:, None]
    ceil = -(-(a * n_quantiles) // span)  # ceil(a q / (n - 1)), exact
    out[enough] = np.maximum(ceil - 1, 0)[enough]
    return out


def bucket_means(bucket: npt.NDArray[np.int64], returns: Array, n_quantiles: int) -> Array:
    """(R, q) mean of `returns` per date and bucket (NaN where a bucket is empty).

    Cells with a bucket but no finite return are left out.
    """
    rows = bucket.shape[0]
    ok = (bucket >= 0) & np.isfinite(returns)
    index = (np.arange(rows)[:, None] * n_quantiles + bucket)[ok]
    size = rows * n_quantiles
    sums = np.bincount(index, weights=returns[ok], minlength=size)
    counts = np.bincount(index, minlength=size)
    out = np.full(size, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out.reshape(rows, n_quantiles)


def spread(means: Array) -> Array:
    """(R,) top bucket mean minus bottom bucket mean per date (NaN where either is empty)."""
    out: Array = means[:, -1] - means[:, 0]
    return out


def cumulative(means: Array) -> Array:
    """(R, q) growth of 1 held in each bucket, compounding the per-date means.

    A date where a bucket has no return leaves its growth unchanged.
    """
    filled = np.where(np.isfinite(means), means, 0.0)
    return np.asarray(np.cumprod(1.0 + filled, axis=0), dtype=np.float64)
