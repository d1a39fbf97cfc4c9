"""`qtc runs rebuild [--root DIR]...`: rebuild the run registry from the artifact folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qtc.cli.options import FormatOpt, OutputFormat


def rebuild(
    root: Annotated[
        list[Path] | None,
        typer.Option("--root", help="Another artifact root to scan (an --out); repeatable."),
    ] = None,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Rebuild the registry from runs/, sweeps/, evolutions/, validations/ and known roots."""
    from qtc.api import registry
    from qtc.cli import console

    done = registry.rebuild(root or [])
    if fmt is OutputFormat.json:
        console.print_json({"ok": True, **done})
        return
    for note in done["notes"]:
        console.warn(note)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(done["kinds"].items())) or "none"
    console.line(f"rebuilt {done['registry']}: {done['runs']} run(s) ({kinds})", style="green")
