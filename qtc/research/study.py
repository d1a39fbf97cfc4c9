"""Study every signal of a strategy: the composite score first, then each used factor.

Requires the signals (`qtc.research.signals`) and the market's forward-filled closes.
Produces one `SignalStudy` per signal and their correlation matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qtc.research.correlation import correlation_matrix
from qtc.research.factor_stats import SignalStudy, study_signal
from qtc.research.forward import forward_returns, holding_returns
from qtc.research.ranks import Array, SortedRows
from qtc.research.request import Settings
from qtc.research.signals import Signals

SCORE = "score"
FACTOR = "factor"


@dataclass(frozen=True)
class Research:
    """The studies of every signal and their correlations (same order)."""

    studies: list[SignalStudy]
    correlation: list[list[float | None]]

    @property
    def score(self) -> SignalStudy:
        """The composite score's study."""
        return self.studies[0]


def study_all(signals: Signals, marks: Array, settings: Settings) -> Research:
    """The score's and every used factor's study (see `qtc.research.factor_stats`)."""
    forwards = {
        h: _sorted(forward_returns(marks, signals.rows, signals.lag, h)) for h in settings.horizons
    }
    holding = holding_returns(marks, signals.rows, signals.lag)
    q = settings.n_quantiles
    eligible = signals.eligible
    series: list[tuple[str, str, float | None, Array]] = [(SCORE, SCORE, None, signals.score)]
    series += [(FACTOR, n, signals.weights[n], v) for n, v in signals.factors.items()]
    studies, ordered = [], []
    for kind, name, weight, values in series:
        found, rows = study_signal(kind, name, weight, values, eligible, forwards, holding, q)
        studies.append(found)
        ordered.append(rows)
    return Research(studies, correlation_matrix(ordered))


def _sorted(values: Array) -> SortedRows:
    """Values sorted over their finite cells."""
    return SortedRows(values, np.isfinite(values))
