"""Cross-sectional ranks and correlations on (dates x symbols) arrays, every row at once.

Each row is one signal date; a mask says which cells take part (finite values of the
symbols in the sample). Conventions, the same as scipy's `rankdata` and pandas' `rank`:

* average ranks are 1-based and ties share the mean of the ranks they span;
* the first rank of a tie group (0-based: how many sample values are smaller) is what
  quantile buckets use;
* a correlation needs at least `MIN_NAMES` cells and two distinct values on each side,
  else it is NaN (nanobook's `py_spearman` and scipy's `spearmanr` agree on it).

Spearman's rank correlation is the Pearson correlation of the average ranks (scipy's
definition); it equals nanobook's `py_spearman` to about 1e-16 (tests/research).

`SortedRows` sorts each row once and then ranks any subset of its cells without sorting
again (counting the subset's cells in sorted order): a signal is ranked over many samples
(one per horizon) at the cost of one sort.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

MIN_NAMES = 3
"""Fewest names on a date for a correlation (fewer give NaN)."""


class SortedRows:
    """Each row's sample values in ascending order, with their tie groups.

    Attributes:
        values: The values sorted.
        mask: The cells sorted (the sample); ranks are asked for subsets of it.
    """

    def __init__(self, values: Array, mask: Mask) -> None:
        """Sort each row of `values` over `mask` (cells outside it sort last)."""
        rows, cols = values.shape
        x = np.where(mask, values, np.inf)
        order = np.argsort(x, axis=1)
        self.mask = mask
        self.values = values
        self._shape = (rows, cols)
        self._flat = (order + (np.arange(rows) * cols)[:, None]).ravel()
        ordered = x.ravel()[self._flat].reshape(rows, cols)
        starts = np.ones((rows, cols), dtype=bool)
        starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        self._first_cells = np.flatnonzero(starts)
        self._group = np.cumsum(starts.ravel()) - 1

    def ranks(self, subset: Mask | None = None) -> tuple[Array, Array]:
        """(average ranks, first ranks) of `subset`'s cells among themselves, per row.

        Counting, in sort order, the subset's cells before each tie group gives its first
        rank; the group's count gives the average rank (first + (count + 1) / 2).

        Args:
            subset: Cells of the sample to rank (default: the whole sample).

        Returns:
            1-based average ranks and 0-based first ranks of each cell's tie group,
            in column order, NaN outside `subset`.
        """
        sub, first, size = self._count(subset)
        average = first + (size + 1.0) / 2.0
        return self._unsort(average, sub), self._unsort(first, sub)

    def average(self, subset: Mask | None = None) -> Array:
        """The average ranks of `ranks` alone."""
        sub, first, size = self._count(subset)
        return self._unsort(first + (size + 1.0) / 2.0, sub)

    def first(self, subset: Mask | None = None) -> Array:
        """The first ranks of `ranks` alone."""
        sub, first, _ = self._count(subset)
        return self._unsort(first, sub)

    def _count(self, subset: Mask | None) -> tuple[Mask, Array, Array]:
        """The subset (within the sample), and per sorted cell its group's first rank and size."""
        sub = self.mask if subset is None else subset & self.mask
        inside = sub.ravel()[self._flat]
        counted = np.cumsum(inside.reshape(self._shape), axis=1, dtype=np.int32).ravel()
        first = (counted - inside)[self._first_cells][self._group].astype(np.float64)
        size = np.bincount(self._group, weights=inside, minlength=self._first_cells.size)
        return sub, first, size[self._group]

    def _unsort(self, ordered: Array, sub: Mask) -> Array:
        """Values given in sort order (flat), put back in column order (NaN outside `sub`)."""
        out = np.empty(ordered.size)
        out[self._flat] = ordered
        shaped = out.reshape(self._shape)
        shaped[~sub] = np.nan
        return shaped


def average_ranks(values: Array, mask: Mask) -> Array:
    """1-based average ranks of each row's masked cells (NaN elsewhere), (R, N)."""
    return SortedRows(values, mask).ranks()[0]


def first_ranks(values: Array, mask: Mask) -> Array:
    """0-based rank of the first member of each cell's tie group (NaN outside the mask)."""
    return SortedRows(values, mask).ranks()[1]


def pearson_rows(x: Array, y: Array, mask: Mask) -> Array:
    """Pearson correlation of x and y over each row's masked cells, (R,).

    Two passes (means first) for accuracy. NaN where a row has fewer than `MIN_NAMES`
    cells or either side does not vary.
    """
    n = mask.sum(axis=1)
    safe = np.maximum(n, 1)
    xs = np.where(mask, x, 0.0)
    ys = np.where(mask, y, 0.0)
    dx = np.where(mask, xs - (xs.sum(axis=1) / safe)[:, None], 0.0)
    dy = np.where(mask, ys - (ys.sum(axis=1) / safe)[:, None], 0.0)
    sxx = np.einsum("ij,ij->i", dx, dx)
    syy = np.einsum("ij,ij->i", dy, dy)
    sxy = np.einsum("ij,ij->i", dx, dy)
    ok = (n >= MIN_NAMES) & (sxx > 0) & (syy > 0)
    out = np.full(n.shape, np.nan)
    out[ok] = sxy[ok] / np.sqrt(sxx[ok] * syy[ok])
    return out


def spearman_rows(x: Array, y: Array, mask: Mask) -> Array:
    """Spearman rank correlation of x and y over each row's masked cells, (R,)."""
    return pearson_rows(average_ranks(x, mask), average_ranks(y, mask), mask)


def finite_pair(x: Array, y: Array) -> Mask:
    """Cells where both x and y are finite."""
    mask: Mask = np.isfinite(x) & np.isfinite(y)
    return mask
