"""Errors and diagnostics: problems as data, rendered only by the CLI console.

A `Diagnostic` is one problem in the user's terms: a stable code, where it is
(file, line, column, or the `--set` argument it came from), the key path as the
user writes it (`factors.mom_12_1.lookback`), what was expected with an example,
and a hint. Every layer reports diagnostics in this one shape; `cli/console.py`
renders them with a source frame and `--format json` prints `to_dict()`.

Exception tree (exit codes are decided only in `cli/main.py`):

* `QtcError` - a run failed (exit 1).
* `UserError` - the user's input is wrong (exit 2).
* `StrategyError(UserError)` - a strategy file has errors; carries all diagnostics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a diagnostic is: errors stop the run, warnings are reported."""

    ERROR = "error"
    WARNING = "warning"


# Stable codes. Never renumber; add new ones at the end of a block.
CODES: dict[str, str] = {
    "QTC001": "TOML syntax error",
    "QTC002": "cannot read file",
    "QTC003": "tables or arrays nested too deeply",
    "QTC101": "unknown key",
    "QTC102": "invalid value",
    "QTC103": "wrong type",
    "QTC104": "unknown kind",
    "QTC105": "missing required key",
    "QTC106": "secret in strategy file",
    "QTC107": "extends: parent file not found",
    "QTC108": "extends: cycle",
    "QTC109": "invalid --set override",
    "QTC110": "duplicate factor name",
    "QTC111": "unsupported schema version",
    "QTC112": "invalid date",
    "QTC113": "conflicting keys",
    "QTC114": "extends: not a strategy file",
    "QTC201": "scoring weight names an unknown factor",
    "QTC202": "risk limit below sizing cap",
    "QTC203": "selection larger than the universe",
    "QTC204": "search key does not exist",
    "QTC205": "search value does not fit its key",
    "QTC206": "leverage above 1 is not supported",
    "QTC207": "empty date window",
    "QTC208": "unused factor",
    "QTC209": "weights cannot be fully invested under the cap",
    "QTC210": "scoring weights are all zero",
    "QTC211": "net sizing with stops is not supported",
    "QTC212": "search space is empty",
    "QTC213": "search space has a single point",
    "QTC301": "lookahead: same-close execution",
    "QTC302": "lookahead: full-sample normalization",
    "QTC303": "lookahead: fundamentals without a publish-date join",
    "QTC304": "survivorship: static symbol list used for past dates",
    "QTC305": "survivorship: today's index members used for past dates",
    "QTC306": "warm-up longer than the history window",
    "QTC401": "validate: factor has no values in the window",
    "QTC402": "validate: horizon longer than the data",
    "QTC403": "validate: fewer dates than folds",
    "QTC404": "validate: invalid option",
}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value was written.

    Attributes:
        file: Path of the TOML file as given by the user, or `"--set"` for a
            command-line override, or `"<default>"` when no source wrote it.
        line: 1-based line, or 0 when unknown.
        col: 1-based column, or 0 when unknown.
        length: Number of characters to underline (at least 1 when known).
    """

    file: str
    line: int = 0
    col: int = 0
    length: int = 0

    def __str__(self) -> str:
        """Render as `file:line:col` (or just `file` when the position is unknown)."""
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, in the user's terms.

    Attributes:
        code: Stable code from `CODES`, e.g. `"QTC101"`.
        message: Short statement of the problem, e.g. `unknown key "max_weigth"`.
        severity: Error or warning.
        location: Where it is; `None` when it concerns the whole file.
        key_path: Dotted key path as the user writes it (`factors.mom.lookback`).
        expected: What was expected, with an example.
        hint: What to do next (did-you-mean, environment variables, ...).
        notes: Extra context lines.
    """

    code: str
    message: str
    severity: Severity = Severity.ERROR
    location: Location | None = None
    key_path: str = ""
    expected: str = ""
    hint: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        """The catalogued name of the code (`unknown key`)."""
        return CODES.get(self.code, "problem")

    def to_dict(self) -> dict[str, Any]:
        """Return the diagnostic as JSON-ready data."""
        data = asdict(self)
        data["severity"] = self.severity.value
        data["title"] = self.title
        data["notes"] = list(self.notes)
        return data

    def promoted(self) -> Diagnostic:
        """Return a copy with severity raised to error (for `--strict`)."""
        return Diagnostic(
            code=self.code,
            message=self.message,
            severity=Severity.ERROR,
            location=self.location,
            key_path=self.key_path,
            expected=self.expected,
            hint=self.hint,
            notes=self.notes,
        )


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    """Order diagnostics by file, line, column, then code."""
    loc = diagnostic.location or Location("")
    return (loc.file, loc.line, loc.col, diagnostic.code)


class QtcError(Exception):
    """A run failed (exit code 1). The message is shown to the user as is."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        """Create the error.

        Args:
            message: What went wrong, in the user's terms.
            hint: What to do next.
        """
        super().__init__(message)
        self.message = message
        self.hint = hint


class UserError(QtcError):
    """The user's input is wrong (exit code 2): a bad option, path or value."""

    exit_code = 2


class StrategyError(UserError):
    """A strategy file has errors; carries every diagnostic found in one pass."""

    def __init__(self, diagnostics: list[Diagnostic], *, sources: dict[str, str] | None = None):
        """Create the error.

        Args:
            diagnostics: All problems found (errors and warnings).
            sources: File path -> source text, for rendering source frames.
        """
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        super().__init__(f"{len(errors)} error(s) in strategy")
        self.diagnostics = sorted(diagnostics, key=sort_key)
        self.sources = sources or {}
