"""`qtc runs gc --keep N`: which artifact folders to delete, each checked, and deleting them.

Per strategy and kind, the newest N records are kept. A folder is deleted only when it
is still a qtc artifact folder of that record: a real folder (not a symlink) two levels
below its artifact root (`<root>/<strategy>/<id>`), whose document names the record's
id. Anything else is skipped with the reason, never deleted. A folder is first renamed
to a hidden name beside it (atomic), then removed, so no reader sees half of it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from qtc.registry.kinds import kind_named
from qtc.registry.record import Record
from qtc.registry.service import is_present, newest_first


@dataclass
class GcPlan:
    """What `gc` would do.

    Attributes:
        delete: Records whose folders would be deleted.
        forget: Records whose folders are already gone (only their rows go).
        skipped: (record, reason) pairs that are not deleted.
        kept: How many records are kept.
    """

    delete: list[Record] = field(default_factory=list)
    forget: list[Record] = field(default_factory=list)
    skipped: list[tuple[Record, str]] = field(default_factory=list)
    kept: int = 0


def plan(records: list[Record], keep: int) -> GcPlan:
    """Split the records into kept and deleted ones (newest `keep` per strategy and kind)."""
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for rec in newest_first(records):
        groups[(rec.strategy, rec.kind)].append(rec)
    out = GcPlan()
    for key in sorted(groups):
        present = [r for r in groups[key] if is_present(r)]
        out.forget += [r for r in groups[key] if not is_present(r)]
        out.kept += min(keep, len(present))
        for rec in present[keep:]:
            problem = why_not(rec)
            if problem:
                out.skipped.append((rec, problem))
            else:
                out.delete.append(rec)
    return out


def why_not(rec: Record) -> str:
    """Why a record's folder must not be deleted (empty when it may be)."""
    folder = Path(rec.folder)
    if not folder.is_absolute() or folder.is_symlink() or not folder.is_dir():
        return "not a real folder"
    if folder.resolve().parent.parent != folder.parent.parent.resolve():
        return "not two levels below an artifact root"
    kind = kind_named(rec.kind)
    document = folder / kind.document
    try:
        doc = json.loads(document.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return f"its {kind.document} cannot be read"
    ids = {doc.get(k) for k in kind.id_keys} if isinstance(doc, dict) else set()
    if rec.run_id not in ids and rec.run_id != folder.name:
        return f"its {kind.document} names another id"
    return ""


def delete_folder(rec: Record) -> None:
    """Delete one checked folder: rename it aside, remove it, drop an empty strategy folder."""
    folder = Path(rec.folder)
    aside = folder.with_name(f".gc-{folder.name}-{os.getpid()}")
    folder.rename(aside)
    shutil.rmtree(aside)
    with suppress(OSError):
        folder.parent.rmdir()  # only when empty: other runs of the strategy are kept
