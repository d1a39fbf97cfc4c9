"""`qtc evolve FILE`: a seeded evolutionary search over the strategy's `[search]`.

On a terminal, a progress bar shows trials done, the ETA and the best trial so far
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
from qtc.cli.search.sweep import HEADLINE, _number, _value

SIDE_BY_SIDE = (
    ("Sharpe", "sharpe", "num"),
    ("CAGR", "cagr", "pct"),
    ("max DD", "max_drawdown", "pct"),
)


def evolve(
    file: Annotated[str | None, typer.Argument(help="Strategy TOML file.")] = None,
    trials: Annotated[
        int | None, typer.Option("--trials", help="Run until the study has N trials [64].")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sampler.")] = 0,
    sampler: Annotated[
        str, typer.Option("--sampler", help="nsga2 (genetic), tpe, cmaes or random.")
    ] = "nsga2",
    population: Annotated[
        int, typer.Option("--population", help="Trials per generation (run in parallel).")
    ] = 16,
    objective: Annotated[
        list[str] | None,
        typer.Option("--objective", help="Metric to optimise (repeat: a Pareto front) [sharpe]."),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help='Constraint, e.g. "max_drawdown < 0.3" (repeat: all hold).'),
    ] = None,
    holdout: Annotated[
        str | None, typer.Option("--holdout", help="Hold out the data from DATE on.")
    ] = None,
    holdout_fraction: Annotated[
        float | None,
        typer.Option("--holdout-fraction", help="Hold out this last fraction of the window."),
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", help="Write the best K strategies (one objective) [5].")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Worker processes (default: every core).")
    ] = None,
    executor: Annotated[str, typer.Option("--executor", help="local or ray.")] = "local",
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray cluster (default $RAY_ADDRESS).")
    ] = None,
    lake: LakeOpt = None,
    set_: SetOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Root folder of evolutions.")] = Path(
        "evolutions"
    ),
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue the evolution with this id.")
    ] = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Evolve variants of the strategy's [search] space and write the best as TOML."""
    from qtc.api import search
    from qtc.cli import console
    from qtc.cli.lake_options import lake_for_reading
    from qtc.errors import UserError

    if resume:
        request = search.resumed_evolve_request(out, resume, trials=trials, top=top)
    elif file is None:
        raise UserError("give a strategy FILE (or --resume ID)", hint="see `qtc evolve --help`")
    else:
        fields: dict[str, Any] = {"trials": trials} if trials is not None else {}
        fields |= {"top": top} if top is not None else {}
        request = search.evolve_request(
            path=file,
            overrides=tuple(set_ or ()),
            seed=seed,
            sampler=sampler,
            population=population,
            objectives=tuple(objective or ("sharpe",)),
            where=tuple(where or ()),
            holdout=holdout,
            holdout_fraction=holdout_fraction,
            **fields,
        )
    with console.trial_progress(enabled=fmt is not OutputFormat.json) as progress:
        outcome = search.evolve(
            request,
            lake=lake_for_reading(lake),
            out=out,
            executor=executor,
            jobs=jobs,
            ray_address=ray_address,
            progress=progress,
            argv=["qtc", *sys.argv[1:]],
            resume=resume or None,
        )
    if fmt is OutputFormat.json:
        console.print_json(_as_json(outcome))
        return
    _render(outcome)


def _as_json(outcome: Any) -> dict[str, Any]:
    """The outcome as data."""
    doc = outcome.document
    keys = (
        "strategy", "family", "family_trials", "sampler", "objectives", "filters", "counts",
        "best", "top", "pareto", "holdout", "bias",
    )  # fmt: skip
    return {
        "ok": True,
        "evolve_id": outcome.evolve_id,
        "folder": str(outcome.folder),
        "reused": outcome.reused,
        **{key: doc[key] for key in keys},
    }


def _render(outcome: Any) -> None:
    """Counts, the winners, the holdout check, the selection bias and where it was written."""
    from qtc.cli import console

    doc = outcome.document
    counts, sampler = doc["counts"], doc["sampler"]
    labels = ", ".join(_label(o) for o in doc["objectives"])
    reused = " (reused: every trial already ran)" if outcome.reused else ""
    console.line(
        f"evolution {outcome.evolve_id} of {doc['strategy']}{reused}: {sampler['name']}, "
        f"population {sampler['population']}, seed {sampler['seed']}; {counts['trials']} trials "
        f"in {counts['generations']} generations ({counts['ok']} ran, {counts['failed']} failed, "
        f"{counts['duplicate']} duplicates); {counts['ranked']} ranked by {labels}"
    )
    console.line(f"family {doc['family']}: {doc['family_trials']} trials in the ledger")
    _winners(outcome, doc)
    if doc["holdout"]:
        _holdout(doc["holdout"])
    for key in ("deflated_sharpe_text", "pbo_text", "min_backtest_text"):
        if doc["bias"].get(key):
            console.line(f"- {doc['bias'][key]}")
    console.line(f"wrote {outcome.folder}", style="green")


def _label(objective: dict[str, Any]) -> str:
    """`max sharpe`."""
    return f"{'max' if objective['maximize'] else 'min'} {objective['metric']}"


def _winners(outcome: Any, doc: dict[str, Any]) -> None:
    """The top K, or the Pareto front, as a table."""
    from qtc.cli import console

    metrics = [o["metric"] for o in doc["objectives"]]
    keys = list(doc["space"])
    rows = [_row(entry, keys, metrics) for entry in outcome.table]
    if not rows:
        console.warn("no trial passed the filters")
        return
    shown = [h[0] for h in HEADLINE if h[1] not in metrics]
    columns = ["rank", "trial", *keys, *metrics, *shown]
    several = len(metrics) > 1
    size = f"{len(rows)} trial{'' if len(rows) == 1 else 's'}"
    title = f"Pareto front: {size}" if several else f"top {len(rows)}"
    console.table(title, columns, rows)


def _row(entry: dict[str, Any], keys: list[str], metrics: list[str]) -> list[str]:
    """One winner."""
    found = entry["metrics"]
    kinds = {name: kind for _, name, kind in HEADLINE}
    cells = [str(entry["rank"]), str(entry["trial"])]
    cells += [_value(entry["params"].get(k)) for k in keys]
    cells += [_number(found.get(m), kinds.get(m, "num")) for m in metrics]
    cells += [_number(found.get(name), kind) for _, name, kind in HEADLINE if name not in metrics]
    return cells


def _holdout(holdout: dict[str, Any]) -> None:
    """In-sample and out-of-sample figures side by side, with a warning on a shortfall."""
    from qtc.cli import console

    console.line(
        f"holdout from {holdout['date']}: searched on {holdout['in_sample']}, "
        f"checked on {holdout['out_of_sample']}"
    )
    columns = ["trial"]
    for title, _, _ in SIDE_BY_SIDE:
        columns += [f"IS {title}", f"OOS {title}"]
    rows = []
    for winner in holdout["winners"]:
        cells = [str(winner["trial"])]
        for _, name, kind in SIDE_BY_SIDE:
            cells.append(_number(winner["in_sample"].get(name), kind))
            cells.append(_number(winner["out_of_sample"].get(name), kind))
        rows.append(cells)
    console.table("in-sample vs out-of-sample", columns, rows)
    for winner in holdout["winners"]:
        if winner["warning"]:
            inside = winner["in_sample"].get("sharpe")
            outside = winner["out_of_sample"].get("sharpe")
            console.warn(
                f"trial {winner['trial']}: out-of-sample Sharpe {_number(outside, 'num')} is under "
                f"half of in-sample {_number(inside, 'num')}"
            )
