"""`qtc data info`: the lake's catalog."""

from __future__ import annotations

from qtc.cli.lake_options import LakeOpt, lake_for_reading
from qtc.cli.options import FormatOpt, OutputFormat


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
