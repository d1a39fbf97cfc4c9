"""Compose a strategy from its file, its `extends` parents and `--set` overrides.

Merge rules: the child's tables are deep-merged over the parent's; scalars and
arrays replace; factors merge by name (a child factor with a parent's name
updates it, new names are appended). `--set` overrides apply last. The origin
of every key (file:line, parent file:line, or `--set`) is kept for diagnostics
and for `qtc compile --resolved`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.errors import Diagnostic, Location
from qtc.manifest.document import Document, Origin, parse_document, read_text
from qtc.manifest.overrides import SET, apply_override, echo, forget
from qtc.manifest.paths import UserPath

__all__ = ["SET", "Composed", "compose"]

EXPECTED_PARENT = 'a strategy .toml file relative to this one, e.g. `extends = "base.toml"`'


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
            problem = apply_override(out.tree, out.origins, text)
            out.diagnostics += [problem] if problem else []
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
    """Resolve `extends` relative to the child file and load it (problems reported)."""
    where = doc.origins.get(("extends",))
    loc = where.value_location() if where else Location(doc.shown)
    target, problem = _resolve_parent(doc, parent, loc, stack)
    if problem is not None:
        out.diagnostics.append(problem)
        out.ok = False
        return
    _load_chain(target, str(Path(doc.shown).parent / parent), out, stack)


def _resolve_parent(
    doc: Document, parent: str, loc: Location, stack: list[Path]
) -> tuple[Path, Diagnostic | None]:
    """The parent's path, or why it is not loaded: not a .toml name, a cycle, not found.

    The name is checked before the file is touched, so `extends` cannot be used to
    make qtc quote some other file (a `.netrc`, a key) in an error frame.
    """
    if not parent.lower().endswith(".toml"):
        message = f'`extends` names "{echo(parent)}", not a .toml file'
        return Path(), _problem("QTC114", message, loc)
    try:
        target = (doc.path.parent / parent).resolve()
        exists = target.exists()
    except (OSError, ValueError):
        target, exists = doc.path.parent / "<invalid path>", False
    if target in stack:
        chain = " -> ".join(p.name for p in [*stack, target])
        return target, _problem("QTC108", f"extends cycle: {chain}", loc)
    if not exists:
        where = Path(doc.shown).parent / parent
        return target, _problem("QTC107", f'parent file "{echo(parent)}" not found', loc, where)
    return target, None


def _problem(code: str, message: str, loc: Location, looked: Path | None = None) -> Diagnostic:
    """A diagnostic on the `extends` key."""
    hints = {
        "QTC107": f"looked for {echo(str(looked))}",
        "QTC108": "remove `extends` from one of these files",
        "QTC114": "the file was not read: `extends` only takes another strategy file",
    }
    return Diagnostic(
        code=code,
        message=message,
        location=loc,
        key_path="extends",
        expected="" if code == "QTC108" else EXPECTED_PARENT,
        hint=hints[code],
    )


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
        forget(origins, here)
        base[key] = value


def _kind_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A table whose `kind` changes is replaced, not merged (its keys differ)."""
    return "kind" in new and "kind" in old and new["kind"] != old["kind"]
