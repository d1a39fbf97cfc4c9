"""`qtc audit show|verify LOG`: inspect a rebalance audit log, one module per command."""

from __future__ import annotations

import typer

from qtc.cli.audit import show, verify

audit_app = typer.Typer(
    name="audit", help="Show or verify a rebalance audit log.", no_args_is_help=True
)
audit_app.command("show")(show.show)
audit_app.command("verify")(verify.verify)
