"""The validation artifact: `validations/<strategy>/<validation id>/`.

* `validate.json`: the request and resolved settings, the signal dates, every signal's
  summary (IC and rank IC per horizon, quantile means, spread, stability, coverage),
  the signals' correlation matrix, the walk-forward (folds, chosen parameters, stitched
  out-of-sample and in-sample figures, efficiency), the backtest's figures, the
  family's selection bias, the gates and the verdict, dataset hashes and versions.
* `ic.parquet`: per signal, horizon and signal date: `ic`, `rank_ic`, `spread`.
* `quantiles.parquet`: per signal, horizon, signal date and quantile (1 = lowest):
  the bucket's mean forward return.
* `cumulative.parquet`: per signal, signal date and quantile: growth of 1 over holding
  periods (signal to next signal).
* `stability.parquet`: per signal and signal date: rank autocorrelation, top-quantile
  turnover, coverage.
* `folds.parquet`: per walk-forward fold: its days, the chosen trial and parameters
  (JSON), in-sample and out-of-sample figures.
* `oos.parquet`: per out-of-sample day: the fold, the daily return and the stitched equity.
* With `--report`: `run/` (the backtest's run artifact, as `qtc backtest` writes it) and
  `report.html` (its report with the factor tear sheet; `qtc report <folder>/run` renders
  the same).
* `meta.json`: volatile facts (time, command line), kept apart: everything else is
  byte-identical across reruns.

The folder is written in a temp folder that replaces the old one in one rename.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtc.errors import UserError

ARTIFACT = "qtc.validation"
SCHEMA_VERSION = 1
VALIDATE_JSON = "validate.json"
META_JSON = "meta.json"
RUN = "run"
REPORT = "report.html"
TABLES = (
    "ic.parquet",
    "quantiles.parquet",
    "cumulative.parquet",
    "stability.parquet",
    "folds.parquet",
    "oos.parquet",
)


def validation_dir(out: Path, strategy: str, validation_id: str) -> Path:
    """`<out>/<strategy>/<validation id>`."""
    return out / strategy / validation_id


def write_validation(
    folder: Path,
    doc: dict[str, Any],
    tables: dict[str, Any],
    meta: dict[str, Any],
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write the folder atomically; `extra(tmp)` may add files (the run, the report) first."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, frame in tables.items():
            frame.write_parquet(tmp / name, compression="zstd", statistics=False)
        text = json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"
        (tmp / VALIDATE_JSON).write_text(text, encoding="utf-8")
        (tmp / META_JSON).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        if extra is not None:
            extra(tmp)
        _swap(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _swap(tmp: Path, final: Path) -> None:
    """Rename the finished temp folder to its final name (the old one removed after)."""
    old = final.parent / f".old-{final.name}-{os.getpid()}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def is_validation(folder: Path) -> bool:
    """Whether `folder` holds a validate.json."""
    return (folder / VALIDATE_JSON).is_file()


def read_validation(folder: Path) -> dict[str, Any]:
    """validate.json of a validation folder.

    Raises:
        UserError: If it is missing, damaged, or of another artifact or schema version.
    """
    path = folder / VALIDATE_JSON
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path}: cannot read the validation ({exc.__class__.__name__})",
            hint="run `qtc validate` again; artifacts are never edited by hand",
        ) from None
    if not isinstance(doc, dict) or doc.get("artifact") != ARTIFACT:
        raise UserError(f"{path}: not a qtc validation artifact")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise UserError(
            f"{path}: unknown validation schema version {doc.get('schema_version')!r}",
            hint=f"this qtc reads validation schema {SCHEMA_VERSION}; run `qtc validate` again",
        )
    return doc


def read_table(folder: Path, name: str) -> Any:
    """One Parquet table of a validation folder (a polars DataFrame).

    Raises:
        UserError: If it is missing or damaged.
    """
    import polars as pl

    try:
        return pl.read_parquet(folder / name)
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise UserError(
            f"{folder / name}: cannot read ({exc.__class__.__name__})",
            hint="run `qtc validate` again",
        ) from None
