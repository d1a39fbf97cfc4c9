"""Information coefficients: per signal date, then summarised over dates.

IC is the Pearson correlation between a signal and the forward returns across the names
of one date; rank IC is the Spearman correlation (alphalens' "IC"). Over the dates with
a finite value (n of them):

* mean, std (n - 1 divisor, as pandas), ICIR = mean / std, t-stat = mean / (std / √n)
  (scipy's one-sample t-test against 0, which alphalens reports), hit rate = share of
  dates with IC > 0.

Forward returns of overlapping horizons (a 63-day horizon on monthly dates) are not
independent, so the t-stat overstates significance there; compare ICIR across horizons.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qtc.research.ranks import Array


@dataclass(frozen=True)
class IcSummary:
    """An IC series summarised over its dates (None where undefined)."""

    mean: float | None
    std: float | None
    icir: float | None
    t_stat: float | None
    hit_rate: float | None
    n_dates: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def summarize(series: Array) -> IcSummary:
    """Mean, std, ICIR, t-stat and hit rate of an IC series (NaN dates left out)."""
    values = series[np.isfinite(series)]
    n = int(values.size)
    if n == 0:
        return IcSummary(None, None, None, None, None, 0)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if n > 1 else math.nan
    icir = mean / std if n > 1 and std > 0 else math.nan
    t_stat = icir * math.sqrt(n) if math.isfinite(icir) else math.nan
    hit = float(np.count_nonzero(values > 0)) / n
    return IcSummary(mean, _num(std), _num(icir), _num(t_stat), hit, n)


def _num(value: float) -> float | None:
    """None for NaN or infinity."""
    return value if math.isfinite(value) else None
