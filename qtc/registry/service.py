"""The registry as commands see it: the DuckDB file and the inbox, merged.

`load` only reads: it opens the file read-only (or, when the file is missing, scans the
artifact roots), reads the inbox and merges the two (the inbox is newer). `persist` then
writes what the view found (folds the inbox in, or creates the missing file); commands
call it only once their input has been accepted, so a refused command writes nothing.
`rebuild` replaces the file with one made from the artifact folders, keeping what only
the registry knew (the strategy file and git state of each run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qtc.errors import UserError
from qtc.registry import inbox, store
from qtc.registry.errors import RegistryError
from qtc.registry.kinds import kind_named
from qtc.registry.paths import inbox_path, registry_path
from qtc.registry.record import SOURCE_FIELDS, Record
from qtc.registry.scan import default_roots, root_of, scan


@dataclass
class View:
    """What the registry holds right now.

    Attributes:
        path: The registry file.
        records: Every record, newest first.
        pending: Inbox entries not yet folded into the file.
        rebuilt: True when the file was missing and the records come from a scan.
        discovered: Folders under the default roots that no command recorded (copied in,
            or written by a command that does not record itself), not yet in the file.
        notes: Problems met on the way (unreadable inbox files, skipped folders).
    """

    path: Path
    records: list[Record]
    pending: list[inbox.Entry] = field(default_factory=list)
    rebuilt: bool = False
    discovered: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def record(rec: Record, path: Path | None = None) -> None:
    """Record a run: put it in the inbox of the registry at `path` (default: the project's)."""
    inbox.put(inbox_path(path or registry_path()), rec)


def load(path: Path | None = None, project: Path | None = None) -> View:
    """Read the registry and its inbox (rebuilding in memory when the file is missing).

    Raises:
        RegistryError: If the file is damaged, locked too long or of another version.
    """
    path = path or registry_path()
    entries, notes = inbox.read(inbox_path(path))
    rebuilt = not path.exists()
    roots = default_roots(project or Path.cwd())
    found: list[Record] = []
    if rebuilt:
        base, problems = scan([*roots, *(root_of(e.record) for e in entries)])
    else:
        base = store.read_all(path)
    merged = {r.folder: r for r in base}
    merged.update({e.record.folder: e.record for e in entries})
    if not rebuilt:
        found, problems = scan(roots, skip=set(merged))
        merged.update({r.folder: r for r in found})
    view = View(path, newest_first(merged.values()), entries, rebuilt, found)
    view.notes = [*notes, *problems]
    return view


def persist(view: View) -> None:
    """Write what `load` found: the whole file when it was missing, else the inbox's records."""
    if view.rebuilt:
        store.write_new(view.path, view.records)
    elif view.pending or view.discovered:
        store.upsert(view.path, [*view.discovered, *(e.record for e in view.pending)])
    inbox.remove(view.pending)


def rebuild(
    path: Path | None = None, roots: Iterable[Path] = (), project: Path | None = None
) -> View:
    """Replace the registry with one rebuilt from the artifact folders.

    Scans the default roots, the given ones, and every root the old file (when it can be
    read) and the inbox know; keeps the strategy file and git state they recorded.

    Returns:
        The new view (`rebuilt` set).
    """
    path = path or registry_path()
    entries, notes = inbox.read(inbox_path(path))
    known = [e.record for e in entries]
    if path.exists():
        try:
            known = [*store.read_all(path), *known]
        except RegistryError as exc:
            notes.append(f"the old registry could not be read ({exc.message}); rebuilt without it")
    every_root = [*default_roots(project or Path.cwd()), *roots, *(root_of(r) for r in known)]
    found, problems = scan(every_root)
    sources = {r.folder: r for r in known}
    records = [_keep_source(r, sources.get(r.folder)) for r in found]
    store.write_new(path, records)
    inbox.remove(entries)
    return View(path, newest_first(records), rebuilt=True, notes=[*notes, *problems])


def _keep_source(found: Record, old: Record | None) -> Record:
    """The scanned record with the source fields the registry had recorded for it."""
    if old is None or old.git_dirty is None:
        return found
    return found.with_source({k: getattr(old, k) for k in SOURCE_FIELDS})


def newest_first(records: Iterable[Record]) -> list[Record]:
    """Records sorted by creation time, newest first (then by folder, for a stable order)."""
    ordered = sorted(records, key=lambda r: r.folder)
    return sorted(ordered, key=lambda r: r.created_at, reverse=True)


def is_present(rec: Record) -> bool:
    """Whether the record's folder still holds its document."""
    try:
        document = kind_named(rec.kind).document
    except UserError:
        return False
    return (Path(rec.folder) / document).is_file()
