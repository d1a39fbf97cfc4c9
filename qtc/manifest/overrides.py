"""`--set key.path=value` overrides: parse, type like TOML, apply to a user tree.

Every way an override can be malformed (no `=`, an empty or too deep key path, a
factor that does not exist, a value nested too deeply, several values, `extends`)
is a QTC109 diagnostic; values that parse but do not fit the schema are reported
later by validation. A credential-looking value is never echoed.
"""

from __future__ import annotations

import difflib
from typing import Any

import tomli

from qtc.errors import Diagnostic, Location
from qtc.manifest.document import FACTORS, Origin
from qtc.manifest.nesting import MAX_DEPTH, too_deep
from qtc.manifest.paths import UserPath, format_path, parse_path
from qtc.manifest.secrets import redact_line

SET = "--set"


def apply_override(
    tree: dict[str, Any], origins: dict[UserPath, Origin], text: str
) -> Diagnostic | None:
    """Apply one `key.path=value` override in place; return a QTC109 diagnostic on failure.

    Args:
        tree: The composed user tree (changed in place).
        origins: Where each user path was written (the override's paths become `--set`).
        text: The override as typed.

    Returns:
        None when applied, else why it could not be.
    """
    origin = Origin(SET, None, text)
    try:
        path, value = parse_override(text)
        set_at(tree, path, value)
        if path[-1] == "kind":
            _drop_foreign_keys(tree, path[:-1], origins)
    except ValueError as exc:
        return _bad_override(text, str(exc))
    forget(origins, path)
    origins[path] = origin
    for sub in _leaf_paths(value, path):
        origins[sub] = origin
    return None


def parse_override(text: str) -> tuple[UserPath, Any]:
    """Split `key.path=value` into a user path and a typed value.

    Raises:
        ValueError: Why the override is malformed, in the user's terms.
    """
    key, sep, raw_value = text.partition("=")
    if not sep:
        raise ValueError("expected key.path=value")
    path = parse_path(key)
    if len(path) > MAX_DEPTH:
        raise ValueError(f"the key path has {len(path)} parts; strategy keys have at most 4")
    if path == ("extends",):
        raise ValueError("`extends` is read before overrides apply; write it in the file")
    value = parse_value(raw_value)
    if too_deep(value, MAX_DEPTH - len(path)) is not None:
        raise ValueError(f"the value is nested more than {MAX_DEPTH} levels deep")
    return path, value


def parse_value(raw: str) -> Any:
    """Type a `--set` value like TOML (`50` -> int, `[1, 2]` -> list); bare words are strings.

    Raises:
        ValueError: If the value is empty, nested too deeply for the parser, or several values.
    """
    raw = raw.strip()
    try:
        doc = tomli.loads(f"v = {raw}")
    except tomli.TOMLDecodeError:
        if not raw:
            raise ValueError("missing value after `=`") from None
        return raw
    except RecursionError:
        raise ValueError(f"the value is nested more than {MAX_DEPTH} levels deep") from None
    if list(doc) != ["v"]:
        raise ValueError("the value spans several lines; give one value per --set")
    return doc["v"]


def set_at(tree: dict[str, Any], path: UserPath, value: Any) -> None:
    """Set `value` at `path`, creating intermediate tables (factors must already exist).

    Raises:
        ValueError: If a factor does not exist or a path part is a value, not a table.
    """
    node: dict[str, Any] = tree
    for i, part in enumerate(path[:-1]):
        if path[0] == FACTORS and i == 1 and part not in node:
            names = list(node)
            near = difflib.get_close_matches(str(part), names, n=1)
            tip = f"; did you mean `{near[0]}`?" if near else f"; factors are: {', '.join(names)}"
            raise ValueError(f'no factor named "{part}"{tip}')
        child = node.setdefault(str(part), {})
        if not isinstance(child, dict):
            raise ValueError(f"`{format_path(path[: i + 1])}` is a value, not a table")
        node = child
    node[str(path[-1])] = value


def forget(origins: dict[UserPath, Origin], prefix: UserPath) -> None:
    """Drop the origins of a replaced subtree."""
    n = len(prefix)
    for p in [p for p in origins if p[:n] == prefix]:
        del origins[p]


def _drop_foreign_keys(
    tree: dict[str, Any], table: UserPath, origins: dict[UserPath, Origin]
) -> None:
    """After `--set x.kind=...`, drop keys of the table that the new kind does not have."""
    from qtc.manifest.schema_walk import keys_of, model_at

    node: Any = tree
    for part in table:
        node = node.get(str(part)) if isinstance(node, dict) else None
    model = model_at(table, tree)
    if not isinstance(node, dict) or model is None:
        return
    for key in [k for k in node if k not in keys_of(model)]:
        del node[key]
        forget(origins, (*table, key))


def _leaf_paths(value: Any, prefix: UserPath) -> list[UserPath]:
    """Every sub-path under a value set by `--set` (so nested keys know their origin)."""
    if not isinstance(value, dict):
        return []
    out: list[UserPath] = []
    for k, v in value.items():
        out.append((*prefix, k))
        out += _leaf_paths(v, (*prefix, k))
    return out


def _bad_override(text: str, reason: str) -> Diagnostic:
    """QTC109 for an override that could not be applied (a credential's value not shown)."""
    return Diagnostic(
        code="QTC109",
        message=f"cannot apply `--set {echo(redact_line(text))}`: {reason}",
        location=Location(SET),
        key_path=echo(text.partition("=")[0].strip()),
        expected="--set key.path=value, e.g. `--set selection.top_n=30`",
        hint="factors are addressed by name: `--set factors.mom_12_1.lookback=189`",
    )


def echo(text: str, limit: int = 120) -> str:
    """User text quoted in a message: on one line, cut to `limit` characters."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + "…"
