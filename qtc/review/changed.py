"""The strategy files a change since a git revision touches (`qtc diff --git BASE`).

A changed file counts when it ends in `.toml` and is under `strategies/`, or looks like
a strategy anywhere else (it has a `schema` or `extends` key, or `[universe]` and
`[[factors]]`). A strategy under `strategies/` whose `extends` chain includes a changed
file counts too: its resolved strategy may change although its own text did not.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from qtc.vcs import changed_files, show_file

STRATEGY_FOLDER = "strategies"


@dataclass(frozen=True)
class ChangedFile:
    """A strategy file to compare.

    Attributes:
        rel_path: Its path inside the repository.
        status: `A` added, `M` modified, `D` deleted (since the base).
        reason: Why it is compared (`changed`, or `extends strategies/base.toml`).
    """

    rel_path: str
    status: str
    reason: str = "changed"


def changed_strategies(commit: str, repo: Path) -> list[ChangedFile]:
    """Every strategy file to compare against `commit`, in path order."""
    found: dict[str, ChangedFile] = {}
    changed = {path: status for status, path in changed_files(commit, repo)}
    for path, status in changed.items():
        if path.endswith(".toml") and _counts(path, status, commit, repo):
            found[path] = ChangedFile(path, status)
    for child, parent in _children_of(set(changed), repo):
        found.setdefault(child, ChangedFile(child, "M", f"extends {parent}"))
    return [found[p] for p in sorted(found)]


def _counts(path: str, status: str, commit: str, repo: Path) -> bool:
    """Whether a changed .toml file is a strategy file."""
    if path.startswith(f"{STRATEGY_FOLDER}/"):
        return True
    text = show_file(commit, path, repo) if status == "D" else _read(repo / path)
    return text is not None and looks_like_strategy(text)


def _read(path: Path) -> str | None:
    """A working-tree file's text (None when unreadable)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def looks_like_strategy(text: str) -> bool:
    """Whether TOML text is a strategy manifest (not a pyproject or another config)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return "schema" in data or "extends" in data or ("universe" in data and "factors" in data)


def _children_of(changed: set[str], repo: Path) -> list[tuple[str, str]]:
    """(strategy, changed parent) for strategies under `strategies/` extending a changed file."""
    from qtc.manifest.compose import compose

    folder = repo / STRATEGY_FOLDER
    out: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*.toml")) if folder.is_dir() else []:
        rel = path.relative_to(repo).as_posix()
        composed = compose(path)
        for parent in composed.files[1:]:
            parent_rel = _relative(Path(parent), repo)
            if parent_rel in changed and rel not in changed:
                out.append((rel, parent_rel))
                break
    return out


def _relative(path: Path, repo: Path) -> str | None:
    """A path inside the repository, or None."""
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return None
