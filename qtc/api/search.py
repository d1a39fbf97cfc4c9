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
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}", hint="use --executor local or ray")
    if executor == "ray":
        _require_ray()
    return run_sweep(
        request,
        lake=Lake(lake.path),
        out=out,
        executor=executor,
        jobs=workers,
        ray_address=ray_address,
        progress=progress,
        argv=argv,
    )


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


def _require_ray() -> None:
    """Refuse the Ray executor when Ray is not installed."""
    from qtc.search.executors import RAY_INSTALL, ray_available

    if not ray_available():
        raise UserError("the Ray executor needs Ray, which is not installed", hint=RAY_INSTALL)
