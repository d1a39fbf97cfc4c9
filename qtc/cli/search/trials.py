"""`qtc trials [FAMILY]`: the project's trial ledger (every variant a search ever ran).

Without a family: one line per family (trials, searches, best Sharpe). With one: its
trials, oldest first. The ledger is `$QTC_LEDGER`, else `.qtc/ledger.duckdb`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qtc.cli.options import FormatOpt, OutputFormat


def trials(
    family: Annotated[
        str | None, typer.Argument(help="A family key (`name@fingerprint`) to list its trials.")
    ] = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """List the trial ledger's families, or one family's trials."""
    from qtc.api import search
    from qtc.cli import console

    if family is None:
        rows = search.ledger_families()
        if fmt is OutputFormat.json:
            console.print_json({"ok": True, "families": rows})
            return
        if not rows:
            console.note("the trial ledger is empty: run `qtc sweep` first")
            return
        columns = ["family", "trials", "failed", "searches", "best Sharpe", "last"]
        console.table("families", columns, [_family_row(r) for r in rows])
        return
    found = search.ledger_trials(family)
    if fmt is OutputFormat.json:
        console.print_json({"ok": True, "family": family, "trials": found})
        return
    columns = ["search", "trial", "status", "params", "Sharpe", "CAGR", "max DD"]
    console.table(f"{family}: {len(found)} trials", columns, [_trial_row(r) for r in found])


def _family_row(row: dict[str, Any]) -> list[str]:
    """One family line."""
    best = row["best_sharpe"]
    return [
        row["family"],
        str(row["trials"]),
        str(row["failed"]),
        str(row["searches"]),
        "—" if best is None else f"{best:.3f}",
        row["last_at"],
    ]


def _trial_row(row: dict[str, Any]) -> list[str]:
    """One trial line."""
    params = ", ".join(f"{k}={v}" for k, v in row["params"].items())

    def number(value: float | None, pct: bool = False) -> str:
        if value is None:
            return "—"
        return f"{value:.2%}" if pct else f"{value:.3f}"

    return [
        row["search"],
        str(row["trial"]),
        row["status"],
        params,
        number(row["sharpe"]),
        number(row["cagr"], pct=True),
        number(row["max_drawdown"], pct=True),
    ]
