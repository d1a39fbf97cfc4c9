"""The evolution artifact: `evolutions/<strategy>/<evolution id>/`.

* `evolve.json`: the request, sampler, seed, space, objectives, filters, counts, the
  best trial and the top K (one objective) or the Pareto front (several), the holdout's
  in-sample and out-of-sample figures, the selection-bias statistics, dataset hashes,
  versions and a `status` (`running`, `interrupted` or `complete`).
* `trials.parquet`: one row per finished trial, in trial order: `trial`, `generation`,
  `variant` (plan fingerprint), `status` (`ok`, `failed`, `duplicate`), `reason`,
  `duplicate_of`, one column per searched key, then every metric.
* `study.journal`: the optuna study (`qtc.search.evolve_study`), which `--resume` continues.
* `top/<rank>-<variant>.toml` or `pareto/<n>-<variant>.toml`: the winners as strategies.
* `meta.json`: volatile facts (time, wall time, command line).

Everything but `meta.json` and the journal (whose operations carry times and process
ids) is byte-identical across reruns and across `--jobs`. Each file is replaced
atomically; the winners' folder is written beside the old one and swapped in.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qtc.atomic import write_bytes_atomic, write_text_atomic
from qtc.search.folders import find_folder, read_document

SCHEMA_VERSION = 1
EVOLVE_JSON = "evolve.json"
TRIALS = "trials.parquet"
META = "meta.json"
TOP = "top"
PARETO = "pareto"


def evolve_dir(out: Path, strategy: str, evolve_id: str) -> Path:
    """`<out>/<strategy>/<evolution id>`."""
    return out / strategy / evolve_id


def find_evolution(out: Path, evolve_id: str) -> Path:
    """The folder of an evolution id under `out` (`folders.find_folder`)."""
    return find_folder(out, evolve_id, EVOLVE_JSON, "evolution")


def read_evolve(folder: Path) -> dict[str, Any]:
    """The evolve.json of a folder (`folders.read_document`)."""
    return read_document(folder, EVOLVE_JSON, "evolution", SCHEMA_VERSION)


def start(folder: Path, doc: dict[str, Any]) -> None:
    """Create the folder and its first evolve.json (kept if the evolution already has one)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / EVOLVE_JSON).is_file():
        write_text_atomic(folder / EVOLVE_JSON, _json(doc))


def trials_frame(rows: Sequence[Any], keys: Sequence[str], metric_names: Sequence[str]) -> Any:
    """trials.parquet: the sweep's columns with `generation` after `trial`."""
    import polars as pl

    from qtc.search.sweep_files import trials_frame as sweep_frame

    table = [
        {
            "trial": r.number,
            "variant": r.variant,
            "status": r.status,
            "reason": r.reason,
            "duplicate_of": r.duplicate_of,
            "params": r.values,
            "metrics": r.metrics,
        }
        for r in rows
    ]
    frame = sweep_frame(table, keys, metric_names)
    generation = pl.Series("generation", [r.generation for r in rows], dtype=pl.Int32)
    return frame.insert_column(1, generation)


def write(
    folder: Path,
    doc: dict[str, Any],
    trials: Any,
    winners: tuple[str, Sequence[tuple[str, str]]],
    meta: dict[str, Any],
) -> None:
    """Write the results (trials, winners, evolve.json last, meta.json).

    Args:
        folder: The evolution's folder (it exists: it holds the journal).
        doc: evolve.json.
        trials: The trials table (polars DataFrame).
        winners: The winners' folder name (`top` or `pareto`) and its (file name, TOML) pairs.
        meta: meta.json (volatile).
    """
    buffer = io.BytesIO()
    trials.write_parquet(buffer, statistics=False)
    write_bytes_atomic(folder / TRIALS, buffer.getvalue())
    _write_winners(folder, *winners)
    write_text_atomic(folder / EVOLVE_JSON, _json(doc))
    write_text_atomic(folder / META, _json(meta))


def _write_winners(folder: Path, name: str, files: Sequence[tuple[str, str]]) -> None:
    """Replace the winners' folder with `files` (removed when there are none)."""
    final = folder / name
    tmp = folder / f".tmp-{name}-{os.getpid()}"
    old = folder / f".old-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if files:
            tmp.mkdir()
            for file_name, text in files:
                (tmp / file_name).write_text(text, encoding="utf-8")
        if final.exists():
            final.rename(old)
        if files:
            tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _json(doc: dict[str, Any]) -> str:
    """Stable JSON text."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
