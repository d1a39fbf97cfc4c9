"""Compose a strategy from its file, its `extends` parents and `--set` overrides.

Merge rules: the child's tables are deep-merged over the parent's; scalars and
arrays replace; factors merge by name (a child factor with a parent's name
updates it, new names are appended). `--set` overrides apply last. The origin
of every key (file:line, parent file:line, or `--set`) is kept for diagnostics
and for `qtc compile --resolved`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli

from qtc.errors import Diagnostic, Location
from qtc.manifest.document import FACTORS, Document, Origin, parse_document, read_text
from qtc.manifest.paths import UserPath, format_path, parse_path

SET = "--set"


@dataclass
class Composed:
    """The merged user tree of a strategy, with origins, sources and problems."""

    tree: dict[str, Any] = field(default_factory=dict)
    origins: dict[UserPath, Origin] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ok: bool = True


def compose(path: Path, overrides: list[str] | None = None) -> Composed:
    """Load `path` with its parents and apply `--set` overrides.

    Args:
        path: The strategy file.
        overrides: `key.path=value` strings, applied in order after the files.

    Returns:
        The composed tree; `ok` is False when a file could not be read or parsed.
    """
    out = Composed()
    _load_chain(path, str(path), out, stack=[])
    if out.ok:
        for text in overrides or []:
            apply_override(out, text)
    return out


def _load_chain(path: Path, shown: str, out: Composed, stack: list[Path]) -> None:
    """Load one file and (first) its parent chain into `out`."""
    text, diags = read_text(path, shown)
    out.diagnostics += diags
    if text is None:
        out.ok = False
        return
    out.sources[shown] = text
    doc, diags = parse_document(path, shown, text)
    out.diagnostics += diags
    if doc is None:
        out.ok = False
        return
    out.files.append(shown)
    parent = doc.tree.get("extends")
    if isinstance(parent, str):
        _load_parent(doc, parent, out, [*stack, path.resolve()])
    _merge(out.tree, doc.tree, (), out.origins, doc.origins)
    for p, origin in doc.origins.items():
        out.origins[p] = origin


def _load_parent(doc: Document, parent: str, out: Composed, stack: list[Path]) -> None:
    """Resolve `extends` relative to the child file and load it (cycles reported)."""
    where = doc.origins.get(("extends",))
    loc = where.value_location() if where else Location(doc.shown)
    try:
        target = (doc.path.parent / parent).resolve()
        exists = target.is_file()
    except (OSError, ValueError):
        target, exists = doc.path.parent / "<invalid path>", False
    if target in stack:
        chain = " -> ".join(p.name for p in [*stack, target])
        out.diagnostics.append(
            Diagnostic(
                code="QTC108",
                message=f"extends cycle: {chain}",
                location=loc,
                key_path="extends",
                hint="remove `extends` from one of these files",
            )
        )
        out.ok = False
        return
    if not exists:
        out.diagnostics.append(
            Diagnostic(
                code="QTC107",
                message=f'parent file "{parent}" not found',
                location=loc,
                key_path="extends",
                expected='a path relative to this file, e.g. `extends = "base.toml"`',
                hint=f"looked for {Path(doc.shown).parent / parent}",
            )
        )
        out.ok = False
        return
    shown = str(Path(doc.shown).parent / parent)
    _load_chain(target, shown, out, stack)


def _merge(
    base: dict[str, Any],
    top: dict[str, Any],
    prefix: UserPath,
    origins: dict[UserPath, Origin],
    top_origins: dict[UserPath, Origin],
) -> None:
    """Deep-merge `top` into `base` in place; replaced subtrees drop their old origins."""
    for key, value in top.items():
        here = (*prefix, key)
        old = base.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and not _kind_changed(old, value):
            merged = dict(old)
            _merge(merged, value, here, origins, top_origins)
            base[key] = merged
            continue
        _forget(origins, here)
        base[key] = value


def _kind_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A table whose `kind` changes is replaced, not merged (its keys differ)."""
    return "kind" in new and "kind" in old and new["kind"] != old["kind"]


def _forget(origins: dict[UserPath, Origin], prefix: UserPath) -> None:
    """Drop the origins of a replaced subtree."""
    n = len(prefix)
    for p in [p for p in origins if p[:n] == prefix]:
        del origins[p]


def apply_override(out: Composed, text: str) -> None:
    """Apply one `key.path=value` override to the composed tree (QTC109 on failure)."""
    origin = Origin(SET, None, text)
    key, sep, raw_value = text.partition("=")
    try:
        if not sep:
            raise ValueError("expected key.path=value")
        path = parse_path(key)
        value = parse_value(raw_value)
        _set(out.tree, path, value)
        if path[-1] == "kind":
            _drop_foreign_keys(out.tree, path[:-1], out.origins)
    except ValueError as exc:
        out.diagnostics.append(_bad_override(text, str(exc), out.tree))
        return
    _forget(out.origins, path)
    out.origins[path] = origin
    for sub in _leaf_paths(value, path):
        out.origins[sub] = origin


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
        _forget(origins, (*table, key))


def parse_value(raw: str) -> Any:
    """Type a `--set` value like TOML (`50` -> int, `[1, 2]` -> list); bare words are strings."""
    raw = raw.strip()
    try:
        return tomli.loads(f"v = {raw}")["v"]
    except tomli.TOMLDecodeError:
        if not raw:
            raise ValueError("missing value after `=`") from None
        return raw


def _set(tree: dict[str, Any], path: UserPath, value: Any) -> None:
    """Set `value` at `path`, creating intermediate tables (factors must already exist)."""
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


def _leaf_paths(value: Any, prefix: UserPath) -> list[UserPath]:
    """Every sub-path under a value set by `--set` (so nested keys know their origin)."""
    if not isinstance(value, dict):
        return []
    out: list[UserPath] = []
    for k, v in value.items():
        out.append((*prefix, k))
        out += _leaf_paths(v, (*prefix, k))
    return out


def _bad_override(text: str, reason: str, tree: dict[str, Any]) -> Diagnostic:
    """Diagnostic for an override that could not be applied."""
    return Diagnostic(
        code="QTC109",
        message=f"cannot apply `--set {text}`: {reason}",
        location=Location(SET),
        key_path=text.partition("=")[0].strip(),
        expected="--set key.path=value, e.g. `--set selection.top_n=30`",
        hint="factors are addressed by name: `--set factors.mom_12_1.lookback=189`",
    )
