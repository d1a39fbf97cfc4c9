"""run_plan: dispatch a Plan's stages, in order, on one shared context.

Each stage function takes its spec and the context, reads what it requires
and sets what it produces (see each module's docstring). `write_artifacts` is
not run here: writing is the outputs layer's job (`qtc.outputs.artifacts`),
called by the API with the `RunResult`.

Before any data is read, the plan's symbols, sectors and benchmarks are checked
against the lake (`qtc.pipeline.names`). Only factors with a non-zero composite
weight are loaded for and computed (`factors.used_factors`). Rebalances that
select nothing are explained by the first step that left no symbol
(`qtc.pipeline.empty`). An optional `Progress` callback hears each stage start
and the steps of long loops (`qtc.pipeline.progress`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtc.compile.plan import Plan
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
)
from qtc.errors import QtcError
from qtc.lake.read.reader import Lake
from qtc.manifest.factors import AtrFactor, BetaFactor, FactorSpec, FundamentalFactor
from qtc.manifest.universe import SymbolsUniverse
from qtc.pipeline import caps, engine, factors, schedule, scoring, selection, sizing, universe
from qtc.pipeline.data import load_data
from qtc.pipeline.empty import EmptyInput, explain_empty
from qtc.pipeline.metrics import MetricsInput, compute_metrics
from qtc.pipeline.names import check_names
from qtc.pipeline.panel import Panel
from qtc.pipeline.progress import Progress, no_progress, ticker


@dataclass
class RunContext:
    """Everything the stages share while a plan runs."""

    plan: Plan
    lake: Lake
    cache: factors.FactorCache
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    progress: Progress = no_progress
    panel: Panel | None = None
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    exec_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    eligible: np.ndarray | None = None
    universe_steps: list[universe.UniverseStep] = field(default_factory=list)
    factor_values: dict[str, np.ndarray] = field(default_factory=dict)
    scores: np.ndarray | None = None
    selected: np.ndarray | None = None
    targets: np.ndarray | None = None
    result: engine.EngineResult | None = None
    marks: np.ndarray | None = None
    daily_weights: np.ndarray | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    def need_panel(self) -> Panel:
        """The loaded panel (a stage ran out of order if it is missing)."""
        if self.panel is None:
            raise QtcError("pipeline stage ran before load_data (a bug in qtc)")
        return self.panel


@dataclass
class RunResult:
    """What a run produced, ready for artifacts and reports."""

    plan: Plan
    dates: np.ndarray
    symbols: list[str]
    equity: np.ndarray
    benchmark: np.ndarray
    weights: np.ndarray
    shares: np.ndarray
    traded_notional: np.ndarray
    costs_paid: np.ndarray
    sectors: list[str]
    closes: np.ndarray
    signal_dates: np.ndarray
    execution_dates: np.ndarray
    targets: np.ndarray
    events: list[dict[str, Any]]
    metrics: dict[str, dict[str, float]]
    warnings: list[str]
    dataset_hashes: dict[str, str]
    timings: dict[str, float]

    @property
    def returns(self) -> np.ndarray:
        """Daily simple returns of equity (first day relative to initial cash)."""
        cash = self.plan.stage("run_engine").initial_cash  # type: ignore[union-attr]
        prev = np.concatenate([[cash], self.equity[:-1]])
        out: np.ndarray = self.equity / prev - 1.0
        return out


def run_plan(
    plan: Plan,
    lake: Lake,
    *,
    cache: factors.FactorCache | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run every stage of a plan on the lake (artifacts are written by the caller).

    Args:
        plan: The plan.
        lake: The lake to read.
        cache: Factor cache shared with other runs on the same panel.
        progress: Hears `(stage, 0, 0)` as each stage starts and `(stage, done, total)`
            inside long loops (factors, optimizer sizing).

    Returns:
        The run's result.

    Raises:
        UserError: If a symbol, sector or benchmark of the plan is not in the lake, or
            the window has no data.
        QtcError: If the run fails.
    """
    ctx = RunContext(
        plan=plan,
        lake=lake,
        cache=cache if cache is not None else factors.FactorCache(),
        progress=progress or no_progress,
    )
    check_names(plan, lake, used_factors(plan), ctx.warnings)
    for spec in plan.stages:
        step = STAGES.get(spec.stage)
        if step is None:
            continue
        ctx.progress(spec.stage, 0, 0)
        began = time.perf_counter()
        step(spec, ctx)
        ctx.timings[spec.stage] = time.perf_counter() - began
    return _result(ctx)


def used_factors(plan: Plan) -> tuple[FactorSpec, ...]:
    """The plan's factors with a non-zero composite weight (the only ones computed)."""
    specs = plan.stage("compute_factors").factors  # type: ignore[union-attr]
    weights = plan.stage("score").factor_weights  # type: ignore[union-attr]
    return factors.used_factors(specs, weights)


def _load(spec: Any, ctx: RunContext) -> None:
    """LoadData. Requires: the lake. Produces: `panel`, signal `rows`, `exec_rows`."""
    assert isinstance(spec, LoadData)
    plan = ctx.plan
    uni = plan.stage("select_universe").universe  # type: ignore[union-attr]
    wanted = list(uni.symbols) if isinstance(uni, SymbolsUniverse) else None
    specs = used_factors(plan)
    ohlc = any(isinstance(f, AtrFactor) for f in specs)
    others = tuple(f.benchmark for f in specs if isinstance(f, BetaFactor) and f.benchmark)
    raw = uni.min_price > 0 or any(isinstance(f, FundamentalFactor) for f in specs)
    ctx.panel = load_data(
        spec, ctx.lake, ohlc=ohlc, raw_close=raw, symbols=wanted, benchmarks=others
    )
    sched = plan.stage("schedule_weights")
    assert isinstance(sched, ScheduleWeights)
    ctx.rows = schedule.signal_rows(
        ctx.panel.dates, ctx.panel.start, sched.frequency, sched.execution
    )
    ctx.exec_rows = ctx.rows + schedule.execution_lag(sched.execution)
    if not len(ctx.rows):
        raise QtcError("the window has no rebalance date whose execution is inside it")


def _universe(spec: Any, ctx: RunContext) -> None:
    """SelectUniverse. Requires: `panel`, `rows`. Produces: `eligible` (R, N) bool."""
    assert isinstance(spec, SelectUniverse)
    panel = ctx.need_panel()
    ctx.universe_steps = universe.universe_steps(spec, panel, ctx.rows, ctx.lake, ctx.warnings)
    ctx.eligible = universe.eligible_mask(ctx.universe_steps, panel, ctx.rows)


def _factors(spec: Any, ctx: RunContext) -> None:
    """ComputeFactors. Requires: `panel` (+ fundamentals). Produces: `factor_values` (T, N).

    Only the factors with a non-zero composite weight are computed.
    """
    assert isinstance(spec, ComputeFactors)
    panel = ctx.need_panel()
    needed = np.zeros(len(panel.dates), bool)
    needed[ctx.rows] = True
    ctx.factor_values = factors.compute_factors(
        used_factors(ctx.plan),
        panel,
        cache=ctx.cache,
        fundamentals=lambda pit, lag: factors.lake_fundamentals(ctx.lake, pit, lag),
        dates_needed=needed,
        tick=ticker(ctx.progress, spec.stage),
    )


def _score(spec: Any, ctx: RunContext) -> None:
    """Score. Requires: `factor_values`, `eligible`. Produces: `scores` (R, N)."""
    assert isinstance(spec, Score) and ctx.eligible is not None
    panel = ctx.need_panel()
    if not spec.factor_weights:
        ctx.scores = np.where(ctx.eligible, 0.0, np.nan)
        return
    ctx.scores = scoring.score(spec, ctx.factor_values, ctx.rows, ctx.eligible, panel.sectors)


def _select(spec: Any, ctx: RunContext) -> None:
    """Select. Requires: `scores`. Produces: `selected` (R, N) bool (+ why some are empty)."""
    assert isinstance(spec, Select) and ctx.scores is not None and ctx.eligible is not None
    ctx.selected = selection.select(spec.selection, ctx.scores)
    score = ctx.plan.stage("score")
    assert isinstance(score, Score)
    ctx.warnings += explain_empty(
        EmptyInput(
            dates=ctx.need_panel().dates,
            rows=ctx.rows,
            steps=ctx.universe_steps,
            eligible=ctx.eligible,
            factors=ctx.factor_values,
            score=score,
            scores=ctx.scores,
            selection=spec.selection,
            selected=ctx.selected,
        )
    )


def _size(spec: Any, ctx: RunContext) -> None:
    """Size. Requires: `selected`, daily returns. Produces: `targets` (R, N) weights."""
    assert isinstance(spec, Size) and ctx.selected is not None
    panel = ctx.need_panel()
    weights, notes = sizing.size_with_notes(
        spec.sizing, ctx.selected, panel.returns(), ctx.rows, tick=ticker(ctx.progress, spec.stage)
    )
    ctx.targets = weights
    ctx.warnings += notes


def _caps(spec: Any, ctx: RunContext) -> None:
    """ApplyRiskCaps. Requires: `targets` (+ macro). Produces: capped, regime-scaled `targets`."""
    assert isinstance(spec, ApplyRiskCaps) and ctx.targets is not None
    panel = ctx.need_panel()
    cap = min(spec.risk.max_position_pct, ctx.plan.stage("size").sizing.max_weight)  # type: ignore[union-attr]
    capped = caps.cap_weights(ctx.targets, cap)
    exposure = caps.regime_exposure(spec.regime, _macro(ctx, panel), ctx.rows)
    ctx.targets = caps.apply_regime(capped, exposure)


def _macro(ctx: RunContext, panel: Panel) -> dict[str, np.ndarray]:
    """Macro series aligned to the panel dates (only when a regime needs them)."""
    regime = ctx.plan.stage("apply_risk_caps").regime  # type: ignore[union-attr]
    if regime.kind == "none":
        return {}
    frame = ctx.lake.macro(panel.dates)
    return {
        c: frame[c].cast(float).fill_null(np.nan).to_numpy() for c in frame.columns if c != "date"
    }


def _engine(spec: Any, ctx: RunContext) -> None:
    """RunEngine. Requires: `targets`, `exec_rows`, prices. Produces: `result`, `marks`."""
    assert isinstance(spec, RunEngine) and ctx.targets is not None
    panel = ctx.need_panel()
    ctx.marks = engine.forward_filled(panel.adj_close)
    ctx.result = engine.run_engine(
        engine.EngineInput(
            dates=panel.dates,
            symbols=panel.symbols,
            prices=panel.adj_close,
            first_row=panel.start,
            exec_rows=ctx.exec_rows,
            targets=ctx.targets,
            initial_cash=spec.initial_cash,
            costs=spec.costs,
            fractional=spec.fractional_shares,
            no_trade_band_bps=spec.no_trade_band_bps,
            min_order_value=spec.min_order_value,
            max_drawdown_pct=spec.max_drawdown_pct,
            stops=spec.stops,
        ),
        marks=ctx.marks,
    )


def _metrics(spec: Any, ctx: RunContext) -> None:
    """ComputeMetrics. Requires: `result`, benchmark, rf. Produces: `metrics`."""
    assert isinstance(spec, ComputeMetrics) and ctx.result is not None
    panel = ctx.need_panel()
    window = slice(panel.start, None)
    marks = _marks(ctx)[window]
    ctx.daily_weights = ctx.result.weights(marks)
    ctx.metrics = compute_metrics(
        MetricsInput(
            dates=panel.dates[window],
            equity=ctx.result.equity,
            benchmark=panel.benchmark[window],
            rf=panel.rf[window] if spec.risk_free == "lake_rates" else np.zeros(len(marks)),
            weights=ctx.daily_weights,
            traded_notional=ctx.result.traded_notional,
            costs_paid=ctx.result.costs_paid,
        ),
        periods_per_year=spec.periods_per_year,
    )


STAGES: dict[str, Callable[[Any, RunContext], None]] = {
    "load_data": _load,
    "select_universe": _universe,
    "compute_factors": _factors,
    "score": _score,
    "select": _select,
    "size": _size,
    "apply_risk_caps": _caps,
    "run_engine": _engine,
    "compute_metrics": _metrics,
}
"""Stage name -> stage function. `schedule_weights` is folded into load_data (the
calendar) and run_engine (execution rows); `write_artifacts` is run by the caller."""


def _marks(ctx: RunContext) -> np.ndarray:
    """Forward-filled closes (computed once per run)."""
    if ctx.marks is None:
        ctx.marks = engine.forward_filled(ctx.need_panel().adj_close)
    return ctx.marks


def _result(ctx: RunContext) -> RunResult:
    """Package the context into a RunResult."""
    panel = ctx.need_panel()
    res = ctx.result
    if res is None or ctx.targets is None:
        raise QtcError("the plan has no run_engine stage")
    window = slice(panel.start, None)
    weights = ctx.daily_weights
    if weights is None:
        weights = res.weights(_marks(ctx)[window])
    return RunResult(
        plan=ctx.plan,
        dates=panel.dates[window],
        symbols=panel.symbols,
        equity=res.equity,
        benchmark=panel.benchmark[window],
        weights=weights,
        shares=res.shares,
        traded_notional=res.traded_notional,
        costs_paid=res.costs_paid,
        sectors=panel.sectors,
        closes=_marks(ctx)[window],
        signal_dates=panel.dates[ctx.rows],
        execution_dates=panel.dates[ctx.exec_rows],
        targets=ctx.targets,
        events=res.events,
        metrics=ctx.metrics,
        warnings=ctx.warnings,
        dataset_hashes=ctx.lake.dataset_hashes(),
        timings=ctx.timings,
    )
