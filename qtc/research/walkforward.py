"""Walk-forward out of sample: pick on each training fold, score on the next test fold.

Requires the daily returns of every candidate on the window's trading days (the strategy
as written, or each variant of its `[search]` space, every one run once over the whole
window by the backtest pipeline) and the folds (`qtc.research.folds`). For each fold, the
candidate with the best objective on the training days (ties: the lower trial number) is
scored on the test days. A candidate's return on day d depends only on data up to d, so
picking on the training days' returns never sees the test fold.

Metrics are nanobook's (`qtc.pipeline.nb_metrics`) on daily returns, 252 periods a year,
with the mean daily risk-free rate of the same days when the strategy uses the lake's
rates. The stitched out-of-sample series is the test folds' returns end to end (the
chosen candidate of each fold); in-sample is the mean of the folds' training figures;
the walk-forward efficiency is out-of-sample Sharpe over in-sample Sharpe (undefined when
in-sample Sharpe is not positive).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtc.pipeline.nb_metrics import nanobook_metrics
from qtc.research.folds import Fold
from qtc.research.ranks import Array
from qtc.search.objective import Objective

PERIODS_PER_YEAR = 252
FIGURES = ("sharpe", "cagr", "volatility", "max_drawdown", "total_return")
"""The figures kept for each fold and for the stitched series (plus the objective)."""


@dataclass(frozen=True)
class Candidate:
    """A strategy the walk-forward may pick.

    Attributes:
        number: Trial number (0 for the strategy as written without a search).
        params: Its searched values (empty for the strategy as written).
        returns: Daily returns on the window's trading days, (D,), finite.
    """

    number: int
    params: dict[str, Any]
    returns: Array


@dataclass(frozen=True)
class FoldResult:
    """One fold: what was picked on its training days and how it did on its test days."""

    fold: Fold
    chosen: int
    params: dict[str, Any]
    in_sample: dict[str, float | None]
    out_of_sample: dict[str, float | None]


@dataclass
class WalkForward:
    """The walk-forward of one strategy (see the module docstring)."""

    scheme: str
    objective: Objective
    reselect: bool
    n_candidates: int
    folds: list[FoldResult] = field(default_factory=list)
    oos_days: tuple[int, int] = (0, 0)
    oos_returns: Array = field(default_factory=lambda: np.zeros(0))
    oos: dict[str, float | None] = field(default_factory=dict)
    in_sample: dict[str, float | None] = field(default_factory=dict)

    @property
    def efficiency(self) -> float | None:
        """Out-of-sample Sharpe over mean in-sample Sharpe (None when undefined)."""
        oos, ins = self.oos.get("sharpe"), self.in_sample.get("sharpe")
        if oos is None or ins is None or ins <= 0:
            return None
        return oos / ins


def walk_forward(
    candidates: Sequence[Candidate],
    folds: Sequence[Fold],
    rf: Array,
    objective: Objective,
    *,
    scheme: str,
    reselect: bool,
) -> WalkForward:
    """Pick and score on every fold, then stitch the test folds."""
    names = list(dict.fromkeys([*FIGURES, objective.metric]))
    result = WalkForward(scheme, objective, reselect, len(candidates))
    pieces: list[Array] = []
    for fold in folds:
        best = _best(candidates, fold, rf, objective)
        train, test = slice(*fold.train), slice(*fold.test)
        result.folds.append(
            FoldResult(
                fold=fold,
                chosen=best.number,
                params=best.params,
                in_sample=_figures(best.returns[train], rf[train], names),
                out_of_sample=_figures(best.returns[test], rf[test], names),
            )
        )
        pieces.append(best.returns[test])
    result.oos_days = (folds[0].test[0], folds[-1].test[1])
    result.oos_returns = np.concatenate(pieces)
    result.oos = _figures(result.oos_returns, rf[slice(*result.oos_days)], names)
    result.in_sample = {
        name: _mean([f.in_sample.get(name) for f in result.folds]) for name in names
    }
    return result


def _best(
    candidates: Sequence[Candidate], fold: Fold, rf: Array, objective: Objective
) -> Candidate:
    """The candidate with the best objective on the fold's training days."""
    train = slice(*fold.train)
    best: Candidate | None = None
    best_key = math.inf
    for candidate in candidates:
        value = _figures(candidate.returns[train], rf[train], [objective.metric])
        key = objective.key(value[objective.metric])
        if best is None or key < best_key:
            best, best_key = candidate, key
    assert best is not None  # callers pass at least one candidate
    return best


def _figures(returns: Array, rf: Array, names: Sequence[str]) -> dict[str, float | None]:
    """The nanobook metrics of a stretch of daily returns (None where not finite)."""
    metrics = nanobook_metrics(returns, PERIODS_PER_YEAR, float(rf.mean()) if rf.size else 0.0)
    return {name: _finite(metrics.get(name)) for name in names}


def _finite(value: float | None) -> float | None:
    """None for a missing, NaN or infinite value."""
    return float(value) if value is not None and math.isfinite(value) else None


def _mean(values: Sequence[float | None]) -> float | None:
    """Mean of the defined values."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None
