"""All human output: the only module that imports rich.

Diagnostics are rendered like a compiler (code, file:line:col, source frame,
caret, key, expected, help); tables and trees go to stdout; errors and
diagnostics to stderr. Output is plain (no colour, fixed width) when not
writing to a terminal, so snapshots are stable.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from qtc.api.secrets import redact_line
from qtc.errors import Diagnostic, QtcError, Severity, StrategyError

if TYPE_CHECKING:
    from qtc.api.strategy import Node

PLAIN_WIDTH = 100
FRAME_WIDTH = 120


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
    """A diagnostic as plain text lines (header, location, frame, notes); control codes as `?`."""
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
    return ["".join(_printable(c) for c in text) for text in lines]


def _frame(source: str, line_no: int, col: int, length: int) -> list[str]:
    """The source line with the previous one and a caret under the span.

    Lines are split on newlines only (as the TOML parser counts them), credential-looking
    values are redacted, control characters shown as `?`, and long lines cut to a
    window around the caret.
    """
    src_lines = source.split("\n")
    if line_no > len(src_lines):
        return []
    width = len(str(line_no))
    gutter = " " * width
    frame = [f"{gutter} |"]
    start = 0 if col + min(length, 20) <= FRAME_WIDTH else col - 21
    if line_no >= 2 and src_lines[line_no - 2][start:].strip():
        frame.append(f"{line_no - 1:>{width}} | {_visible(src_lines[line_no - 2], start)}")
    text = _visible(src_lines[line_no - 1], start)
    frame.append(f"{line_no:>{width}} | {text}")
    if col > 0:
        at = col - 1 - start + (1 if start else 0)
        span = max(1, min(length, max(1, len(text) - at)))
        frame.append(f"{gutter} | {' ' * at}{'^' * span}")
    return frame


def _visible(line: str, start: int) -> str:
    """A source line as shown in a frame: redacted, printable, cut to `FRAME_WIDTH` from `start`."""
    shown = "".join(_printable(c) for c in redact_line(line))
    cut = shown[start : start + FRAME_WIDTH]
    return ("…" if start else "") + cut + ("…" if len(shown) > start + FRAME_WIDTH else "")


def _printable(char: str) -> str:
    """A tab as one space (keeps the caret aligned); control and format characters as `?`."""
    if char == "\t":
        return " "
    return "?" if unicodedata.category(char) in ("Cc", "Cf") else char


def tree(node: Node) -> None:
    """Print an explain tree to stdout; long labels wrap under their branch, never cut."""
    root = Tree(_label(node.label, style="bold"))
    _grow(root, node)
    out().print(root, crop=False)


def _grow(branch: Tree, node: Node) -> None:
    """Add a node's children to a rich tree."""
    for child in node.children:
        _grow(branch.add(_label(child.label)), child)


def _label(text: str, style: str = "") -> Text:
    """A tree label that wraps (words first, then folds a word longer than the width)."""
    return Text(text, style=style, no_wrap=False, overflow="fold")


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table to stdout."""
    tab = Table(title=title, title_justify="left", show_edge=False)
    for col in columns:
        tab.add_column(col, overflow="fold")
    for row in rows:
        tab.add_row(*row)
    out().print(tab)


if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import AbstractContextManager

    from qtc.api.run import Progress


def stage_progress(*, enabled: bool = True, delay: float = 1.0) -> AbstractContextManager[Progress]:
    """Transient progress of a run on stderr: the stage, and `done/total` inside long loops.

    Nothing is drawn during the first `delay` seconds (short runs show nothing), nor at all
    when `enabled` is false (`--format json`) or stderr is not a terminal; the display is
    erased when the context exits.

    Args:
        enabled: Whether progress may be shown at all.
        delay: Seconds to wait before drawing anything.

    Returns:
        A context manager giving the `Progress` callback to pass to the run.
    """
    import contextlib

    def quiet(stage: str, done: int, total: int) -> None:
        """Ignore a report."""

    if not enabled or not sys.stderr.isatty():
        return contextlib.nullcontext(quiet)
    import threading

    from rich import progress as rp

    columns = (rp.TextColumn("{task.description}"), rp.TextColumn("{task.fields[count]}"))
    bar = rp.Progress(
        rp.SpinnerColumn(),
        *columns,
        rp.TimeElapsedColumn(),
        console=err(),
        transient=True,
        redirect_stdout=False,  # stdout may be a pipe: it stays untouched
    )
    task = bar.add_task("starting", total=None, count="")
    lock, stopped = threading.Lock(), threading.Event()

    def show() -> None:
        with lock:
            if not stopped.is_set():
                bar.start()

    def report(stage: str, done: int, total: int) -> None:
        count = f"{done}/{total}" if total else ""
        bar.update(task, description=stage.replace("_", " "), completed=done, count=count)

    @contextlib.contextmanager
    def shown() -> Iterator[Progress]:
        timer = threading.Timer(delay, show)
        timer.daemon = True
        timer.start()
        try:
            yield report
        finally:
            timer.cancel()
            with lock:
                stopped.set()
                bar.stop()

    return shown()


def trial_progress(*, enabled: bool = True) -> AbstractContextManager[Any]:
    """A progress bar of a search on stderr: trials done, ETA and the best objective so far.

    Shown only when `enabled` and stderr is a terminal; erased when the context exits.

    Returns:
        A context manager giving the callback `(done, total, best_trial)` for the search.
    """
    import contextlib

    def quiet(done: int, total: int, best: Any) -> None:
        """Ignore a report."""

    if not enabled or not sys.stderr.isatty():
        return contextlib.nullcontext(quiet)
    from rich import progress as rp

    bar = rp.Progress(
        rp.TextColumn("trials"),
        rp.BarColumn(),
        rp.MofNCompleteColumn(),
        rp.TimeRemainingColumn(),
        rp.TextColumn("{task.fields[best]}"),
        console=err(),
        transient=True,
        redirect_stdout=False,
    )
    task = bar.add_task("trials", total=None, best="")

    def report(done: int, total: int, best: Any) -> None:
        shown = ""
        if best is not None:
            shown = f"best: trial {best.number}, Sharpe {best.metrics.get('sharpe') or 0:.3f}"
        bar.update(task, completed=done, total=total, best=shown)

    @contextlib.contextmanager
    def shown() -> Iterator[Any]:
        bar.start()
        try:
            yield report
        finally:
            bar.stop()

    return shown()
