"""`qtc positions --broker B`: a broker account's cash, equity and positions (no trading)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from qtc.cli.options import FormatOpt, OutputFormat


def positions(
    broker: Annotated[str, typer.Option("--broker", help="paper | mock | alpaca | ibkr.")],
    file: Annotated[
        str | None, typer.Argument(help="Strategy whose [broker] settings to use.")
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="Paper account name (default: default).")
    ] = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Show a broker account's cash, equity and positions."""
    from qtc.api import live as api_live
    from qtc.cli import console

    acct, held = api_live.positions(broker, account, file)
    if fmt is OutputFormat.json:
        console.print_json({"account": asdict(acct), "positions": [asdict(p) for p in held]})
        return
    title = f"{broker}:{acct.account_id}  equity ${acct.equity:,.2f}  cash ${acct.cash:,.2f}"
    rows = [(p.symbol, f"{p.quantity:g}", f"{p.avg_price:.2f}") for p in held]
    console.table(title, ["symbol", "quantity", "avg price"], rows)
