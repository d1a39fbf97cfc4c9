"""Run an evolution end to end: prepare, evolve generation by generation, then report.

`run_evolution` is what `qtc evolve` calls. The folder and its study journal are
created before the first generation, so a killed run can be resumed; Ctrl-C saves
every finished trial (study, ledger, an `interrupted` folder) and raises
`EvolveInterruptedError` with the `--resume` command. Running the same command again,
or `--resume ID`, continues the study up to `--trials`; when nothing is left to run,
the results are written again from the study (the same bytes).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.errors import QtcError, UserError
from qtc.search import evolve_files as files
from qtc.search import evolve_results as results
from qtc.search.evolve import (
    Evolution,
    EvolveInterruptedError,
    EvolveRequest,
    evolve_id,
    prepare,
)
from qtc.search.evolve_loop import Generations, Progress
from qtc.search.evolve_results import Row
from qtc.search.executors import WorkerLostError


@dataclass
class EvolveOutcome:
    """A finished (or reused) evolution, as the CLI shows it.

    Attributes:
        folder: Its folder.
        evolve_id: Its id.
        reused: True when no trial had to run.
        document: evolve.json.
        table: The winners with their metrics (top K, or the Pareto front).
    """

    folder: Path
    evolve_id: str
    reused: bool
    document: dict[str, Any]
    table: list[dict[str, Any]] = field(default_factory=list)


def run_evolution(
    request: EvolveRequest,
    *,
    lake: Any,
    out: Path,
    executor: str = "local",
    jobs: int = 1,
    ray_address: str | None = None,
    progress: Progress | None = None,
    argv: list[str] | None = None,
    resume: str | None = None,
) -> EvolveOutcome:
    """Prepare and run (or continue) an evolution, then write its results.

    Raises:
        UserError: For every input error, and when `resume` names an evolution whose
            strategy, data or qtc version has changed since (its id would differ).
    """
    from qtc.outputs.artifacts import versions
    from qtc.pipeline.names import check_names
    from qtc.pipeline.runner import used_factors
    from qtc.search.evolve_report import start_document
    from qtc.search.evolve_study import JOURNAL, open_study
    from qtc.search.family import family_of
    from qtc.search.runners import open_runner
    from qtc.search.strategy_toml import engine_versions

    began = time.perf_counter()
    evolution = prepare(request, lake)
    found_versions = engine_versions(versions())
    evolution.evolve_id = evolve_id(evolution, found_versions)
    evolution.family = family_of(evolution.base, evolution.space.keys).key
    if resume is not None and resume != evolution.evolve_id:
        raise UserError(
            f"evolution {resume} cannot continue: its strategy, data or qtc version changed "
            f"(it would now be evolution {evolution.evolve_id})",
            hint="start it again from the strategy file (same options, without --resume)",
        )
    plan = evolution.base_plan
    check_names(plan, lake, used_factors(plan), [])  # a wrong name fails once, before any file
    folder = files.evolve_dir(out, evolution.strategy_name, evolution.evolve_id)
    jobs = max(1, min(jobs, request.population))  # a generation has no more batches
    with open_runner(lake, executor, jobs, ray_address) as runner:
        files.start(folder, start_document(evolution))
        maximize = [o.maximize for o in evolution.objectives]
        study, journal = open_study(folder / JOURNAL, evolution.evolve_id, maximize)
        loop = Generations(evolution, study, journal, progress)
        try:
            ran = loop.run(runner, jobs)
        except KeyboardInterrupt:
            journal.close()
            _finish(evolution, study, lake, folder, "interrupted", began, argv, found_versions)
            raise EvolveInterruptedError(
                evolution.evolve_id, folder, loop.settled, request.trials, _out_option(out)
            ) from None
        except WorkerLostError as exc:
            journal.close()
            _finish(evolution, study, lake, folder, "interrupted", began, argv, found_versions)
            raise QtcError(
                f"{exc.message}; {loop.settled} finished trials are saved in {folder}",
                hint=f"continue with: qtc evolve --resume {evolution.evolve_id}{_out_option(out)}",
            ) from None
        finally:
            journal.close()
    doc, table = _finish(evolution, study, lake, folder, "complete", began, argv, found_versions)
    return EvolveOutcome(folder, evolution.evolve_id, not ran, doc, table)


def _out_option(out: Path) -> str:
    """` --out DIR` when the evolutions are not in the default folder."""
    return "" if out == Path("evolutions") else f" --out {out}"


def resume_request(out: Path, evolution: str) -> EvolveRequest:
    """The request saved by the evolution `evolution` under `out`."""
    doc = files.read_evolve(files.find_evolution(out, evolution))
    try:
        return EvolveRequest.from_dict(doc["request"])
    except (KeyError, TypeError, ValueError):
        raise UserError(
            f"{files.find_evolution(out, evolution)}: the saved request is damaged",
            hint="run the evolution again from its strategy file",
        ) from None


def _finish(
    evolution: Evolution,
    study: Any,
    lake: Any,
    folder: Path,
    status: str,
    began: float,
    argv: list[str] | None,
    found_versions: dict[str, str],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Rank, check the winners on the holdout, measure the bias, write the folder."""
    from qtc.search import evolve_report as report
    from qtc.search.objective import known_metrics
    from qtc.search.record import open_ledger, selection_bias, with_returns

    found = results.rows(study)
    ranked = results.ranking(evolution, found)
    winners = results.winners(evolution, found) if status == "complete" else []
    best = ranked[0] if ranked else None
    ledger = open_ledger()
    family_trials = ledger.family_count(evolution.family)
    history = ledger.family_returns(evolution.family)
    winner = with_returns(history, best.as_trial()) if best else None
    bias = selection_bias(evolution.family, winner, history)
    holdout = _holdout(evolution, winners, lake)
    tomls = report.winner_files(
        evolution, winners, len(ranked), family_trials, bias, {h["trial"]: h for h in holdout}
    )
    folder_name = files.PARETO if len(evolution.objectives) > 1 else files.TOP
    written = {text_name: f"{folder_name}/{text_name}" for text_name, _ in tomls}
    entries = [
        report.entry(evolution, rank, row, _written(written, row))
        for rank, row in enumerate(winners, start=1)
    ]
    doc = report.document(
        evolution,
        status=status,
        found=found,
        ranked=len(ranked),
        winners=entries,
        best=best,
        family_trials=family_trials,
        bias=bias,
        holdout=holdout,
        versions=found_versions,
    )
    frame = files.trials_frame(found, evolution.space.keys, known_metrics())
    meta = {
        "argv": argv or [],
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - began, 3),
    }
    files.write(folder, doc, frame, (folder_name, tomls), meta)
    by_number = {row.number: row for row in found}
    table = [{**e, "metrics": by_number[e["trial"]].metrics} for e in entries]
    return doc, table


def _written(names: dict[str, str], row: Row) -> str | None:
    """The winner's TOML path in the folder (None if it was not written)."""
    stem = row.variant.removeprefix("sha256:")[:12]
    return next((path for name, path in names.items() if name.endswith(f"-{stem}.toml")), None)


def _holdout(evolution: Evolution, winners: list[Row], lake: Any) -> list[dict[str, Any]]:
    """Each winner's in-sample and out-of-sample figures (empty without a holdout)."""
    from qtc.search.holdout import out_of_sample, side_by_side

    if evolution.holdout is None or not winners:
        return []
    runs = out_of_sample(
        evolution.original,
        evolution.holdout,
        [(row.number, row.values) for row in winners],
        lake,
        evolution.as_of,
    )
    return [
        side_by_side(row.as_trial(), runs.get(row.number), evolution.metrics) for row in winners
    ]
