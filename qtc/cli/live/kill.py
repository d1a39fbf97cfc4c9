"""`qtc kill --broker B [--flatten]`: cancel every open order, then maybe sell everything."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import FormatOpt, OutputFormat
from qtc.errors import QtcError, UserError


def kill(
    broker: Annotated[str, typer.Option("--broker", help="mock | paper | alpaca | ibkr.")],
    file: Annotated[
        str | None, typer.Argument(help="Strategy whose [broker] settings to use.")
    ] = None,
    account: Annotated[str | None, typer.Option("--account", help="Paper account name.")] = None,
    flatten: Annotated[
        bool, typer.Option("--flatten", help="Then sell every position (asks first).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Flatten without asking.")] = False,
    lake: LakeOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Cancel every open order at a broker; with --flatten, then sell every position."""
    from qtc.api import live as api_live

    connected = api_live.kill_broker(broker, file, account, lake)
    if flatten and not yes:
        _confirm_flatten(connected, fmt)
    _show(api_live.kill(connected, flatten=flatten), fmt)


def _confirm_flatten(broker: Any, fmt: OutputFormat) -> None:
    from qtc.cli import console

    if fmt is OutputFormat.json:
        raise UserError("--format json cannot ask for confirmation; nothing was sent",
                        hint="pass --yes to flatten unattended")  # fmt: skip
    held = broker.positions()
    rows = [(p.symbol, f"{p.quantity:g}") for p in held]
    console.table("positions to sell", ["symbol", "quantity"], rows)
    if not typer.confirm(f"Cancel all open orders and sell {len(held)} positions?", default=False):
        raise QtcError("not confirmed; nothing was sent")


def _show(done: Any, fmt: OutputFormat) -> None:
    from qtc.cli import console

    canceled = [asdict(s) for s in done.canceled]
    flattened = done.flattened.to_dict() if done.flattened is not None else None
    if fmt is OutputFormat.json:
        console.print_json(
            {
                "canceled": canceled,
                "flattened": flattened,
                "positions": [asdict(p) for p in done.positions],
                "audit_log": str(done.audit_log),
            }
        )
        return
    console.line(f"canceled {len(canceled)} open order(s)")
    for s in canceled:
        console.line(f"  {s['client_order_id']}  {s['side']} {s['symbol']}  -> {s['status']}")
    if flattened is not None:
        rows = [
            (o["symbol"], f"{o['planned']:g}", f"{o['filled']:g}", o["status"], o["reason"])
            for o in flattened["orders"]
        ]
        console.table("flatten", ["symbol", "quantity", "filled", "status", "reason"], rows)
    console.line(f"{len(done.positions)} position(s) left; audit log {done.audit_log}")
