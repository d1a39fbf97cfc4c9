"""`qtc rebalance FILE --broker B --dry-run`: targets -> orders -> risk checks -> order plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qtc.cli.data import LakeOpt
from qtc.cli.options import AsOfOpt, FormatOpt, OutputFormat, SetOpt
from qtc.errors import QtcError


def rebalance(
    file: Annotated[str, typer.Argument(help="Strategy TOML file.")],
    broker: Annotated[str, typer.Option("--broker", help="mock | paper | alpaca | ibkr.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Stop after writing the order plan.")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Folder of order plans.")] = Path("orders"),
    set_: SetOpt = None,
    lake: LakeOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Compute today's orders from the plan; with --dry-run, write the order plan and stop."""
    import datetime as dt

    from qtc import api_live
    from qtc.cli import console
    from qtc.cli.data import lake_for_reading

    if not dry_run:
        raise QtcError(
            "sending orders is not implemented yet (issue #7); nothing was sent",
            hint="use --dry-run to see the orders and write the order plan",
        )
    ref = lake_for_reading(lake)
    when = dt.date.fromisoformat(as_of) if as_of else None
    done = api_live.rebalance_dry_run(
        file, broker_kind=broker, lake=ref, overrides=set_, as_of=when, out=out
    )
    if fmt is OutputFormat.json:
        console.print_json({"order_plan": str(done.path), **done.document})
        return
    _render(done.document, done.path)


def _render(doc: dict[str, Any], path: Path) -> None:
    """The order table, the risk status and where the plan is."""
    from qtc.cli import console

    status = {(r["symbol"], r["side"]): r["status"] for r in doc["risk"]["orders"]}
    targets = doc["targets"]
    rows = [
        (
            o["symbol"],
            o["side"],
            f"{o['quantity']:g}",
            f"{o['price']:.2f}",
            f"{o['notional']:,.2f}",
            f"{o['current_weight']:.2%} -> {targets.get(o['symbol'], 0):.2%}",
            status.get((o["symbol"], o["side"]), ""),
        )
        for o in doc["orders"]
    ]
    acct = doc["account"]
    where = f"{doc['broker']['kind']}:{acct['account_id']}"
    title = (
        f"{doc['strategy']} on {where}  signal {doc['signal_date']}"
        f"  equity ${acct['equity']:,.2f}  cash ${acct['cash']:,.2f}"
    )
    console.table(title, ["symbol", "side", "qty", "price", "notional", "weight", "risk"], rows)
    console.line(f"risk: {doc['risk']['status']}  ({len(rows)} orders; dry run: nothing was sent)")
    console.line(f"wrote {path}  (sha256 {doc['sha256'][:12]})", style="green")
