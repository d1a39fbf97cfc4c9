"""Options shared by several commands (declared once)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import typer


class OutputFormat(StrEnum):
    """Output format of a command."""

    human = "human"
    json = "json"


FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="Output format: human or json.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a value: --set key.path=value (typed like the schema; repeatable).",
        metavar="KEY=VALUE",
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Treat lookahead/survivorship warnings as errors.")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Date the plan is made for (YYYY-MM-DD); default: today."),
]


def as_of_date(text: str | None) -> dt.date:
    """Parse `--as-of`, defaulting to today's date (the only clock read of a command)."""
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date; use YYYY-MM-DD", param_hint="--as-of"
        ) from None
