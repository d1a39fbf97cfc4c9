"""Rebuild records from the artifact folders on disk.

An artifact root (`runs/`, `sweeps/`, `evolutions/`, `validations/`, or any `--out` a
command was given) holds `<strategy>/<id>/` folders, each with its kind's document.
Hidden folders (qtc's temp and old names, `.tmp-*`, `.old-*`, `.gc-*`) and symlinks are
skipped; a folder whose document cannot be read is reported, not recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from qtc.registry.kinds import KINDS, kind_of_folder
from qtc.registry.record import Record, read_folder


def default_roots(project: Path) -> list[Path]:
    """The default artifact root of every kind, under the project folder."""
    return [project / kind.root for kind in KINDS]


def root_of(record: Record) -> Path:
    """The artifact root a record's folder lives in (`<root>/<strategy>/<id>`)."""
    return Path(record.folder).parent.parent


def scan(roots: Iterable[Path], skip: set[str] | None = None) -> tuple[list[Record], list[str]]:
    """Records of every artifact folder under the roots, and what could not be read.

    Args:
        roots: Artifact roots (missing ones are ignored).
        skip: Folders (absolute, as records hold them) not to read again.
    """
    records: dict[str, Record] = {}
    problems: list[str] = []
    seen: set[Path] = set()
    for root in roots:
        resolved = root.resolve()
        if resolved in seen or not resolved.is_dir():
            continue
        seen.add(resolved)
        for folder in _folders(resolved):
            if skip and str(folder) in skip:
                continue
            kind = kind_of_folder(folder)
            if kind is None:
                continue
            try:
                record = read_folder(folder, kind)
            except (OSError, ValueError) as exc:
                problems.append(f"{folder}: skipped ({exc})")
                continue
            records[record.folder] = record
    return list(records.values()), problems


def _folders(root: Path) -> list[Path]:
    """`<root>/<strategy>/<id>` folders, sorted, no hidden names, no symlinks."""
    out: list[Path] = []
    for strategy in _children(root):
        out += _children(strategy)
    return out


def _children(folder: Path) -> list[Path]:
    """Sub-folders that are neither hidden nor symlinks."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [p for p in entries if not p.name.startswith(".") and p.is_dir() and not p.is_symlink()]
