"""`qtc runs list|show|gc|rebuild`: the run registry, one module per command."""

from __future__ import annotations

import typer

from qtc.cli.runs import gc, rebuild, show
from qtc.cli.runs import list as list_

runs_app = typer.Typer(
    name="runs",
    help="The run registry: every backtest and sweep, findable again (list, show, gc, rebuild).",
    no_args_is_help=True,
)
runs_app.command("list")(list_.list_runs)
runs_app.command("show")(show.show)
runs_app.command("gc")(gc.gc)
runs_app.command("rebuild")(rebuild.rebuild)
