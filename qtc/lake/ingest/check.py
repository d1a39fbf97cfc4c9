"""`check_lake`: integrity and validation of an existing lake (`qtc data check`).

Integrity rules (errors), per dataset in the catalog:

* `missing_file` - the dataset's Parquet file is absent;
* `file_hash_mismatch` - the file's sha256 differs from the catalog (the file
  was changed or half-replaced by a crashed write);
* `schema_mismatch` - the columns or dtypes differ from the dataset schema;
* `row_count_mismatch` - the row count differs from the catalog;
* `unreadable_file` - the file matches the catalog hash but cannot be decoded.

A dataset that passes these is then validated with the same rules as at ingest
(`qtc.lake.ingest.validate`): price rules for `prices` and `benchmarks`, duplicate
keys and null key/date columns for the others.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import polars as pl

from qtc.lake.catalog import DatasetEntry
from qtc.lake.guard import LakeDamagedError, reading
from qtc.lake.hashing import file_sha256
from qtc.lake.ingest.ingest import validate_dataset
from qtc.lake.ingest.validate import CheckConfig, Finding, to_findings
from qtc.lake.read.reader import Lake
from qtc.lake.schema import SPECS, dtype_name


def check_lake(
    lake: Lake | str | PathLike[str], config: CheckConfig | None = None
) -> list[Finding]:
    """Check every dataset of a lake: integrity first, then the validation rules.

    Args:
        lake: An open `Lake` or a lake folder.
        config: Price rule thresholds.

    Returns:
        All findings (errors and warnings), dataset by dataset.

    Raises:
        UserError: If the folder is not a lake.
    """
    opened = lake if isinstance(lake, Lake) else Lake(lake)
    findings: list[Finding] = []
    for name, entry in opened.catalog.datasets.items():
        path = opened.path / entry.file
        problems = _integrity(path, entry)
        if not problems:
            try:
                with reading(opened.path, entry):
                    frame = pl.read_parquet(path)
            except LakeDamagedError as exc:
                findings += _finding(entry, "unreadable_file", exc.message)
                continue
            problems = _shape(frame, entry)
            if not problems:
                problems = validate_dataset(name, frame, config)
        findings += problems
    return findings


def _finding(entry: DatasetEntry, rule: str, detail: str) -> list[Finding]:
    """Build a single dataset-level finding.

    Args:
        entry: Catalog entry of the dataset.
        rule: Integrity rule.
        detail: What was found.

    Returns:
        A one-element list.
    """
    frame = pl.DataFrame(
        {"symbol": [None], "date": [None], "detail": [detail]},
        schema={"symbol": pl.String, "date": pl.Date, "detail": pl.String},
    )
    return to_findings(frame, entry.name, rule)


def _integrity(path: Path, entry: DatasetEntry) -> list[Finding]:
    """Check that a dataset file exists and matches the catalog hash.

    Args:
        path: The dataset file.
        entry: Its catalog entry.

    Returns:
        Integrity findings (empty when fine).
    """
    if not path.is_file():
        return _finding(entry, "missing_file", f"{path.name} is missing")
    actual = file_sha256(path)
    if actual != entry.file_sha256:
        detail = f"{path.name} sha256 {actual[:12]} != catalog {entry.file_sha256[:12]}"
        return _finding(entry, "file_hash_mismatch", detail)
    return []


def _shape(frame: pl.DataFrame, entry: DatasetEntry) -> list[Finding]:
    """Check a dataset's columns, dtypes and row count against schema and catalog.

    Args:
        frame: The dataset read from its file.
        entry: Its catalog entry.

    Returns:
        Shape findings (empty when fine).
    """
    expected = (
        [(n, dtype_name(t)) for n, t in SPECS[entry.name].columns] if entry.name in SPECS else []
    )
    actual = [(n, dtype_name(t)) for n, t in frame.schema.items()]
    if expected and actual != expected:
        detail = f"columns {actual} differ from the schema {expected}"
        return _finding(entry, "schema_mismatch", detail)
    if frame.height != entry.rows:
        detail = f"{frame.height} rows, catalog says {entry.rows}"
        return _finding(entry, "row_count_mismatch", detail)
    return []
