"""Derived stage fields: what each stage needs from the rest of the plan, filled in once.

A stage's handler reads only its own spec. Where it needs a value that the strategy states
in another section (the load stage's columns, symbols and schedule; the factor stage's used
factors; the caps stage's `max_weight`), `complete` copies it into the spec. These fields
are functions of the other stages, so they stay out of the JSON and the fingerprint; a plan
read back from JSON is completed again (`Plan.from_json`).
"""

from __future__ import annotations

from qtc.compile.stages import (
    AnyStage,
    ApplyRiskCaps,
    ComputeFactors,
    LoadData,
    ScheduleWeights,
    Score,
    SelectUniverse,
    Size,
)
from qtc.manifest.factors import (
    AtrFactor,
    BetaFactor,
    FactorSpec,
    GrowthFactor,
    QualityFactor,
    SizeFactor,
    ValueFactor,
)
from qtc.manifest.universe import SymbolsUniverse

FUNDAMENTAL_KINDS = (ValueFactor, QualityFactor, GrowthFactor, SizeFactor)


def complete(stages: tuple[AnyStage, ...]) -> tuple[AnyStage, ...]:
    """The stages with every derived field filled in from the others.

    Args:
        stages: The plan's stage specs, in order.

    Returns:
        The same specs, the derived fields set (the rest unchanged).
    """
    by_name: dict[str, AnyStage] = {s.stage: s for s in stages}
    used = _used(by_name)
    return tuple(_completed(spec, by_name, used) for spec in stages)


def _completed(
    spec: AnyStage, by_name: dict[str, AnyStage], used: tuple[FactorSpec, ...]
) -> AnyStage:
    """One stage with its derived fields set."""
    size = by_name.get("size")
    if isinstance(spec, LoadData):
        return _load(spec, by_name, used)
    if isinstance(spec, ComputeFactors):
        return spec.model_copy(update={"used": tuple(f.name for f in used)})
    if isinstance(spec, ApplyRiskCaps) and isinstance(size, Size):
        return spec.model_copy(update={"max_weight": size.sizing.max_weight})
    return spec


def _used(by_name: dict[str, AnyStage]) -> tuple[FactorSpec, ...]:
    """Factors with a non-zero weight in the resolved composite (the only ones computed)."""
    factors, score = by_name.get("compute_factors"), by_name.get("score")
    if not isinstance(factors, ComputeFactors) or not isinstance(score, Score):
        return ()
    weights = score.factor_weights
    return tuple(f for f in factors.factors if weights.get(f.name, 0.0) != 0.0)


def _load(spec: LoadData, by_name: dict[str, AnyStage], used: tuple[FactorSpec, ...]) -> LoadData:
    """The load stage with the columns, symbols, benchmarks and schedule it needs."""
    update: dict[str, object] = {
        "ohlc": any(isinstance(f, AtrFactor) for f in used),
        "other_benchmarks": tuple(
            f.benchmark for f in used if isinstance(f, BetaFactor) and f.benchmark
        ),
    }
    universe = by_name.get("select_universe")
    fundamental = any(isinstance(f, FUNDAMENTAL_KINDS) for f in used)
    if isinstance(universe, SelectUniverse):
        uni = universe.universe
        update["symbols"] = tuple(uni.symbols) if isinstance(uni, SymbolsUniverse) else None
        update["raw_close"] = uni.min_price > 0 or fundamental
    schedule = by_name.get("schedule_weights")
    if isinstance(schedule, ScheduleWeights):
        update["frequency"] = schedule.frequency
        update["execution"] = schedule.execution
        update["first"] = schedule.first
    return spec.model_copy(update=update)
