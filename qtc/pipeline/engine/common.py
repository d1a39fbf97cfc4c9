"""What both engine paths share: units, the input/result types and input checks.

Imports nothing else from the engine package (`portfolio` and `daily` import
this module, never each other), and nanobook only lazily, inside
`new_cost_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtc.errors import QtcError
from qtc.manifest.stops import AtrStop, FixedStop, StopsSpec, TrailingStop
from qtc.manifest.trading import CostsSection

UNITS_PER_USD = 1_000_000
MICRO_SHARES = 1
MAX_CASH_USD = 1e9


@dataclass(frozen=True)
class EngineInput:
    """What the engine needs: prices, the target schedule and the trading rules.

    Attributes:
        dates: Trading dates, `datetime64[D]`, (T,).
        symbols: Column symbols, length N.
        prices: Total-return close, (T, N), NaN where not priced.
        first_row: First row of the backtest window (daily equity starts there).
        exec_rows: Row of each rebalance's execution, (R,), increasing, >= first_row.
        targets: Target weights per rebalance, (R, N), NaN-free.
        initial_cash: Starting equity in USD.
        costs: Commission, slippage and minimum fee.
        fractional: Micro-shares (True) or whole shares.
        no_trade_band_bps: Skip trades whose weight change is below this.
        min_order_value: Skip orders below this notional (USD).
        max_drawdown_pct: Drawdown exit threshold, or None.
        stops: Per-position stops (run through nanobook's `stop_cfg` on daily bars).
        last_rows: `last_priced_rows(prices)` when the caller has it (a market shared by
            many plans computes it once), else None.
    """

    dates: np.ndarray
    symbols: list[str]
    prices: np.ndarray
    first_row: int
    exec_rows: np.ndarray
    targets: np.ndarray
    initial_cash: float
    costs: CostsSection
    fractional: bool = True
    no_trade_band_bps: float = 0.0
    min_order_value: float = 0.0
    max_drawdown_pct: float | None = None
    stops: StopsSpec | None = None
    last_rows: np.ndarray | None = None


@dataclass
class EngineResult:
    """Daily results of a run, rows aligned to `dates[first_row:]`.

    Attributes:
        equity: Daily equity after trading, USD, (D,).
        shares: Shares held at each close, (D, N).
        traded_notional: USD traded each day (buys + sells at the close), (D,).
        costs_paid: Commission + slippage paid each day, USD, (D,).
        events: What happened besides marks: rebalances, liquidations, exits.
    """

    equity: np.ndarray
    shares: np.ndarray
    traded_notional: np.ndarray
    costs_paid: np.ndarray
    events: list[dict[str, Any]] = field(default_factory=list)

    def weights(self, prices: np.ndarray, *, finite: bool = False) -> np.ndarray:
        """End-of-day weights (fraction of equity), (D, N), from shares and marks.

        A zero holding is 0 even where the mark is NaN. With `finite`, `prices` has no
        NaN (unpriced cells are 0, `Market.marks_or_zero`), so the product needs no mask.
        """
        out: np.ndarray
        if finite:
            out = np.multiply(self.shares, prices)
        else:
            out = np.zeros(self.shares.shape)
            np.multiply(self.shares, prices, out=out, where=self.shares != 0)
        out /= self.equity[:, None]
        return out


def validate(inp: EngineInput) -> None:
    """Check every engine input; nanobook fails silently on most bad inputs.

    Raises:
        QtcError: Naming the problem.
    """
    t, n = inp.prices.shape
    if len(inp.dates) != t or len(inp.symbols) != n:
        raise QtcError(f"price panel {inp.prices.shape} does not match dates/symbols")
    if not 0 < inp.initial_cash <= MAX_CASH_USD:
        raise QtcError(f"initial cash {inp.initial_cash} USD is outside (0, {MAX_CASH_USD:g}]")
    if inp.targets.shape != (len(inp.exec_rows), n):
        raise QtcError(f"targets {inp.targets.shape} do not match {len(inp.exec_rows)} rebalances")
    if not np.isfinite(inp.targets).all():
        raise QtcError("target weights contain NaN or inf")
    if (inp.targets < 0).any():
        raise QtcError("negative target weights: qtc backtests are long-only")
    if (inp.targets.sum(axis=1) > 1.0 + 1e-9).any():
        raise QtcError("target weights sum above 1: the engine cannot borrow")
    if len(inp.exec_rows) and (
        np.any(np.diff(inp.exec_rows) <= 0) or inp.exec_rows[0] < inp.first_row
    ):
        raise QtcError("execution rows must be increasing and inside the window")
    with np.errstate(invalid="ignore"):
        lowest = np.nanmin(inp.prices) if np.isfinite(inp.prices).any() else 1.0
    if lowest <= 0:
        raise QtcError("non-positive prices in the panel (check the lake with `qtc data check`)")
    if inp.last_rows is not None and inp.last_rows.shape != (n,):
        raise QtcError(f"last_rows {inp.last_rows.shape} do not match {n} symbols")


def stop_config(stops: StopsSpec | None) -> dict[str, float | int]:
    """Nanobook's `stop_cfg` for a stops spec (empty for none)."""
    if isinstance(stops, FixedStop):
        return {"fixed_stop_pct": float(stops.stop_pct)}
    if isinstance(stops, TrailingStop):
        return {"trailing_stop_pct": float(stops.trail_pct)}
    if isinstance(stops, AtrStop):
        return {"atr_multiple": float(stops.multiple), "atr_period": int(stops.period)}
    return {}


def new_cost_model(costs: CostsSection) -> Any:
    """Nanobook's CostModel in micro-dollar units."""
    import nanobook as nb

    return nb.CostModel(
        commission_bps=float(costs.commission_bps),
        slippage_bps=float(costs.slippage_bps),
        min_commission=round(costs.min_trade_fee * UNITS_PER_USD),
    )


def forward_filled(prices: np.ndarray) -> np.ndarray:
    """Forward-fill each column's NaN with its last price (leading NaN stay NaN).

    Only columns with a gap after their first price are touched. A column whose only gap
    is at its end (a symbol whose data ended: most of them) gets its last price written
    over that tail; a column with a gap inside takes, on each row, the row of its last
    finite price so far (a running maximum).
    """
    filled = prices.copy()
    valid = np.isfinite(prices)
    t = len(prices)
    first = _first_true_rows(valid)
    last = t - 1 - _first_true_rows(valid[::-1])
    priced = valid[first, np.arange(prices.shape[1])]
    inside = priced & (np.count_nonzero(valid, axis=0) < last - first + 1)
    for col in np.flatnonzero(priced & ~inside & (last < t - 1)).tolist():
        filled[last[col] + 1 :, col] = prices[last[col], col]
    cols = np.flatnonzero(inside)
    if cols.size:
        part = valid[:, cols]
        rows = np.where(part, np.arange(t)[:, None], 0)
        np.maximum.accumulate(rows, axis=0, out=rows)
        gathered = np.take_along_axis(prices[:, cols], rows, axis=0)
        seen = np.arange(t)[:, None] >= first[cols]
        filled[:, cols] = np.where(~part & seen, gathered, prices[:, cols])
    return filled


def last_priced_rows(prices: np.ndarray) -> np.ndarray:
    """Row of each column's last finite price (-1 if none)."""
    valid = np.isfinite(prices)
    t = prices.shape[0]
    last = t - 1 - _first_true_rows(valid[::-1])
    return np.where(valid.any(axis=0), last, -1)


def _first_true_rows(valid: np.ndarray, block: int = 64) -> np.ndarray:
    """`np.argmax(valid, axis=0)`: each column's first True row (0 if none).

    Scanned in blocks of rows, each over the columns not found yet: most columns are found
    in the first block, and a row-ordered panel is read row by row instead of down each
    column (which is what makes `argmax(axis=0)` slow on it).
    """
    out = np.zeros(valid.shape[1], dtype=np.intp)
    todo = np.arange(valid.shape[1])
    for start in range(0, len(valid), block):
        part = valid[start : start + block][:, todo]
        hit = part.any(axis=0)
        out[todo[hit]] = start + np.argmax(part[:, hit], axis=0)
        todo = todo[~hit]
        if not todo.size:
            break
    return out


def aliases(n: int) -> list[str]:
    """Short engine symbols (`s0`, `s1`, ...): nanobook allows at most 8 bytes."""
    return [f"s{j}" for j in range(n)]


def _units(usd: float) -> int:
    """USD to nanobook integer units (micro-dollars)."""
    return round(float(usd) * UNITS_PER_USD)
