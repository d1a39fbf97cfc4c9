"""Everything `qtc validate` measures about one signal (a factor or the composite score).

Requires the signal's values on the signal dates, restricted to the strategy's eligible
names (NaN elsewhere), the eligibility mask, the forward returns at each horizon and the
holding-period returns (`qtc.research.forward`). Produces, per horizon, the IC and rank IC
series with their summaries, the mean forward return of each quantile bucket per date,
their averages over dates and the top-minus-bottom spread; and, once per signal, the
cumulative quantile returns over holding periods, the rank autocorrelation, the
top-quantile turnover and the coverage.

The sample of a date at a horizon is the names with a value and a forward return there
(alphalens' clean sample); buckets are cut within it. Turnover and autocorrelation use
the names with a value; the cumulative returns the names with a value and a
holding-period return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from qtc.research import quantiles, stability
from qtc.research.ic import IcSummary, summarize
from qtc.research.ranks import Array, Mask, SortedRows, pearson_rows


@dataclass(frozen=True)
class HorizonStudy:
    """A signal against the forward returns of one horizon.

    Attributes:
        horizon: Trading days after the execution close.
        ic: Pearson IC per signal date, (R,).
        rank_ic: Spearman rank IC per signal date, (R,).
        ic_summary: Summary of `ic`.
        rank_ic_summary: Summary of `rank_ic`.
        quantile_means: Mean forward return per date and bucket, (R, q).
        spread: Top minus bottom bucket mean per date, (R,).
    """

    horizon: int
    ic: Array
    rank_ic: Array
    ic_summary: IcSummary
    rank_ic_summary: IcSummary
    quantile_means: Array
    spread: Array

    def mean_by_quantile(self) -> list[float | None]:
        """Average over dates of each bucket's mean forward return (None if never filled)."""
        return [_mean(self.quantile_means[:, b]) for b in range(self.quantile_means.shape[1])]

    def mean_spread(self) -> float | None:
        """Average over dates of the top-minus-bottom spread."""
        return _mean(self.spread)


@dataclass(frozen=True)
class SignalStudy:
    """One signal studied on the signal dates.

    Attributes:
        kind: `score` (the composite) or `factor`.
        name: The factor's name (`score` for the composite).
        weight: The factor's scoring weight (None for the score).
        horizons: One study per horizon, in the order asked.
        cumulative: Growth of 1 held in each bucket over holding periods, (R, q).
        autocorrelation: Rank autocorrelation with the previous date, (R,).
        turnover: Share of new names in the top bucket, (R,).
        coverage: Share of eligible names with a value, (R,).
    """

    kind: str
    name: str
    weight: float | None
    horizons: list[HorizonStudy] = field(default_factory=list)
    cumulative: Array = field(default_factory=lambda: np.zeros((0, 0)))
    autocorrelation: Array = field(default_factory=lambda: np.zeros(0))
    turnover: Array = field(default_factory=lambda: np.zeros(0))
    coverage: Array = field(default_factory=lambda: np.zeros(0))

    def at(self, horizon: int) -> HorizonStudy:
        """The study at `horizon`."""
        return next(h for h in self.horizons if h.horizon == horizon)


def study_signal(
    kind: str,
    name: str,
    weight: float | None,
    values: Array,
    eligible: Mask,
    forwards: dict[int, SortedRows],
    holding: Array,
    n_quantiles: int,
) -> tuple[SignalStudy, SortedRows]:
    """Measure one signal (see the module docstring).

    Args:
        kind: `score` or `factor`.
        name: The signal's name.
        weight: Its scoring weight (None for the score).
        values: (R, N) values on the signal dates, NaN where ineligible or missing.
        eligible: (R, N) the universe on the signal dates.
        forwards: Horizon -> the forward returns, sorted over their finite cells.
        holding: (R, N) holding-period returns.
        n_quantiles: Buckets.

    Returns:
        The study, and the signal's values sorted over its sample (for correlations).
    """
    present = np.isfinite(values)
    ordered = SortedRows(values, present)
    per_horizon = [_horizon(values, ordered, fwd, h, n_quantiles) for h, fwd in forwards.items()]
    held = present & np.isfinite(holding)
    held_buckets = quantiles.buckets_of_ranks(ordered.first(held), held, n_quantiles)
    average, first = ordered.ranks()
    top = quantiles.buckets_of_ranks(first, present, n_quantiles)
    study = SignalStudy(
        kind=kind,
        name=name,
        weight=weight,
        horizons=per_horizon,
        cumulative=quantiles.cumulative(quantiles.bucket_means(held_buckets, holding, n_quantiles)),
        autocorrelation=stability.rank_autocorrelation(average, present),
        turnover=stability.top_turnover(top, n_quantiles),
        coverage=stability.coverage(values, eligible),
    )
    return study, ordered


def _horizon(
    values: Array, ordered: SortedRows, fwd: SortedRows, horizon: int, n_quantiles: int
) -> HorizonStudy:
    """IC, rank IC and quantile returns at one horizon."""
    mask = ordered.mask & fwd.mask
    value_ranks, firsts = ordered.ranks(mask)
    fwd_ranks = fwd.average(mask)
    returns = fwd.values
    ic = pearson_rows(values, returns, mask)
    rank_ic = pearson_rows(value_ranks, fwd_ranks, mask)
    bucket: npt.NDArray[np.int64] = quantiles.buckets_of_ranks(firsts, mask, n_quantiles)
    means = quantiles.bucket_means(bucket, returns, n_quantiles)
    return HorizonStudy(
        horizon=horizon,
        ic=ic,
        rank_ic=rank_ic,
        ic_summary=summarize(ic),
        rank_ic_summary=summarize(rank_ic),
        quantile_means=means,
        spread=quantiles.spread(means),
    )


def _mean(series: Array) -> float | None:
    """Mean of the finite values (None when there are none)."""
    values = series[np.isfinite(series)]
    return float(values.mean()) if values.size else None
