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


CHOSEN: dict[str, OutputFormat] = {"format": OutputFormat.human}
"""The output format of the running command (read by the error boundary in `main`)."""


def _remember_format(value: OutputFormat) -> OutputFormat:
    """Option callback: record the chosen format for error rendering."""
    CHOSEN["format"] = value
    return value


def remember_json(value: bool) -> bool:
    """Option callback for `--json` flags: JSON errors too."""
    if value:
        CHOSEN["format"] = OutputFormat.json
    return value


FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", help="Output format: human or json.", callback=_remember_format),
]
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


def parse_date(text: str, option: str = "--as-of") -> dt.date:
    """Parse a YYYY-MM-DD option value (a clean usage error, exit 2, when it is not a date)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date; use YYYY-MM-DD", param_hint=option
        ) from None


def _checked_date(value: str | None) -> str | None:
    """Option callback: refuse a value that is not a date before the command runs."""
    if value is not None:
        parse_date(value)
    return value


AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date the plan is made for (YYYY-MM-DD); default: today.",
        callback=_checked_date,
    ),
]

RunAsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date the plan is made for (YYYY-MM-DD); default: the lake's last date.",
        callback=_checked_date,
    ),
]
"""`--as-of` of commands that run on the lake (a run is reproducible for a given lake)."""


def today() -> dt.date:
    """Today's date: the only clock read of a command (tests pin it here)."""
    return dt.date.today()


def as_of_date(text: str | None) -> dt.date:
    """Parse `--as-of`, defaulting to today's date."""
    if text is None:
        return today()
    return parse_date(text)
