"""`qtc sweep FILE --grid KEY=V1,V2 ...`: every variant on one loaded market, ranked.

On a terminal, a progress bar shows trials done, the ETA and the best objective so far
(not with `--format json`, nor when stderr is redirected). Ctrl-C keeps every finished
trial and prints the `--resume` command (exit 130).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qtc.cli.lake_options import LakeOpt
from qtc.cli.options import FormatOpt, OutputFormat, SetOpt

HEADLINE = (
    ("Sharpe", "sharpe", "num"),
    ("CAGR", "cagr", "pct"),
    ("max DD", "max_drawdown", "pct"),
    ("vol", "volatility", "pct"),
    ("turnover", "activity.turnover", "num"),
)


def sweep(
    file: Annotated[str | None, typer.Argument(help="Strategy TOML file.")] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="KEY=V1,V2,... (repeat for more keys)."),
    ] = None,
    grid_file: Annotated[
        Path | None, typer.Option("--grid-file", help="TOML file of KEY = [candidates].")
    ] = None,
    sample: Annotated[
        int | None, typer.Option("--sample", help="Run N variants drawn at random.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --sample.")] = 0,
    objective: Annotated[
        str, typer.Option("--objective", help="Metric to rank by (min:/max: to force).")
    ] = "sharpe",
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help='Filter, e.g. "max_drawdown < 0.3" (repeat: all hold).'),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Write the best K strategies.")] = 5,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Worker processes (default: every core).")
    ] = None,
    executor: Annotated[str, typer.Option("--executor", help="local or ray.")] = "local",
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray cluster (default $RAY_ADDRESS).")
    ] = None,
    max_variants: Annotated[
        int, typer.Option("--max-variants", help="Refuse larger grids unless --sample.")
    ] = 5_000,
    lake: LakeOpt = None,
    set_: SetOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Root folder of sweeps.")] = Path("sweeps"),
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue the sweep with this id.")
    ] = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Run every variant of a grid (or the strategy's [search]) and rank them."""
    from qtc.api import search
    from qtc.cli import console
    from qtc.cli.lake_options import lake_for_reading
    from qtc.errors import UserError

    if top < 0 or max_variants < 1:
        raise UserError("--top must be >= 0 and --max-variants >= 1")
    if resume:
        request = search.resumed_request(out, resume)
    elif file is None:
        raise UserError("give a strategy FILE (or --resume ID)", hint="see `qtc sweep --help`")
    else:
        request = search.sweep_request(
            path=file,
            overrides=tuple(set_ or ()),
            grid=tuple(grid or ()),
            grid_file=str(grid_file) if grid_file else None,
            sample=sample,
            seed=seed,
            objective=objective,
            where=tuple(where or ()),
            top=top,
            max_variants=max_variants,
        )
    with console.trial_progress(enabled=fmt is not OutputFormat.json) as progress:
        outcome = search.sweep(
            request,
            lake=lake_for_reading(lake),
            out=out,
            executor=executor,
            jobs=jobs,
            ray_address=ray_address,
            progress=progress,
            argv=["qtc", *sys.argv[1:]],
        )
    if fmt is OutputFormat.json:
        console.print_json(_as_json(outcome))
        return
    _render(outcome)


def _as_json(outcome: Any) -> dict[str, Any]:
    """The outcome as data."""
    doc = outcome.document
    return {
        "ok": True,
        "sweep_id": outcome.sweep_id,
        "folder": str(outcome.folder),
        "reused": outcome.reused,
        "strategy": doc["strategy"],
        "family": doc["family"],
        "family_trials": doc["family_trials"],
        "objective": doc["objective"],
        "counts": doc["counts"],
        "bias": doc["bias"],
        "top": doc["top"],
    }


def _render(outcome: Any) -> None:
    """Counts, the ranked table, the selection-bias sentences and where it was written."""
    from qtc.cli import console

    doc = outcome.document
    counts = doc["counts"]
    objective = doc["objective"]
    label = f"{'max' if objective['maximize'] else 'min'} {objective['metric']}"
    reused = " (reused: the same sweep already ran)" if outcome.reused else ""
    console.line(
        f"sweep {outcome.sweep_id} of {doc['strategy']}{reused}: {counts['variants']} variants, "
        f"{counts.get('ok', 0)} ran, {counts.get('failed', 0)} failed, "
        f"{counts.get('duplicate', 0)} duplicates; {counts['ranked']} ranked by {label}"
    )
    console.line(
        f"family {doc['family']}: {doc['family_trials']} trials in the ledger "
        f"({counts.get('ok', 0)} from this sweep)"
    )
    keys = list(doc["space"])
    rows = [_row(entry, keys, objective["metric"]) for entry in outcome.table]
    if rows:
        shown = [h for h in HEADLINE if h[1] != objective["metric"]]
        columns = ["rank", *keys, objective["metric"], *[h[0] for h in shown]]
        console.table(f"top {len(rows)}", columns, rows)
    else:
        console.warn("no trial passed the filters")
    for key in ("deflated_sharpe_text", "pbo_text", "min_backtest_text"):
        if doc["bias"].get(key):
            console.line(f"- {doc['bias'][key]}")
    console.line(f"wrote {outcome.folder}", style="green")


def _row(entry: dict[str, Any], keys: list[str], metric: str) -> list[str]:
    """One ranked row."""
    metrics = entry["metrics"]
    cells = [str(entry["rank"]), *[_value(entry["params"].get(k)) for k in keys]]
    kinds = {name: kind for _, name, kind in HEADLINE}
    cells.append(_number(metrics.get(metric), kinds.get(metric, "num")))
    cells += [_number(metrics.get(name), kind) for _, name, kind in HEADLINE if name != metric]
    return cells


def _value(value: Any) -> str:
    """A parameter value as the user wrote it."""
    return "—" if value is None else str(value)


def _number(value: Any, kind: str) -> str:
    """A metric cell."""
    if value is None:
        return "—"
    return f"{value:.2%}" if kind == "pct" else f"{value:.3f}"
