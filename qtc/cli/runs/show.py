"""`qtc runs show ID`: one registered run (id, id prefix or folder)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qtc.cli.options import FormatOpt, OutputFormat
from qtc.cli.runs import render


def show(
    ident: Annotated[
        str, typer.Argument(metavar="ID", help="A run id, a prefix of one, or a folder.")
    ],
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Show one registered run: provenance, data, versions and headline metrics."""
    from qtc.api import registry
    from qtc.cli import console

    row = registry.show_run(ident)
    if fmt is OutputFormat.json:
        console.print_json({"ok": True, "run": row})
        return
    console.table(f"{row['kind']} {row['short_id']} of {row['strategy']}", ["field", "value"],
                  _fields(row))  # fmt: skip
    metrics = row.get("metrics") or {}
    if metrics:
        pct = {"total_return", "cagr", "volatility", "max_drawdown", "turnover"}
        console.table(
            "headline metrics",
            ["metric", "value"],
            [[k, render.figure(v, pct=k in pct)] for k, v in metrics.items()],
        )


def _fields(row: dict[str, Any]) -> list[list[str]]:
    """The record's fields as rows."""
    dirty = {True: "yes", False: "no", None: "unknown"}[row.get("git_dirty")]
    window = f"{row['window_start']} .. {row['window_end']}" if row.get("window_start") else "-"
    data = ", ".join(f"{k} {v[:12]}" for k, v in sorted(row["dataset_hashes"].items()))
    versions = ", ".join(f"{k} {v}" for k, v in sorted(row["versions"].items()))
    return [
        ["id", row["run_id"]],
        ["status", row["status"]],
        ["created (UTC)", render.when(row)],
        ["folder", render.folder(row)],
        ["plan fingerprint", row.get("fingerprint") or "-"],
        ["strategy file", row.get("strategy_file") or "-"],
        ["git revision", row.get("git_revision") or "-"],
        ["git path", row.get("git_path") or "-"],
        ["git dirty", dirty],
        ["window", window],
        ["datasets", data or "-"],
        ["versions", versions or "-"],
    ]
