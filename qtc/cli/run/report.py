"""`qtc report RUN_DIR`: one self-contained HTML tear sheet from a run artifact."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import FormatOpt, OutputFormat


class ReportStyle(StrEnum):
    """Which tear sheet `qtc report` writes."""

    qtc = "qtc"
    quantstats = "quantstats"


QuantstatsOpt = Annotated[
    bool, typer.Option("--quantstats", help="Also write quantstats' own tear sheet and link it.")
]


def report(
    run_dir: Annotated[Path, typer.Argument(help="Run folder: runs/<strategy>/<run id>.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output file (default: RUN_DIR/report.html).")
    ] = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the report in a browser.")] = False,
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", help="Compare with another benchmark symbol.")
    ] = None,
    quantstats: QuantstatsOpt = False,
    style: Annotated[
        ReportStyle,
        typer.Option(
            "--style",
            help="qtc, or quantstats: quantstats' own tear sheet, offline "
            "(default RUN_DIR/quantstats.html).",
        ),
    ] = ReportStyle.qtc,
    lake: LakeOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Render the tear sheet of a run (from its artifact only; nothing is re-run)."""
    from qtc.api import data as api_data
    from qtc.api import run as api_run
    from qtc.cli import console

    ref = api_data.find_lake(lake, build_demo=False) if benchmark else None
    path = api_run.report(
        run_dir, out=out, quantstats=quantstats, benchmark=benchmark, lake=ref, style=style.value
    )
    if fmt is OutputFormat.json:
        console.print_json({"report": str(path)})
    else:
        console.line(f"wrote {path}", style="green")
    if open_:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
