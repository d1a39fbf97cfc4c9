"""The data lake: Parquet datasets plus a catalog, read point in time.

A lake is a folder holding one Parquet file per dataset (`prices`, `symbols`,
`membership`, `fundamentals`, `benchmarks`, `rates`, `macro`), a deterministic
`catalog.json` (schema, row counts, date ranges, sha256 per dataset,
provenance, warning counts) and a volatile `catalog.meta.json`.

Public API (imported lazily, so `import qtc.lake` stays cheap):

* `Lake(path)` - reads: `prices`, `adj_close_matrix`, `membership_asof`,
  `fundamentals_asof`, `rates`, `macro`, `benchmark`, `last_dates`,
  `dataset_hashes`, `query`.
* `ingest_shared_dataset`, `ingest_prices` -> `IngestReport`.
* `check_prices`, `check_lake` -> list of `Finding`; `LakeValidationError`.
* `resolve_lake` (`--lake`, `QTC_LAKE`, `./lake`, demo), `build_demo_lake`
  (a SYNTHETIC market), `ensure_demo_lake`, `demo_lake_path`.
* `LakeDamagedError`: what every read of a missing, truncated, garbled or
  mismatched dataset file raises (a `QtcError` naming the dataset and file).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qtc.lake.catalog import Catalog, DatasetEntry, read_catalog
    from qtc.lake.demo.build import build_demo_lake
    from qtc.lake.guard import LakeDamagedError
    from qtc.lake.ingest.check import check_lake
    from qtc.lake.ingest.ingest import IngestReport, ingest_prices, ingest_shared_dataset
    from qtc.lake.ingest.validate import CheckConfig, Finding, LakeValidationError, check_prices
    from qtc.lake.read.reader import Lake
    from qtc.lake.resolve import demo_lake_path, ensure_demo_lake, resolve_lake
    from qtc.lake.schema import DATASETS, FUNDAMENTAL_FIELDS

_EXPORTS: dict[str, str] = {
    "Catalog": "qtc.lake.catalog",
    "DatasetEntry": "qtc.lake.catalog",
    "read_catalog": "qtc.lake.catalog",
    "check_lake": "qtc.lake.ingest.check",
    "build_demo_lake": "qtc.lake.demo.build",
    "LakeDamagedError": "qtc.lake.guard",
    "IngestReport": "qtc.lake.ingest.ingest",
    "ingest_prices": "qtc.lake.ingest.ingest",
    "ingest_shared_dataset": "qtc.lake.ingest.ingest",
    "Lake": "qtc.lake.read.reader",
    "demo_lake_path": "qtc.lake.resolve",
    "ensure_demo_lake": "qtc.lake.resolve",
    "resolve_lake": "qtc.lake.resolve",
    "DATASETS": "qtc.lake.schema",
    "FUNDAMENTAL_FIELDS": "qtc.lake.schema",
    "CheckConfig": "qtc.lake.ingest.validate",
    "Finding": "qtc.lake.ingest.validate",
    "LakeValidationError": "qtc.lake.ingest.validate",
    "check_prices": "qtc.lake.ingest.validate",
}

__all__ = [
    "DATASETS",
    "FUNDAMENTAL_FIELDS",
    "Catalog",
    "CheckConfig",
    "DatasetEntry",
    "Finding",
    "IngestReport",
    "Lake",
    "LakeDamagedError",
    "LakeValidationError",
    "build_demo_lake",
    "check_lake",
    "check_prices",
    "demo_lake_path",
    "ensure_demo_lake",
    "ingest_prices",
    "ingest_shared_dataset",
    "read_catalog",
    "resolve_lake",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use.

    Args:
        name: Attribute name.

    Returns:
        The attribute.

    Raises:
        AttributeError: If the name is not part of the public API.
    """
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qtc.lake' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
