"""The run registry part of the library facade: `qtc runs list|show|gc|rebuild`, and recording.

Commands that write an artifact call `record_backtest` / `record_sweep` once it is
written; recording never fails a run (a problem becomes one of its warnings). Reading
commands return plain data (dicts), so the CLI needs no registry types.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.errors import UserError

ID_TEXT = re.compile(r"^[0-9A-Za-z_-]{4,80}$")
"""What a run id (or a prefix of one) may look like: 4 or more letters, digits, `-`, `_`."""


def record_backtest(outcome: Any, strategy_file: str) -> None:
    """Record a backtest just written (its folder, strategy file and git state).

    Args:
        outcome: The `BacktestOutcome`; a recording problem is added to its warnings.
        strategy_file: The strategy file the run was compiled from.
    """
    record_artifact(outcome.run_dir, "backtest", strategy_file, outcome.warnings)


def record_sweep(outcome: Any, strategy_file: str) -> None:
    """Record a finished sweep (a reused one is already recorded).

    Args:
        outcome: The `SweepOutcome`.
        strategy_file: The strategy file the sweep searched around.
    """
    if not outcome.reused:
        record_artifact(outcome.folder, "sweep", strategy_file, [])


def record_folder(folder: Path, kind: str, source: dict[str, Any]) -> None:
    """Record an artifact folder with explicit source fields (`qtc diff` of a git revision)."""
    from qtc.registry.kinds import kind_named
    from qtc.registry.record import read_folder
    from qtc.registry.service import record

    record(read_folder(folder, kind_named(kind)).with_source(source))


def record_artifact(folder: Path, kind: str, strategy_file: str, warnings: list[str]) -> None:
    """Record any artifact folder (`evolve`, `validate` too) once its command has written it.

    Reads the folder's record, adds the strategy file's git state and puts it in the
    registry's inbox. Never raises for a recording problem: it is appended to `warnings`.

    Args:
        folder: The artifact folder (`<root>/<strategy>/<id>`).
        kind: `backtest`, `sweep`, `evolve` or `validate`.
        strategy_file: The strategy file the command was given.
        warnings: The run's warnings (a recording problem is added here).
    """
    from qtc.registry.kinds import kind_named
    from qtc.registry.record import read_folder
    from qtc.registry.service import record
    from qtc.registry.source import strategy_source

    try:
        rec = read_folder(folder, kind_named(kind)).with_source(strategy_source(strategy_file))
        record(rec)
    except (OSError, ValueError) as exc:
        warnings.append(f"the run was not recorded in the run registry: {exc}")


def list_runs(
    *, strategy: str | None = None, since: dt.date | None = None, kind: str | None = None
) -> dict[str, Any]:
    """Every registered run that passes the filters, newest first.

    Returns:
        `{"registry": path, "runs": [record dicts with "present"], "notes": [...]}`.

    Raises:
        UserError: For an unknown kind.
    """
    from qtc.registry.kinds import kind_named
    from qtc.registry.service import is_present, load, persist

    if kind is not None:
        kind_named(kind)
    view = load()
    stamp = since.isoformat() if since else ""
    rows = [
        {**r.to_dict(), "present": is_present(r)}
        for r in view.records
        if (strategy is None or r.strategy == strategy)
        and (kind is None or r.kind == kind)
        and r.created_at[:10] >= stamp
    ]
    persist(view)
    return {"registry": str(view.path), "runs": rows, "notes": view.notes}


def show_run(ident: str) -> dict[str, Any]:
    """One registered run by id, id prefix or folder.

    Raises:
        UserError: If no run or several runs match.
    """
    from qtc.registry.service import is_present, load, persist

    view = load()
    rec = _match(view.records, ident)
    persist(view)
    return {**rec.to_dict(), "present": is_present(rec), "registry": str(view.path)}


def run_folder(ident: str) -> Path:
    """The folder of a registered backtest, by id or id prefix (for `qtc diff`).

    Raises:
        UserError: If no backtest or several match.
    """
    from qtc.registry.service import load

    view = load()
    rec = _match([r for r in view.records if r.kind == "backtest"], ident)
    return Path(rec.folder)


def _match(records: list[Any], ident: str) -> Any:
    """The one record an id, id prefix or folder names."""
    text = ident.strip()
    folder = Path(text).resolve() if text and ("/" in text or Path(text).is_dir()) else None
    key = text.lower().removeprefix("sha256:")
    if folder is None and not ID_TEXT.match(key):
        raise UserError(
            f"{ident!r} is not a run id",
            hint="give at least 4 characters of an id from `qtc runs list`, or a run folder",
        )
    found = [
        r
        for r in records
        if (folder is not None and Path(r.folder) == folder)
        or (folder is None and _id_matches(r, key))
    ]
    if not found:
        raise UserError(
            f"no run {ident!r} in the run registry",
            hint="see `qtc runs list`; after moving artifact folders, "
            "`qtc runs rebuild --root DIR`",
        )
    if len(found) > 1:
        shown = ", ".join(f"{r.short_id} ({r.kind} {r.strategy})" for r in found[:5])
        raise UserError(
            f"{ident!r} matches {len(found)} runs: {shown}", hint="give more characters"
        )
    return found[0]


def _id_matches(rec: Any, key: str) -> bool:
    """Whether an id prefix names a record (its full id or its folder name)."""
    full = str(rec.run_id).lower().removeprefix("sha256:")
    return full.startswith(key) or str(rec.short_id).lower().startswith(key)


@dataclass
class GcPreview:
    """What `gc` would do, to show before asking (opaque to the CLI but for `as_dict`)."""

    view: Any
    plan: Any
    keep: int
    deleted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """As data: the folders to delete, the missing ones to forget, the skipped ones."""
        return {
            "registry": str(self.view.path),
            "keep": self.keep,
            "kept": self.plan.kept,
            "delete": [_brief(r) for r in self.plan.delete],
            "forget": [_brief(r) for r in self.plan.forget],
            "skipped": [{**_brief(r), "reason": why} for r, why in self.plan.skipped],
        }

    @property
    def empty(self) -> bool:
        """True when there is nothing to delete or forget."""
        return not self.plan.delete and not self.plan.forget


def _brief(rec: Any) -> dict[str, Any]:
    """The fields gc shows of a record."""
    return {
        "short_id": rec.short_id,
        "kind": rec.kind,
        "strategy": rec.strategy,
        "created_at": rec.created_at,
        "folder": rec.folder,
    }


def gc_preview(keep: int) -> GcPreview:
    """Which folders `gc --keep N` would delete (nothing is written).

    Raises:
        UserError: If `keep` is negative.
    """
    from qtc.registry.gc import plan
    from qtc.registry.service import load

    if keep < 0:
        raise UserError(f"--keep must be 0 or more, got {keep}")
    view = load()
    return GcPreview(view, plan(view.records, keep), keep)


def gc_apply(preview: GcPreview) -> dict[str, Any]:
    """Delete what the preview listed (checked again) and drop their rows.

    Returns:
        The preview as data, with `deleted` and `failed` (folder, reason) lists.

    Raises:
        QtcError: If some folder could not be deleted (after deleting the others).
    """
    from qtc.errors import QtcError
    from qtc.registry import store
    from qtc.registry.gc import delete_folder, why_not
    from qtc.registry.service import persist

    persist(preview.view)
    deleted, failed = [], []
    for rec in preview.plan.delete:
        problem = why_not(rec)
        try:
            if problem:
                raise OSError(problem)
            delete_folder(rec)
            deleted.append(rec.folder)
        except OSError as exc:
            failed.append({"folder": rec.folder, "reason": str(exc)})
    gone = [*deleted, *(r.folder for r in preview.plan.forget)]
    store.delete(preview.view.path, gone)
    out = {**preview.as_dict(), "deleted": deleted, "failed": failed}
    if failed:
        raise QtcError(
            f"{len(failed)} folder(s) could not be deleted: "
            + "; ".join(f"{f['folder']}: {f['reason']}" for f in failed),
            hint=f"{len(deleted)} other folder(s) were deleted; check the permissions",
        )
    return out


def rebuild(roots: list[Path] | None = None) -> dict[str, Any]:
    """Rebuild the registry from the artifact folders (default roots, known roots, `roots`).

    Raises:
        UserError: If a given root is not a folder.
    """
    from qtc.registry.service import rebuild as rebuild_registry

    for root in roots or []:
        if not root.is_dir():
            raise UserError(f"--root {root}: not a folder")
    view = rebuild_registry(roots=roots or [])
    counts: dict[str, int] = {}
    for rec in view.records:
        counts[rec.kind] = counts.get(rec.kind, 0) + 1
    return {"registry": str(view.path), "runs": len(view.records), "kinds": counts,
            "notes": view.notes}  # fmt: skip
