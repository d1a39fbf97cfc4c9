"""`qtc data ingest|info|check|query|demo`: the data lake, one module per command."""

from __future__ import annotations

import typer

from qtc.cli.data import check, demo, info, ingest, query

data_app = typer.Typer(
    name="data", help="The data lake: ingest, info, check, query, demo.", no_args_is_help=True
)
data_app.command("ingest")(ingest.ingest)
data_app.command("info")(info.info)
data_app.command("check")(check.check)
data_app.command("query")(query.query)
data_app.command("demo")(demo.demo)
