"""Atomic writes of datasets and the catalog into a lake folder.

Everything is first written to a staging folder next to the lake (same
filesystem, so renames are atomic; see `qtc.lake.ingest.staging`): the Parquet files,
then `catalog.json` and `catalog.meta.json`. Only when all of that succeeded are
the files moved in with `os.replace`, dataset files first and `catalog.json`
last, with Ctrl-C held back until the moves are done. Each dataset is written
with Ctrl-C held back too (it is raised between datasets): polars answers
SIGINT with a KeyboardInterrupt and leaves a second one pending, which would cut
the clean-up of the staging folder short. A new lake is moved in as
a whole folder in one rename. A failure or interrupt before the move leaves the
previous lake byte-identical and no staging folder behind; staging folders of
killed writes are removed by the next write. The catalog records each file's
sha256, so `check_lake` detects the (crash-only) case of a half-moved set of files.

Parquet settings are fixed (zstd level 3, statistics on, 256k-row groups) so
that the same content gives the same file bytes with the same library versions.
A streamed price dataset (`qtc.lake.ingest.stream`) is sunk from its source with the
same settings, which gives the same bytes as writing the conformed frame, and its
content hash and catalog facts are read back from the written file
(`qtc.lake.ingest.file_facts`); nothing holds the whole dataset in memory.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import polars as pl

from qtc.errors import QtcError, UserError
from qtc.lake.catalog import (
    CATALOG_FILE,
    META_FILE,
    Catalog,
    DatasetEntry,
    describe_frame,
    read_catalog,
    read_meta,
)
from qtc.lake.hashing import content_sha256, file_sha256
from qtc.lake.ingest.file_facts import content_sha256_of_file, describe_file
from qtc.lake.ingest.staging import interrupts_held, make_staging, remove_tree, sweep_stale
from qtc.lake.ingest.stream import StreamedFrame
from qtc.lake.schema import SCHEMA_VERSION, DatasetSpec, spec

PARQUET_COMPRESSION: Final = "zstd"
PARQUET_LEVEL = 3
ROW_GROUP_SIZE = 262_144


@dataclass(frozen=True, slots=True)
class DatasetWrite:
    """One dataset to write, with what the catalog should say about it.

    Attributes:
        frame: The content, already in canonical shape (`schema.conform`), or a price
            source in canonical order that is streamed into the file.
        provenance: Source files and notes for the catalog.
        params: Parameters that shaped the content.
        warnings: Warning counts per validation rule.
    """

    frame: pl.DataFrame | StreamedFrame
    provenance: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write a frame as Parquet with the lake's fixed, deterministic settings.

    Args:
        df: The frame.
        path: Target file.
    """
    df.write_parquet(
        path,
        compression=PARQUET_COMPRESSION,
        compression_level=PARQUET_LEVEL,
        statistics=True,
        row_group_size=ROW_GROUP_SIZE,
    )


def sink_parquet(plan: pl.LazyFrame, path: Path) -> None:
    """Stream a lazy frame into Parquet with the settings of `write_parquet` (same bytes).

    Args:
        plan: The lazy frame.
        path: Target file.
    """
    plan.sink_parquet(
        path,
        compression=PARQUET_COMPRESSION,
        compression_level=PARQUET_LEVEL,
        statistics=True,
        row_group_size=ROW_GROUP_SIZE,
    )


def existing_catalog(lake_dir: Path) -> Catalog:
    """Return the catalog of an existing lake, or an empty one for a new lake.

    Args:
        lake_dir: The lake folder (may not exist yet).

    Returns:
        The current catalog (empty when the folder is absent or empty).

    Raises:
        UserError: If the folder exists, is not empty and is not a lake, or is a file.
    """
    if lake_dir.exists() and not lake_dir.is_dir():
        raise UserError(f"lake path {lake_dir} is a file, not a folder")
    if (lake_dir / CATALOG_FILE).is_file():
        return read_catalog(lake_dir)
    if lake_dir.is_dir() and any(lake_dir.iterdir()):
        raise UserError(
            f"{lake_dir} is not empty and is not a qtc lake (no {CATALOG_FILE})",
            hint="choose an empty or new folder for the lake",
        )
    return Catalog()


def write_lake(
    lake_dir: Path,
    writes: Mapping[str, DatasetWrite],
    *,
    operation: str,
    meta: Mapping[str, Any] | None = None,
) -> Catalog:
    """Write datasets into a lake atomically and update its catalog.

    Datasets not named in `writes` keep their files and catalog entries.

    Args:
        lake_dir: The lake folder (created when absent).
        writes: Dataset name -> what to write.
        operation: Name of the operation for the volatile metadata (`ingest`, `demo`).
        meta: Extra volatile facts per dataset (e.g. absolute source paths).

    Returns:
        The new catalog.

    Raises:
        UserError: If the folder cannot be used as a lake (not empty, no permission).
        QtcError: If writing fails for another reason; the lake is then unchanged.
    """
    lake_dir = lake_dir.expanduser().absolute()
    catalog = existing_catalog(lake_dir)
    try:
        lake_dir.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(lake_dir)
        tmp = make_staging(lake_dir)
    except OSError as exc:
        raise UserError(f"cannot create the lake next to {lake_dir}: {exc}") from exc
    try:
        entries: dict[str, DatasetEntry] = {}
        for name, write in writes.items():
            with interrupts_held():  # Ctrl-C lands between datasets, never inside polars
                entries[name] = _write_dataset(tmp, name, write)
        catalog = catalog.with_entries(entries)
        (tmp / CATALOG_FILE).write_text(catalog.to_json(), encoding="utf-8")
        new_meta = _merge_meta(read_meta(lake_dir), list(writes), operation, meta or {})
        (tmp / META_FILE).write_text(json.dumps(new_meta, indent=2, sort_keys=True) + "\n")
        with interrupts_held():
            _publish(tmp, lake_dir, [e.file for e in entries.values()])
    except PermissionError as exc:
        raise UserError(f"no permission to write the lake {lake_dir}: {exc}") from exc
    except OSError as exc:
        raise QtcError(f"writing the lake {lake_dir} failed; it is unchanged: {exc}") from exc
    finally:
        remove_tree(tmp)
    return catalog


def _write_dataset(folder: Path, name: str, write: DatasetWrite) -> DatasetEntry:
    """Write one dataset file into a folder and build its catalog entry.

    Args:
        folder: Temporary folder.
        name: Dataset name.
        write: Content and catalog facts.

    Returns:
        The catalog entry.

    Raises:
        QtcError: If the frame is not in canonical shape (a programming error).
    """
    ds = spec(name)
    expected = dict(ds.columns)
    if dict(write.frame.schema) != expected:
        raise QtcError(f"dataset {name!r} frame is not conformed: {write.frame.schema}")
    path = folder / ds.file_name
    content, facts = _write_content(write.frame, path, ds)
    return DatasetEntry(
        name=name,
        schema_version=SCHEMA_VERSION,
        file=ds.file_name,
        description=ds.description,
        content_sha256=content,
        file_sha256=file_sha256(path),
        file_bytes=path.stat().st_size,
        params=dict(write.params),
        provenance=dict(write.provenance),
        warnings=dict(sorted(write.warnings.items())),
        **facts,
    )


def _write_content(
    frame: pl.DataFrame | StreamedFrame, path: Path, ds: DatasetSpec
) -> tuple[str, dict[str, Any]]:
    """Write a dataset file; return its content hash and descriptive facts.

    A streamed frame is sunk from its source and described from the written file, a
    column chunk at a time; it must then have the row count its source index found.

    Args:
        frame: The content.
        path: Target file.
        ds: The dataset spec.

    Returns:
        The content sha256 and the `describe_frame` facts.

    Raises:
        UserError: If a streamed source cannot be read or changed while it was ingested.
    """
    if isinstance(frame, pl.DataFrame):
        write_parquet(frame, path)
        return content_sha256(frame), describe_frame(frame, ds)
    try:
        sink_parquet(frame.plan, path)
    except pl.exceptions.PolarsError as exc:
        raise UserError(f"cannot read {frame.source}: {exc}") from exc
    facts = describe_file(path, ds)
    if facts["rows"] != frame.index.rows:
        raise UserError(
            f"{frame.source} changed during the ingest: {frame.index.rows} rows were "
            f"validated, {facts['rows']} read to write",
            hint="ingest again once the source files stay put",
        )
    return content_sha256_of_file(path), facts


def _publish(tmp: Path, lake_dir: Path, files: list[str]) -> None:
    """Move written files from the temporary folder into the lake.

    Args:
        tmp: Temporary folder holding the files and both catalog files.
        lake_dir: The lake folder.
        files: Dataset file names to move.
    """
    if not lake_dir.exists():
        try:
            tmp.rename(lake_dir)
            return
        except OSError:
            if not lake_dir.is_dir():
                raise
    for name in files:
        os.replace(tmp / name, lake_dir / name)
    os.replace(tmp / META_FILE, lake_dir / META_FILE)
    os.replace(tmp / CATALOG_FILE, lake_dir / CATALOG_FILE)


def _merge_meta(
    old: dict[str, Any], names: list[str], operation: str, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """Build the volatile metadata, keeping entries of datasets not rewritten.

    Args:
        old: Previous metadata.
        names: Datasets written now.
        operation: Name of the operation.
        extra: Extra facts, per dataset name or under `"*"` for all of them.

    Returns:
        The new metadata mapping.
    """
    now = datetime.now(UTC).isoformat(timespec="seconds")
    per_dataset = dict(old.get("datasets", {}))
    for name in names:
        item: dict[str, Any] = {"written_at": now, "operation": operation}
        item.update(extra.get("*", {}))
        item.update(extra.get(name, {}))
        per_dataset[name] = item
    return {
        "written_at": now,
        "operation": operation,
        "qtc_version": _version("qtc"),
        "polars_version": pl.__version__,
        "python": sys.version.split()[0],
        "host": platform.node(),
        "platform": platform.platform(),
        "datasets": per_dataset,
    }


def _version(package: str) -> str:
    """Return an installed distribution's version, or `unknown`.

    Args:
        package: Distribution name.

    Returns:
        The version string.
    """
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"
