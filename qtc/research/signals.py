"""The signals `qtc validate` studies, taken from the pipeline that trades them.

Requires a plan's market and the job of its backtest (`qtc.pipeline.runner.run_stages`).
Produces, on the signal dates, the eligibility mask (the strategy's universe), each used
factor's values and the composite score, with every ineligible name blanked (NaN): the
research sees exactly what the selection saw.

Signal dates are the plan's rebalance dates, or, on request, every trading day of the
window whose execution is inside it (the universe, factors and score are then recomputed
on those days by the same stage handlers, factors coming from the shared cache).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qtc.compile.plan import Plan
from qtc.compile.stages import ComputeFactors, LoadData, Score, SelectUniverse
from qtc.pipeline import handlers
from qtc.pipeline.handlers import Job
from qtc.pipeline.products import Calendar, Eligibility, FactorValues, Scores
from qtc.pipeline.schedule import execution_lag
from qtc.research.ranks import Array, Mask


@dataclass(frozen=True)
class Signals:
    """The studied signals on the signal dates.

    Attributes:
        dates: Signal dates, datetime64[D], (R,).
        rows: Their panel rows, (R,).
        lag: Rows from a signal to its execution (1 for `next_close`, 0 for `close`).
        eligible: The universe on each signal date, (R, N).
        score: Composite score, NaN where ineligible or unscored, (R, N).
        factors: Used factor name -> values, NaN where ineligible, (R, N).
        weights: Used factor name -> its scoring weight.
        every_day: Whether the signal dates are every trading day.
    """

    dates: np.ndarray
    rows: np.ndarray
    lag: int
    eligible: Mask
    score: Array
    factors: dict[str, Array]
    weights: dict[str, float]
    every_day: bool


def rebalance_signals(plan: Plan, job: Job) -> Signals:
    """The signals on the rebalance dates of a finished backtest job."""
    return _signals(plan, job, every_day=False)


def daily_signals(plan: Plan, backtest: Job) -> Signals:
    """The signals on every trading day of the window (execution inside the data)."""
    panel = backtest.market.panel
    lag = execution_lag(plan.spec(LoadData).execution)
    rows = np.arange(panel.start, panel.shape[0] - lag, dtype=np.int64)
    job = Job(market=backtest.market, cache=backtest.cache, warnings=[])
    job.products.put(Calendar(rows, rows + lag))
    job.products.put(handlers.select_universe(plan.spec(SelectUniverse), job))
    job.products.put(handlers.compute_factors(plan.spec(ComputeFactors), job))
    job.products.put(handlers.score(plan.spec(Score), job))
    return _signals(plan, job, every_day=True)


def _signals(plan: Plan, job: Job, *, every_day: bool) -> Signals:
    """Signals from a job whose stages ran through `score`."""
    got = job.products
    rows = got.need(Calendar).rows.astype(np.int64)
    eligible = got.need(Eligibility).eligible
    weights = {k: v for k, v in plan.spec(Score).factor_weights.items() if v != 0}
    values = got.need(FactorValues).values
    factors = {name: np.where(eligible, values[name][rows], np.nan) for name in weights}
    score = np.where(eligible, got.need(Scores).values, np.nan)
    return Signals(
        dates=job.market.panel.dates[rows].astype("datetime64[D]"),
        rows=rows,
        lag=execution_lag(plan.spec(LoadData).execution),
        eligible=eligible,
        score=score,
        factors=factors,
        weights=weights,
        every_day=every_day,
    )
