"""All human output: the only module that imports rich.

Diagnostics are rendered like a compiler (code, file:line:col, source frame,
caret, key, expected, help); tables and trees go to stdout; errors and
diagnostics to stderr. Output is plain (no colour, fixed width) when not
writing to a terminal, so snapshots are stable.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from qtc.errors import Diagnostic, QtcError, Severity, StrategyError
from qtc.manifest.secrets import is_secret_key

if TYPE_CHECKING:
    from qtc.compile.explain import Node

PLAIN_WIDTH = 100
_ASSIGNMENT = re.compile(r"^(\s*)([A-Za-z0-9_.\"' -]+?)(\s*=\s*)(.*)$")


def _console(stream: TextIO) -> Console:
    """A console bound to the stream in use right now (tests swap sys.stdout)."""
    tty = stream.isatty()
    return Console(
        file=stream,
        force_terminal=tty,
        color_system="auto" if tty else None,
        width=None if tty else PLAIN_WIDTH,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )


def out() -> Console:
    """Console on stdout."""
    return _console(sys.stdout)


def err() -> Console:
    """Console on stderr."""
    return _console(sys.stderr)


def print_json(data: Any) -> None:
    """Write JSON data to stdout (2-space indent, trailing newline)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def line(text: str, *, style: str = "") -> None:
    """Print one line to stdout."""
    out().print(Text(text, style=style))


def note(text: str) -> None:
    """Print a one-line note to stderr (e.g. which lake is used)."""
    err().print(Text(f"note: {text}", style="dim"))


def warn(text: str) -> None:
    """Print a warning line to stderr."""
    err().print(Text(f"warning: {text}", style="yellow"))


def error(exc: QtcError) -> None:
    """Print an error (and its hint) to stderr."""
    console = err()
    console.print(Text(f"error: {exc.message}", style="bold red"))
    if exc.hint:
        console.print(Text(f"  = help: {exc.hint}", style="cyan"))


def strategy_error(exc: StrategyError) -> None:
    """Print every diagnostic of a failed strategy, then a summary."""
    diagnostics(exc.diagnostics, exc.sources)
    errors = sum(d.severity is Severity.ERROR for d in exc.diagnostics)
    files = sorted({d.location.file for d in exc.diagnostics if d.location} - {"--set"})
    where = f" in {', '.join(files)}" if files else ""
    err().print(
        Text(
            f"{errors} error{'s' if errors != 1 else ''}{where}; nothing was run (exit 2). "
            "Use `--format json` for machine output.",
            style="bold",
        )
    )


def diagnostics(diags: Sequence[Diagnostic], sources: dict[str, str]) -> None:
    """Render diagnostics with source frames to stderr."""
    console = err()
    for diag in diags:
        for i, text in enumerate(format_diagnostic(diag, sources)):
            style = _header_style(diag) if i == 0 else ""
            console.print(Text(text, style=style))
        console.print()


def _header_style(diag: Diagnostic) -> str:
    """Colour of the first line of a diagnostic."""
    return "bold red" if diag.severity is Severity.ERROR else "bold yellow"


def format_diagnostic(diag: Diagnostic, sources: dict[str, str]) -> list[str]:
    """A diagnostic as plain text lines (header, location, frame, notes)."""
    lines = [f"{diag.severity.value}[{diag.code}]: {diag.message}"]
    loc = diag.location
    pad = " " * (len(str(loc.line)) + 1 if loc is not None and loc.line > 0 else 3)
    if loc is not None:
        lines.append(f"  --> {loc}")
        src = sources.get(loc.file)
        if src is not None and loc.line > 0:
            lines += _frame(src, loc.line, loc.col, loc.length)
    if diag.key_path:
        lines.append(f"{pad}= key:      {diag.key_path}")
    if diag.expected:
        lines.append(f"{pad}= expected: {diag.expected}")
    if diag.hint:
        lines.append(f"{pad}= help:     {diag.hint}")
    lines += [f"{pad}= note:     {n}" for n in diag.notes]
    return lines


def _frame(source: str, line_no: int, col: int, length: int) -> list[str]:
    """The source line with the previous one and a caret under the span."""
    src_lines = source.splitlines()
    if line_no > len(src_lines):
        return []
    width = len(str(line_no))
    gutter = " " * width
    frame = [f"{gutter} |"]
    if line_no >= 2 and src_lines[line_no - 2].strip():
        frame.append(f"{line_no - 1:>{width}} | {redact(src_lines[line_no - 2])}")
    text = redact(src_lines[line_no - 1])
    frame.append(f"{line_no:>{width}} | {text}")
    if col > 0:
        span = max(1, min(length, max(1, len(text) - col + 1)))
        frame.append(f"{gutter} | {' ' * (col - 1)}{'^' * span}")
    return frame


def redact(text: str) -> str:
    """Hide the value of a secret-looking `key = value` line (never echo credentials)."""
    match = _ASSIGNMENT.match(text)
    if match is None:
        return text
    key = match.group(2).strip().strip("\"'").split(".")[-1]
    if not is_secret_key(key):
        return text
    return f'{match.group(1)}{match.group(2)}{match.group(3)}"<redacted>"'


def tree(node: Node) -> None:
    """Print an explain tree to stdout."""
    root = Tree(Text(node.label, style="bold"))
    _grow(root, node)
    out().print(root, crop=False)


def _grow(branch: Tree, node: Node) -> None:
    """Add a node's children to a rich tree."""
    for child in node.children:
        _grow(branch.add(Text(child.label)), child)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table to stdout."""
    tab = Table(title=title, title_justify="left", show_edge=False)
    for col in columns:
        tab.add_column(col, overflow="fold")
    for row in rows:
        tab.add_row(*row)
    out().print(tab)
