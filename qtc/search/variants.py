"""Variants of a strategy: one strategy and plan per point of the search space.

Each variant is the base strategy with the point's values set at their key paths,
re-validated and checked like a file (cross-section checks; the `[search]` section
itself was checked with the base). A combination that breaks a cross-section check
(for example `selection.top_n` above the universe) is a failed variant with the
diagnostic as its reason. Variants whose plans have the same fingerprint run once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from qtc.compile.compiler import analyze, build_plan
from qtc.compile.plan import Plan
from qtc.errors import Severity, StrategyError
from qtc.manifest.load import load_strategy
from qtc.manifest.search import SearchSpace
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import with_values


@dataclass
class Variant:
    """One point of the search space.

    Attributes:
        number: Trial number (position in the search).
        values: Key path -> value at this point.
        strategy: The variant's strategy (None when it did not validate).
        plan: Its plan (None when a check failed).
        problem: Why it cannot run (empty when it can).
        duplicate_of: The trial number of an earlier variant with the same plan, or None.
    """

    number: int
    values: dict[str, Any]
    strategy: Strategy | None = None
    plan: Plan | None = None
    problem: str = ""
    duplicate_of: int | None = None


def compile_base(path: str, overrides: list[str], as_of: dt.date) -> tuple[Strategy, Plan]:
    """Load, validate, check and compile the base strategy file (as `qtc backtest` does).

    Raises:
        StrategyError: With every diagnostic, when the file or a check has an error.
    """
    loaded = load_strategy(path, overrides)
    if loaded.strategy is None or loaded.errors:
        raise StrategyError(loaded.diagnostics, sources=loaded.sources)
    found = analyze(loaded.strategy, as_of=as_of, locate=loaded.location_of)
    diags = [*loaded.diagnostics, *found]
    if any(d.severity is Severity.ERROR for d in diags):
        raise StrategyError(diags, sources=loaded.sources)
    return loaded.strategy, build_plan(loaded.strategy, as_of)


def build_variants(
    base: Strategy, points: Iterable[dict[str, Any]], as_of: dt.date, *, first: int = 0
) -> list[Variant]:
    """Compile every point; mark duplicates (same plan fingerprint) of earlier points."""
    seen: dict[str, int] = {}
    out: list[Variant] = []
    for number, values in enumerate(points, start=first):
        variant = compile_variant(base, number, values, as_of)
        if variant.plan is not None:
            fp = variant.plan.fingerprint
            variant.duplicate_of = seen.get(fp)
            seen.setdefault(fp, number)
        out.append(variant)
    return out


def compile_variant(base: Strategy, number: int, values: dict[str, Any], as_of: dt.date) -> Variant:
    """One variant: set, validate, check and compile."""
    variant = Variant(number, dict(values))
    strategy, diags = with_values(base, values, label="--grid")
    if strategy is None:
        variant.problem = diags[0].message if diags else "the variant does not validate"
        return variant
    variant.strategy = strategy
    unsearched = strategy.model_copy(update={"search": SearchSpace({})})
    errors = [d for d in analyze(unsearched, as_of=as_of) if d.severity is Severity.ERROR]
    if errors:
        variant.problem = f"{errors[0].code} {errors[0].message}"
        return variant
    variant.plan = build_plan(strategy, as_of)
    return variant
