"""The measuring step of `qtc validate`: one market, one backtest, every statistic.

Requires a prepared validation (`qtc.research.validate.prepare`). Loads the market once,
runs the backtest's stages on it, takes the signals, studies them, runs the
walk-forward (re-selecting among the `[search]` variants with `--reselect`, on the same
market and factor cache), reads the family's selection bias when a gate asks, and
judges the gates. Produces the `Validation` and what `--report` needs to write the
backtest's run artifact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qtc.compile.plan import Plan
from qtc.compile.stages import ComputeMetrics, RunEngine
from qtc.errors import QtcError, StrategyError
from qtc.pipeline.factors import FactorCache
from qtc.pipeline.handlers import Job
from qtc.pipeline.market import Market
from qtc.pipeline.metrics import to_json_safe
from qtc.pipeline.products import Execution, Metrics
from qtc.pipeline.progress import Progress
from qtc.research import gates as gate_table
from qtc.research.family_bias import FamilyBias, family_bias
from qtc.research.result import Validation
from qtc.research.signals import Signals
from qtc.research.study import Research
from qtc.research.walkforward import Candidate, WalkForward

if TYPE_CHECKING:
    from qtc.research.validate import Prepared


@dataclass(frozen=True)
class BacktestRun:
    """What `--report` needs to write the backtest's run artifact."""

    plan: Plan
    market: Market
    cache: FactorCache


def measure(prepared: Prepared, lake: Any, hear: Progress) -> tuple[Validation, BacktestRun]:
    """Run everything on the market (see the module docstring).

    Raises:
        StrategyError: QTC401/QTC402 found on the signals.
        QtcError: If the run fails or no `[search]` variant ran.
    """
    from qtc.outputs.artifacts import run_id, versions
    from qtc.research.study import study_all
    from qtc.search.strategy_toml import engine_versions

    plan, settings = prepared.plan, prepared.settings
    market, cache, job, warnings = _backtest(plan, lake, hear)
    hear("research", 0, 0)
    signals = _signals(prepared, job)
    research = study_all(signals, market.marks, settings)
    hear("walk_forward", 0, 0)
    days, returns, rf = daily_returns(plan, job)
    walk = _walk(prepared, market, cache, lake, days, returns, rf)
    metrics = to_json_safe(job.products.need(Metrics).values)
    bias = _bias(prepared, returns, metrics)
    results = gate_table.evaluate(
        prepared.strategy.gates, _figures(prepared, research, walk, metrics, bias)
    )
    found = Validation(
        strategy=plan.strategy_name,
        plan_fingerprint=plan.fingerprint,
        run_id=run_id(plan.fingerprint, market.dataset_hashes),
        as_of=prepared.as_of.isoformat(),
        window=(str(days[0]), str(days[-1])),
        request=prepared.request,
        settings=settings,
        signals=signals,
        research=research,
        walk=walk,
        days=days,
        backtest={"strategy": metrics["strategy"], "activity": metrics["activity"]},
        bias=bias,
        gates=results,
        passed=gate_table.verdict(results, strict=prepared.request.strict),
        dataset_hashes=market.dataset_hashes,
        versions=engine_versions(versions()),
        warnings=warnings,
    )
    return found, BacktestRun(plan, market, cache)


def _backtest(plan: Plan, lake: Any, hear: Progress) -> tuple[Market, FactorCache, Job, list[str]]:
    """Load the market and run the backtest's stages on it."""
    from qtc.pipeline.market import load_market
    from qtc.pipeline.names import check_names
    from qtc.pipeline.runner import load_spec, run_stages, used_factors

    warnings: list[str] = []
    check_names(plan, lake, used_factors(plan), warnings)
    hear("load_data", 0, 0)
    market = load_market(load_spec(plan), lake)
    cache = FactorCache()
    job = run_stages(plan, market, cache=cache, progress=hear, warnings=warnings)
    return market, cache, job, job.warnings


def _signals(prepared: Prepared, job: Job) -> Signals:
    """The signals on the signal dates, checked (QTC401/QTC402)."""
    from qtc.research.checks import check_signals
    from qtc.research.signals import daily_signals, rebalance_signals

    plan = prepared.plan
    every = prepared.request.every_day
    signals = daily_signals(plan, job) if every else rebalance_signals(plan, job)
    rows = job.market.panel.shape[0]
    try:
        check_signals(
            signals, rows, prepared.settings, prepared.request, prepared.loaded.location_of
        )
    except StrategyError as exc:
        raise StrategyError(exc.diagnostics, sources=prepared.loaded.sources) from None
    return signals


def daily_returns(plan: Plan, job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(window dates, daily returns, daily risk-free rate) of the backtest.

    The first day's return is relative to the initial cash (as a run's `returns`); the
    risk-free rate is the lake's when the strategy's metrics use it, else 0.
    """
    panel = job.market.panel
    window = slice(panel.start, None)
    equity = job.products.need(Execution).result.equity
    cash = plan.spec(RunEngine).initial_cash
    returns = equity / np.concatenate([[cash], equity[:-1]]) - 1.0
    lake_rates = plan.spec(ComputeMetrics).risk_free == "lake_rates"
    rf = panel.rf[window] if lake_rates else np.zeros(returns.size)
    return panel.dates[window].astype("datetime64[D]"), returns, rf


def _walk(
    prepared: Prepared,
    market: Market,
    cache: FactorCache,
    lake: Any,
    days: np.ndarray,
    returns: np.ndarray,
    rf: np.ndarray,
) -> WalkForward:
    """The walk-forward over the strategy as written, or over its `[search]` variants."""
    from qtc.research.folds import split
    from qtc.research.reselect import candidates
    from qtc.research.walkforward import walk_forward

    settings = prepared.settings
    if prepared.variants is None:
        pool = [Candidate(0, {}, returns)]
    else:
        jobs = prepared.request.jobs
        pool = candidates(prepared.variants, market, cache, lake, jobs, days)
        if not pool:
            raise QtcError(
                "no variant of [search] ran, so none can be re-selected",
                hint="run `qtc sweep FILE` to see why each variant failed",
            )
    folds = split(days.size, settings.n_folds, settings.scheme)
    return walk_forward(
        pool,
        folds,
        rf,
        prepared.objective,
        scheme=settings.scheme,
        reselect=prepared.variants is not None,
    )


def _bias(prepared: Prepared, returns: np.ndarray, metrics: dict[str, Any]) -> FamilyBias | None:
    """The family's selection bias, when a gate reads it."""
    if not gate_table.needs_ledger(prepared.strategy.gates):
        return None
    return family_bias(prepared.strategy, returns, metrics["strategy"].get("sharpe"))


def _figures(
    prepared: Prepared,
    research: Research,
    walk: WalkForward,
    metrics: dict[str, Any],
    bias: FamilyBias | None,
) -> dict[str, gate_table.Figure]:
    """What each gate reads."""
    figure = gate_table.Figure
    h = prepared.settings.gate_horizon
    score = research.score.at(h)
    rank = score.rank_ic_summary
    few = f"fewer than 2 signal dates have a rank IC at {h} days"
    family = bias or FamilyBias(None, 0, None, None, "", "")
    return {
        "min_rank_ic": figure(rank.mean, f"score mean rank IC, {h}d", few),
        "min_icir": figure(rank.icir, f"score rank ICIR, {h}d", few),
        "min_oos_sharpe": figure(
            walk.oos.get("sharpe"), "walk-forward OOS Sharpe", "the OOS returns do not vary"
        ),
        "min_quantile_spread": figure(
            score.mean_spread(),
            f"score top-bottom spread, {h}d",
            f"no signal date has both extreme quantiles at {h} days",
        ),
        "max_turnover": figure(
            metrics["activity"].get("turnover_per_rebalance"),
            "turnover per rebalance",
            "the backtest made no rebalance",
        ),
        "max_pbo": figure(family.pbo, "family PBO", family.pbo_reason),
        "min_deflated_sharpe": figure(
            family.deflated_sharpe, "deflated Sharpe vs family", family.deflated_reason
        ),
    }
