"""Run artifacts: `runs/<strategy>/<run_id12>/` with run.json and Parquet files.

* `run.json`: schema version, run id, plan fingerprint and stages, the resolved
  strategy, dataset hashes, versions, window, metrics, warnings, events and
  the sha256 of every other file. Canonical (sorted keys), so identical runs
  give identical bytes.
* `meta.json`: volatile facts only (creation time, duration, host, command);
  never hashed, never compared.
* The Parquet files (`qtc.outputs.tables`): `equity.parquet` (daily equity, benchmark,
  returns, traded notional, costs), `weights.parquet` (the book on the days it changes),
  `exposure.parquet` (gross and net weight per day), `sectors.parquet` (weight per day and
  sector), `holdings.parquet` (per name: days held, average weight, contribution),
  `targets.parquet` (target weights per rebalance) and `trades.parquet` (share changes
  valued at the day's close; the engine's fills add slippage and commission, reported per
  day in `equity.parquet`).

The run id is the fingerprint of the plan fingerprint, the dataset hashes and
the versions that compute results (qtc, nanobook, numpy). A folder is written
to a temp name and renamed into place. Readers refuse other schema versions: schema 1
(before the book format of weights.parquet) must be re-run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qtc.compile.fingerprint import canonical_json, fingerprint, short
from qtc.errors import QtcError, UserError
from qtc.lake.hashing import file_sha256

if TYPE_CHECKING:
    from qtc.pipeline.runner import RunResult

ARTIFACT_SCHEMA = 2
"""Version of the run folder's layout; 2: weights.parquet holds the book on change days,
with exposure.parquet, sectors.parquet and holdings.parquet beside it."""
RESULT_PACKAGES = ("qtc", "nanobook", "numpy")


@dataclass(frozen=True)
class RunArtifact:
    """A written (or reused) run folder."""

    path: Path
    run_id: str
    reused: bool


def versions() -> dict[str, str]:
    """Versions of the packages that compute results, plus Python."""
    out = {name: metadata.version(name) for name in RESULT_PACKAGES}
    out["python"] = platform.python_version()
    return out


def run_id(plan_fingerprint: str, dataset_hashes: dict[str, str]) -> str:
    """The run id: fingerprint of plan, data and result-affecting versions."""
    engine = {k: v for k, v in versions().items() if k != "python"}
    return fingerprint({"plan": plan_fingerprint, "data": dataset_hashes, "versions": engine})


def run_dir(out: Path, strategy: str, rid: str) -> Path:
    """Folder of a run: `<out>/<strategy>/<run_id12>`."""
    return out / strategy / short(rid)


def existing(path: Path, rid: str) -> bool:
    """True when `path` holds a complete run with this id."""
    try:
        data = read_run(path)
    except (UserError, OSError):
        return False
    files = data.get("files", {})
    return data.get("run_id") == rid and all((path / f).is_file() for f in files)


def write_run(result: RunResult, out: Path, *, meta: dict[str, Any]) -> RunArtifact:
    """Write the run folder atomically (replacing an older one with the same id)."""
    rid = run_id(result.plan.fingerprint, result.dataset_hashes)
    final = run_dir(out, result.plan.strategy_name, rid)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{short(rid)}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        files = _write_tables(result, tmp)
        doc = run_document(result, rid, files)
        (tmp / "run.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        _swap_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunArtifact(final, rid, reused=False)


def _swap_into_place(tmp: Path, final: Path) -> None:
    """Rename the finished temp folder to its final name (old one removed after)."""
    old = final.parent / f".old-{final.name}-{os.getpid()}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def run_document(result: RunResult, rid: str, files: dict[str, str]) -> dict[str, Any]:
    """The content of run.json (no volatile values)."""
    plan = result.plan
    return {
        "artifact": "qtc.run",
        "schema_version": ARTIFACT_SCHEMA,
        "run_id": rid,
        "plan_fingerprint": plan.fingerprint,
        "strategy": plan.resolved,
        "plan": json.loads(plan.to_json()),
        "dataset_hashes": result.dataset_hashes,
        "versions": versions(),
        "window": {
            "start": str(result.dates[0]),
            "end": str(result.dates[-1]),
            "days": len(result.dates),
            "rebalances": len(result.signal_dates),
        },
        "metrics": json_safe(result.metrics),
        "warnings": result.warnings,
        "events": result.events,
        "files": files,
    }


def _write_tables(result: RunResult, folder: Path) -> dict[str, str]:
    """Write the Parquet files; return name -> sha256."""
    from qtc.outputs.tables import run_tables

    out: dict[str, str] = {}
    for name, frame in run_tables(result).items():
        frame.write_parquet(folder / name, compression="zstd", statistics=False)
        out[name] = file_sha256(folder / name)
    return out


def json_safe(data: Any) -> Any:
    """Replace NaN/inf floats by None, recursively (JSON has no such numbers)."""
    if isinstance(data, dict):
        return {k: json_safe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(v) for v in data]
    if isinstance(data, float | np.floating):
        value = float(data)
        return value if np.isfinite(value) else None
    if isinstance(data, np.integer):
        return int(data)
    return data


def read_run(path: Path) -> dict[str, Any]:
    """Read run.json, refusing unknown artifacts and schema versions."""
    target = path / "run.json"
    try:
        data = json.loads(target.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: not a run folder (no run.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{target}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{target}: not a run artifact (not a JSON object)")
    if data.get("artifact") != "qtc.run":
        raise UserError(f'{target}: not a qtc run artifact (`artifact` is not "qtc.run")')
    _check_version(target, data.get("schema_version"))
    problems = _shape_problems(data)
    if problems:
        raise UserError(
            f"{target}: not a complete run artifact ({'; '.join(problems)})",
            hint="re-run the backtest (`qtc backtest FILE --force`); artifacts are never "
            "edited by hand",
        )
    return dict(data)


def _check_version(target: Path, version: Any) -> None:
    """Refuse a run.json whose schema version this qtc does not read."""
    if version == ARTIFACT_SCHEMA:
        return
    if isinstance(version, int) and not isinstance(version, bool) and version < ARTIFACT_SCHEMA:
        raise UserError(
            f"{target}: this run was written by an older qtc (run artifact schema {version}; "
            f"this qtc reads schema {ARTIFACT_SCHEMA}, whose weights.parquet holds the book "
            "on the days it changes)",
            hint="re-run its backtest with this qtc (`qtc backtest STRATEGY_FILE`; with the "
            "same lake and --out, it rewrites this folder)",
        )
    raise UserError(
        f"{target}: run artifact schema {version!r} is not version {ARTIFACT_SCHEMA}, "
        "which this qtc reads",
        hint="use the qtc that wrote the run, or re-run the backtest with this one",
    )


RUN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "run_id": str,
    "plan_fingerprint": str,
    "strategy": dict,
    "plan": dict,
    "dataset_hashes": dict,
    "versions": dict,
    "window": dict,
    "metrics": dict,
    "warnings": list,
    "events": list,
    "files": dict,
}
"""The keys of run.json every reader relies on, with their JSON types."""

WINDOW_FIELDS: dict[str, type | tuple[type, ...]] = {
    "start": str,
    "end": str,
    "days": int,
    "rebalances": int,
}


def _shape_problems(data: dict[str, Any]) -> list[str]:
    """What is missing or mistyped in a run.json (empty when it is whole)."""
    problems = _missing(data, RUN_FIELDS, "")
    window = data.get("window")
    if isinstance(window, dict):
        problems += _missing(window, WINDOW_FIELDS, "window.")
    files = data.get("files")
    if isinstance(files, dict) and not all(isinstance(v, str) for v in files.values()):
        problems.append("files must map names to sha256 strings")
    return problems


def _missing(data: dict[str, Any], fields: dict[str, Any], prefix: str) -> list[str]:
    out = []
    for key, kind in fields.items():
        if key not in data:
            out.append(f"no `{prefix}{key}`")
        elif not isinstance(data[key], kind) or isinstance(data[key], bool):
            out.append(f"`{prefix}{key}` is not a {getattr(kind, '__name__', kind)}")
    return out


def volatile_meta(started: float, argv: list[str], strategy_file: str | None) -> dict[str, Any]:
    """The meta.json content: when, where and how the run was made."""
    return {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": round(time.perf_counter() - started, 3),
        "host": socket.gethostname(),
        "argv": argv,
        "python": sys.version.split()[0],
        "strategy_file": strategy_file,
        "git_commit": git_commit(strategy_file),
    }


def git_commit(path: str | None) -> str | None:
    """The git commit of the repository holding `path`, if any (no subprocess on failure)."""
    if path is None:
        return None
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(Path(path).resolve().parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def previous_runs_with_other_data(out: Path, result: RunResult) -> list[str]:
    """Earlier runs of the same plan whose dataset hashes differ (data changed since)."""
    folder = out / result.plan.strategy_name
    changed: list[str] = []
    for doc in sorted(folder.glob("*/run.json")) if folder.is_dir() else []:
        try:
            data = json.loads(doc.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        same_plan = data.get("plan_fingerprint") == result.plan.fingerprint
        if same_plan and data.get("dataset_hashes") != result.dataset_hashes:
            changed.append(doc.parent.name)
    return changed


def ensure_writable(out: Path) -> None:
    """Fail early with a clear message when the output folder cannot be created."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QtcError(f"cannot create the output folder {out}: {exc.strerror}") from None


__all__ = ["RunArtifact", "canonical_json", "read_run", "write_run"]
