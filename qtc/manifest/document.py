"""Read one TOML file: text, parsed data, positions, syntax errors.

Parsing uses `tomli` (>= 2.1), whose decode errors carry line and column.
The parsed tree is converted to the *user tree*, where `[[factors]]` becomes a
table keyed by factor name, so that merging, `--set` and key paths all speak
`factors.<name>.<key>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli

from qtc.errors import Diagnostic, Location
from qtc.manifest.locate import KeyLocation, locate_keys
from qtc.manifest.paths import UserPath

FACTORS = "factors"


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
        return path.read_text(encoding="utf-8"), []
    except FileNotFoundError:
        msg = "file not found"
    except IsADirectoryError:
        msg = "is a directory, not a strategy file"
    except UnicodeDecodeError:
        msg = "is not UTF-8 text"
    except OSError as exc:
        msg = exc.strerror or "cannot be read"
    diag = Diagnostic(
        code="QTC002",
        message=f"{shown}: {msg}",
        location=Location(shown),
        hint="check the path; strategy files are UTF-8 TOML",
    )
    return None, [diag]


def parse_document(path: Path, shown: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse TOML text into a `Document`, or a syntax diagnostic (QTC001)."""
    try:
        raw = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        line, col = getattr(exc, "lineno", 0), getattr(exc, "colno", 0)
        msg = getattr(exc, "msg", str(exc))
        diag = Diagnostic(
            code="QTC001",
            message=msg,
            location=Location(shown, line, col, 1),
            expected="valid TOML, e.g. `top_n = 50` or `[sizing]`",
            hint="fix the syntax at the caret; nothing else was checked in this file",
        )
        return None, [diag]
    positions = locate_keys(text)
    tree, names = to_user_tree(raw)
    origins: dict[UserPath, Origin] = {}
    for raw_path, loc in positions.items():
        origins.setdefault(_user_path(raw_path, names), Origin(shown, loc))
    return Document(path, shown, text, tree, origins), _duplicates(names, positions, shown)


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
