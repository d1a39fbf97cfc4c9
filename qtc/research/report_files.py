"""`qtc validate --report`: the backtest's run artifact and its report, inside the validation.

The run is written as `qtc backtest` writes it (`qtc.outputs.artifacts.write_run`) and
moved to `<validation>/run/`; its report, rendered with the factor tear sheet of the
validation beside it, is `<validation>/report.html`. Both are written into the
validation's temp folder, so the whole folder appears at once or not at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtc.research.measure import BacktestRun


def report_writer(run: BacktestRun, meta: dict[str, Any]) -> Callable[[Path], None]:
    """A callback writing the run and the report into a validation's temp folder."""

    def write(folder: Path) -> None:
        from qtc.outputs.artifacts import write_run
        from qtc.outputs.report import write_report
        from qtc.outputs.validation_files import REPORT, RUN
        from qtc.pipeline.runner import run_on_market

        result = run_on_market(run.plan, run.market, cache=run.cache)
        staging = folder / ".runs"
        written = write_run(result, staging, meta=meta)
        written.path.rename(folder / RUN)
        shutil.rmtree(staging)
        write_report(folder / RUN, folder / REPORT)

    return write
