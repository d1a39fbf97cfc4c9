"""`qtc backtest FILE`: run a strategy on the lake, print a summary, write the artifact.

On a terminal, a run that takes over a second shows transient stage progress on stderr
(not with `--format json`, nor when stderr is redirected).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import FormatOpt, OutputFormat, RunAsOfOpt, SetOpt, StrictOpt
from qtc.cli.run.report import QuantstatsOpt

ROWS: tuple[tuple[str, str, str], ...] = (
    ("total return", "total_return", "pct"),
    ("CAGR", "cagr", "pct"),
    ("volatility", "volatility", "pct"),
    ("Sharpe", "sharpe", "num"),
    ("Sortino", "sortino", "num"),
    ("max drawdown", "max_drawdown", "pct"),
    ("Calmar", "calmar", "num"),
    ("CVaR 95 (daily)", "cvar_95", "pct"),
    ("win rate (days)", "win_rate", "pct"),
)


def backtest(
    file: Annotated[str, typer.Argument(help="Strategy TOML file.")],
    set_: SetOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Root folder of run artifacts.")] = Path(
        "runs"
    ),
    lake: LakeOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-run even if an identical run exists.")
    ] = False,
    strict: StrictOpt = False,
    as_of: RunAsOfOpt = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write the HTML report next to the artifact.")
    ] = False,
    quantstats: QuantstatsOpt = False,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Run a strategy on the lake and write runs/<strategy>/<run id>/ (reused when identical)."""
    from qtc.api import run as api_run
    from qtc.cli import console
    from qtc.cli.lake_options import lake_for_reading
    from qtc.cli.options import parse_date

    ref = lake_for_reading(lake)
    when = parse_date(as_of) if as_of else None
    with console.stage_progress(enabled=fmt is not OutputFormat.json) as progress:
        outcome = api_run.backtest(
            file,
            lake=ref,
            overrides=set_,
            out=out,
            as_of=when,
            force=force,
            strict=strict,
            argv=["qtc", *sys.argv[1:]],
            progress=progress,
        )
    page = api_run.report(outcome.run_dir, quantstats=quantstats) if report else None
    if fmt is OutputFormat.json:
        console.print_json({**_as_json(outcome), "report": str(page) if page else None})
        return
    _render(outcome)
    if page is not None:
        console.line(f"wrote {page}", style="green")


def _as_json(outcome: Any) -> dict[str, Any]:
    """The outcome as data."""
    return {
        "run_dir": str(outcome.run_dir),
        "run_id": outcome.run_id,
        "reused": outcome.reused,
        "strategy": outcome.strategy,
        "window": outcome.window,
        "metrics": outcome.metrics,
        "warnings": outcome.warnings,
    }


def _render(outcome: Any) -> None:
    """Human output: warnings, the summary table, and where the artifact is."""
    from qtc.cli import console

    console.diagnostics(outcome.diagnostics, {})
    for text in outcome.warnings:
        console.warn(text)
    m = outcome.metrics
    strat, bench = m.get("strategy", {}), m.get("benchmark", {})
    rows = [(label, _fmt(strat.get(k), kind), _fmt(bench.get(k), kind)) for label, k, kind in ROWS]
    w = outcome.window
    title = f"{outcome.strategy}  {w['start']} .. {w['end']}  ({w['rebalances']} rebalances)"
    console.table(title, ["metric", "strategy", "benchmark"], rows)
    rel, act = m.get("relative", {}), m.get("activity", {})
    console.line(
        f"alpha {_fmt(rel.get('alpha'), 'pct')}  beta {_fmt(rel.get('beta'), 'num')}  "
        f"information ratio {_fmt(rel.get('information_ratio'), 'num')}  "
        f"tracking error {_fmt(rel.get('tracking_error'), 'pct')}"
    )
    console.line(
        f"turnover {_fmt(act.get('turnover'), 'pct')}/yr  "
        f"costs {_fmt(act.get('cost_paid'), 'usd')}  "
        f"avg holdings {_fmt(act.get('avg_holdings'), 'num')}  "
        f"exposure {_fmt(act.get('exposure'), 'pct')}"
    )
    verb = "reused" if outcome.reused else "wrote"
    console.line(f"{verb} {outcome.run_dir}  (run {outcome.run_id[7:19]})", style="green")


def _fmt(value: Any, kind: str) -> str:
    """Format one figure."""
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value * 100:.2f}%"
    if kind == "usd":
        return f"${value:,.0f}"
    return f"{value:.2f}"
