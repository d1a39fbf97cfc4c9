"""Pareto fronts: the trials no other trial beats on every objective at once."""

from __future__ import annotations

from collections.abc import Sequence


def front(points: Sequence[Sequence[float]], maximize: Sequence[bool]) -> list[int]:
    """Indices of the non-dominated points, in their order.

    A point dominates another when it is at least as good on every objective and
    strictly better on one. Points must be finite.

    Args:
        points: One tuple of objective values per point.
        maximize: Per objective, whether higher is better.
    """
    import numpy as np

    if not points:
        return []
    signs = np.array([-1.0 if up else 1.0 for up in maximize])
    costs = np.asarray(points, dtype=np.float64) * signs  # smaller is better everywhere
    out: list[int] = []
    for i, row in enumerate(costs):
        no_worse = np.all(costs <= row, axis=1)
        better = np.any(costs < row, axis=1)
        if not np.any(no_worse & better):
            out.append(i)
    return out
