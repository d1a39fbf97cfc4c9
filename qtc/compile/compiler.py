"""`compile_strategy`: a validated Strategy to a frozen Plan.

Pure: no data, no engine, no clock (`as_of` is passed in). Cross-section
checks and the lint produce diagnostics; errors raise `StrategyError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from qtc.compile.checks import (
    Locate,
    check_caps,
    check_selection,
    check_weights,
    check_window,
)
from qtc.compile.derive import complete
from qtc.compile.lint import lint, warmup_days
from qtc.compile.plan import Plan, stages_fingerprint
from qtc.compile.search_checks import check_search
from qtc.compile.stages import (
    AnyStage,
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
    WriteArtifacts,
)
from qtc.errors import Diagnostic, Location, Severity, StrategyError
from qtc.manifest.factors import GrowthFactor, QualityFactor, SizeFactor, ValueFactor
from qtc.manifest.paths import UserPath
from qtc.manifest.regime import NoRegime
from qtc.manifest.strategy import Strategy
from qtc.manifest.universe import IndexMembersUniverse
from qtc.manifest.variants import with_values

LINT_PREFIX = "QTC3"


def _nowhere(_: UserPath, key: bool = False) -> Location | None:
    """Default locator: positions unknown."""
    return None


def analyze(
    strategy: Strategy, *, as_of: dt.date, locate: Locate = _nowhere, strict: bool = False
) -> list[Diagnostic]:
    """All cross-section checks and lint findings (warnings promoted when `strict`)."""
    found = [
        *check_weights(strategy, locate),
        *check_caps(strategy, locate),
        *check_selection(strategy, locate),
        *check_window(strategy, as_of, locate),
        *check_search(strategy, locate),
        *lint(strategy, as_of, locate),
    ]
    if not strict:
        return found
    return [d.promoted() if d.code.startswith(LINT_PREFIX) else d for d in found]


def compile_strategy(
    strategy: Strategy,
    *,
    as_of: dt.date,
    overrides: Mapping[str, Any] | None = None,
    strict: bool = False,
    locate: Locate = _nowhere,
) -> Plan:
    """Compile a strategy into a Plan.

    Args:
        strategy: A validated strategy.
        as_of: The date the plan is made for; bounds the window when `data.end` is unset.
        overrides: Key path -> value, applied before compiling (as `--set` does).
        strict: Treat lint warnings as errors.
        locate: Maps a key path to where it was written (for diagnostics).

    Returns:
        The frozen Plan.

    Raises:
        StrategyError: If an override or a cross-section check fails.
    """
    if overrides:
        varied, diags = with_values(strategy, overrides)
        if varied is None:
            raise StrategyError(diags)
        strategy = varied
    found = analyze(strategy, as_of=as_of, locate=locate, strict=strict)
    if any(d.severity is Severity.ERROR for d in found):
        raise StrategyError(found)
    return build_plan(strategy, as_of)


def build_plan(strategy: Strategy, as_of: dt.date) -> Plan:
    """Assemble the ordered stage specs and fingerprint them (no checks)."""
    stages = complete(_stages(strategy, as_of))
    return Plan(
        strategy_name=strategy.name,
        description=strategy.description,
        as_of=as_of,
        stages=stages,
        resolved=strategy.model_dump(mode="json", by_alias=True),
        fingerprint=stages_fingerprint(stages),
    )


def _stages(s: Strategy, as_of: dt.date) -> tuple[AnyStage, ...]:
    """The fixed pipeline, each stage holding only its own settings."""
    return (
        _load_data(s, as_of),
        SelectUniverse(universe=s.universe),
        ComputeFactors(factors=tuple(s.factors)),
        Score(scoring=s.scoring, factor_weights=factor_weights(s)),
        Select(selection=s.selection),
        Size(sizing=s.sizing),
        ApplyRiskCaps(risk=s.risk, regime=s.regime),
        ScheduleWeights(
            frequency=s.rebalance.frequency,
            execution=s.rebalance.execution,
            first=s.rebalance.first,
        ),
        RunEngine(
            initial_cash=s.rebalance.initial_cash,
            fractional_shares=s.rebalance.fractional_shares,
            no_trade_band_bps=s.rebalance.no_trade_band_bps,
            min_order_value=s.rebalance.min_order_value,
            costs=s.costs,
            stops=s.stops,
            max_drawdown_pct=s.risk.max_drawdown_pct,
        ),
        ComputeMetrics(benchmark=s.data.benchmark),
        WriteArtifacts(),
    )


def factor_weights(strategy: Strategy) -> dict[str, float]:
    """Resolved composite weights: the file's, or weight 1 for every factor."""
    if strategy.scoring.weights:
        return dict(strategy.scoring.weights)
    return dict.fromkeys(strategy.factor_names(), 1.0)


def _load_data(s: Strategy, as_of: dt.date) -> LoadData:
    """The LoadData spec: window, warm-up and the datasets later stages read."""
    return LoadData(
        start=s.data.start,
        end=s.data.end or as_of,
        end_is_as_of=s.data.end is None,
        history_start=s.data.history_start,
        warmup_days=warmup_days(s),
        benchmark=s.data.benchmark,
        datasets=_datasets(s),
    )


def _datasets(s: Strategy) -> tuple[str, ...]:
    """Datasets the run reads, in a fixed order."""
    needed = ["prices", "benchmarks", "rates", "symbols"]
    fundamental = (ValueFactor, QualityFactor, GrowthFactor, SizeFactor)
    if any(isinstance(f, fundamental) for f in s.factors):
        needed.append("fundamentals")
    if isinstance(s.universe, IndexMembersUniverse):
        needed.append("membership")
    if not isinstance(s.regime, NoRegime):
        needed.append("macro")
    return tuple(needed)
