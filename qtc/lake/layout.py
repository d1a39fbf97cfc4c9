"""File names of a lake folder (kept free of heavy imports for `qtc.lake.resolve`).

A lake folder holds `<dataset>.parquet` per dataset, `catalog.json`
(deterministic) and `catalog.meta.json` (volatile).
"""

from __future__ import annotations

CATALOG_FILE = "catalog.json"
META_FILE = "catalog.meta.json"
