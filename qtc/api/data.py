"""The data-lake part of the library facade: what `qtc data ...` and runs call.

Kept apart from `qtc.api` so the strategy commands never import the lake
(and its polars/numpy) at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtc.errors import UserError

SHARED_MARKERS = ("prices_daily.parquet", "symbols.csv")


@dataclass(frozen=True)
class LakeRef:
    """A resolved lake folder and how it was found (`--lake`, `QTC_LAKE`, `./lake`, `demo`)."""

    path: Path
    origin: str


def find_lake(explicit: str | None, *, build_demo: bool = True) -> LakeRef:
    """Resolve the lake: `--lake`, then `QTC_LAKE`, then `./lake`, else the demo market."""
    from qtc.lake.resolve import resolve_lake

    path, origin = resolve_lake(explicit, build_demo=build_demo)
    return LakeRef(path, origin)


def target_lake(explicit: str | None) -> LakeRef:
    """Where an ingest writes: `--lake`, then `QTC_LAKE`, then `./lake` (never the demo)."""
    ref = find_lake(explicit, build_demo=False)
    if ref.origin == "demo":
        return LakeRef(Path.cwd() / "lake", "./lake")
    return ref


def ingest(
    source: str,
    lake: LakeRef,
    *,
    dataset: str = "prices",
    mode: str = "replace_symbols",
    fundamentals_lag_days: int = 90,
) -> dict[str, Any]:
    """Ingest a folder or file into the lake; the shared data set is detected by its files.

    Returns:
        The ingest report as JSON-ready data.

    Raises:
        UserError: For a missing source, bad columns, or data that fails the checks.
    """
    from qtc.lake import ingest_prices, ingest_shared_dataset

    src = Path(source)
    if not src.exists():
        raise UserError(
            f"{source}: no such file or folder", hint="give a Parquet/CSV file or folder"
        )
    if src.is_dir() and all((src / m).is_file() for m in SHARED_MARKERS):
        report = ingest_shared_dataset(src, lake.path, fundamentals_lag_days=fundamentals_lag_days)
    else:
        report = ingest_prices(src, lake.path, dataset=dataset, mode=mode)  # type: ignore[arg-type]
    return report.to_dict()


def info(lake: LakeRef) -> list[dict[str, Any]]:
    """The lake's catalog, one row per dataset."""
    from qtc.lake import Lake

    return Lake(lake.path).info()


def check(lake: LakeRef) -> list[dict[str, Any]]:
    """Run every health check on an existing lake; one dict per finding."""
    from qtc.lake import check_lake

    return [f.to_dict() for f in check_lake(lake.path)]


def query(lake: LakeRef, sql: str, *, limit: int) -> dict[str, Any]:
    """Run read-only SQL over DuckDB views of every dataset.

    Args:
        lake: The lake.
        sql: SELECT statement(s); anything that could write is refused.
        limit: Rows to return (at least 1); the total is counted anyway.

    Returns:
        `{"columns", "rows" (the first `limit`, as lists), "total_rows", "truncated"}`.

    Raises:
        UserError: For a bad limit, a statement that is not read-only, or bad SQL.
        QtcError: If a dataset file of the lake is damaged.
    """
    from qtc.lake import Lake

    if limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    frame = Lake(lake.path).query(sql)
    shown = frame.head(limit)
    return {
        "columns": frame.columns,
        "rows": [list(row) for row in shown.iter_rows()],
        "total_rows": frame.height,
        "truncated": frame.height > shown.height,
    }


def rebuild_demo(seed: int) -> dict[str, Any]:
    """Rebuild the synthetic demo market in the cache (replacing the old one)."""
    from qtc.lake.demo.build import build_demo_lake
    from qtc.lake.resolve import demo_lake_path

    path = demo_lake_path(seed)
    report = build_demo_lake(path, seed=seed)
    return report.to_dict()
