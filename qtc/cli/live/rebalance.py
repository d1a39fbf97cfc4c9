"""`qtc rebalance`: targets -> orders -> risk checks -> order plan -> (confirm) -> execution.

qtc rebalance FILE --broker paper --dry-run     # write the order plan, send nothing
qtc rebalance FILE --broker paper               # show the plan, ask, execute
qtc rebalance FILE --broker paper --yes         # unattended
qtc rebalance --apply orders/x/2024-03-28-ab12.json   # execute exactly a saved plan
qtc rebalance FILE --resume                     # finish an interrupted run
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import AsOfOpt, FormatOpt, OutputFormat, SetOpt
from qtc.errors import QtcError, UserError


def rebalance(
    file: Annotated[str | None, typer.Argument(help="Strategy TOML file.")] = None,
    broker: Annotated[
        str | None,
        typer.Option("--broker", help="mock | paper | alpaca | ibkr (default: the strategy's)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Stop after writing the order plan.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Send without asking.")] = False,
    apply: Annotated[
        Path | None, typer.Option("--apply", help="Execute exactly this saved order plan.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted run (no order twice).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Trade even if this window already ran.")
    ] = False,
    allow_stale: Annotated[
        bool,
        typer.Option(
            "--allow-stale",
            help="Send even when the signal is older than rebalance.max_signal_age_days.",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.0, help="Seconds to wait for fills before canceling."),
    ] = 60.0,
    out: Annotated[Path, typer.Option("--out", help="Folder of order plans.")] = Path("orders"),
    set_: SetOpt = None,
    lake: LakeOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Compute today's orders from the plan, show them, and (once confirmed) execute them."""
    from qtc.api import live as api_live
    from qtc.cli import options

    today = options.today()
    if resume:
        done = api_live.resume(
            apply, file, today=today, allow_stale=allow_stale, timing=_timing(timeout)
        )
        _show_execution(done, fmt)
        return
    planned = _plan(file, broker, apply, out, set_, lake, as_of, today)
    if not dry_run:
        api_live.check_window(planned, force=force)
    if apply is not None or not dry_run:
        api_live.recheck(planned, today=today)
    if dry_run:
        _show_plan(planned, fmt, dry_run=True)
        return
    if fmt is OutputFormat.human:
        _show_plan(planned, fmt, dry_run=False)
    api_live.enforce(planned, today=today, allow_stale=allow_stale)
    _confirm(planned, yes=yes, fmt=fmt)
    done = api_live.execute(
        planned, force=force, today=today, allow_stale=allow_stale, timing=_timing(timeout)
    )
    _show_execution(done, fmt)


def _timing(timeout: float) -> Any:
    """How long to wait for fills: `timeout`, polled 20 times (between 10 ms and 1 s apart).

    Built only before sending, so a dry run never imports the executor.
    """
    from qtc.api import live as api_live

    return api_live.Timing(timeout=timeout, poll=min(1.0, max(timeout / 20, 0.01)))


def _plan(
    file: str | None,
    broker: str | None,
    apply: Path | None,
    out: Path,
    set_: list[str] | None,
    lake: str | None,
    as_of: str | None,
    today: Any,
) -> Any:
    """A fresh order plan from the strategy, or a saved one (`--apply`)."""
    from qtc.api import live as api_live
    from qtc.cli.lake_options import lake_for_reading
    from qtc.cli.options import parse_date

    if apply is not None:
        if file is not None or set_ or as_of:
            raise UserError(
                "--apply executes a saved plan: give no strategy file, --set or --as-of"
            )
        planned = api_live.load_plan(apply)
        kind = planned.document["broker"]["kind"]
        if broker is not None and broker != kind:
            raise UserError(f"{apply} was made for broker {kind!r}, not {broker!r}")
        return planned
    if file is None:
        raise UserError("give a strategy file (or --apply ORDER_PLAN)")
    return api_live.plan_rebalance(
        file,
        broker_kind=broker,
        lake=lake_for_reading(lake),
        overrides=set_,
        as_of=parse_date(as_of) if as_of else today,
        today=today,
        out=out,
    )


def _confirm(planned: Any, *, yes: bool, fmt: OutputFormat) -> None:
    """Ask before sending (unless --yes); refuse to guess in JSON mode."""
    doc = planned.document
    if yes:
        return
    hint = f"apply it later with `qtc rebalance --apply {planned.path}`, or pass --yes"
    if fmt is OutputFormat.json:
        raise UserError("--format json cannot ask for confirmation; nothing was sent", hint=hint)
    where = f"{doc['broker']['kind']}:{doc['account']['account_id']}"
    if not typer.confirm(f"Send {len(doc['orders'])} orders to {where}?", default=False):
        raise QtcError("not confirmed; nothing was sent", hint=hint)


def _show_plan(planned: Any, fmt: OutputFormat, *, dry_run: bool) -> None:
    """The order table, the signal's age, the risk status and where the plan is.

    A plan re-checked against the account (`--apply`, or before sending) shows the re-run
    risk checks, not the ones stored in the file.
    """
    from qtc.cli import console

    doc, path, checked = planned.document, planned.path, planned.checked
    risk = checked.risk_document() if checked is not None else doc["risk"]
    age = checked.age.to_dict() if checked is not None else doc["signal_age"]
    if fmt is OutputFormat.json:
        if dry_run:
            extra = {"recheck": {"risk": risk, "signal_age": age}} if checked else {}
            console.print_json({"order_plan": str(path), **doc, **extra})
        return
    if age["stale"]:
        console.line(f"STALE DATA: {_age_text(age)}; --allow-stale overrides", style="bold red")
    console.table(_title(doc), ["symbol", "side", "qty", "price", "notional", "weight", "risk"],
                  _order_rows(doc, risk))  # fmt: skip
    tail = "; dry run: nothing was sent" if dry_run else ""
    console.line(f"risk: {risk['status']}  ({len(doc['orders'])} orders{tail})")
    console.line(_age_text(age), style="bold red" if age["stale"] else "")
    console.line(f"wrote {path}  (sha256 {doc['sha256'][:12]}, signed)", style="green")


def _title(doc: dict[str, Any]) -> str:
    acct = doc["account"]
    where = f"{doc['broker']['kind']}:{acct['account_id']}"
    return (
        f"{doc['strategy']} on {where}  signal {doc['signal_date']}"
        f"  equity ${acct['equity']:,.2f}  cash ${acct['cash']:,.2f}"
    )


def _order_rows(doc: dict[str, Any], risk: dict[str, Any]) -> list[tuple[str, ...]]:
    status = {(r["symbol"], r["side"]): r["status"] for r in risk["orders"]}
    targets = doc["targets"]
    return [
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


def _age_text(age: dict[str, Any]) -> str:
    days = "day" if age["trading_days"] == 1 else "days"
    return (
        f"signal {age['signal_date']} is {age['trading_days']} trading {days} before "
        f"{age['reference']} (max {age['max_days']})"
        + ("; sending would be refused" if age["stale"] else "")
    )


def _show_execution(done: Any, fmt: OutputFormat) -> None:
    """What was sent and filled, the residual against the targets, where the log is."""
    from dataclasses import asdict

    from qtc.cli import console

    report = done.report
    if fmt is OutputFormat.json:
        body: dict[str, Any] = {
            "order_plan": done.run.order_plan,
            "audit_log": str(done.audit_log),
            "run": asdict(done.run),
            **report.to_dict(),
        }
        console.print_json(body)
        return
    rows = [
        (
            o["symbol"],
            o["side"],
            f"{o['planned']:g}",
            f"{o['quantity']:g}",
            f"{o['filled']:g}",
            "" if o["avg_price"] is None else f"{o['avg_price']:.2f}",
            o["status"],
            o["reason"],
        )
        for o in report.orders
    ]
    head = ["symbol", "side", "planned", "sent", "filled", "avg price", "status", "reason"]
    console.table(f"executed on {done.run.broker}:{done.run.account}", head, rows)
    gaps = [
        (
            r["symbol"],
            f"{r['target_weight']:.2%}",
            f"{r['weight']:.2%}",
            f"{r['diff'] * 10_000:+.1f} bp",
        )
        for r in report.residual[:5]
    ]
    console.table("largest residuals vs targets", ["symbol", "target", "held", "diff"], gaps)
    acct = report.account
    console.line(f"equity ${acct.equity:,.2f}  cash ${acct.cash:,.2f}")
    console.line(f"audit log {done.audit_log}")
    if report.complete:
        console.line(f"run of window {done.run.window} complete", style="green")
    else:
        console.line("run incomplete: finish it with --resume", style="red")
