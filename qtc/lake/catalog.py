"""The lake catalog: what each dataset holds, where it came from, and its hashes.

`<lake>/catalog.json` is deterministic (no clock, host or absolute path in it):
the same content ingested twice gives a byte-identical catalog. Volatile facts
(when, by which qtc version, on which host, from which absolute paths) go to
`<lake>/catalog.meta.json` instead. Shape of `catalog.json`::

    {
      "format": "qtc-lake",
      "format_version": 1,
      "datasets": {
        "prices": {
          "name": "prices", "schema_version": 1, "file": "prices.parquet",
          "description": "...",
          "columns": [{"name": "date", "dtype": "date"}, ...],
          "rows": 2840234, "symbols": 556,
          "min_date": "2000-01-03", "max_date": "2023-10-18",
          "content_sha256": "...", "file_sha256": "...", "file_bytes": 57634957,
          "params": {}, "provenance": {"sources": [...], "notes": [...]},
          "warnings": {"extreme_move": 61, "zero_volume": 12}
        }, ...
      }
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from qtc.errors import UserError
from qtc.lake.layout import CATALOG_FILE, META_FILE
from qtc.lake.schema import SCHEMA_VERSION, DatasetSpec, dtype_name

__all__ = [
    "CATALOG_FILE",
    "META_FILE",
    "Catalog",
    "DatasetEntry",
    "describe_frame",
    "read_catalog",
    "read_meta",
]

LAKE_FORMAT = "qtc-lake"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class DatasetEntry:
    """Catalog facts about one dataset.

    Attributes:
        name: Dataset name.
        schema_version: Version of the dataset's schema.
        file: File name inside the lake folder.
        description: One-line description.
        columns: `(name, dtype)` pairs in file order (dtype names from `dtype_name`).
        rows: Row count.
        symbols: Distinct symbols (None for datasets without a symbol column).
        min_date: First date (ISO) of the dataset's date column, if any.
        max_date: Last date (ISO), if any.
        content_sha256: Stable content hash (the dataset fingerprint).
        file_sha256: Hash of the Parquet file bytes.
        file_bytes: Size of the Parquet file.
        params: Parameters that shaped the content (e.g. a reporting lag).
        provenance: Source files with their hashes, and notes.
        warnings: Count of warning findings per validation rule.
    """

    name: str
    schema_version: int
    file: str
    description: str
    columns: tuple[tuple[str, str], ...]
    rows: int
    symbols: int | None
    min_date: str | None
    max_date: str | None
    content_sha256: str
    file_sha256: str
    file_bytes: int
    params: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data."""
        return {
            "name": self.name,
            "schema_version": self.schema_version,
            "file": self.file,
            "description": self.description,
            "columns": [{"name": n, "dtype": d} for n, d in self.columns],
            "rows": self.rows,
            "symbols": self.symbols,
            "min_date": self.min_date,
            "max_date": self.max_date,
            "content_sha256": self.content_sha256,
            "file_sha256": self.file_sha256,
            "file_bytes": self.file_bytes,
            "params": self.params,
            "provenance": self.provenance,
            "warnings": self.warnings,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetEntry:
        """Build an entry from its JSON form.

        Args:
            data: One value of the catalog's `datasets` mapping.

        Returns:
            The entry.

        Raises:
            KeyError: If a required key is missing (reported by `read_catalog`).
        """
        return cls(
            name=str(data["name"]),
            schema_version=int(data["schema_version"]),
            file=str(data["file"]),
            description=str(data.get("description", "")),
            columns=tuple((str(c["name"]), str(c["dtype"])) for c in data["columns"]),
            rows=int(data["rows"]),
            symbols=None if data.get("symbols") is None else int(data["symbols"]),
            min_date=data.get("min_date"),
            max_date=data.get("max_date"),
            content_sha256=str(data["content_sha256"]),
            file_sha256=str(data["file_sha256"]),
            file_bytes=int(data["file_bytes"]),
            params=dict(data.get("params", {})),
            provenance=dict(data.get("provenance", {})),
            warnings={str(k): int(v) for k, v in data.get("warnings", {}).items()},
        )


@dataclass(frozen=True, slots=True)
class Catalog:
    """All dataset entries of a lake.

    Attributes:
        datasets: Dataset name -> entry.
    """

    datasets: dict[str, DatasetEntry] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the catalog as JSON-ready data."""
        return {
            "format": LAKE_FORMAT,
            "format_version": FORMAT_VERSION,
            "datasets": {name: e.to_dict() for name, e in self.datasets.items()},
        }

    def to_json(self) -> str:
        """Return the deterministic JSON text written to `catalog.json`."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def with_entries(self, entries: dict[str, DatasetEntry]) -> Catalog:
        """Return a copy with some entries added or replaced.

        Args:
            entries: Dataset name -> new entry.

        Returns:
            The new catalog.
        """
        merged = dict(self.datasets)
        merged.update(entries)
        return Catalog(datasets=merged)


def read_catalog(lake_dir: Path) -> Catalog:
    """Read `<lake>/catalog.json`.

    Args:
        lake_dir: The lake folder.

    Returns:
        The catalog.

    Raises:
        UserError: If the folder is not a lake, or the catalog is unreadable or
            written by a newer qtc.
    """
    path = lake_dir / CATALOG_FILE
    if not path.is_file():
        raise UserError(
            f"not a qtc lake: {lake_dir} has no {CATALOG_FILE}",
            hint="build one with `qtc data ingest PATH --lake DIR` or `qtc data demo`",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"cannot read {path}: {exc}", hint="re-ingest the data into a fresh lake"
        ) from exc
    return _parse_catalog(data, path)


def _parse_catalog(data: object, path: Path) -> Catalog:
    """Validate the top level of a catalog and parse its entries.

    Args:
        data: Parsed JSON.
        path: The catalog file (for messages).

    Returns:
        The catalog.

    Raises:
        UserError: If the JSON is not a qtc lake catalog this qtc understands.
    """
    if not isinstance(data, dict) or data.get("format") != LAKE_FORMAT:
        raise UserError(f'{path} is not a qtc lake catalog (no "format": "{LAKE_FORMAT}")')
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise UserError(
            f"{path} has lake format version {version}; this qtc reads version {FORMAT_VERSION}",
            hint="upgrade qtc, or re-ingest the data with this version",
        )
    try:
        entries = {str(k): DatasetEntry.from_dict(v) for k, v in data["datasets"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(
            f"{path} is damaged (bad dataset entry: {exc})", hint="re-ingest the data"
        ) from exc
    for entry in entries.values():
        if entry.schema_version > SCHEMA_VERSION:
            raise UserError(
                f"{path}: dataset {entry.name!r} has schema version {entry.schema_version}; "
                f"this qtc reads up to {SCHEMA_VERSION}",
                hint="upgrade qtc",
            )
    return Catalog(datasets=entries)


def read_meta(lake_dir: Path) -> dict[str, Any]:
    """Read the volatile metadata `<lake>/catalog.meta.json` (empty if absent).

    Args:
        lake_dir: The lake folder.

    Returns:
        The metadata mapping.
    """
    path = lake_dir / META_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def describe_frame(df: pl.DataFrame, ds: DatasetSpec) -> dict[str, Any]:
    """Compute the descriptive catalog facts of a conformed frame.

    Args:
        df: Frame in canonical dataset shape.
        ds: Its dataset spec.

    Returns:
        Mapping with `columns`, `rows`, `symbols`, `min_date`, `max_date`.
    """
    symbols = int(df["symbol"].n_unique()) if "symbol" in df.columns else None
    min_date = max_date = None
    if ds.date_column is not None and df.height:
        dates = df[ds.date_column].drop_nulls()
        if dates.len():
            min_date = str(dates.min())
            max_date = str(dates.max())
    return {
        "columns": tuple((name, dtype_name(dtype)) for name, dtype in df.schema.items()),
        "rows": df.height,
        "symbols": symbols,
        "min_date": min_date,
        "max_date": max_date,
    }
