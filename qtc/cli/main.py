"""The `qtc` app: registers commands and is the only place errors become exit codes.

Exit codes: 0 ok, 1 a run failed or a gate broke (or a file could not be written), 2 the
user's input is wrong, 130 interrupted (Ctrl-C), 70 a bug in qtc (never a traceback unless
`QTC_DEBUG=1`).
Heavy libraries are imported inside command bodies, so `qtc --help` is fast.
"""

from __future__ import annotations

import copy
import itertools
import os
import signal
import sys
from typing import Any

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from qtc import __version__
from qtc.cli import diff, options, pending
from qtc.cli.audit import audit_app
from qtc.cli.data import data_app
from qtc.cli.live import kill, positions, rebalance, reconcile
from qtc.cli.research import validate
from qtc.cli.run import backtest, report
from qtc.cli.runs import runs_app
from qtc.cli.search import evolve, sweep, trials
from qtc.cli.strategy import check, compile, schema
from qtc.errors import QtcError, StrategyError, UserError


class QtcGroup(TyperGroup):
    """Command group whose `invoke` is the error boundary (no traceback for user errors)."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; map qtc errors to messages and exit codes."""
        raw = [*getattr(ctx, "protected_args", []), *ctx.args]
        json_asked = (
            "--json" in raw
            or "--format=json" in raw
            or (("--format", "json") in itertools.pairwise(raw))
        )  # read before parsing: a usage error can come before `--format` is parsed
        fmt = options.OutputFormat.json if json_asked else options.OutputFormat.human
        state = options.CliState(format=fmt)
        ctx.obj = state  # every sub-context shares it; `--format`/`--json` callbacks update it
        try:
            return super().invoke(ctx)
        except StrategyError as exc:
            from qtc.cli import console

            if _wants_json(state):
                console.print_json(
                    {"ok": False, "diagnostics": [d.to_dict() for d in exc.diagnostics]}
                )
            else:
                console.strategy_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except QtcError as exc:
            _report(state, exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this
            _report(state, QtcError("interrupted (Ctrl-C); nothing was left half-written"))
            raise typer.Exit(INTERRUPTED) from None
        except OSError as exc:
            _report(state, _os_error(exc))
            raise typer.Exit(1) from None
        except UsageError as exc:
            if not _wants_json(state):
                raise
            _report(state, UserError(exc.format_message(), hint=_usage_hint(exc)))
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            _report(state, _internal(exc))
            raise typer.Exit(INTERNAL) from None


INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""

INTERNAL = 70
"""Exit code of a bug in qtc (EX_SOFTWARE); never a user mistake (those exit 2)."""

DEBUG_ENV = "QTC_DEBUG"
"""Set it to see the traceback of an internal error."""


def _report(state: options.CliState, exc: QtcError) -> None:
    """Print an error once, as JSON when the command asked for it."""
    from qtc.cli import console

    if _wants_json(state):
        console.print_json({"ok": False, "error": exc.message, "hint": exc.hint})
    else:
        console.error(exc)


def _os_error(exc: OSError) -> QtcError:
    """A file-system failure (read-only folder, disk full, a FIFO as --out) as one line."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f"{exc.filename}: " if exc.filename else ""
    return QtcError(
        f"{where}{reason}",
        hint="check the path, its permissions and the free space; nothing was left half-written",
    )


def _internal(exc: Exception) -> QtcError:
    """An unexpected exception: say it is a bug, without a traceback."""
    return QtcError(
        f"internal error ({type(exc).__name__}: {exc}); this is a bug in qtc",
        hint=f"rerun with {DEBUG_ENV}=1 to see the traceback, and report it",
    )


def _wants_json(state: options.CliState) -> bool:
    """True when the running command asked for JSON output (`--format json` or `--json`)."""
    return state.format is options.OutputFormat.json


def _usage_hint(exc: UsageError) -> str:
    """Where the command's options are described."""
    command = exc.ctx.command_path if exc.ctx is not None else "qtc"
    return f"see `{command} --help`"


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
app.command("sweep")(sweep.sweep)
app.command("evolve")(evolve.evolve)
app.command("trials")(trials.trials)
app.command("validate")(validate.validate)
app.command("diff")(diff.diff)
app.command("rebalance")(rebalance.rebalance)
app.command("reconcile")(reconcile.reconcile)
app.command("kill")(kill.kill)
app.command("positions")(positions.positions)
pending.register(app)
app.add_typer(data_app)
app.add_typer(audit_app)
app.add_typer(runs_app)


PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"
"""qtc's models need no pydantic plugin; looking for them scans every installed package's
entry points (about 20 ms per start). Set it to an empty value to load plugins anyway."""


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault(PLUGINS_ENV, "__all__")
    app_for(sys.argv[1:])()


def app_for(argv: list[str]) -> typer.Typer:
    """The app to run for a command line: only the top-level command it names, if any.

    Typer builds the parameters of every registered command on each start (about 30 ms for
    all of them); running one command needs only its own. `--help`, `--version`, a group
    (`data`, `audit`) or an unknown name get the whole app: the help lists every command, and
    a typo gets the suggestions.

    Args:
        argv: The arguments after `qtc`.

    Returns:
        `app`, or a copy of it with that one command registered.
    """
    name = argv[0] if argv else None
    only = [c for c in app.registered_commands if c.name == name]
    if not only:
        return _listing(app) if _lists_only(argv) else app
    narrowed = copy.copy(app)
    narrowed.registered_commands = only
    narrowed.registered_groups = []
    return narrowed


def _lists_only(argv: list[str]) -> bool:
    """True when no command can run: no argument, or an option first (`--help`, `--version`).

    Shell completion (which passes the words in the environment) and the completion
    installers need every command's parameters, so they get the whole app.
    """
    if any(key.startswith(("_QTC_COMPLETE", "_TYPER_COMPLETE")) for key in os.environ):
        return False
    return not argv or (argv[0].startswith("-") and "completion" not in argv[0])


def _listing(typer_app: typer.Typer) -> typer.Typer:
    """A copy of `typer_app` whose commands keep their names and help but take no parameters.

    The top-level help lists each command with its one-line help; building every command's
    parameters (typer evaluates each annotation) was most of `qtc --help`'s own time. The
    copies are never invoked: the command line they serve names no command.
    """
    listing = copy.copy(typer_app)
    listing.registered_commands = [_listed(c) for c in typer_app.registered_commands]
    groups = []
    for group in typer_app.registered_groups:
        listed = copy.copy(group)
        if group.typer_instance is not None:
            listed.typer_instance = _listing(group.typer_instance)
        groups.append(listed)
    listing.registered_groups = groups
    return listing


def _listed(info: Any) -> Any:
    """A copy of a command's registration whose callback is a parameterless stand-in."""

    def listed() -> None:  # pragma: no cover - never invoked (see `_listing`)
        raise typer.Exit(INTERNAL)

    listed.__doc__ = getattr(info.callback, "__doc__", None)
    out = copy.copy(info)
    out.callback = listed
    return out
