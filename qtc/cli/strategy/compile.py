"""`qtc compile FILE`: print the plan as a tree, as JSON, or every resolved value."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qtc.cli.options import (
    AsOfOpt,
    FormatOpt,
    OutputFormat,
    SetOpt,
    StrictOpt,
    as_of_date,
    remember_json,
)


def compile_(
    file: Annotated[str, typer.Argument(help="Strategy TOML file.")],
    explain: Annotated[
        bool, typer.Option("--explain", help="Show what each stage requires and produces.")
    ] = False,
    json_: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON.", callback=remember_json)
    ] = False,
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Print every final value and where it came from.")
    ] = False,
    set_: SetOpt = None,
    strict: StrictOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Compile a strategy into its plan (no data is read)."""
    from qtc.api import strategy as api
    from qtc.cli import console

    done = api.compile_file(file, overrides=set_, as_of=as_of_date(as_of), strict=strict)
    as_json = json_ or fmt is OutputFormat.json
    if resolved:
        rows = api.resolved_values(done.loaded)
        if as_json:
            console.print_json([r.__dict__ for r in rows])
        else:
            console.table(
                f"{file}: resolved values",
                ["key", "value", "from"],
                [(r.key_path, r.value, r.origin) for r in rows],
            )
        return
    if as_json:
        console.print_json(json.loads(done.plan.to_json()))
        return
    console.diagnostics(done.warnings, done.loaded.sources)
    console.tree(api.explain_plan(done.plan, detail=explain))
