"""`qtc data check`: every health check on a lake."""

from __future__ import annotations

from typing import Annotated

import typer

from qtc.cli.lake_options import LakeOpt, lake_for_reading
from qtc.cli.options import FormatOpt, OutputFormat


def check(
    lake: LakeOpt = None,
    limit: Annotated[int, typer.Option(min=0, help="Findings to list (all are counted).")] = 50,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Run every health check on a lake; exit 1 if any finding is an error."""
    from qtc.api import data as api_data
    from qtc.cli import console

    ref = lake_for_reading(lake)
    findings = api_data.check(ref)
    errors = [f for f in findings if f["severity"] == "error"]
    if fmt is OutputFormat.json:
        console.print_json({"lake": str(ref.path), "findings": findings})
    else:
        cols = ["severity", "dataset", "rule", "symbol", "date", "detail"]
        rows = [[str(f.get(c) or "") for c in cols] for f in findings[:limit]]
        console.table(f"{len(findings)} findings in {ref.path}", cols, rows)
        console.line(f"{len(errors)} errors, {len(findings) - len(errors)} warnings")
    if errors:
        raise typer.Exit(1)
