"""Options shared by several commands (declared once), and the run state they record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer


class OutputFormat(StrEnum):
    """Output format of a command."""

    human = "human"
    json = "json"


@dataclass
class CliState:
    """What one run of `qtc` carries in its root context (`ctx.obj`).

    Attributes:
        format: The output format asked for so far; the error boundary in `main` renders
            a failure in it.
    """

    format: OutputFormat = OutputFormat.human


def state(ctx: typer.Context) -> CliState:
    """The state of the running command, kept on the root context (created if missing)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def _remember_format(ctx: typer.Context, value: OutputFormat) -> OutputFormat:
    """Option callback: record the chosen format for error rendering."""
    state(ctx).format = value
    return value


def remember_json(ctx: typer.Context, value: bool) -> bool:
    """Option callback for `--json` flags: JSON errors too."""
    if value:
        state(ctx).format = OutputFormat.json
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
