"""One trial: a variant's plan run on a loaded market, reduced to what a search keeps.

The run is the same `run_on_market` call a backtest makes (same stages, same engine,
same metrics), so a trial's metrics are byte-identical to a `qtc backtest` of the
variant. A variant that fails for a reason in the user's terms (a `QtcError`) is a
failed trial with that reason; the search goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtc.compile.plan import Plan
from qtc.errors import QtcError
from qtc.pipeline.factors import FactorCache
from qtc.pipeline.market import Market
from qtc.pipeline.metrics import to_json_safe
from qtc.pipeline.runner import run_on_market
from qtc.search.objective import flatten_metrics

OK = "ok"
FAILED = "failed"


@dataclass
class Trial:
    """What a search keeps of one evaluated variant.

    Attributes:
        number: Position of the variant in the search (0-based, the search's order).
        variant: The variant's plan fingerprint (`sha256:...`).
        status: `ok` or `failed`.
        reason: Why it failed (empty when ok).
        metrics: Flat, JSON-safe metrics (`sharpe`, `activity.turnover`, ...).
        returns: Daily returns over the window (float64), empty when failed.
        dates: The window's trading dates (datetime64[D]), empty when failed.
        seconds: Wall time of the evaluation (volatile; never written to artifacts).
    """

    number: int
    variant: str
    status: str
    reason: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    returns: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="datetime64[D]"))
    seconds: float = 0.0


def evaluate(number: int, plan: Plan, market: Market, cache: FactorCache) -> Trial:
    """Run one variant on the market and keep its metrics and daily returns."""
    import time

    began = time.perf_counter()
    try:
        result = run_on_market(plan, market, cache=cache)
    except QtcError as exc:
        reason = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        return Trial(number, plan.fingerprint, FAILED, reason=reason)
    if not result.metrics:
        return Trial(number, plan.fingerprint, FAILED, reason="the run produced no metrics")
    if not result.metrics.get("activity", {}).get("max_holdings"):
        why = f": {result.warnings[0]}" if result.warnings else ""
        return Trial(number, plan.fingerprint, FAILED, reason=f"never held a position{why}")
    return Trial(
        number=number,
        variant=plan.fingerprint,
        status=OK,
        metrics=flatten_metrics(to_json_safe(result.metrics)),
        returns=np.ascontiguousarray(result.returns, dtype=np.float64),
        dates=result.dates,
        seconds=time.perf_counter() - began,
    )
