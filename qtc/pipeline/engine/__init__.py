"""The engine adapter: the only package that imports nanobook for execution.

nanobook executes every trade and charges every cost. Two paths, chosen by
`run_engine`, share the types, units and checks of `common`:

* `portfolio` (no stops): a `nanobook.Portfolio` is driven event by event
  (rebalances, liquidations of symbols whose data ends, drawdown exits).
  Between events holdings are constant, so daily equity is marked from the
  executed holdings (cash + shares x close), which is exact and avoids
  building a bar for every symbol and day.
* `daily` (stops): nanobook's `backtest_weights` on daily bars with its
  `stop_cfg`.

`portfolio` and `daily` import only `common`, never each other (an
import-linter contract in pyproject.toml).

Conventions (and what the adapter absorbs from nanobook 0.19.2):

* Units: nanobook's integer "cents" are micro-dollars here (`UNITS_PER_USD`
  = 1e6), so sub-dollar adjusted prices keep 6 decimals; cash, fees and
  order values are scaled the same way. Equity is limited to ~9.2e12 USD.
* Fractional shares are micro-shares (`quantity_step=1`); whole shares are
  truncated toward zero by nanobook.
* Symbols are passed as short aliases (`s0`, `s1`, ...) so none exceeds
  nanobook's 8-byte limit; output uses the real symbols.
* Each rebalance is the full target list, sorted sells-first (by weight
  change, ascending), because nanobook trims buys to available cash in list
  order. Targets whose symbol has no price on the execution day are dropped
  (that weight stays in cash) and reported.
* A held symbol whose data ends is sold at the close of its last priced bar;
  the other holdings are left untouched (their current weights are passed
  back, which nanobook executes as no order).
* `max_drawdown_pct`: when the closing equity falls that far below its running
  peak, everything is sold at the next close (the breach is seen at a close,
  so it is acted on at the next one) and the portfolio stays in cash until the
  next rebalance; the peak restarts from the equity at that re-entry.
* Every input is validated before nanobook sees it: nanobook returns empty
  or silently wrong results on NaN weights, non-positive prices, or cash <= 0.
"""

from __future__ import annotations

import numpy as np

from qtc.pipeline.engine.common import (
    EngineInput,
    EngineResult,
    forward_filled,
    last_priced_rows,
    stop_config,
    validate,
)
from qtc.pipeline.engine.daily import run_daily
from qtc.pipeline.engine.portfolio import run_portfolio

__all__ = ["EngineInput", "EngineResult", "forward_filled", "last_priced_rows", "run_engine"]


def run_engine(inp: EngineInput, marks: np.ndarray | None = None) -> EngineResult:
    """Execute the target schedule in nanobook and mark equity daily.

    Strategies with stops run on daily bars (`daily`), the others through the
    event-driven Portfolio (`portfolio`).

    Args:
        inp: Prices, targets and trading rules.
        marks: `forward_filled(inp.prices)` if the caller already has it.

    Returns:
        Daily equity, shares, traded notional, costs and events.

    Raises:
        QtcError: If an input is invalid (nanobook would fail silently on it).
    """
    validate(inp)
    marks = forward_filled(inp.prices) if marks is None else marks
    if stop_config(inp.stops):
        return run_daily(inp, marks)
    return run_portfolio(inp, marks)
