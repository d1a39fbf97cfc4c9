"""`qtc data query SQL`: read-only SQL (DuckDB) over the lake."""

from __future__ import annotations

from typing import Annotated

import typer

from qtc.cli.lake_options import LakeOpt, lake_for_reading
from qtc.cli.options import FormatOpt, OutputFormat


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


def _cell(value: object) -> str:
    """Format one query result cell."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
