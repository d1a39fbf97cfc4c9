"""qtc as a library: the functions every CLI command calls.

Commands parse options, call one function here and render its result. Nothing
here prints; problems are raised as `QtcError`s or returned as diagnostics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.compile.compiler import analyze, build_plan
from qtc.compile.explain import Node as Node
from qtc.compile.explain import explain
from qtc.compile.plan import Plan
from qtc.errors import Diagnostic, Severity, StrategyError, UserError
from qtc.manifest.load import LoadedStrategy, load_strategy
from qtc.manifest.paths import format_path, toml_value
from qtc.manifest.variants import leaf_paths, user_tree


@dataclass
class Compiled:
    """A strategy file compiled to a plan, with its warnings."""

    loaded: LoadedStrategy
    plan: Plan
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass
class CheckResult:
    """Outcome of `qtc check` for one file."""

    path: str
    diagnostics: list[Diagnostic]
    sources: dict[str, str]
    fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings allowed)."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


@dataclass(frozen=True)
class ResolvedValue:
    """One final value of a strategy and where it came from."""

    key_path: str
    value: str
    origin: str


def compile_file(
    path: str | Path,
    *,
    overrides: list[str] | None = None,
    as_of: dt.date,
    strict: bool = False,
) -> Compiled:
    """Load, validate and compile a strategy file.

    Raises:
        StrategyError: With every diagnostic, when the file or a check has an error.
    """
    loaded = load_strategy(path, overrides)
    if loaded.strategy is None or loaded.errors:
        raise StrategyError(loaded.diagnostics, sources=loaded.sources)
    found = analyze(loaded.strategy, as_of=as_of, locate=loaded.location_of, strict=strict)
    diags = [*loaded.diagnostics, *found]
    if any(d.severity is Severity.ERROR for d in diags):
        raise StrategyError(diags, sources=loaded.sources)
    return Compiled(loaded, build_plan(loaded.strategy, as_of), diags)


def check_files(
    paths: list[str], *, overrides: list[str] | None, as_of: dt.date, strict: bool
) -> list[CheckResult]:
    """Validate and compile each file (no data); one result per file."""
    results: list[CheckResult] = []
    for path in paths:
        try:
            done = compile_file(path, overrides=overrides, as_of=as_of, strict=strict)
        except StrategyError as exc:
            results.append(CheckResult(path, exc.diagnostics, exc.sources))
            continue
        results.append(CheckResult(path, done.warnings, done.loaded.sources, done.plan.fingerprint))
    return results


def explain_plan(plan: Plan, *, detail: bool) -> Node:
    """The plan as a tree for display."""
    return explain(plan, detail=detail)


def resolved_values(loaded: LoadedStrategy) -> list[ResolvedValue]:
    """Every final value of a loaded strategy with its origin (file:line, --set, default)."""
    if loaded.strategy is None:
        raise UserError("strategy has errors; nothing to resolve")
    tree = user_tree(loaded.strategy)
    rows: list[ResolvedValue] = []
    for path in leaf_paths(tree):
        value = _at(tree, path)
        origin = _origin(loaded, path)
        rows.append(ResolvedValue(format_path(path), toml_value(value), origin))
    return rows


def _at(tree: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    """Value at a user path."""
    node: Any = tree
    for part in path:
        node = node[part]
    return node


def _origin(loaded: LoadedStrategy, path: tuple[str | int, ...]) -> str:
    """Where a final value came from: its own key, a written parent table, or default."""
    origin = loaded.origins.get(path)
    return origin.describe() if origin is not None else "default"


def schema_text() -> str:
    """The JSON Schema of the strategy manifest, as written to `schemas/strategy.v1.json`."""
    from qtc.manifest.schema import schema_json

    return schema_json()


def write_schema(path: Path, text: str) -> None:
    """Write the schema text atomically: a crash leaves the old file or the new one."""
    from qtc.atomic import write_text_atomic

    write_text_atomic(path, text)
