"""The registry's inbox: one small JSON file per recorded run, folded into DuckDB later.

A command that finishes a run writes its record here (atomically, named after the
folder, so recording a folder again replaces its record). This needs no lock and no
DuckDB: a run is never slowed down or failed by a registry another process holds.
`qtc runs ...` reads the inbox with the file and folds it in when it writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from qtc.atomic import write_text_atomic
from qtc.registry.record import Record

SUFFIX = ".json"


@dataclass(frozen=True)
class Entry:
    """One inbox file as read: its record and the file's identity (inode, mtime)."""

    path: Path
    record: Record
    signature: tuple[int, int]


def entry_name(record: Record) -> str:
    """The inbox file name of a record: its kind and a hash of its folder."""
    digest = hashlib.sha256(record.folder.encode("utf-8")).hexdigest()[:20]
    return f"{record.kind}-{digest}{SUFFIX}"


def put(inbox: Path, record: Record) -> Path:
    """Write a record into the inbox (replacing the folder's earlier one)."""
    target = inbox / entry_name(record)
    write_text_atomic(target, json.dumps(record.to_dict(), sort_keys=True) + "\n")
    return target


def read(inbox: Path) -> tuple[list[Entry], list[str]]:
    """Every record in the inbox, oldest file first, and what could not be read.

    Returns:
        The entries, and one line per unreadable file (left in place).
    """
    if not inbox.is_dir():
        return [], []
    found: list[Entry] = []
    problems: list[str] = []
    for path in sorted(inbox.glob(f"*{SUFFIX}"), key=lambda p: _signature(p)[1]):
        try:
            signature = _signature(path)
            record = Record.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
            problems.append(f"{path}: not a registry record ({exc}); ignored")
            continue
        found.append(Entry(path, record, signature))
    return found, problems


def _signature(path: Path) -> tuple[int, int]:
    """(inode, mtime in ns) of a file; (0, 0) when it vanished meanwhile."""
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)


def remove(entries: list[Entry]) -> None:
    """Delete inbox files folded into the registry, unless rewritten since they were read."""
    for entry in entries:
        if _signature(entry.path) == entry.signature:
            entry.path.unlink(missing_ok=True)
