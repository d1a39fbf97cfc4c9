"""How the `qtc runs` commands show a record: short id, time, git state, figures, folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def when(row: dict[str, Any]) -> str:
    """`YYYY-MM-DD HH:MM` (UTC) of a record."""
    return str(row["created_at"])[:16].replace("T", " ")


def git(row: dict[str, Any]) -> str:
    """The revision's first 8 digits, `*` when dirty, `?` when unknown; `-` outside git."""
    rev = row.get("git_revision")
    if not rev:
        return "-"
    mark = {True: "*", False: "", None: "?"}[row.get("git_dirty")]
    return f"{rev[:8]}{mark}"


def figure(value: Any, pct: bool = False) -> str:
    """A metric: a percentage or a 3-digit number; `-` when absent."""
    if value is None:
        return "-"
    return f"{value:.2%}" if pct else f"{value:.3f}"


def headline(row: dict[str, Any]) -> str:
    """The record's main figure: a backtest's Sharpe, a search's best objective."""
    metrics = row.get("metrics") or {}
    if row["kind"] == "backtest":
        return figure(metrics.get("sharpe"))
    best = [(k, v) for k, v in metrics.items() if k.startswith("best_")]
    if best:
        return f"{best[0][0].removeprefix('best_')} {figure(best[0][1])}"
    return ", ".join(f"{k} {v:g}" for k, v in metrics.items() if v is not None)


def root(row: dict[str, Any]) -> str:
    """The artifact root the record's folder is in (`runs`, `sweeps`, an `--out`)."""
    path = Path(row["folder"]).parent.parent
    shown = folder({"folder": str(path)})
    return shown if row.get("present", True) else f"{shown} (missing)"


def folder(row: dict[str, Any]) -> str:
    """The folder relative to the working folder when it is below it; `(missing)` if gone."""
    path = Path(row["folder"])
    try:
        shown = os.path.relpath(path)
    except ValueError:
        shown = str(path)
    shown = str(path) if shown.startswith("..") else shown
    return shown if row.get("present", True) else f"{shown} (missing)"
