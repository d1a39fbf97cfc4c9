"""Run a sweep end to end: prepare, evaluate, record, measure, write.

`run_sweep` is what `qtc sweep` calls. Ctrl-C while trials run saves every finished
trial (in the ledger and an `interrupted` sweep folder) and raises `SweepInterruptedError`
with the `--resume` command; `--resume ID` re-reads the request from the folder and
runs only the trials that are missing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.errors import QtcError
from qtc.search import sweep_files as files
from qtc.search.evaluate import OK, Trial
from qtc.search.executors import WorkerLostError
from qtc.search.record import LEDGER_ENV as LEDGER_ENV
from qtc.search.record import ledger_path as ledger_path
from qtc.search.record import open_ledger, record_trials, selection_bias
from qtc.search.strategy_toml import engine_versions, file_name, strategy_toml
from qtc.search.sweep import (
    Prepared,
    Progress,
    SweepInterruptedError,
    SweepRequest,
    all_trials,
    evaluate_all,
    prepare,
    ranking,
    resume_command,
    sweep_id,
)


@dataclass
class SweepOutcome:
    """A finished (or reused) sweep, as the CLI shows it."""

    folder: Path
    sweep_id: str
    reused: bool
    document: dict[str, Any]
    table: list[dict[str, Any]] = field(default_factory=list)


def run_sweep(
    request: SweepRequest,
    *,
    lake: Any,
    out: Path,
    executor: str = "local",
    jobs: int = 1,
    ray_address: str | None = None,
    progress: Progress | None = None,
    argv: list[str] | None = None,
) -> SweepOutcome:
    """Prepare and run a sweep (or reuse the finished one with the same id)."""
    from qtc.outputs.artifacts import versions

    began = time.perf_counter()
    prepared = prepare(request, lake)
    prepared.sweep_id = sweep_id(prepared, engine_versions(versions()))
    folder = files.sweep_dir(out, prepared.strategy_name, prepared.sweep_id)
    done = _finished(folder, prepared)
    if done is None:
        doc = files.read_sweep(folder)
        return SweepOutcome(folder, prepared.sweep_id, True, doc, _table(doc, folder))
    return _run(prepared, lake, folder, done, executor, jobs, ray_address, progress, began, argv)


def resume_request(out: Path, sweep: str) -> SweepRequest:
    """The request saved by the sweep `sweep` under `out`."""
    doc = files.read_sweep(files.find_sweep(out, sweep))
    return SweepRequest.from_dict(doc["request"])


def _finished(folder: Path, prepared: Prepared) -> dict[int, Trial] | None:
    """Trials a previous run of this sweep finished; None when it is complete."""
    if not (folder / files.SWEEP_JSON).is_file():
        return {}
    doc = files.read_sweep(folder)
    if doc.get("status") == "complete" and doc.get("sweep_id") == prepared.sweep_id:
        return None
    frame = files.read_trials(folder)
    if frame is None:
        return {}
    return _trials_from_ledger(prepared, frame)


def _trials_from_ledger(prepared: Prepared, frame: Any) -> dict[int, Trial]:
    """Rebuild finished ok trials (metrics from the table, returns from the ledger)."""
    from qtc.search.ledger import Ledger

    history = Ledger.open(ledger_path()).family_returns(_family(prepared).key)
    column = {variant: i for i, variant in enumerate(history.variants)}
    skip = {*_FIXED, *prepared.space.keys}
    out: dict[int, Trial] = {}
    for row in frame.iter_rows(named=True):
        if row["status"] != OK or row["variant"] not in column:
            continue
        metrics = {k: v for k, v in row.items() if k not in skip}
        series = history.matrix[:, column[row["variant"]]].copy()
        out[row["trial"]] = Trial(
            row["trial"], row["variant"], OK, "", metrics, series, history.dates
        )
    return out


_FIXED = ("trial", "variant", "status", "reason", "duplicate_of")


def _run(
    prepared: Prepared,
    lake: Any,
    folder: Path,
    done: dict[int, Trial],
    executor: str,
    jobs: int,
    ray_address: str | None,
    progress: Progress | None,
    began: float,
    argv: list[str] | None,
) -> SweepOutcome:
    """Load the market, evaluate what is missing, then record and write."""
    from qtc.pipeline.names import check_names
    from qtc.pipeline.runner import used_factors

    first = next((v.plan for v in prepared.variants if v.plan is not None), None)
    if first is not None:
        check_names(first, lake, used_factors(first), [])  # a wrong name fails the sweep, once
    try:
        if first is not None:
            evaluate_all(
                prepared,
                lake,
                done,
                executor=executor,
                jobs=jobs,
                ray_address=ray_address,
                progress=progress,
            )
    except KeyboardInterrupt:
        _finish(prepared, folder, done, "interrupted", began, argv)
        total = sum(1 for v in prepared.variants if v.plan is not None and v.duplicate_of is None)
        raise SweepInterruptedError(prepared.sweep_id, folder, len(done), total) from None
    except WorkerLostError as exc:
        _finish(prepared, folder, done, "interrupted", began, argv)
        raise QtcError(
            f"{exc.message}; {len(done)} finished trials are saved in {folder}",
            hint=f"continue with: {resume_command(prepared.sweep_id, folder)}",
        ) from None
    doc = _finish(prepared, folder, done, "complete", began, argv)
    return SweepOutcome(folder, prepared.sweep_id, False, doc, _table(doc, folder))


def _finish(
    prepared: Prepared,
    folder: Path,
    done: dict[int, Trial],
    status: str,
    began: float,
    argv: list[str] | None,
) -> dict[str, Any]:
    """Record the trials in the ledger, measure the bias, write the folder."""
    family = _family(prepared)
    family_trials = _record(prepared, family.key, done)
    ranked = ranking(prepared, done)
    bias = selection_bias(family.key, ranked[0] if ranked else None)
    trials = all_trials(prepared, done)
    tops = _tops(prepared, ranked, family_trials, bias) if status == "complete" else []
    doc = _document(prepared, family.key, family_trials, ranked, trials, bias, tops, status)
    frame = _frame(prepared, trials)
    meta = {
        "argv": argv or [],
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - began, 3),
    }
    files.write_sweep(folder, doc, frame, tops, meta)
    return doc


def _family(prepared: Prepared) -> Any:
    """The strategy family: the base strategy minus the searched keys."""
    from qtc.search.family import family_of

    return family_of(prepared.base, prepared.space.keys)


def _record(prepared: Prepared, family: str, done: dict[int, Trial]) -> int:
    """Write every evaluated trial to the ledger; return the family's trial count."""
    ledger = open_ledger()
    record_trials(
        done.values(),
        family=family,
        strategy=prepared.strategy_name,
        search_id=prepared.sweep_id,
        kind="sweep",
        params=lambda number: prepared.variants[number].values,
        ledger=ledger,
    )
    return ledger.family_count(family)


def _tops(
    prepared: Prepared, ranked: list[Trial], family_trials: int, bias: dict[str, Any]
) -> list[tuple[str, str]]:
    """The best K strategies as TOML files with a header saying how they were chosen."""
    out: list[tuple[str, str]] = []
    for rank, trial in enumerate(ranked[: prepared.request.top], start=1):
        variant = prepared.variants[trial.number]
        assert variant.strategy is not None
        value = trial.metrics.get(prepared.objective.metric)
        header = [
            f"# Written by `qtc sweep` (sweep {prepared.sweep_id}): rank {rank} of "
            f"{len(ranked)} ranked trials by {prepared.objective.label} = {value!r}.",
            f"# Trial {trial.number}, variant {trial.variant}; the family has "
            f"{family_trials} trials in the ledger.",
            "# Deflated Sharpe of the sweep's winner: "
            + (
                f"{bias['deflated_sharpe']:.4f}."
                if bias.get("deflated_sharpe") is not None
                else "n/a."
            ),
            "# Parameters: " + ", ".join(f"{k} = {v!r}" for k, v in variant.values.items()),
        ]
        name = file_name(rank, prepared.request.top, trial.variant)
        out.append((name, strategy_toml(variant.strategy, header)))
    return out


def _document(
    prepared: Prepared,
    family: str,
    family_trials: int,
    ranked: list[Trial],
    trials: list[Trial],
    bias: dict[str, Any],
    tops: list[tuple[str, str]],
    status: str,
) -> dict[str, Any]:
    """sweep.json."""
    from qtc.outputs.artifacts import versions

    counts = {"variants": len(prepared.variants)}
    for trial in trials:
        counts[trial.status] = counts.get(trial.status, 0) + 1
    counts["ranked"] = len(ranked)
    return {
        "schema_version": files.SCHEMA_VERSION,
        "sweep_id": prepared.sweep_id,
        "status": status,
        "strategy": prepared.strategy_name,
        "family": family,
        "family_trials": family_trials,
        "base_fingerprint": prepared.base_fingerprint,
        "as_of": prepared.as_of.isoformat(),
        "request": prepared.request.as_dict(),
        "space": prepared.space.as_dict(),
        "objective": {"metric": prepared.objective.metric, "maximize": prepared.objective.maximize},
        "filters": [f.text for f in prepared.filters],
        "counts": counts,
        "dataset_hashes": prepared.dataset_hashes,
        "versions": engine_versions(versions()),
        "bias": bias,
        "top": [
            {
                "rank": rank,
                "trial": t.number,
                "variant": t.variant,
                "params": prepared.variants[t.number].values,
                "objective": t.metrics.get(prepared.objective.metric),
                "file": f"{files.TOP}/{tops[rank - 1][0]}" if rank <= len(tops) else None,
            }
            for rank, t in enumerate(ranked[: prepared.request.top], start=1)
        ],
    }


def _frame(prepared: Prepared, trials: list[Trial]) -> Any:
    """trials.parquet."""
    from qtc.search.objective import known_metrics

    rows = [
        {
            "trial": t.number,
            "variant": t.variant,
            "status": t.status,
            "reason": t.reason,
            "duplicate_of": prepared.variants[t.number].duplicate_of,
            "params": prepared.variants[t.number].values,
            "metrics": t.metrics,
        }
        for t in trials
    ]
    return files.trials_frame(rows, prepared.space.keys, known_metrics())


def _table(doc: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    """The ranked rows the CLI prints: rank, params, objective and headline metrics."""
    frame = files.read_trials(folder)
    if frame is None:
        return []
    by_trial = {row["trial"]: row for row in frame.iter_rows(named=True)}
    return [{**entry, "metrics": by_trial.get(entry["trial"], {})} for entry in doc.get("top", [])]
