"""Select: which scored symbols to hold at each rebalance.

Requires (R, N) scores. Produces an (R, N) bool selection. `top_n` keeps the N
best scores, `quantile` the best fraction (rounded up), neither keeps every
scored symbol; `min_score` drops lower scores. With `buffer`, a name held at
the previous rebalance stays while its rank is within `top_n + buffer`, and
the remaining slots go to the best new names (hysteresis). Ties are broken by
column order, so results are deterministic. Without a buffer every
rebalance is ranked at once; with one, the loop goes rebalance by rebalance,
because the buffer depends on the previous selection.
"""

from __future__ import annotations

import math

import numpy as np

from qtc.manifest.scoring import SelectionSection


def select(spec: SelectionSection, scores: np.ndarray) -> np.ndarray:
    """The selection mask, (R, N)."""
    if not spec.buffer:
        return _ranked(spec, scores)
    chosen = np.zeros(scores.shape, bool)
    previous = np.zeros(scores.shape[1], bool)
    for r in range(scores.shape[0]):
        chosen[r] = _one(spec, scores[r], previous)
        previous = chosen[r]
    return chosen


def _one(spec: SelectionSection, row: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Selection for one rebalance."""
    ok = np.isfinite(row)
    if spec.min_score is not None:
        ok &= row >= spec.min_score
    candidates = np.flatnonzero(ok)
    order = candidates[np.lexsort((candidates, -row[candidates]))]
    count = _count(spec, len(order))
    out = np.zeros(len(row), bool)
    if spec.buffer and previous.any():
        keep = [j for j in order[: count + spec.buffer] if previous[j]][:count]
        out[keep] = True
        fresh = [j for j in order if not out[j]][: count - len(keep)]
        out[fresh] = True
    else:
        out[order[:count]] = True
    return out


def _ranked(spec: SelectionSection, scores: np.ndarray) -> np.ndarray:
    """Every rebalance at once: the best `count` scores per row, ties by column order."""
    ok = np.isfinite(scores)
    if spec.min_score is not None:
        ok &= scores >= spec.min_score
    keyed = np.where(ok, -scores, np.inf)
    order = np.argsort(keyed, axis=1, kind="stable")
    ranks = np.empty(scores.shape, np.int64)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    available = ok.sum(axis=1)
    counts = np.array([_count(spec, int(n)) for n in available], np.int64)
    chosen: np.ndarray = (ranks < counts[:, None]) & ok
    return chosen


def _count(spec: SelectionSection, available: int) -> int:
    """How many names to hold out of `available` scored ones."""
    if spec.top_n is not None:
        return min(spec.top_n, available)
    if spec.quantile is not None:
        return min(available, math.ceil(spec.quantile * available))
    return available
