"""The engine adapter: the only module that imports nanobook for execution.

nanobook executes every trade and charges every cost: a `nanobook.Portfolio`
is driven event by event (rebalances, liquidations of symbols whose data ends,
drawdown exits). Between events holdings are constant, so daily equity is
marked here from the executed holdings (cash + shares x close), which is exact
and avoids building a bar for every symbol and day.

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

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtc.errors import QtcError
from qtc.manifest.stops import StopsSpec
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

    def weights(self, prices: np.ndarray) -> np.ndarray:
        """End-of-day weights (fraction of equity), (D, N), from shares and marks."""
        value = np.nan_to_num(self.shares * prices)
        out: np.ndarray = value / self.equity[:, None]
        return out


class _Book:
    """A nanobook Portfolio plus the bookkeeping the adapter needs."""

    def __init__(self, inp: EngineInput) -> None:
        import nanobook as nb

        self.inp = inp
        self.alias = aliases(len(inp.symbols))
        self.index = {a: j for j, a in enumerate(self.alias)}
        self.portfolio = nb.Portfolio(
            round(inp.initial_cash * UNITS_PER_USD),
            new_cost_model(inp.costs),
            quantity_step=MICRO_SHARES if inp.fractional else None,
            min_order_value=_units(inp.min_order_value) if inp.min_order_value else None,
            no_trade_band_bps=inp.no_trade_band_bps or None,
        )
        self.shares = np.zeros(len(inp.symbols))
        self.peak: float | None = None

    def equity_at(self, marks: np.ndarray) -> float:
        """Equity in USD at the given marks (NaN marks count as zero value)."""
        held = self.shares != 0
        value = float(np.dot(self.shares[held], marks[held]))
        return float(self.portfolio.cash) / UNITS_PER_USD + value

    def equity_in_units(self, marks: np.ndarray) -> float:
        """Equity at marks rounded to engine units, as nanobook values it when trading."""
        held = self.shares != 0
        units = np.rint(marks[held] * UNITS_PER_USD) / UNITS_PER_USD
        return float(self.portfolio.cash) / UNITS_PER_USD + float(np.dot(self.shares[held], units))

    def trade(self, weights: dict[int, float], marks: np.ndarray) -> tuple[float, float]:
        """Rebalance to `weights` (column -> weight) at `marks`; return (notional, cost) in USD."""
        before_equity = self.equity_at(marks)
        before_units = self.equity_in_units(marks)
        before = self.shares.copy()
        held = np.flatnonzero(before)
        value = (before[held] * marks[held] / before_equity).tolist()
        current = dict(zip(held.tolist(), value, strict=True))
        order = sorted(weights, key=lambda j: weights[j] - current.get(j, 0.0))
        targets = [(self.alias[j], float(weights[j])) for j in order]
        priced = {int(j) for j in np.flatnonzero(before != 0)} | set(weights)
        bars = [(self.alias[j], _units(marks[j])) for j in sorted(priced)]
        self.portfolio.rebalance_simple(targets, bars)
        self._read_positions(priced)
        moved = np.flatnonzero(self.shares != before)
        notional = float(np.abs(self.shares[moved] - before[moved]) @ marks[moved])
        # Costs are what the trade took out of equity at the prices nanobook traded at
        # (engine units): commission + slippage, never negative (float dust clipped).
        return notional, max(0.0, before_units - self.equity_in_units(marks))

    def current_weights(self, marks: np.ndarray) -> dict[int, float]:
        """Current weights by column, computed by nanobook at these marks."""
        held = np.flatnonzero(self.shares != 0)
        if held.size == 0:
            return {}
        bars = [(self.alias[j], _units(marks[j])) for j in held]
        return {self.index[s]: w for s, w in self.portfolio.current_weights(bars)}

    def _read_positions(self, touched: set[int]) -> None:
        """Refresh the shares of the symbols a trade touched from nanobook's positions."""
        for j in touched:
            pos = self.portfolio.position(self.alias[j])
            self.shares[j] = pos.quantity if pos is not None else 0.0


def run_engine(inp: EngineInput, marks: np.ndarray | None = None) -> EngineResult:
    """Execute the target schedule in nanobook and mark equity daily.

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
        from qtc.pipeline.engine_daily import run_daily

        return run_daily(inp, marks)
    last_row = last_priced_rows(inp.prices)
    book = _Book(inp)
    days = len(inp.dates) - inp.first_row
    out = EngineResult(
        equity=np.full(days, np.nan),
        shares=np.zeros((days, len(inp.symbols))),
        traded_notional=np.zeros(days),
        costs_paid=np.zeros(days),
    )
    _mark(book, out, marks, inp.first_row, int(inp.exec_rows[0]) if len(inp.exec_rows) else None)
    rows = [int(r) for r in inp.exec_rows]
    for k, row in enumerate(rows):
        nxt = rows[k + 1] if k + 1 < len(rows) else len(inp.dates)
        _rebalance(book, out, marks, row, inp.targets[k])
        _hold(book, out, marks, last_row, row, nxt)
    if np.isnan(out.equity).any():
        raise QtcError("engine produced no equity for some days (a bug in qtc's adapter)")
    return out


def _rebalance(
    book: _Book,
    out: EngineResult,
    marks: np.ndarray,
    row: int,
    target: np.ndarray,
) -> None:
    """Trade to one rebalance's targets at the close of `row`."""
    inp = book.inp
    priced = np.isfinite(inp.prices[row])
    wanted = np.flatnonzero(target != 0)
    dropped = [inp.symbols[j] for j in wanted if not priced[j]]
    weights = {int(j): float(target[j]) for j in wanted if priced[j]}
    notional, cost = book.trade(weights, marks[row])
    _record(book, out, marks, inp.first_row, row, notional, cost)
    equity = float(out.equity[row - inp.first_row])
    book.peak = equity if book.peak is None else max(book.peak, equity)
    event: dict[str, Any] = {
        "date": str(inp.dates[row]),
        "kind": "rebalance",
        "names": len(weights),
    }
    if dropped:
        event["unpriced_targets"] = dropped
    out.events.append(event)


def _hold(
    book: _Book, out: EngineResult, marks: np.ndarray, last_row: np.ndarray, row: int, nxt: int
) -> None:
    """Mark days row+1 .. nxt-1, liquidating ended symbols and handling drawdown exits."""
    start = row + 1
    while start < nxt:
        held = np.flatnonzero(book.shares != 0)
        ends = [int(last_row[j]) for j in held if start - 1 <= last_row[j] < nxt - 1]
        stop = min([*ends, nxt - 1])
        breach, book.peak = _mark(book, out, marks, start, stop + 1, peak=book.peak)
        if breach is not None and breach + 1 < nxt:
            _exit_all(book, out, marks, breach + 1, "drawdown_exit")
            _mark(book, out, marks, breach + 2, nxt)
            book.peak = None
            return
        if stop < nxt - 1:
            _liquidate_ended(book, out, marks, last_row, stop)
        start = stop + 1


def _mark(
    book: _Book,
    out: EngineResult,
    marks: np.ndarray,
    start: int,
    stop: int | None,
    *,
    peak: float | None = None,
) -> tuple[int | None, float | None]:
    """Mark equity on rows [start, stop) with constant holdings; find a drawdown breach."""
    inp = book.inp
    stop = len(inp.dates) if stop is None else stop
    if stop <= start:
        return None, peak
    held = np.flatnonzero(book.shares != 0)
    value = marks[start:stop][:, held] @ book.shares[held] if held.size else 0.0
    equity = book.portfolio.cash / UNITS_PER_USD + value
    rows = slice(start - inp.first_row, stop - inp.first_row)
    out.equity[rows] = equity
    out.shares[rows] = book.shares
    if inp.max_drawdown_pct is None or peak is None or held.size == 0:
        return None, peak
    running = np.maximum.accumulate(np.maximum(np.atleast_1d(equity), peak))
    hit = np.flatnonzero(np.atleast_1d(equity) < running * (1.0 - inp.max_drawdown_pct))
    if hit.size:
        return start + int(hit[0]), float(running[hit[0]])
    return None, float(running[-1])


def _liquidate_ended(
    book: _Book, out: EngineResult, marks: np.ndarray, last_row: np.ndarray, row: int
) -> None:
    """Sell every held symbol whose last priced bar is `row`, at that close."""
    inp = book.inp
    ending = [j for j in np.flatnonzero(book.shares != 0) if last_row[j] == row]
    keep = {j: w for j, w in book.current_weights(marks[row]).items() if j not in ending}
    notional, cost = book.trade(keep, marks[row])
    _record(book, out, marks, inp.first_row, row, notional, cost)
    for j in ending:
        out.events.append(
            {"date": str(inp.dates[row]), "kind": "data_ended", "symbol": inp.symbols[j]}
        )


def _exit_all(book: _Book, out: EngineResult, marks: np.ndarray, row: int, kind: str) -> None:
    """Sell everything at the close of `row`."""
    notional, cost = book.trade({}, marks[row])
    _record(book, out, marks, book.inp.first_row, row, notional, cost)
    out.events.append({"date": str(book.inp.dates[row]), "kind": kind})


def _record(
    book: _Book,
    out: EngineResult,
    marks: np.ndarray,
    first_row: int,
    row: int,
    notional: float,
    cost: float,
) -> None:
    """Store the post-trade state of one trading day."""
    i = row - first_row
    out.equity[i] = book.equity_at(marks[row])
    out.shares[i] = book.shares
    out.traded_notional[i] += notional
    out.costs_paid[i] += cost


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


def stop_config(stops: StopsSpec | None) -> dict[str, float | int]:
    """Nanobook's `stop_cfg` for a stops spec (empty for none)."""
    kind = getattr(stops, "kind", "none")
    if kind == "fixed":
        return {"fixed_stop_pct": float(stops.stop_pct)}  # type: ignore[union-attr]
    if kind == "trailing":
        return {"trailing_stop_pct": float(stops.trail_pct)}  # type: ignore[union-attr]
    if kind == "atr":
        return {
            "atr_multiple": float(stops.multiple),  # type: ignore[union-attr]
            "atr_period": int(stops.period),  # type: ignore[union-attr]
        }
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
    """Forward-fill each column's NaN with its last price (leading NaN stay NaN)."""
    filled = prices.copy()
    valid = np.isfinite(prices)
    gaps = ~valid & np.logical_or.accumulate(valid, axis=0)
    for t in np.flatnonzero(gaps.any(axis=1)):
        cols = gaps[t]
        filled[t, cols] = filled[t - 1, cols]
    return filled


def last_priced_rows(prices: np.ndarray) -> np.ndarray:
    """Row of each column's last finite price (-1 if none)."""
    valid = np.isfinite(prices)
    t = prices.shape[0]
    last = t - 1 - np.argmax(valid[::-1], axis=0)
    return np.where(valid.any(axis=0), last, -1)


def aliases(n: int) -> list[str]:
    """Short engine symbols (`s0`, `s1`, ...): nanobook allows at most 8 bytes."""
    return [f"s{j}" for j in range(n)]


def _units(usd: float) -> int:
    """USD to nanobook integer units (micro-dollars)."""
    return round(float(usd) * UNITS_PER_USD)
