"""`qtc runs gc --keep N`: delete all but the newest N runs per strategy and kind (asks first)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qtc.cli.options import FormatOpt, OutputFormat
from qtc.cli.runs import render
from qtc.errors import QtcError, UserError


def gc(
    keep: Annotated[
        int, typer.Option("--keep", help="Runs to keep per strategy and kind (the newest).")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    fmt: FormatOpt = OutputFormat.human,
) -> None:
    """Delete old run folders: all but the newest N per strategy and kind; shows them and asks."""
    from qtc.api import registry

    preview = registry.gc_preview(keep)
    shown = preview.as_dict()
    if fmt is not OutputFormat.json:
        _show(shown)
    if preview.empty:
        _finish(fmt, {**shown, "deleted": [], "failed": []}, "nothing to delete")
        return
    if not yes:
        _confirm(shown, fmt)
    done = registry.gc_apply(preview)
    text = f"deleted {len(done['deleted'])} folder(s)"
    if done["forget"]:
        text += f", forgot {len(done['forget'])} missing run(s)"
    _finish(fmt, done, f"{text}; kept {done['kept']} run(s)")


def _confirm(shown: dict[str, Any], fmt: OutputFormat) -> None:
    """Ask before deleting anything."""
    if fmt is OutputFormat.json:
        raise UserError(
            "--format json cannot ask for confirmation; nothing was deleted",
            hint="pass --yes to delete unattended",
        )
    question = f"Delete {len(shown['delete'])} run folder(s)"
    if shown["forget"]:
        question += f" and forget {len(shown['forget'])} missing run(s)"
    if not typer.confirm(question + "?", default=False):
        raise QtcError("not confirmed; nothing was deleted")


def _show(shown: dict[str, Any]) -> None:
    """What would be deleted (and what is skipped, with the reason)."""
    from qtc.cli import console

    rows = [
        [r["short_id"], r["kind"], r["strategy"], render.when(r), render.folder(r)]
        for r in shown["delete"]
    ]
    rows += [
        [r["short_id"], r["kind"], r["strategy"], render.when(r), "(missing: forget)"]
        for r in shown["forget"]
    ]
    if rows:
        console.table(
            f"to delete (keeping the newest {shown['keep']} per strategy and kind)",
            ["id", "kind", "strategy", "created (UTC)", "folder"],
            rows,
        )
    for r in shown["skipped"]:
        console.warn(f"not deleting {r['folder']}: {r['reason']}")


def _finish(fmt: OutputFormat, done: dict[str, Any], text: str) -> None:
    """Print the outcome."""
    from qtc.cli import console

    if fmt is OutputFormat.json:
        console.print_json({"ok": True, **done})
        return
    console.line(text, style="green")
