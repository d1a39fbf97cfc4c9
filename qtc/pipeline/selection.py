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
    """Every rebalance at once: the best `count` scores per row, ties by column order.

    The same names as ranking each row by a stable argsort of the negated scores and
    keeping ranks below `count`, without the sort's permutation: a row keeps the names
    better than its `count`-th best score, then the first names (by column) of those
    tied with it until `count` are kept.
    """
    ok: np.ndarray = np.isfinite(scores)
    if spec.min_score is not None:
        ok &= scores >= spec.min_score
    if not scores.shape[1]:
        return ok
    keyed = np.where(ok, -scores, np.inf)
    counts = np.array([_count(spec, int(n)) for n in ok.sum(axis=1)], np.int64)
    cut = np.sort(keyed, axis=1)[np.arange(len(counts)), np.maximum(counts - 1, 0)]
    chosen: np.ndarray = keyed <= cut[:, None]
    chosen &= ok
    chosen[counts == 0] = False
    tied = np.flatnonzero(chosen.sum(axis=1) > counts)
    if tied.size:
        chosen[tied] = _first_of_ties(keyed[tied], cut[tied], counts[tied])
    return chosen


def _first_of_ties(keyed: np.ndarray, cut: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Rows with more names at their cut score than places: the first ones by column."""
    better = keyed < cut[:, None]
    at_cut = keyed == cut[:, None]
    places = counts - better.sum(axis=1)
    kept: np.ndarray = better | (at_cut & (np.cumsum(at_cut, axis=1) <= places[:, None]))
    return kept


def _count(spec: SelectionSection, available: int) -> int:
    """How many names to hold out of `available` scored ones."""
    if spec.top_n is not None:
        return min(spec.top_n, available)
    if spec.quantile is not None:
        return min(available, math.ceil(spec.quantile * available))
    return available
