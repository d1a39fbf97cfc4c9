"""Read one TOML file: text, parsed data, positions, syntax errors.

Parsing uses `tomli` (>= 2.1), whose decode errors carry line and column.
The parsed tree is converted to the *user tree*, where `[[factors]]` becomes a
table keyed by factor name, so that merging, `--set` and key paths all speak
`factors.<name>.<key>`.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli

from qtc.errors import Diagnostic, Location
from qtc.manifest.locate import KeyLocation, locate_keys
from qtc.manifest.nesting import MAX_DEPTH, too_deep
from qtc.manifest.paths import UserPath, format_path

FACTORS = "factors"
MAX_BYTES = 1_000_000
"""Largest strategy file read (real ones are a few kilobytes)."""


@dataclass(frozen=True)
class Origin:
    """Where a value in the composed strategy came from.

    Attributes:
        file: The TOML file path as shown to the user, or `"--set"`.
        where: Key/value spans in that file (None for `--set`).
        text: For `--set`, the override as typed.
    """

    file: str
    where: KeyLocation | None = None
    text: str = ""

    def key_location(self) -> Location:
        """Location of the key itself (for unknown-key errors)."""
        if self.where is None:
            return Location(self.file)
        k = self.where.key
        return Location(self.file, k.line, k.col, max(k.length, 1))

    def value_location(self) -> Location:
        """Location of the value (for wrong-type / out-of-range errors)."""
        if self.where is None:
            return Location(self.file)
        v = self.where.value
        return Location(self.file, v.line, v.col, max(v.length, 1))

    def describe(self) -> str:
        """Short `file:line` form for `qtc compile --resolved`."""
        if self.where is None:
            return f"--set {self.text}" if self.text else self.file
        return f"{self.file}:{self.where.key.line}"


@dataclass(frozen=True)
class Document:
    """One parsed TOML file in user-tree form, with the origin of every key."""

    path: Path
    shown: str
    text: str
    tree: dict[str, Any]
    origins: dict[UserPath, Origin]


def read_text(path: Path, shown: str) -> tuple[str | None, list[Diagnostic]]:
    """Read a file's text, or report why it cannot be read (QTC002)."""
    try:
        return _read(path), []
    except _RefusedError as exc:
        msg = str(exc)
    except FileNotFoundError:
        msg = "file not found"
    except IsADirectoryError:
        msg = "is a directory, not a strategy file"
    except UnicodeDecodeError:
        msg = "is not UTF-8 text"
    except (OSError, ValueError) as exc:
        msg = getattr(exc, "strerror", None) or "cannot be read"
    diag = Diagnostic(
        code="QTC002",
        message=f"{shown}: {msg}",
        location=Location(shown),
        hint="check the path; strategy files are UTF-8 TOML",
    )
    return None, [diag]


class _RefusedError(Exception):
    """A path that is not read: a pipe or device (it could block or never end), a huge file."""


def _read(path: Path) -> str:
    """The text of a regular UTF-8 file of at most `MAX_BYTES` (universal newlines, no BOM)."""
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(mode):
        raise _RefusedError("is not a regular file (a pipe, socket or device)")
    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _RefusedError(f"is over {MAX_BYTES:,} bytes; strategy files are small")
    text = data.decode("utf-8").removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_document(path: Path, shown: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse TOML text into a `Document`, or a syntax (QTC001) or nesting (QTC003) diagnostic."""
    try:
        raw = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        return None, [_syntax_error(exc, shown)]
    except RecursionError:
        return None, [_nested(shown, None, {})]
    deep = too_deep(raw)
    try:
        positions = locate_keys(text)
    except RecursionError:
        positions = {}
    if deep is not None:
        return None, [_nested(shown, deep, positions)]
    tree, names = to_user_tree(raw)
    origins: dict[UserPath, Origin] = {}
    for raw_path, loc in positions.items():
        origins.setdefault(_user_path(raw_path, names), Origin(shown, loc))
    return Document(path, shown, text, tree, origins), _duplicates(names, positions, shown)


def _syntax_error(exc: tomli.TOMLDecodeError, shown: str) -> Diagnostic:
    """QTC001 at the line and column the parser stopped."""
    line, col = getattr(exc, "lineno", 0), getattr(exc, "colno", 0)
    return Diagnostic(
        code="QTC001",
        message=getattr(exc, "msg", str(exc)),
        location=Location(shown, line, col, 1),
        expected="valid TOML, e.g. `top_n = 50` or `[sizing]`",
        hint="fix the syntax at the caret; nothing else was checked in this file",
    )


def _nested(
    shown: str, deep: UserPath | None, positions: dict[tuple[str | int, ...], KeyLocation]
) -> Diagnostic:
    """QTC003 for tables or arrays nested deeper than any strategy key (`deep`: where)."""
    where = Location(shown)
    for n in range(len(deep or ()), 0, -1):
        if deep and deep[:n] in positions:
            where = Origin(shown, positions[deep[:n]]).key_location()
            break
    return Diagnostic(
        code="QTC003",
        message=f"tables or arrays nested more than {MAX_DEPTH} levels deep",
        location=where,
        key_path=format_path(deep[:4]) + "…" if deep else "",
        expected='strategy keys are at most 4 levels deep, e.g. `search."sizing.max_weight".min`',
        hint="look for a runaway `[a.b.c...]` header or unbalanced brackets; "
        "nothing else was checked in this file",
    )


def _duplicates(
    names: list[str], positions: dict[tuple[str | int, ...], KeyLocation], shown: str
) -> list[Diagnostic]:
    """Report factor names defined twice in one file (QTC110)."""
    seen: set[str] = set()
    out: list[Diagnostic] = []
    for i, name in enumerate(names):
        if name in seen:
            loc = positions.get((FACTORS, i, "name"))
            where = Origin(shown, loc).value_location() if loc else Location(shown)
            out.append(
                Diagnostic(
                    code="QTC110",
                    message=f'factor name "{name}" is defined twice',
                    location=where,
                    key_path=f"factors.{name}",
                    expected="each [[factors]] entry has a unique `name`",
                    hint="rename one of them; scoring weights and key paths use the name",
                )
            )
        seen.add(name)
    return out


def factor_key(table: Any, index: int) -> str:
    """Key of a `[[factors]]` entry in the user tree: its name, or `[i]` if it has none."""
    if isinstance(table, dict) and isinstance(table.get("name"), str) and table["name"]:
        return str(table["name"])
    return f"[{index}]"


def to_user_tree(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Turn `factors` from a list into a name-keyed table; return the tree and the keys in order.

    Duplicate names keep the first definition; the caller reports them.
    """
    tree = dict(raw)
    items = raw.get(FACTORS)
    if not isinstance(items, list):
        return tree, []
    keyed: dict[str, Any] = {}
    names: list[str] = []
    for i, item in enumerate(items):
        key = factor_key(item, i)
        names.append(key)
        keyed.setdefault(key, item)
    tree[FACTORS] = keyed
    return tree, names


def from_user_tree(tree: dict[str, Any]) -> dict[str, Any]:
    """Inverse of `to_user_tree`: factors back to a list, in their merged order."""
    out = dict(tree)
    factors = tree.get(FACTORS)
    if isinstance(factors, dict):
        out[FACTORS] = list(factors.values())
    return out


def _user_path(raw_path: tuple[str | int, ...], names: list[str]) -> UserPath:
    """Map a raw TOML path (`factors`, 0, ...) to a user path (`factors`, name, ...)."""
    if len(raw_path) >= 2 and raw_path[0] == FACTORS and isinstance(raw_path[1], int):
        idx = raw_path[1]
        if idx < len(names):
            return (FACTORS, names[idx], *raw_path[2:])
    return raw_path
