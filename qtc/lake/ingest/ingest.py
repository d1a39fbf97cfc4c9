"""Ingest: validate data and write it into a lake, or refuse and write nothing.

Two entry points:

* `ingest_shared_dataset(src_dir, lake_dir)` loads every file of the shared
  real data set (see `qtc.lake.ingest.shared` for the normalizations) into all seven
  datasets of a lake.
* `ingest_prices(source, lake_dir)` loads user price files (see
  `qtc.lake.ingest.price_files`) into a lake's `prices` (or `benchmarks`), creating
  the lake when needed and merging with what is there:
  - `replace_symbols` (default): every symbol in the source replaces that
    symbol's whole history (safest with split/dividend-adjusted downloads,
    whose adjustment basis changes with each download);
  - `upsert`: source rows replace rows with the same `(symbol, date)`, other
    rows are kept;
  - `append`: rows are added; any `(symbol, date)` already present is a
    `duplicate` error.

Both validate the datasets they write (`qtc.lake.ingest.validate`); any error finding
raises `LakeValidationError` before anything is written, and warnings are
counted per rule in the catalog and returned in the `IngestReport`. Both first
remove staging folders that killed earlier writes of the lake left behind
(`qtc.lake.ingest.staging`); an interrupted ingest leaves none and the lake unchanged.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import polars as pl

from qtc.errors import UserError
from qtc.lake.catalog import Catalog
from qtc.lake.hashing import file_sha256
from qtc.lake.ingest.price_files import read_prices
from qtc.lake.ingest.shared import load_shared
from qtc.lake.ingest.staging import sweep_stale
from qtc.lake.ingest.store import DatasetWrite, existing_catalog, write_lake
from qtc.lake.ingest.stream import StreamedFrame
from qtc.lake.ingest.validate import (
    CheckConfig,
    Finding,
    LakeValidationError,
    PriceRules,
    check_price_batches,
    check_table,
    errors_in,
    summarize,
)
from qtc.lake.read.reader import Lake
from qtc.lake.schema import SPECS, conform

MergeMode = Literal["replace_symbols", "upsert", "append"]
MERGE_MODES: tuple[str, ...] = ("replace_symbols", "upsert", "append")
PRICE_DATASETS: tuple[str, ...] = ("prices", "benchmarks")


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest (or demo build) wrote.

    Attributes:
        lake: The lake folder.
        rows: Dataset name -> row count, for the datasets written.
        hashes: Dataset name -> content sha256, for the datasets written.
        findings: Warning findings of the written data.
        seconds: Wall time of the operation.
        notes: Extra facts (dropped placeholder rows, merge mode, ...).
    """

    lake: Path
    rows: dict[str, int]
    hashes: dict[str, str]
    findings: tuple[Finding, ...]
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def datasets(self) -> tuple[str, ...]:
        """Names of the datasets written."""
        return tuple(self.rows)

    def warning_counts(self) -> dict[str, dict[str, int]]:
        """Return warning counts per dataset and rule."""
        out: dict[str, dict[str, int]] = {}
        for name in self.rows:
            counts = summarize(f for f in self.findings if f.dataset == name)
            if counts:
                out[name] = counts
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "lake": str(self.lake),
            "rows": self.rows,
            "hashes": self.hashes,
            "warnings": self.warning_counts(),
            "findings": [f.to_dict() for f in self.findings],
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }


def validate_dataset(
    name: str, frame: pl.DataFrame | StreamedFrame, config: CheckConfig | None = None
) -> list[Finding]:
    """Run the rules that apply to one conformed dataset.

    A streamed price dataset is checked a batch of whole symbols at a time, against the
    calendar of all its dates; the findings are the same as for the whole frame.

    Args:
        name: Dataset name.
        frame: The conformed frame, or a streamed one.
        config: Price rule thresholds.

    Returns:
        All findings (errors and warnings).
    """
    if name not in PRICE_DATASETS:
        whole = frame if isinstance(frame, pl.DataFrame) else frame.collect()
        return check_table(whole, SPECS[name])
    rules = PriceRules(name, config or CheckConfig())
    if name == "benchmarks":
        rules = replace(rules, required=("date", "symbol"), required_any=(("close", "adj_close"),))
    if isinstance(frame, pl.DataFrame):
        return check_price_batches([frame], rules)
    return check_price_batches(frame.batches(), replace(rules, calendar=frame.index.calendar))


def ingest_shared_dataset(
    src_dir: str | PathLike[str],
    lake_dir: str | PathLike[str],
    *,
    fundamentals_lag_days: int = 90,
    config: CheckConfig | None = None,
) -> IngestReport:
    """Load every file of the shared real data set into a lake.

    Args:
        src_dir: The shared data folder (`../shared/data`).
        lake_dir: The lake folder (created if absent; replaced datasets are
            rewritten atomically).
        fundamentals_lag_days: Days added to NYSE fundamentals' period ends to
            get their publish dates (recorded in the catalog).
        config: Price rule thresholds.

    Returns:
        The report (rows, hashes, warnings).

    Raises:
        UserError: If a source file is missing or malformed.
        LakeValidationError: If the data has error findings (nothing written).
    """
    started = time.perf_counter()
    if fundamentals_lag_days < 0:
        raise UserError(f"fundamentals lag must be >= 0 days, got {fundamentals_lag_days}")
    src = Path(src_dir).expanduser()
    lake = Path(lake_dir).expanduser()
    existing_catalog(lake)
    sweep_stale(lake.absolute())
    loaded = load_shared(src, fundamentals_lag_days=fundamentals_lag_days)
    findings = {n: validate_dataset(n, item.frame, config) for n, item in loaded.items()}
    _refuse_on_errors(findings, "ingest of " + str(src))
    writes = {
        name: DatasetWrite(item.frame, item.provenance(), item.params, summarize(findings[name]))
        for name, item in loaded.items()
    }
    meta = {"*": {"source": str(src.absolute())}}
    catalog = write_lake(lake, writes, operation="ingest_shared_dataset", meta=meta)
    return make_report(lake, catalog, writes, findings, started=started)


def ingest_prices(
    source: str | PathLike[str],
    lake_dir: str | PathLike[str],
    *,
    dataset: str = "prices",
    mode: MergeMode = "replace_symbols",
    config: CheckConfig | None = None,
) -> IngestReport:
    """Load a price file or folder (CSV/Parquet) into a lake's prices or benchmarks.

    Args:
        source: A long panel file, a one-symbol file, or a folder of them.
        lake_dir: The lake folder (created if absent).
        dataset: `prices` or `benchmarks`.
        mode: How to merge with existing rows (see the module docstring).
        config: Price rule thresholds.

    Returns:
        The report.

    Raises:
        UserError: For bad arguments or files (named with file, column, row).
        LakeValidationError: If the merged data has error findings (nothing written).
        LakeDamagedError: If the lake's current dataset (to merge with) cannot be read.
    """
    started = time.perf_counter()
    if dataset not in PRICE_DATASETS:
        raise UserError(f"cannot ingest price files into {dataset!r}; use prices or benchmarks")
    if mode not in MERGE_MODES:
        raise UserError(f"unknown merge mode {mode!r}; use one of {', '.join(MERGE_MODES)}")
    src_path = Path(source).expanduser()
    lake = Path(lake_dir).expanduser()
    catalog = existing_catalog(lake)
    sweep_stale(lake.absolute())
    read = read_prices(src_path)
    incoming = conform(read.frame, dataset)
    if mode == "upsert":
        _refuse_on_errors({dataset: _duplicates_only(dataset, incoming)}, f"ingest of {src_path}")
    existing = Lake(lake).read(dataset) if dataset in catalog.datasets else None
    merged = conform(merge_prices(existing, incoming, mode), dataset)
    findings = {dataset: validate_dataset(dataset, merged, config)}
    _refuse_on_errors(findings, f"ingest of {src_path}")
    old = catalog.datasets.get(dataset)
    provenance = _merged_provenance(old.provenance if old else {}, src_path, read.files, mode)
    writes = {dataset: DatasetWrite(merged, provenance, {}, summarize(findings[dataset]))}
    meta = {dataset: {"source": str(src_path.absolute()), "mode": mode}}
    new_catalog = write_lake(lake, writes, operation="ingest_prices", meta=meta)
    notes = (f"mode {mode}", f"{len(read.files)} file(s) read", f"{read.dropped_rows} empty rows")
    return make_report(lake, new_catalog, writes, findings, started=started, notes=notes)


def merge_prices(
    existing: pl.DataFrame | None, incoming: pl.DataFrame, mode: MergeMode
) -> pl.DataFrame:
    """Merge incoming price rows into existing ones.

    Args:
        existing: Current dataset rows, or None.
        incoming: New rows (same columns).
        mode: `replace_symbols`, `upsert` or `append`.

    Returns:
        The merged rows (unsorted).
    """
    if existing is None:
        return incoming
    if mode == "replace_symbols":
        symbols = incoming["symbol"].unique().to_list()
        return pl.concat([existing.filter(~pl.col("symbol").is_in(symbols)), incoming])
    both = pl.concat([existing, incoming])
    if mode == "upsert":
        return both.unique(subset=["symbol", "date"], keep="last", maintain_order=True)
    return both


def make_report(
    lake: Path,
    catalog: Catalog,
    writes: Mapping[str, DatasetWrite],
    findings: Mapping[str, list[Finding]],
    *,
    started: float,
    notes: tuple[str, ...] = (),
) -> IngestReport:
    """Build the report of a successful write.

    Args:
        lake: The lake folder.
        catalog: The new catalog.
        writes: What was written.
        findings: Findings per dataset (warnings only, errors were refused).
        started: `time.perf_counter()` at the start.
        notes: Extra facts.

    Returns:
        The report.
    """
    return IngestReport(
        lake=lake.absolute(),
        rows={n: catalog.datasets[n].rows for n in writes},
        hashes={n: catalog.datasets[n].content_sha256 for n in writes},
        findings=tuple(f for n in writes for f in findings.get(n, [])),
        seconds=time.perf_counter() - started,
        notes=notes,
    )


def _refuse_on_errors(findings: Mapping[str, list[Finding]], what: str) -> None:
    """Raise `LakeValidationError` if any finding is an error.

    Args:
        findings: Findings per dataset.
        what: The operation, for the message.

    Raises:
        LakeValidationError: If there are error findings.
    """
    everything = [f for items in findings.values() for f in items]
    if errors_in(everything):
        raise LakeValidationError(everything, what=what)


def _duplicates_only(dataset: str, frame: pl.DataFrame) -> list[Finding]:
    """Return duplicate-key findings of a price frame.

    Args:
        dataset: Dataset name.
        frame: Conformed price frame.

    Returns:
        The duplicate findings.
    """
    return [f for f in validate_dataset(dataset, frame) if f.rule == "duplicate"]


def _merged_provenance(
    old: dict[str, Any], src: Path, files: tuple[Path, ...], mode: str
) -> dict[str, Any]:
    """Add a source (file or folder, with hash) to a dataset's provenance.

    Args:
        old: Previous provenance of the dataset.
        src: The path given to the ingest.
        files: The files read.
        mode: Merge mode.

    Returns:
        The new provenance.
    """
    if src.is_dir():
        digest = hashlib.sha256()
        for f in files:
            digest.update(f"{f.name}\0{file_sha256(f)}\n".encode())
        entry: dict[str, Any] = {"folder": src.name, "files": len(files)}
        entry["sha256"] = digest.hexdigest()
    else:
        entry = {"file": src.name, "bytes": src.stat().st_size, "sha256": file_sha256(src)}
    entry["mode"] = mode
    sources = [s for s in old.get("sources", []) if s.get("sha256") != entry["sha256"]]
    return {**old, "sources": [*sources, entry]}
