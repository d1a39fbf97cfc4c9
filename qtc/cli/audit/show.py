"""`qtc audit show LOG`: every record of an audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qtc.cli.options import FormatOpt, OutputFormat

LogArg = Annotated[Path, typer.Argument(help="The audit log (JSONL).")]


def show(log: LogArg, fmt: FormatOpt = OutputFormat.human) -> None:
    """Print every record of an audit log."""
    from qtc.api import audit as api_audit
    from qtc.cli import console

    records = api_audit.read_log(log)
    if fmt is OutputFormat.json:
        console.print_json(records)
        return
    rows = [
        (str(r["seq"]), r["ts"], r["event"], json.dumps(r["payload"], sort_keys=True))
        for r in records
    ]
    console.table(str(log), ["seq", "time", "event", "payload"], rows)
