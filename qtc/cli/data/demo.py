"""`qtc data demo`: rebuild the synthetic demo market."""

from __future__ import annotations

from typing import Annotated

import typer

from qtc.cli.options import FormatOpt, OutputFormat


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
