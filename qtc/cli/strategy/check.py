"""`qtc check FILES...`: validate and compile strategy files, no data (pre-commit, CI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from qtc.cli.options import AsOfOpt, FormatOpt, OutputFormat, SetOpt, StrictOpt, as_of_date

if TYPE_CHECKING:
    from qtc.api.strategy import CheckResult


def check(
    files: Annotated[list[str], typer.Argument(help="Strategy TOML files.", metavar="FILES...")],
    set_: SetOpt = None,
    strict: StrictOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Validate and compile strategy files without touching data; exit 2 on any error."""
    from qtc.api import strategy as api
    from qtc.cli import console

    results = api.check_files(files, overrides=set_, as_of=as_of_date(as_of), strict=strict)
    if fmt is OutputFormat.json:
        console.print_json({"files": [_as_json(r) for r in results]})
    else:
        _render(results)
    if not all(r.ok for r in results):
        raise typer.Exit(2)


def _as_json(result: CheckResult) -> dict[str, object]:
    """One file's result as data."""
    return {
        "path": result.path,
        "ok": result.ok,
        "fingerprint": result.fingerprint,
        "diagnostics": [d.to_dict() for d in result.diagnostics],
    }


def _render(results: Sequence[CheckResult]) -> None:
    """Human output: diagnostics, then one line per file."""
    from qtc.cli import console

    for result in results:
        console.diagnostics(result.diagnostics, result.sources)
    for result in results:
        errors = sum(d.severity.value == "error" for d in result.diagnostics)
        warnings = len(result.diagnostics) - errors
        status = "ok" if result.ok else f"{errors} error{'s' if errors != 1 else ''}"
        extra = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        console.line(f"{status:>9}{extra}  {result.path}", style="green" if result.ok else "red")
    bad = sum(not r.ok for r in results)
    console.line(f"{len(results) - bad} of {len(results)} strategy files ok")
