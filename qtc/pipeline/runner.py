"""Run a Plan's stages, in order, on one loaded market.

`load_market(spec, lake)` (`qtc.pipeline.market`) reads what a plan's LoadData spec says;
`run_on_market(plan, market, cache)` dispatches every stage of the plan to its handler
(`qtc.pipeline.handlers.HANDLERS`) and packages a `RunResult`. Many plans whose load
stages agree run on one market and share one `FactorCache`, so a sweep loads the market
once and computes each distinct factor once. `run_stages(..., until=...)` stops after a
named stage (live targets stop after `apply_risk_caps`). `run_on_lake` is both steps for
one plan. Writing artifacts is the outputs layer's job (`qtc.outputs.artifacts`).

Before any stage runs, the plan's symbols, sectors and benchmarks are checked against the
lake (`qtc.pipeline.names`). Only factors with a non-zero composite weight are loaded for
and computed. Rebalances that select nothing are explained by the first step that left no
symbol (`qtc.pipeline.empty`). An optional `Progress` callback hears each stage start and
the steps of long loops (`qtc.pipeline.progress`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qtc.compile.plan import Plan
from qtc.compile.stages import ComputeFactors, LoadData, RunEngine, WriteArtifacts
from qtc.errors import QtcError
from qtc.lake.read.reader import Lake
from qtc.manifest.factors import FactorSpec
from qtc.pipeline import factors
from qtc.pipeline.handlers import HANDLERS, Job
from qtc.pipeline.market import Market, load_market
from qtc.pipeline.names import check_names
from qtc.pipeline.products import Calendar, Execution, Metrics, Targets
from qtc.pipeline.progress import Progress, no_progress

CLOCK: Callable[[], float] = time.perf_counter
"""The clock of `RunResult.timings`: wall seconds (a benchmark may use `time.process_time`)."""


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
        cash = self.plan.spec(RunEngine).initial_cash
        prev = np.concatenate([[cash], self.equity[:-1]])
        out: np.ndarray = self.equity / prev - 1.0
        return out


def used_factors(plan: Plan) -> tuple[FactorSpec, ...]:
    """The plan's factors with a non-zero composite weight (the only ones computed)."""
    return plan.spec(ComputeFactors).used_factors()


def load_spec(plan: Plan) -> LoadData:
    """The plan's LoadData stage (what its market is)."""
    return plan.spec(LoadData)


def run_on_lake(
    plan: Plan,
    lake: Lake,
    *,
    cache: factors.FactorCache | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Check the plan's names, load its market and run it (artifacts are the caller's).

    Raises:
        UserError: If a symbol, sector or benchmark of the plan is not in the lake, or
            the window has no data.
        QtcError: If the run fails.
    """
    warnings: list[str] = []
    check_names(plan, lake, used_factors(plan), warnings)
    hear = progress or no_progress
    hear("load_data", 0, 0)
    began = CLOCK()
    market = load_market(load_spec(plan), lake)
    loaded = CLOCK() - began
    heard = _announced(hear, "load_data")
    job = run_stages(plan, market, cache=cache, progress=heard, warnings=warnings)
    result = _result(plan, job)
    result.timings["load_data"] = result.timings.get("load_data", 0.0) + loaded
    return result


def _announced(progress: Progress, announced: str) -> Progress:
    """`progress` without the start of a stage the caller announced already."""

    def hear(stage: str, done: int, total: int) -> None:
        if not (stage == announced and done == total == 0):
            progress(stage, done, total)

    return hear


def run_on_market(
    plan: Plan,
    market: Market,
    *,
    cache: factors.FactorCache | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run every stage of a plan on a loaded market.

    Args:
        plan: The plan; its LoadData spec must describe `market`.
        market: The loaded market (`load_market`).
        cache: Factor cache shared by the plans run on this market.
        progress: Hears `(stage, 0, 0)` as each stage starts and `(stage, done, total)`
            inside long loops (factors, optimizer sizing).

    Returns:
        The run's result.

    Raises:
        UserError: If a symbol, sector or benchmark of the plan is not in the lake.
        QtcError: If the market is not the plan's, or the run fails.
    """
    warnings: list[str] = []
    check_names(plan, market.lake, used_factors(plan), warnings)
    job = run_stages(plan, market, cache=cache, progress=progress, warnings=warnings)
    return _result(plan, job)


def run_stages(
    plan: Plan,
    market: Market,
    *,
    cache: factors.FactorCache | None = None,
    progress: Progress | None = None,
    until: str | None = None,
    warnings: list[str] | None = None,
) -> Job:
    """Dispatch the plan's stages in order (through `until` when given) on a market.

    The plan's names must have been checked against the lake (`check_names`, as
    `run_on_market` and `run_on_lake` do); `warnings` are that check's, kept first.

    Returns:
        The job: the stages' outputs, warnings and timings.

    Raises:
        QtcError: If the market is not the plan's, or a stage has no handler.
    """
    if not market.serves(load_spec(plan)):
        raise QtcError("the market was loaded for another load_data spec (a bug in qtc)")
    job = Job(
        market=market,
        cache=cache or factors.FactorCache(),
        progress=progress or no_progress,
        warnings=list(warnings or []),
    )
    for spec in plan.stages:
        if isinstance(spec, WriteArtifacts):
            continue
        handler = HANDLERS.get(type(spec))
        if handler is None:
            raise QtcError(f"stage {spec.stage!r} has no handler (a bug in qtc)")
        job.progress(spec.stage, 0, 0)
        began = CLOCK()
        job.products.put(handler(spec, job))
        job.timings[spec.stage] = CLOCK() - began
        if spec.stage == until:
            break
    return job


def _result(plan: Plan, job: Job) -> RunResult:
    """Package a finished job into a RunResult."""
    panel, got = job.market.panel, job.products
    run = got.get(Execution)
    if run is None:
        raise QtcError("the plan has no run_engine stage")
    calendar = got.need(Calendar)
    window = slice(panel.start, None)
    metrics = got.get(Metrics)
    weights = metrics.daily_weights if metrics else run.result.weights(run.marks[window])
    return RunResult(
        plan=plan,
        dates=panel.dates[window],
        symbols=panel.symbols,
        equity=run.result.equity,
        benchmark=panel.benchmark[window],
        weights=weights,
        shares=run.result.shares,
        traded_notional=run.result.traded_notional,
        costs_paid=run.result.costs_paid,
        sectors=panel.sectors,
        closes=run.marks[window],
        signal_dates=panel.dates[calendar.rows],
        execution_dates=panel.dates[calendar.exec_rows],
        targets=got.need(Targets).weights,
        events=run.result.events,
        metrics=metrics.values if metrics else {},
        warnings=job.warnings,
        dataset_hashes=job.market.dataset_hashes,
        timings=job.timings,
    )


__all__ = ["Market", "RunResult", "load_market", "run_on_lake", "run_on_market", "run_stages"]
