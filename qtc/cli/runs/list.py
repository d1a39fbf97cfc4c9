"""`qtc runs list`: every registered run, newest first, with filters."""

from __future__ import annotations

from typing import Annotated

import typer

from qtc.cli.options import FormatOpt, OutputFormat
from qtc.cli.runs import render

KindOpt = Annotated[
    str | None, typer.Option("--kind", help="Only this kind: backtest, sweep, evolve, validate.")
]


def list_runs(
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Only runs of this strategy name.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only runs made on or after this date (UTC).")
    ] = None,
    kind: KindOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """List the registered runs, newest first (the registry is rebuilt when missing)."""
    from qtc.api import registry
    from qtc.cli import console
    from qtc.cli.options import parse_date

    day = parse_date(since, "--since") if since is not None else None
    found = registry.list_runs(strategy=strategy, since=day, kind=kind)
    if fmt is OutputFormat.json:
        console.print_json({"ok": True, **found})
        return
    for note in found["notes"]:
        console.warn(note)
    rows = found["runs"]
    if not rows:
        console.note(f"no runs in the run registry {found['registry']} match")
        return
    console.table(
        f"{len(rows)} run(s) in {found['registry']}",
        ["id", "kind", "strategy", "created (UTC)", "Sharpe/best", "git", "root"],
        [
            [
                r["short_id"],
                r["kind"],
                r["strategy"],
                render.when(r),
                render.headline(r),
                render.git(r),
                render.root(r),
            ]
            for r in rows
        ],
    )
