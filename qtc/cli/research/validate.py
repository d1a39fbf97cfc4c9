"""`qtc validate FILE`: factor research, walk-forward out of sample and the `[validate]` gates.

Exit 0 when every gate passes, 1 when one fails (or, with `--strict`, cannot be
evaluated), 2 when the input is wrong. On a terminal, a validation that takes over a
second shows transient stage progress on stderr (not with `--format json`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import FormatOpt, OutputFormat, SetOpt

JSON_SKIP = ("artifact", "schema_version", "dataset_hashes", "versions")


def validate(
    file: Annotated[str, typer.Argument(help="Strategy TOML file.")],
    horizons: Annotated[
        str | None,
        typer.Option("--horizons", help="Forward-return horizons in trading days [1,5,21,63]."),
    ] = None,
    quantiles: Annotated[
        int | None, typer.Option("--quantiles", help="Quantile buckets [validate.n_quantiles].")
    ] = None,
    folds: Annotated[
        int | None, typer.Option("--folds", help="Walk-forward folds [validate.n_splits].")
    ] = None,
    every_day: Annotated[
        bool, typer.Option("--every-day", help="Study every trading day, not the rebalances.")
    ] = False,
    reselect: Annotated[
        bool, typer.Option("--reselect", help="Re-pick the [search] variant in each fold.")
    ] = False,
    objective: Annotated[
        str, typer.Option("--objective", help="Metric --reselect ranks by (min:/max:).")
    ] = "sharpe",
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Processes for --reselect (default: every core).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="A gate that cannot be evaluated fails too.")
    ] = False,
    lake: LakeOpt = None,
    set_: SetOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Root folder of validations.")] = Path(
        "validations"
    ),
    report: Annotated[
        bool, typer.Option("--report", help="Also write the run and its report with factors.")
    ] = False,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Measure the signal (IC, quantiles, walk-forward) and check the [validate] gates."""
    from qtc.api import research
    from qtc.cli import console
    from qtc.cli.lake_options import lake_for_reading
    from qtc.cli.research.render import render

    request = research.validate_request(
        path=file,
        overrides=tuple(set_ or ()),
        horizons=horizons,
        quantiles=quantiles,
        folds=folds,
        every_day=every_day,
        reselect=reselect,
        objective=objective,
        jobs=jobs,
        strict=strict,
    )
    ref = lake_for_reading(lake)
    with console.stage_progress(enabled=fmt is not OutputFormat.json) as progress:
        outcome = research.validate(
            request,
            lake=ref,
            out=out,
            report=report,
            argv=["qtc", *sys.argv[1:]],
            progress=progress,
        )
    if fmt is OutputFormat.json:
        console.print_json(_as_json(outcome))
    else:
        render(outcome)
    if not outcome.passed:
        raise typer.Exit(1)


def _as_json(outcome: Any) -> dict[str, Any]:
    """The outcome as data: the validation document with where it was written."""
    doc = {k: v for k, v in outcome.document.items() if k not in JSON_SKIP}
    report = str(outcome.report) if outcome.report else None
    return {"ok": outcome.passed, "folder": str(outcome.folder), "report": report, **doc}
