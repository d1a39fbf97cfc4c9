"""The `qtc` app: registers commands and is the only place errors become exit codes.

Exit codes: 0 ok, 1 a run failed or a gate broke, 2 the user's input is wrong.
Heavy libraries are imported inside command bodies, so `qtc --help` is fast.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from qtc import __version__
from qtc.cli import backtest, check, compile, control, options, pending, rebalance, report, schema
from qtc.cli.data import data_app
from qtc.cli.live_tools import audit_app, positions
from qtc.errors import QtcError, StrategyError


class QtcGroup(TyperGroup):
    """Command group whose `invoke` is the error boundary (no traceback for user errors)."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; map qtc errors to messages and exit codes."""
        options.CHOSEN["format"] = options.OutputFormat.human
        try:
            return super().invoke(ctx)
        except StrategyError as exc:
            from qtc.cli import console

            if _wants_json(ctx):
                console.print_json(
                    {"ok": False, "diagnostics": [d.to_dict() for d in exc.diagnostics]}
                )
            else:
                console.strategy_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except QtcError as exc:
            from qtc.cli import console

            if _wants_json(ctx):
                console.print_json({"ok": False, "error": exc.message, "hint": exc.hint})
            else:
                console.error(exc)
            raise typer.Exit(exc.exit_code) from None


def _wants_json(ctx: Any) -> bool:
    """True when the running command asked for JSON output (`--format json` or `--json`)."""
    return options.CHOSEN["format"] is options.OutputFormat.json


app = typer.Typer(
    cls=QtcGroup,
    name="qtc",
    help="qtc: a declarative strategy compiler for systematic equity trading.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    """Print the version and exit."""
    if value:
        typer.echo(f"qtc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """qtc: a declarative strategy compiler for systematic equity trading."""


app.command("check")(check.check)
app.command("compile")(compile.compile_)
app.command("schema")(schema.schema)
app.command("backtest")(backtest.backtest)
app.command("report")(report.report)
app.command("rebalance")(rebalance.rebalance)
app.command("reconcile")(control.reconcile)
app.command("kill")(control.kill)
app.command("positions")(positions)
pending.register(app)
app.add_typer(data_app)
app.add_typer(audit_app)


def main() -> None:
    """Console-script entry point."""
    app()
