"""`qtc audit verify LOG`: sequence, hash chain, record shapes, truncation."""

from __future__ import annotations

from typing import Any

import typer

from qtc.cli.audit.show import LogArg
from qtc.cli.options import FormatOpt, OutputFormat


def verify(log: LogArg, fmt: FormatOpt = OutputFormat.human) -> None:
    """Check an audit log: sequence gaps, hash chain, record shapes, truncation.

    Exit 1 on any problem, and on a truncated log (empty, or a run without its end record).
    """
    from qtc.api import audit as api_audit
    from qtc.cli import console

    report = api_audit.verify(log)
    if fmt is OutputFormat.json:
        console.print_json(report.to_dict())
    else:
        for problem in report.problems:
            console.line(problem, style="red")
        for note in report.truncated:
            console.line(note, style="yellow")
        console.line(f"{log}: {report.records} records, {_verdict(report)}")
    if not report.complete:
        raise typer.Exit(1)


def _verdict(report: Any) -> str:
    """`intact`, `truncated` or the number of problems."""
    if not report.ok:
        return f"{len(report.problems)} problem(s)"
    return "truncated" if report.truncated else "intact"
