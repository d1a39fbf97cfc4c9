"""Live targets: today's weights from the same Plan and pipeline core as the backtest.

`live_targets` runs the backtest's core (`qtc.pipeline.runner.run_stages`) with a stop
point after `apply_risk_caps`, on a copy of the plan that differs in two places only:

* `load_data.end` is the live date (`as_of`, or the lake's last date), whatever the strategy
  file's `data.end` says;
* the last row of the window is today's signal, even mid-period, and the schedule is computed
  as if execution were at the signal close. A backtest drops that row: mid-period it closes
  no period, and its `next_close` execution would be after the data; live, that execution
  is the next session, which is the point.

Everything before the last signal is scheduled exactly as in the backtest (same first row,
same period ends), so sequential stages (selection buffers, ...) see the same history and the
live target at a past date equals the backtest's target on that rebalance date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qtc.compile.stages import AnyStage, LoadData, ScheduleWeights
from qtc.errors import QtcError, UserError

if TYPE_CHECKING:
    from qtc.compile.plan import Plan
    from qtc.lake.read.reader import Lake
    from qtc.pipeline.factors import FactorCache

LAST_LIVE_STAGE = "apply_risk_caps"
"""The live run stops after the stage that produces the final target weights."""

WEIGHT_EPS = 1e-12
"""Weights at or below this magnitude are treated as zero."""


@dataclass(frozen=True, slots=True)
class LiveTargets:
    """Target weights for one live rebalance.

    Attributes:
        as_of_date: The date asked for (or the lake's last date).
        signal_date: The trading day whose close the targets were computed at (the last
            trading day on or before `as_of_date`).
        weights: Symbol -> target weight, non-zero weights only, sorted by symbol.
        plan_fingerprint: Fingerprint of the plan the targets came from.
    """

    as_of_date: dt.date
    signal_date: dt.date
    weights: dict[str, float]
    plan_fingerprint: str


def live_plan(plan: Plan, end: dt.date) -> Plan:
    """The plan as run live: window ending at `end`, last row kept as a signal.

    The copy keeps the original fingerprint; it is only used to run the stages.
    """
    stages: list[AnyStage] = []
    for spec in plan.stages:
        if isinstance(spec, LoadData):
            live = {
                "end": end,
                "end_is_as_of": True,
                "execution": "close",
                "signal_on_last_row": True,
            }
            stages.append(spec.model_copy(update=live))
        elif isinstance(spec, ScheduleWeights):
            stages.append(spec.model_copy(update={"execution": "close"}))
        else:
            stages.append(spec)
    return plan.model_copy(update={"stages": tuple(stages)})


def live_targets(
    plan: Plan,
    lake: Lake,
    *,
    as_of: dt.date | None = None,
    cache: FactorCache | None = None,
) -> LiveTargets:
    """Compute the target weights at the live date through the backtest's pipeline stages.

    Args:
        plan: The compiled plan (the one that was backtested).
        lake: The lake to read.
        as_of: The live date; default the lake's last date. A non-trading day uses the last
            trading day before it.
        cache: Factor cache to share with other runs.

    Returns:
        The targets of the last row of the window.

    Raises:
        UserError: If the lake has no data on or before `as_of`, or `as_of` is before the
            strategy's `data.start`.
        QtcError: If the plan lacks a stage that produces targets.
    """
    import numpy as np

    from qtc.pipeline.market import load_market
    from qtc.pipeline.names import check_names
    from qtc.pipeline.products import Calendar, Targets
    from qtc.pipeline.runner import load_spec, run_stages, used_factors

    calendar = lake.calendar(None, as_of)
    if not len(calendar):
        raise UserError(f"the lake has no trading days on or before {as_of}")
    last = calendar[-1].astype("datetime64[D]").item()
    asked = as_of if as_of is not None else last
    start = load_spec(plan).start
    if last < start:
        raise UserError(
            f"live date {last} is before the strategy's data.start {start}",
            hint="pass a later --as-of or an earlier data.start",
        )
    check_names(plan, lake, used_factors(plan), [])
    run = live_plan(plan, last)
    market = load_market(load_spec(run), lake)
    job = run_stages(run, market, cache=cache, until=LAST_LIVE_STAGE)
    if LAST_LIVE_STAGE not in job.timings:
        raise QtcError("the plan has no stages that produce target weights")
    panel, rows = market.panel, job.products.need(Calendar).rows
    targets = job.products.need(Targets).weights
    row = int(rows[-1])
    if row != len(panel.dates) - 1:  # pragma: no cover - the schedule always keeps the last row
        raise QtcError("the live schedule lost its last row (a bug in qtc)")
    target = np.nan_to_num(targets[-1], nan=0.0)
    weights = {
        sym: float(w)
        for sym, w in sorted(zip(panel.symbols, target, strict=True))
        if abs(w) > WEIGHT_EPS
    }
    return LiveTargets(
        as_of_date=asked,
        signal_date=panel.dates[row].astype("datetime64[D]").item(),
        weights=weights,
        plan_fingerprint=plan.fingerprint,
    )
