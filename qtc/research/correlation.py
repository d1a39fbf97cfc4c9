"""The signals' correlation matrix: the mean over signal dates of each pair's rank correlation.

For each pair of signals and each date, the Spearman correlation over the names where
both have a value; the matrix entry is its mean over the dates where it is defined
(1 on the diagonal).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qtc.research.ranks import SortedRows, pearson_rows


def correlation_matrix(series: Sequence[SortedRows]) -> list[list[float | None]]:
    """Mean cross-sectional rank correlation of every pair of signals (each sorted once)."""
    size = len(series)
    out: list[list[float | None]] = [[None] * size for _ in range(size)]
    for i in range(size):
        out[i][i] = 1.0
        for j in range(i + 1, size):
            both = series[i].mask & series[j].mask
            left, right = series[i].average(both), series[j].average(both)
            per_date = pearson_rows(left, right, both)
            finite = per_date[np.isfinite(per_date)]
            value = float(finite.mean()) if finite.size else None
            out[i][j] = out[j][i] = value
    return out
