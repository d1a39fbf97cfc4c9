"""`qtc schema`: write the manifest's JSON Schema, or check it has not drifted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

REGENERATE = "uv run qtc schema"


def schema(
    check: Annotated[
        bool, typer.Option("--check", help="Fail (exit 1) if the file differs from the models.")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Where to write the schema.")] = Path(
        "schemas/strategy.v1.json"
    ),
    print_: Annotated[bool, typer.Option("--print", help="Print to stdout instead.")] = False,
) -> None:
    """Write schemas/strategy.v1.json from the manifest models (editors use it)."""
    from qtc.api import strategy as api
    from qtc.cli import console

    text = api.schema_text()
    if print_:
        typer.echo(text, nl=False)
        return
    if check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            console.line(f"{out} is out of date with the manifest models.", style="red")
            console.line(f"Regenerate it with: {REGENERATE}")
            raise typer.Exit(1)
        console.line(f"{out} is up to date.", style="green")
        return
    api.write_schema(out, text)
    console.line(f"wrote {out}", style="green")
