"""Commands whose issues have not landed yet: they say so and exit 1.

Each is registered with its final name so `qtc --help` shows the whole tool.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import typer

from qtc.cli.options import OutputFormat, state
from qtc.errors import QtcError

PENDING: dict[str, str] = {}

CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}


def _pending(name: str) -> Callable[[typer.Context], None]:
    """A command body that reports it is not implemented yet."""

    def command(ctx: typer.Context) -> None:
        args = list(ctx.args)
        pairs = itertools.pairwise(args)
        if "--format=json" in args or ("--format", "json") in pairs:
            state(ctx).format = OutputFormat.json
        raise QtcError(
            f"`qtc {name}` is not implemented yet; it is planned.",
            hint="`qtc check` and `qtc compile` work today",
        )

    command.__doc__ = None
    return command


def register(app: typer.Typer) -> None:
    """Register every pending command on the app."""
    for name, help_text in PENDING.items():
        app.command(name, help=f"{help_text} [not implemented yet]", context_settings=CONTEXT)(
            _pending(name)
        )
