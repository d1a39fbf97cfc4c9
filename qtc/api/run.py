"""The run part of the library facade: `qtc backtest` (and later sweep/validate).

Heavy modules (the pipeline, polars, numpy, nanobook) are imported inside
functions, so importing this module stays cheap.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.api.data import LakeRef
from qtc.errors import Diagnostic

if TYPE_CHECKING:
    from qtc.pipeline.progress import Progress as Progress


@dataclass
class BacktestOutcome:
    """A finished (or reused) backtest."""

    run_dir: Path
    run_id: str
    reused: bool
    strategy: str
    window: dict[str, Any]
    metrics: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def backtest(
    path: str,
    *,
    lake: LakeRef,
    overrides: list[str] | None = None,
    out: Path = Path("runs"),
    as_of: dt.date | None = None,
    force: bool = False,
    strict: bool = False,
    argv: list[str] | None = None,
    progress: Progress | None = None,
) -> BacktestOutcome:
    """Compile a strategy, run it on the lake and write (or reuse) its artifact.

    Args:
        path: Strategy file.
        lake: The lake to read.
        overrides: `--set` values.
        out: Root folder of run artifacts.
        as_of: Plan date; default: the lake's last trading date (so runs are
            reproducible for a given lake).
        force: Re-run even when an identical run exists.
        strict: Lint warnings are errors.
        argv: The command line, recorded in the volatile meta.json.
        progress: Hears each pipeline stage as it starts (and the steps of long loops),
            then `write_artifacts`; nothing is reported for a reused run.

    Returns:
        The outcome with the run folder, metrics and warnings.
    """
    from qtc.api.strategy import compile_file
    from qtc.lake import Lake
    from qtc.outputs import artifacts
    from qtc.pipeline.data import window_end
    from qtc.pipeline.runner import run_on_lake

    started = time.perf_counter()
    store = Lake(lake.path)
    compiled = compile_file(
        path, overrides=overrides, as_of=as_of or window_end(store), strict=strict
    )
    plan = compiled.plan
    rid = artifacts.run_id(plan.fingerprint, store.dataset_hashes())
    folder = artifacts.run_dir(out, plan.strategy_name, rid)
    if not force and artifacts.existing(folder, rid):
        doc = artifacts.read_run(folder)
        return _outcome(folder, doc, reused=True, diags=compiled.warnings)
    artifacts.ensure_writable(out)
    result = run_on_lake(plan, store, progress=progress)
    changed = artifacts.previous_runs_with_other_data(out, result)
    if changed:
        result.warnings.append(
            f"the data changed since earlier run(s) of this plan: {', '.join(changed)}"
        )
    if progress is not None:
        progress("write_artifacts", 0, 0)
    meta = artifacts.volatile_meta(started, argv or [], path)
    written = artifacts.write_run(result, out, meta=meta)
    doc = artifacts.read_run(written.path)
    outcome = _outcome(written.path, doc, reused=False, diags=compiled.warnings)
    outcome.timings = result.timings
    from qtc.api.registry import record_backtest

    record_backtest(outcome, path)
    return outcome


def _outcome(
    folder: Path, doc: dict[str, Any], *, reused: bool, diags: list[Diagnostic]
) -> BacktestOutcome:
    """A BacktestOutcome from a run.json document."""
    return BacktestOutcome(
        run_dir=folder,
        run_id=doc["run_id"],
        reused=reused,
        strategy=doc["strategy"]["name"],
        window=doc["window"],
        metrics=doc["metrics"],
        warnings=list(doc.get("warnings", [])),
        diagnostics=diags,
    )


def report(
    run_dir: Path,
    *,
    out: Path | None = None,
    quantstats: bool = False,
    benchmark: str | None = None,
    lake: LakeRef | None = None,
    style: str = "qtc",
) -> Path:
    """Write the HTML tear sheet of a run folder (from the artifact only; no re-run).

    Args:
        run_dir: The run folder (`runs/<strategy>/<run id>`).
        out: Output file; default `<run_dir>/report.html`.
        quantstats: Also write quantstats' own tear sheet next to it and link it.
        benchmark: Compare with another benchmark symbol (its series read from `lake`).
        lake: The lake to read `benchmark` from.
        style: `qtc`, or `quantstats` for quantstats' own tear sheet, offline
            (default `<run_dir>/quantstats.html`, beside qtc's report).

    Returns:
        The report path.
    """
    from qtc.outputs import artifacts
    from qtc.outputs import report as html

    doc = artifacts.read_run(run_dir)
    override = None
    if benchmark and benchmark != doc["strategy"]["data"]["benchmark"]:
        override = _benchmark_override(benchmark, doc["window"], lake)
    if style == "quantstats":
        from qtc.outputs.quantstats_page import write_page

        return write_page(run_dir, out, benchmark=override)
    return html.write_report(run_dir, out, quantstats=quantstats, benchmark=override)


def _benchmark_override(symbol: str, window: dict[str, Any], lake: LakeRef | None) -> Any:
    """Another benchmark's closes over the run window, from the lake."""
    from qtc.errors import UserError
    from qtc.lake import Lake
    from qtc.outputs.report import BenchmarkOverride
    from qtc.pipeline.data import benchmark_series

    if lake is None:
        raise UserError("--benchmark needs a lake to read the series from (--lake)")
    dates, close = benchmark_series(Lake(lake.path), symbol, window["start"], window["end"])
    return BenchmarkOverride(symbol, dates, close)
