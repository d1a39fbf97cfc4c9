"""`qtc data ingest SOURCE`: market data into a lake (atomic)."""

from __future__ import annotations

from typing import Annotated

import typer

from qtc.cli.lake_options import TargetLakeOpt
from qtc.cli.options import FormatOpt, OutputFormat


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
