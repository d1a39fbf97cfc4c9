"""`qtc audit show|verify LOG` and `qtc positions --broker B`: inspect without trading."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from qtc.cli.options import FormatOpt, OutputFormat

audit_app = typer.Typer(
    name="audit", help="Show or verify a rebalance audit log.", no_args_is_help=True
)

LogArg = Annotated[Path, typer.Argument(help="The audit log (JSONL).")]


@audit_app.command("show")
def show(log: LogArg, fmt: FormatOpt = OutputFormat.human) -> None:
    """Print every record of an audit log."""
    from qtc.cli import console
    from qtc.live.audit import read_log

    records = read_log(log)
    if fmt is OutputFormat.json:
        console.print_json(records)
        return
    rows = [
        (str(r["seq"]), r["ts"], r["event"], json.dumps(r["payload"], sort_keys=True))
        for r in records
    ]
    console.table(str(log), ["seq", "time", "event", "payload"], rows)


@audit_app.command("verify")
def verify(log: LogArg, fmt: FormatOpt = OutputFormat.human) -> None:
    """Check an audit log: sequence gaps, hash chain, record shapes, truncation.

    Exit 1 on any problem, and on a truncated log (empty, or a run without its end record).
    """
    from qtc.cli import console
    from qtc.live.audit import verify as check

    report = check(log)
    if fmt is OutputFormat.json:
        console.print_json(report.to_dict())
    else:
        for problem in report.problems:
            console.line(problem, style="red")
        for note in report.truncated:
            console.line(note, style="yellow")
        console.line(f"{log}: {report.records} records, {_verdict(report)}")
    if not report.complete:
        raise typer.Exit(1)


def _verdict(report: Any) -> str:
    """`intact`, `truncated` or the number of problems."""
    if not report.ok:
        return f"{len(report.problems)} problem(s)"
    return "truncated" if report.truncated else "intact"


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
