"""`qtc validate`: does the strategy's signal predict returns, out of sample, well enough?

The steps, each in its own module:

1. `prepare`: load and compile the strategy (as `qtc backtest` does), resolve the
   settings (`request`), parse the objective, build the `[search]` variants with
   `--reselect`, and check the horizons and folds against the window's trading days
   (`checks`). Nothing has been read from the market yet: every mistake in the input
   exits 2 before any work.
2. `measure`: load the market once, run the backtest's stages (`run_stages`), take the
   signals on the signal dates (`signals`), study each of them (`study`), run the
   walk-forward (`folds`, `walkforward`, `reselect`), read the family's selection bias
   from the trial ledger when a gate asks (`family_bias`) and judge the gates (`gates`).
3. Write `validations/<strategy>/<validation id>/` (`document`,
   `qtc.outputs.validation_files`), with the backtest's run artifact and its report
   (factor tear sheet included) under `--report`.

The validation id fingerprints what decides the results: the plan, the data, the
versions, the settings and options, the `[validate]` section and, with `--reselect`, the
`[search]` space. The same validation on the same data rewrites the same bytes (the
family's figures follow the ledger as it is at the time).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.compile.plan import Plan
from qtc.errors import Diagnostic, Severity, StrategyError
from qtc.manifest.load import LoadedStrategy
from qtc.manifest.strategy import Strategy
from qtc.pipeline.progress import Progress, no_progress
from qtc.research.request import Settings, ValidateRequest, resolve
from qtc.research.result import Validation
from qtc.search.objective import Objective
from qtc.search.variants import Variant


@dataclass
class Prepared:
    """A validation ready to run on the market (every input checked)."""

    request: ValidateRequest
    loaded: LoadedStrategy
    strategy: Strategy
    plan: Plan
    settings: Settings
    objective: Objective
    variants: list[Variant] | None
    as_of: dt.date
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class ValidationOutcome:
    """A written validation, as the CLI shows it."""

    folder: Path
    validation_id: str
    document: dict[str, Any]
    passed: bool
    report: Path | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def run_validation(
    request: ValidateRequest,
    *,
    lake: Any,
    out: Path,
    report: bool = False,
    argv: list[str] | None = None,
    progress: Progress | None = None,
) -> ValidationOutcome:
    """Prepare, measure and write one validation (see the module docstring).

    Raises:
        StrategyError: For a bad strategy file, option, horizon, fold count or factor.
        UserError: For a bad objective, or `--reselect` without a usable `[search]`.
        QtcError: If the run fails.
    """
    from qtc.outputs.validation_files import validation_dir, write_validation
    from qtc.research.document import document, tables
    from qtc.research.measure import measure
    from qtc.research.report_files import report_writer

    began = time.perf_counter()
    prepared = prepare(request, lake)
    check_out(out)  # before the work, and without creating anything
    hear = progress or no_progress
    found, run = measure(prepared, lake, hear)
    vid = validation_id(prepared, found)
    folder = validation_dir(out, found.strategy, vid)
    hear("write_validation", 0, 0)
    meta = {
        "argv": argv or [],
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - began, 3),
    }
    extra = report_writer(run, meta) if report else None
    doc = document(found, vid)
    write_validation(folder, doc, tables(found), meta, extra)
    page = folder / "report.html" if report else None
    return ValidationOutcome(folder, vid, doc, found.passed, page, prepared.diagnostics)


def check_out(out: Path) -> None:
    """Fail early when the output folder could not be made (nothing is created here).

    Raises:
        QtcError: If the nearest existing part of `out` is not a writable folder.
    """
    import os

    from qtc.errors import QtcError

    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise QtcError(
            f"cannot create the output folder {out}: {existing} is not a writable folder",
            hint="give --out a folder you can write to",
        )


def prepare(request: ValidateRequest, lake: Any) -> Prepared:
    """Compile, resolve and check everything that does not need the market.

    Raises:
        StrategyError: With every diagnostic of the file, the options and the window.
        UserError: For a bad objective or an unusable `[search]` with `--reselect`.
    """
    from qtc.compile.compiler import analyze, build_plan
    from qtc.manifest.load import load_strategy
    from qtc.pipeline.data import window_end
    from qtc.research.reselect import search_variants
    from qtc.search.objective import STRATEGY_METRICS, parse_objective

    as_of = window_end(lake)
    loaded = load_strategy(request.path, list(request.overrides))
    if loaded.strategy is None or loaded.errors:
        raise StrategyError(loaded.diagnostics, sources=loaded.sources)
    strategy = loaded.strategy
    diags = [
        *loaded.diagnostics,
        *analyze(strategy, as_of=as_of, locate=loaded.location_of),
    ]
    settings: Settings | None = None
    try:
        settings = resolve(request, strategy.gates)
    except StrategyError as exc:
        diags += exc.diagnostics
    if settings is None or any(d.severity is Severity.ERROR for d in diags):
        raise StrategyError(diags, sources=loaded.sources)
    plan = build_plan(strategy, as_of)
    objective = parse_objective(request.objective, STRATEGY_METRICS)
    variants = search_variants(strategy, as_of) if request.reselect else None
    prepared = Prepared(
        request, loaded, strategy, plan, settings, objective, variants, as_of, diags
    )
    _check_window(prepared, lake)
    return prepared


def _check_window(prepared: Prepared, lake: Any) -> None:
    """Horizons and folds against the window's trading days (QTC402/QTC403)."""
    from qtc.compile.stages import LoadData
    from qtc.pipeline.schedule import execution_lag
    from qtc.research.checks import check_window

    spec = prepared.plan.spec(LoadData)
    days = lake.calendar(spec.start, spec.end).size
    lag = execution_lag(spec.execution)
    try:
        check_window(days, lag, prepared.settings, prepared.request, prepared.loaded.location_of)
    except StrategyError as exc:
        raise StrategyError(exc.diagnostics, sources=prepared.loaded.sources) from None


def validation_id(prepared: Prepared, found: Validation) -> str:
    """12 hex digits fingerprinting what decides the validation's results."""
    from qtc.compile.fingerprint import fingerprint

    request = prepared.request
    doc = {
        "plan": prepared.plan.fingerprint,
        "data": found.dataset_hashes,
        "versions": found.versions,
        "settings": prepared.settings.as_dict(),
        "every_day": request.every_day,
        "reselect": request.reselect,
        "objective": prepared.objective.label,
        "strict": request.strict,
        "gates": prepared.strategy.gates.model_dump(mode="json"),
        "space": prepared.strategy.search.model_dump(mode="json") if request.reselect else None,
    }
    return fingerprint(doc).removeprefix("sha256:")[:12]
