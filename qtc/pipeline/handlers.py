"""Stage handlers: one function per stage spec class, reading only its own spec.

A handler takes its spec and the `Job` (the market, the factor cache, the outputs of the
stages before it, warnings, progress) and returns its typed output
(`qtc.pipeline.products`). `HANDLERS` maps each spec class to its handler; the runner
dispatches on it and `qtc compile --explain` describes the same classes
(`StageSpec.requires`/`produces`). `WriteArtifacts` has no handler here: writing is the
outputs layer's job, run by the caller with the `RunResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtc.compile.stages import (
    ApplyRiskCaps,
    ComputeFactors,
    ComputeMetrics,
    LoadData,
    RunEngine,
    ScheduleWeights,
    Score,
    Select,
    SelectUniverse,
    Size,
    StageSpec,
)
from qtc.errors import QtcError
from qtc.pipeline import caps, engine, factors, schedule, scoring, selection, sizing, universe
from qtc.pipeline.empty import EmptyInput, explain_empty
from qtc.pipeline.market import Market
from qtc.pipeline.metrics import MetricsInput
from qtc.pipeline.metrics import compute_metrics as metric_groups
from qtc.pipeline.products import (
    Calendar,
    Eligibility,
    Execution,
    FactorValues,
    Metrics,
    Products,
    Schedule,
    Scores,
    Selection,
    Targets,
)
from qtc.pipeline.progress import Progress, no_progress, ticker


@dataclass
class Job:
    """One plan running on one market."""

    market: Market
    cache: factors.FactorCache
    products: Products = field(default_factory=Products)
    warnings: list[str] = field(default_factory=list)
    progress: Progress = no_progress
    timings: dict[str, float] = field(default_factory=dict)


def load_data(spec: LoadData, job: Job) -> Calendar:
    """The rebalance calendar on the market's dates (the market itself is already loaded)."""
    panel = job.market.panel
    rows = schedule.signal_rows(
        panel.dates,
        panel.start,
        spec.frequency,
        spec.execution,
        first=spec.first,
        next_date=job.market.next_date,
        keep_last=spec.signal_on_last_row,
    )
    if not len(rows):
        raise QtcError("the window has no rebalance date whose execution is inside it")
    return Calendar(rows, rows + schedule.execution_lag(spec.execution))


def select_universe(spec: SelectUniverse, job: Job) -> Eligibility:
    """The universe rules on each signal row and the symbols they leave eligible."""
    panel, rows = job.market.panel, job.products.need(Calendar).rows
    steps = universe.universe_steps(spec, panel, rows, job.market.lake, job.warnings)
    return Eligibility(steps, universe.eligible_mask(steps, panel, rows))


def compute_factors(spec: ComputeFactors, job: Job) -> FactorValues:
    """Every used factor on the market (from the cache when another plan computed it)."""
    panel = job.market.panel
    needed = np.zeros(len(panel.dates), bool)
    needed[job.products.need(Calendar).rows] = True
    values = factors.compute_factors(
        spec.used_factors(),
        panel,
        cache=job.cache,
        fundamentals=job.market.fundamentals,
        dates_needed=needed,
        tick=ticker(job.progress, spec.stage),
        market=job.market.key,
    )
    return FactorValues(values)


def score(spec: Score, job: Job) -> Scores:
    """Composite scores on signal rows (0 for every eligible name without factors)."""
    eligible = job.products.need(Eligibility).eligible
    if not spec.factor_weights:
        return Scores(np.where(eligible, 0.0, np.nan), spec)
    rows = job.products.need(Calendar).rows
    values = job.products.need(FactorValues).values
    return Scores(scoring.score(spec, values, rows, eligible, job.market.panel.sectors), spec)


def select(spec: Select, job: Job) -> Selection:
    """The names to hold, with a warning for each rebalance that selects none."""
    got = job.products
    scores, universe_out = got.need(Scores), got.need(Eligibility)
    selected = selection.select(spec.selection, scores.values)
    job.warnings += explain_empty(
        EmptyInput(
            dates=job.market.panel.dates,
            rows=got.need(Calendar).rows,
            steps=universe_out.steps,
            eligible=universe_out.eligible,
            factors=got.need(FactorValues).values,
            score=scores.rules,
            scores=scores.values,
            selection=spec.selection,
            selected=selected,
        )
    )
    return Selection(selected)


def size(spec: Size, job: Job) -> Targets:
    """Target weights of the selected names."""
    weights, notes = sizing.size_with_notes(
        spec.sizing,
        job.products.need(Selection).selected,
        job.market.returns if sizing.needs_returns(spec.sizing) else None,
        job.products.need(Calendar).rows,
        tick=ticker(job.progress, spec.stage),
    )
    job.warnings += notes
    return Targets(weights)


def apply_risk_caps(spec: ApplyRiskCaps, job: Job) -> Targets:
    """Targets capped at the smaller of the risk and sizing caps, scaled by the regime."""
    capped = caps.cap_weights(
        job.products.need(Targets).weights, min(spec.risk.max_position_pct, spec.max_weight)
    )
    macro = job.market.macro() if spec.regime.kind != "none" else {}
    exposure = caps.regime_exposure(spec.regime, macro, job.products.need(Calendar).rows)
    return Targets(caps.apply_regime(capped, exposure))


def schedule_weights(spec: ScheduleWeights, job: Job) -> Schedule:
    """The targets on the execution rows of their signals."""
    return Schedule(job.products.need(Calendar).exec_rows, job.products.need(Targets).weights)


def run_engine(spec: RunEngine, job: Job) -> Execution:
    """Fills, costs, stops and daily equity from nanobook."""
    panel = job.market.panel
    plan = job.products.need(Schedule)
    marks = job.market.marks
    result = engine.run_engine(
        engine.EngineInput(
            dates=panel.dates,
            symbols=panel.symbols,
            prices=panel.adj_close,
            first_row=panel.start,
            exec_rows=plan.exec_rows,
            targets=plan.targets,
            initial_cash=spec.initial_cash,
            costs=spec.costs,
            fractional=spec.fractional_shares,
            no_trade_band_bps=spec.no_trade_band_bps,
            min_order_value=spec.min_order_value,
            max_drawdown_pct=spec.max_drawdown_pct,
            stops=spec.stops,
            last_rows=job.market.last_rows,
        ),
        marks=marks,
    )
    return Execution(result, marks)


def compute_metrics(spec: ComputeMetrics, job: Job) -> Metrics:
    """Performance and benchmark-relative metrics of the daily equity over the window."""
    panel = job.market.panel
    run = job.products.need(Execution)
    window = slice(panel.start, None)
    daily = run.result.weights(job.market.marks_or_zero[window], finite=True)
    values = metric_groups(
        MetricsInput(
            dates=panel.dates[window],
            equity=run.result.equity,
            benchmark=panel.benchmark[window],
            rf=panel.rf[window] if spec.risk_free == "lake_rates" else np.zeros(len(daily)),
            weights=daily,
            traded_notional=run.result.traded_notional,
            costs_paid=run.result.costs_paid,
        ),
        periods_per_year=spec.periods_per_year,
    )
    return Metrics(values, daily)


HANDLERS: dict[type[StageSpec], Callable[[Any, Job], object]] = {
    LoadData: load_data,
    SelectUniverse: select_universe,
    ComputeFactors: compute_factors,
    Score: score,
    Select: select,
    Size: size,
    ApplyRiskCaps: apply_risk_caps,
    ScheduleWeights: schedule_weights,
    RunEngine: run_engine,
    ComputeMetrics: compute_metrics,
}
"""Stage spec class -> handler (every stage but WriteArtifacts, which the caller runs)."""
