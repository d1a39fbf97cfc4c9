"""Run a sweep end to end: prepare, evaluate, record, measure, write.

`run_sweep` is what `qtc sweep` calls. Ctrl-C while trials run saves every finished
trial (in the ledger and an `interrupted` sweep folder) and raises `SweepInterruptedError`
with the `--resume` command; `--resume ID` re-reads the request from the folder and
runs only the trials that are missing.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.search import sweep_files as files
from qtc.search.evaluate import OK, Trial
from qtc.search.sweep import (
    Prepared,
    Progress,
    SweepInterruptedError,
    SweepRequest,
    all_trials,
    evaluate_all,
    prepare,
    ranking,
    sweep_id,
)

LEDGER_ENV = "QTC_LEDGER"
DEFAULT_LEDGER = Path(".qtc") / "ledger.duckdb"
PBO_BLOCKS = 16


def ledger_path() -> Path:
    """The project's trial ledger: `$QTC_LEDGER`, else `.qtc/ledger.duckdb` here."""
    return Path(os.environ[LEDGER_ENV]) if os.environ.get(LEDGER_ENV) else DEFAULT_LEDGER


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
    prepared.sweep_id = sweep_id(prepared, _engine_versions(versions()))
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


def _engine_versions(found: dict[str, str]) -> dict[str, str]:
    """Versions that change results (Python's own version does not)."""
    return {k: v for k, v in found.items() if k != "python"}


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
    bias = _bias(family.key, ranked[0] if ranked else None)
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
    from qtc.search.ledger import Ledger, TrialRecord

    records = []
    for trial in sorted(done.values(), key=lambda t: t.number):
        ok = trial.status == OK
        records.append(
            TrialRecord(
                family=family,
                strategy=prepared.strategy_name,
                search_id=prepared.sweep_id,
                kind="sweep",
                trial_number=trial.number,
                variant_fingerprint=trial.variant,
                params=prepared.variants[trial.number].values,
                status="ok" if ok else "failed",
                reason=trial.reason,
                metrics={k: v for k, v in trial.metrics.items() if v is not None},
                dates=trial.dates if ok else None,
                returns=trial.returns if ok else None,
            )
        )
    ledger = Ledger.open(ledger_path())
    ledger.record(records)
    return ledger.family_count(family)


def _bias(family: str, winner: Trial | None) -> dict[str, Any]:
    """Deflated Sharpe, PBO and MinBTL of the winner against the family's history."""
    if winner is None:
        return {}
    import numpy as np

    from qtc.search import bias
    from qtc.search.errors import SelectionBiasError
    from qtc.search.ledger import Ledger

    history = Ledger.open(ledger_path()).family_returns(family)
    n = history.matrix.shape[1]
    out: dict[str, Any] = {"trials": n}
    try:
        sharpes = bias.sharpe_ratios(history.matrix) if n >= 1 else np.zeros(0)
        variance = float(np.var(sharpes, ddof=1)) if n >= 2 else 0.0
        dsr = bias.deflated_sharpe_of_returns(
            winner.returns, n_trials=max(n, 1), trials_sharpe_variance=variance
        )
        out["deflated_sharpe"] = _finite(dsr.probability)
        out["deflated_sharpe_text"] = dsr.explain()
    except SelectionBiasError as exc:
        out["deflated_sharpe_text"] = f"not computed: {exc}"
    try:
        pbo = bias.probability_of_overfitting(history.matrix, PBO_BLOCKS)
        out["pbo"] = _finite(pbo.probability)
        out["pbo_text"] = pbo.explain()
    except SelectionBiasError as exc:
        out["pbo_text"] = f"not computed: {exc}"
    annual = winner.metrics.get("sharpe")
    try:
        years = len(winner.returns) / 252.0
        btl = bias.minimum_backtest_length(max(n, 1), float(annual or 0.0), years_of_data=years)
        out["min_backtest_years"] = _finite(btl.years)
        out["min_backtest_text"] = btl.explain()
    except SelectionBiasError as exc:
        out["min_backtest_text"] = f"not computed: {exc}"
    return out


def _finite(value: float) -> float | None:
    """JSON-safe float."""
    return value if math.isfinite(value) else None


def _tops(
    prepared: Prepared, ranked: list[Trial], family_trials: int, bias: dict[str, Any]
) -> list[tuple[str, str]]:
    """The best K strategies as TOML files with a header saying how they were chosen."""
    import tomli_w

    from qtc.manifest.variants import user_tree

    out: list[tuple[str, str]] = []
    width = len(str(max(1, prepared.request.top)))
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
        body = tomli_w.dumps(_toml_ready(user_tree(variant.strategy)))
        name = f"{rank:0{width}d}-{trial.variant.removeprefix('sha256:')[:12]}.toml"
        out.append((name, "\n".join(header) + "\n\n" + body))
    return out


def _toml_ready(tree: Any) -> Any:
    """Drop None values (TOML has no null) recursively."""
    if isinstance(tree, dict):
        return {k: _toml_ready(v) for k, v in tree.items() if v is not None}
    if isinstance(tree, list):
        return [_toml_ready(v) for v in tree]
    return tree


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
        "versions": _engine_versions(versions()),
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
