"""The search part of the library facade: `qtc sweep` and the trial ledger.

Heavy modules are imported inside functions, so importing this module stays cheap.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.api.data import LakeRef
from qtc.errors import UserError

if TYPE_CHECKING:
    from qtc.search.sweep import Progress as Progress
    from qtc.search.sweep import SweepRequest as SweepRequest
    from qtc.search.sweep_run import SweepOutcome as SweepOutcome

EXECUTORS = ("local", "ray")


def sweep(
    request: SweepRequest,
    *,
    lake: LakeRef,
    out: Path = Path("sweeps"),
    executor: str = "local",
    jobs: int | None = None,
    ray_address: str | None = None,
    progress: Progress | None = None,
    argv: list[str] | None = None,
) -> SweepOutcome:
    """Run (or reuse) a sweep; see `qtc.search.sweep_run.run_sweep`.

    Raises:
        UserError: For a bad executor or job count, and every input error of the sweep.
    """
    from qtc.lake import Lake
    from qtc.search.sweep_run import run_sweep

    workers = _jobs(jobs)
    _check_executor(executor)
    outcome = run_sweep(
        request,
        lake=Lake(lake.path),
        out=out,
        executor=executor,
        jobs=workers,
        ray_address=ray_address,
        progress=progress,
        argv=argv,
    )
    from qtc.api.registry import record_sweep

    record_sweep(outcome, request.path)
    return outcome


def sweep_request(**fields: Any) -> SweepRequest:
    """Build a SweepRequest (the CLI does not import qtc.search directly)."""
    from qtc.search.sweep import SweepRequest

    return SweepRequest(**fields)


def resumed_request(out: Path, sweep_id: str) -> SweepRequest:
    """The request of an earlier sweep, for `--resume ID`."""
    from qtc.search.sweep_run import resume_request

    return resume_request(out, sweep_id)


def _jobs(jobs: int | None) -> int:
    """`--jobs`, defaulting to the number of cores."""
    if jobs is None:
        return max(1, os.cpu_count() or 1)
    if jobs < 1:
        raise UserError(f"--jobs must be >= 1, got {jobs}")
    return jobs


def _check_executor(executor: str) -> None:
    """Refuse an unknown executor, and the Ray executor when Ray is not installed."""
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}", hint="use --executor local or ray")
    if executor != "ray":
        return
    from qtc.search.executors import RAY_INSTALL, ray_available

    if not ray_available():
        raise UserError("the Ray executor needs Ray, which is not installed", hint=RAY_INSTALL)


def ledger_families() -> list[dict[str, Any]]:
    """Every family in the project's trial ledger, as data (empty when there is no ledger)."""
    from qtc.search.ledger import Ledger
    from qtc.search.sweep_run import ledger_path

    path = ledger_path()
    if not path.is_file():
        return []
    return [
        {
            "family": f.family,
            "strategy": f.strategy,
            "trials": f.n_trials,
            "failed": f.n_failed,
            "searches": f.n_searches,
            "best_sharpe": f.best_sharpe,
            "last_at": f.last_at.isoformat(timespec="seconds"),
        }
        for f in Ledger.open(path).families()
    ]


def ledger_trials(family: str) -> list[dict[str, Any]]:
    """The trials of one family (oldest first), as data.

    Raises:
        UserError: If the ledger has no such family.
    """
    from qtc.search.ledger import Ledger
    from qtc.search.sweep_run import ledger_path

    path = ledger_path()
    rows = Ledger.open(path).trials(family=family) if path.is_file() else []
    if not rows:
        known = [f["family"] for f in ledger_families()]
        raise UserError(
            f"the trial ledger {path} has no family {family!r}",
            hint=f"families: {', '.join(known)}" if known else "run `qtc sweep` first",
        )
    return [
        {
            "search": r.search_id,
            "kind": r.kind,
            "trial": r.trial_number,
            "variant": r.variant_fingerprint,
            "status": r.status,
            "reason": r.reason,
            "params": r.params,
            "sharpe": r.sharpe,
            "cagr": r.cagr,
            "max_drawdown": r.max_drawdown,
        }
        for r in rows
    ]


if TYPE_CHECKING:
    from qtc.search.evolve import EvolveRequest as EvolveRequest
    from qtc.search.evolve_run import EvolveOutcome as EvolveOutcome


def evolve(
    request: EvolveRequest,
    *,
    lake: LakeRef,
    out: Path = Path("evolutions"),
    executor: str = "local",
    jobs: int | None = None,
    ray_address: str | None = None,
    progress: Progress | None = None,
    argv: list[str] | None = None,
    resume: str | None = None,
) -> EvolveOutcome:
    """Run, continue or reuse an evolution; see `qtc.search.evolve_run.run_evolution`.

    Raises:
        UserError: For a bad executor or job count, and every input error of the evolution.
    """
    from qtc.lake import Lake
    from qtc.search.evolve import check_request
    from qtc.search.evolve_run import run_evolution

    workers = _jobs(jobs)
    _check_executor(executor)
    check_request(request)
    outcome = run_evolution(
        request,
        lake=Lake(lake.path),
        out=out,
        executor=executor,
        jobs=workers,
        ray_address=ray_address,
        progress=progress,
        argv=argv,
        resume=resume,
    )
    from qtc.api.registry import record_artifact

    record_artifact(outcome.folder, "evolve", request.path, [])
    return outcome


def evolve_request(**fields: Any) -> EvolveRequest:
    """Build an EvolveRequest (the CLI does not import qtc.search directly)."""
    from qtc.search.evolve import EvolveRequest

    return EvolveRequest(**fields)


def resumed_evolve_request(
    out: Path, evolve_id: str, *, trials: int | None = None, top: int | None = None
) -> EvolveRequest:
    """The request of an earlier evolution, for `--resume ID` (optionally more trials)."""
    from qtc.search.evolve_run import resume_request

    return resume_request(out, evolve_id).updated(trials=trials, top=top)
