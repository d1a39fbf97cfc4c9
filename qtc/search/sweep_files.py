"""The sweep artifact: `sweeps/<strategy>/<sweep id>/`.

* `sweep.json`: the request (space, sample, seed, objective, filters), dataset hashes,
  versions, counts, the ranking's top, the winner's selection-bias statistics and a
  `status` (`complete`, or `interrupted` with the trials finished so far).
* `trials.parquet`: one row per variant, in trial order: `trial`, `variant` (plan
  fingerprint), `status` (`ok`, `failed`, `duplicate`), `reason`, `duplicate_of`, one
  column per searched key (named by its key path), then every metric.
* `top/<rank>-<variant>.toml`: the best K strategies, written with tomli-w, each with
  a header comment saying how it was chosen.
* `meta.json`: volatile facts (start time, wall time, command line), kept apart so the
  rest is byte-identical across reruns.

Every file is written to a temp folder that replaces the old one in one rename.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qtc.errors import UserError
from qtc.search.folders import find_folder, read_document

SCHEMA_VERSION = 1
SWEEP_JSON = "sweep.json"
TRIALS = "trials.parquet"
TOP = "top"


def sweep_dir(out: Path, strategy: str, sweep_id: str) -> Path:
    """`<out>/<strategy>/<sweep id>`."""
    return out / strategy / sweep_id


def find_sweep(out: Path, sweep_id: str) -> Path:
    """The folder of a sweep id under `out` (`folders.find_folder`)."""
    return find_folder(out, sweep_id, SWEEP_JSON, "sweep")


def read_sweep(folder: Path) -> dict[str, Any]:
    """The sweep.json of a folder (`folders.read_document`)."""
    return read_document(folder, SWEEP_JSON, "sweep", SCHEMA_VERSION)


def trials_frame(
    rows: Sequence[dict[str, Any]], keys: Sequence[str], metric_names: Sequence[str]
) -> Any:
    """The trials table: fixed columns, then searched keys, then metrics."""
    import polars as pl

    fixed: dict[str, Any] = {
        "trial": pl.Series([r["trial"] for r in rows], dtype=pl.Int32),
        "variant": pl.Series([r["variant"] for r in rows], dtype=pl.String),
        "status": pl.Series([r["status"] for r in rows], dtype=pl.String),
        "reason": pl.Series([r["reason"] for r in rows], dtype=pl.String),
        "duplicate_of": pl.Series([r["duplicate_of"] for r in rows], dtype=pl.Int32),
    }
    for key in keys:
        fixed[key] = _column([r["params"][key] for r in rows])
    for name in metric_names:
        fixed[name] = pl.Series([r["metrics"].get(name) for r in rows], dtype=pl.Float64)
    return pl.DataFrame(fixed)


def _column(values: list[Any]) -> Any:
    """A parameter column: one type for all its values (mixed int/float -> float)."""
    import polars as pl

    kinds = {type(v) for v in values}
    if kinds <= {int, float} and float in kinds:
        return pl.Series([float(v) for v in values], dtype=pl.Float64)
    if kinds <= {bool} or kinds <= {int} or kinds <= {float} or kinds <= {str}:
        return pl.Series(values)
    return pl.Series([json.dumps(v) for v in values], dtype=pl.String)


def write_sweep(
    folder: Path,
    doc: dict[str, Any],
    trials: Any,
    tops: Sequence[tuple[str, str]],
    meta: dict[str, Any],
) -> None:
    """Write the whole folder atomically (a temp folder renamed over the old one).

    Args:
        folder: The final folder.
        doc: sweep.json.
        trials: The trials table (polars DataFrame).
        tops: (file name, TOML text) of the written strategies.
        meta: meta.json (volatile).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        trials.write_parquet(tmp / TRIALS, statistics=False)
        if tops:
            (tmp / TOP).mkdir()
        for name, text in tops:
            (tmp / TOP / name).write_text(text, encoding="utf-8")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        (tmp / SWEEP_JSON).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        _swap(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, final: Path) -> None:
    """Put `tmp` in place of `final` (the old folder removed after the rename)."""
    old = final.parent / f".old-{final.name}-{os.getpid()}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def read_trials(folder: Path) -> Any:
    """The trials table of a sweep folder (None if there is none).

    Raises:
        UserError: If the file is damaged.
    """
    import polars as pl

    path = folder / TRIALS
    if not path.is_file():
        return None
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UserError(
            f"{path}: cannot read the trials ({exc.__class__.__name__})",
            hint="the sweep folder is damaged; run the sweep again",
        ) from None
