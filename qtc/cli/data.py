"""`qtc data ingest|info|check|query|demo`: the data lake."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qtc.cli.options import FormatOpt, OutputFormat

data_app = typer.Typer(
    name="data", help="The data lake: ingest, info, check, query, demo.", no_args_is_help=True
)

LakeOpt = Annotated[
    str | None,
    typer.Option(
        "--lake", help="Lake folder (default: $QTC_LAKE, then ./lake, else the demo market)."
    ),
]

TargetLakeOpt = Annotated[
    str | None,
    typer.Option("--lake", help="Lake folder to write (default: $QTC_LAKE, then ./lake)."),
]


def lake_for_reading(explicit: str | None) -> Any:
    """Resolve the lake to read, saying so in one line when it is the demo market."""
    from qtc.api import data as api_data
    from qtc.cli import console

    ref = api_data.find_lake(explicit)
    if ref.origin == "demo":
        console.note(
            f"using the built-in SYNTHETIC demo market at {ref.path} "
            "(pass --lake or set QTC_LAKE for real data)"
        )
    return ref


@data_app.command("ingest")
def ingest(
    source: Annotated[str, typer.Argument(help="A Parquet/CSV file or folder, or ../shared/data.")],
    lake: TargetLakeOpt = None,
    dataset: Annotated[
        str, typer.Option(help="Target dataset for price files: prices or benchmarks.")
    ] = "prices",
    mode: Annotated[
        str, typer.Option(help="replace_symbols (default), upsert or append.")
    ] = "replace_symbols",
    fundamentals_lag_days: Annotated[
        int, typer.Option(help="Reporting lag for fundamentals without a publish date (days).")
    ] = 90,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Ingest market data into a lake (atomic: a refused ingest changes nothing)."""
    from qtc.api import data as api_data
    from qtc.cli import console

    ref = api_data.target_lake(lake)
    report = api_data.ingest(
        source, ref, dataset=dataset, mode=mode, fundamentals_lag_days=fundamentals_lag_days
    )
    if fmt is OutputFormat.json:
        console.print_json(report)
        return
    rows = [(name, f"{n:,}", report["hashes"][name][:12]) for name, n in report["rows"].items()]
    console.table(f"ingested into {ref.path}", ["dataset", "rows", "sha256"], rows)
    for name, counts in report["warnings"].items():
        summary = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items()))
        console.warn(f"{name}: {summary} (see `qtc data check`)")
    console.line(f"done in {report['seconds']:.1f} s")


@data_app.command("info")
def info(lake: LakeOpt = None, fmt: FormatOpt = OutputFormat.human) -> None:
    """Show the lake's catalog: rows, symbols, date range and content hash per dataset."""
    from qtc.api import data as api_data
    from qtc.cli import console

    ref = lake_for_reading(lake)
    rows = api_data.info(ref)
    if fmt is OutputFormat.json:
        console.print_json({"lake": str(ref.path), "datasets": rows})
        return
    console.table(
        f"lake {ref.path}",
        ["dataset", "rows", "symbols", "from", "to", "sha256", "warnings"],
        [
            (
                r["dataset"],
                f"{r['rows']:,}",
                str(r["symbols"] or ""),
                str(r["min_date"] or ""),
                str(r["max_date"] or ""),
                r["content_sha256"][:12],
                str(sum(r["warnings"].values())) if r["warnings"] else "",
            )
            for r in rows
        ],
    )


@data_app.command("check")
def check(
    lake: LakeOpt = None,
    limit: Annotated[int, typer.Option(min=0, help="Findings to list (all are counted).")] = 50,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Run every health check on a lake; exit 1 if any finding is an error."""
    from qtc.api import data as api_data
    from qtc.cli import console

    ref = lake_for_reading(lake)
    findings = api_data.check(ref)
    errors = [f for f in findings if f["severity"] == "error"]
    if fmt is OutputFormat.json:
        console.print_json({"lake": str(ref.path), "findings": findings})
    else:
        cols = ["severity", "dataset", "rule", "symbol", "date", "detail"]
        rows = [[str(f.get(c) or "") for c in cols] for f in findings[:limit]]
        console.table(f"{len(findings)} findings in {ref.path}", cols, rows)
        console.line(f"{len(errors)} errors, {len(findings) - len(errors)} warnings")
    if errors:
        raise typer.Exit(1)


@data_app.command("query")
def query(
    sql: Annotated[str, typer.Argument(help="SQL over views named after the datasets.")],
    lake: LakeOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show (all rows are counted).")] = 100,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Run read-only SQL (DuckDB) over the lake: `qtc data query "SELECT count(*) FROM prices"`.

    Only SELECT statements run (also WITH, DESCRIBE, SUMMARIZE, EXPLAIN SELECT); anything
    that could write a file or change the database is refused.
    """
    from qtc.api import data as api_data
    from qtc.cli import console

    ref = lake_for_reading(lake)
    result = api_data.query(ref, sql, limit=limit)
    columns, rows = result["columns"], result["rows"]
    if fmt is OutputFormat.json:
        console.print_json(
            {
                "lake": str(ref.path),
                "columns": columns,
                "rows": [dict(zip(columns, r, strict=True)) for r in rows],
                "total_rows": result["total_rows"],
                "shown_rows": len(rows),
                "truncated": result["truncated"],
            }
        )
        return
    console.table("", columns, [[_cell(v) for v in r] for r in rows])
    if result["truncated"]:
        console.note(
            f"showing {len(rows):,} of {result['total_rows']:,} rows; use --limit N to show more"
        )


@data_app.command("demo")
def demo(
    seed: Annotated[
        int, typer.Option(min=0, max=2**32 - 1, help="Seed of the synthetic market (0 to 2**32-1).")
    ] = 7,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Rebuild the SYNTHETIC demo market in the user cache (deterministic from the seed)."""
    from qtc.api import data as api_data
    from qtc.cli import console

    report = api_data.rebuild_demo(seed)
    if fmt is OutputFormat.json:
        console.print_json(report)
        return
    total = sum(report["rows"].values())
    console.line(
        f"built the synthetic demo market (seed {seed}) at {report['lake']}: {total:,} rows"
    )


def _cell(value: object) -> str:
    """Format one query result cell."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
