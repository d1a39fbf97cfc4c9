"""The research part of the library facade: `qtc validate`.

Heavy modules are imported inside functions, so importing this module stays cheap.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.api.data import LakeRef
from qtc.errors import UserError

if TYPE_CHECKING:
    from qtc.pipeline.progress import Progress
    from qtc.research.request import ValidateRequest as ValidateRequest
    from qtc.research.validate import ValidationOutcome as ValidationOutcome


def validate(
    request: ValidateRequest,
    *,
    lake: LakeRef,
    out: Path = Path("validations"),
    report: bool = False,
    argv: list[str] | None = None,
    progress: Progress | None = None,
) -> ValidationOutcome:
    """Validate a strategy and write its artifact; see `qtc.research.validate`.

    Raises:
        StrategyError: For a bad strategy file, option, horizon, fold count or factor.
        UserError: For a bad objective or job count, or `--reselect` without `[search]`.
        QtcError: If the run fails.
    """
    from qtc.lake import Lake
    from qtc.research.validate import run_validation

    outcome = run_validation(
        request, lake=Lake(lake.path), out=out, report=report, argv=argv, progress=progress
    )
    from qtc.api.registry import record_artifact

    record_artifact(outcome.folder, "validate", request.path, [])
    return outcome


def validate_request(*, jobs: int | None = None, **fields: Any) -> ValidateRequest:
    """Build a ValidateRequest (the CLI does not import qtc.research directly).

    Args:
        jobs: Worker processes for `--reselect` (default: every core).
        **fields: The other `ValidateRequest` fields.

    Raises:
        UserError: If `jobs` is below 1.
    """
    from qtc.research.request import ValidateRequest

    if jobs is not None and jobs < 1:
        raise UserError(f"--jobs must be >= 1, got {jobs}")
    workers = jobs if jobs is not None else max(1, os.cpu_count() or 1)
    return ValidateRequest(jobs=workers, **fields)
