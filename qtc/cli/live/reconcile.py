"""`qtc reconcile FILE --broker B`: today's targets against the broker's holdings."""

from __future__ import annotations

from typing import Annotated

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import AsOfOpt, FormatOpt, OutputFormat, SetOpt

BrokerOpt = Annotated[
    str | None,
    typer.Option("--broker", help="mock | paper | alpaca | ibkr (default: the strategy's)."),
]


def reconcile(
    file: Annotated[str, typer.Argument(help="Strategy TOML file.")],
    broker: BrokerOpt = None,
    set_: SetOpt = None,
    lake: LakeOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Compare today's targets with the broker's holdings (sends nothing)."""
    from qtc.api import live as api_live
    from qtc.cli import console
    from qtc.cli.lake_options import lake_for_reading
    from qtc.cli.options import parse_date

    when = parse_date(as_of) if as_of else None
    doc = api_live.reconcile(
        file, broker_kind=broker, lake=lake_for_reading(lake), overrides=set_, as_of=when
    ).document
    if fmt is OutputFormat.json:
        console.print_json(doc)
        return
    acct = doc["account"]
    title = (
        f"{doc['strategy']} on {doc['broker']}:{acct['account_id']}  signal {doc['signal_date']}"
        f"  equity ${acct['equity']:,.2f}  cash ${acct['cash']:,.2f}"
    )
    rows = [
        (
            r["symbol"],
            f"{r['target_weight']:.2%}",
            f"{r['weight']:.2%}",
            f"{r['diff'] * 10_000:+.1f} bp",
        )
        for r in doc["residual"]
    ]
    console.table(title, ["symbol", "target", "held", "diff"], rows)
    turnover = doc["turnover_to_targets"]
    console.line(f"turnover to reach the targets (half the sum of |diff|): {turnover:.2%}")
