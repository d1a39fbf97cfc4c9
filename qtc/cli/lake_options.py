"""The `--lake` options of the commands that read or write a lake (declared once)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

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
