"""`qtc diff A B` / `qtc diff --git BASE`: what a strategy change does, ready for review.

A and B: strategy files, `REV:path` git revisions, run folders or run ids. Output as text,
JSON, markdown (a pull-request comment) or one offline HTML page, on stdout or `--out`.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import OutputFormat, SetOpt, state
from qtc.errors import UserError


class DiffFormat(StrEnum):
    """Output formats of `qtc diff`."""

    human = "human"
    json = "json"
    markdown = "markdown"
    html = "html"


def _remember(ctx: typer.Context, value: DiffFormat | None) -> DiffFormat | None:
    """Option callback: JSON errors when JSON was asked for."""
    if value is DiffFormat.json:
        state(ctx).format = OutputFormat.json
    return value


def diff(
    a: Annotated[
        str | None,
        typer.Argument(help="Old side: a strategy file, REV:path, run folder or run id."),
    ] = None,
    b: Annotated[str | None, typer.Argument(help="New side (same kinds as A).")] = None,
    git: Annotated[
        str | None,
        typer.Option(
            "--git", metavar="BASE", help="Compare every strategy file changed since BASE."
        ),
    ] = None,
    lake: LakeOpt = None,
    set_: SetOpt = None,
    runs: Annotated[
        Path, typer.Option("--runs", help="Where the compared backtests are written (reused).")
    ] = Path("runs"),
    no_run: Annotated[
        bool, typer.Option("--no-run", help="Compare the strategy and plan only; run nothing.")
    ] = False,
    fmt: Annotated[
        DiffFormat | None,
        typer.Option(
            "--format",
            help="human, json, markdown or html (default: human, or --out's suffix).",
            callback=_remember,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report to this file.")
    ] = None,
) -> None:
    """Compare two strategies (or a change since a git revision): values, plan and results."""
    from qtc.api import diff as api_diff
    from qtc.cli import console
    from qtc.cli.lake_options import lake_for_reading

    chosen = api_diff.output_format(fmt.value if fmt else None, out)
    if git is not None and (a is not None or b is not None or set_):
        raise UserError("--git BASE compares the changed files itself; give no A, B or --set")
    if git is None and (a is None or b is None):
        raise UserError("give two sides, A and B, or --git BASE", hint="see `qtc diff --help`")
    options = api_diff.Options(
        lake=lambda: lake_for_reading(lake), overrides=list(set_ or []), runs=runs,
        results=not no_run,
    )  # fmt: skip
    with console.stage_progress(enabled=chosen != "json") as progress:
        options.progress = progress
        if git is not None:
            report = api_diff.diff_git(git, options)
        else:
            assert a is not None and b is not None
            report = api_diff.diff(a, b, options)
    text = api_diff.render(report, chosen)
    if out is None:
        if chosen == "human":
            _human(text)
        else:
            sys.stdout.write(text)
        return
    api_diff.write(out, text)
    if chosen == "json":
        console.print_json({"ok": True, "out": str(out), "unchanged": report.unchanged})
    else:
        console.line(f"wrote {out}", style="green")


def _human(text: str) -> None:
    """Print the text report through the console."""
    from qtc.cli import console

    for line in text.rstrip("\n").split("\n"):
        console.line(line)
