"""The event-driven path: a `nanobook.Portfolio` driven rebalance by rebalance.

Used when the strategy has no stops (see the package docstring for the
conventions). Between events holdings are constant, so daily equity is marked
here from the executed holdings (cash + shares x close).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qtc.errors import QtcError
from qtc.pipeline.engine.common import (
    MICRO_SHARES,
    UNITS_PER_USD,
    EngineInput,
    EngineResult,
    _units,
    aliases,
    last_priced_rows,
    new_cost_model,
)


class _Book:
    """A nanobook Portfolio plus the bookkeeping the adapter needs."""

    def __init__(self, inp: EngineInput) -> None:
        import nanobook as nb

        self.inp = inp
        self.names = aliases(len(inp.symbols))
        self.index = {a: j for j, a in enumerate(self.names)}
        self.portfolio = nb.Portfolio(
            round(inp.initial_cash * UNITS_PER_USD),
            new_cost_model(inp.costs),
            quantity_step=MICRO_SHARES if inp.fractional else None,
            min_order_value=_units(inp.min_order_value) if inp.min_order_value else None,
            no_trade_band_bps=inp.no_trade_band_bps or None,
        )
        self.shares = np.zeros(len(inp.symbols))
        self.held = np.zeros(0, dtype=np.int64)
        self.peak: float | None = None

    def equity_at(self, marks: np.ndarray) -> float:
        """Equity in USD at the given marks (NaN marks count as zero value)."""
        held = self.shares != 0
        value = float(np.dot(self.shares[held], marks[held]))
        return float(self.portfolio.cash) / UNITS_PER_USD + value

    def equity_in_units(self, marks: np.ndarray) -> float:
        """Equity at marks rounded to engine units, as nanobook values it when trading."""
        held = self.held
        units = np.rint(marks[held] * UNITS_PER_USD) / UNITS_PER_USD
        return float(self.portfolio.cash) / UNITS_PER_USD + float(np.dot(self.shares[held], units))

    def trade(
        self, cols: np.ndarray, weights: np.ndarray, marks: np.ndarray
    ) -> tuple[float, float]:
        """Rebalance columns `cols` to `weights` at `marks`; return (notional, cost) in USD.

        Targets go smallest weight change first (sells before buys; ties in the order of
        `cols`), with prices for every held or targeted column in column order. Array
        operations throughout: the only per-name Python work is building nanobook's
        input lists and reading its positions back.
        """
        before = self.shares
        held = self.held
        held_shares, held_marks = before[held], marks[held]
        cash = float(self.portfolio.cash) / UNITS_PER_USD
        before_equity = cash + float(np.dot(held_shares, held_marks))
        before_units = self.equity_in_units(marks)
        current = np.zeros(len(before))
        current[held] = held_shares * held_marks / before_equity
        order = np.argsort(weights - current[cols], kind="stable")
        alias = self.names.__getitem__
        targets = list(zip(map(alias, cols[order].tolist()), weights[order].tolist(), strict=True))
        touched = before != 0
        touched[cols] = True
        priced = np.flatnonzero(touched)
        units = np.rint(marks[priced] * UNITS_PER_USD)
        names = list(map(alias, priced.tolist()))
        bars = list(zip(names, units.astype(np.int64).tolist(), strict=True))
        self.portfolio.rebalance_simple(targets, bars)
        after = np.array(self._quantities(names))
        return self._settle(priced, after, units, marks, before_units)

    def sell(self, ending: np.ndarray, marks: np.ndarray) -> tuple[float, float]:
        """Sell the held columns `ending` at `marks`; return (notional, cost) in USD.

        Only the sold names go to nanobook, with no target: `rebalance_simple` sells a
        priced name missing from the targets and cannot trade a name it has no price for,
        so the rest of the book is not touched (and not re-sent: a liquidation costs what
        it sells, not the size of the book). The sold names are read back; if nanobook
        did not place exactly one order per name, each now flat (a sale below the minimum
        order is skipped), the whole book is read back. Not used with a no-trade band,
        which is measured against the equity of the whole book.
        """
        before_units = self.equity_in_units(marks)
        priced = self.held
        units = np.rint(marks[priced] * UNITS_PER_USD)
        alias = self.names.__getitem__
        names = list(map(alias, ending.tolist()))
        sold_units = np.rint(marks[ending] * UNITS_PER_USD).astype(np.int64).tolist()
        self.portfolio.rebalance_simple([], list(zip(names, sold_units, strict=True)))
        sold = self._quantities(names)
        after: np.ndarray
        if self.portfolio.last_rebalance_order_count == ending.size and not any(sold):
            after = self.shares[priced]
            after[np.isin(priced, ending)] = 0.0
        else:
            after = np.array(self._quantities(list(map(alias, priced.tolist()))))
        return self._settle(priced, after, units, marks, before_units)

    def _settle(
        self,
        priced: np.ndarray,
        after: np.ndarray,
        units: np.ndarray,
        marks: np.ndarray,
        before_units: float,
    ) -> tuple[float, float]:
        """Take nanobook's shares `after` for the `priced` columns; (notional, cost) in USD.

        Costs are what the trade took out of equity at the prices nanobook traded at
        (engine units): commission + slippage, never negative (float dust clipped).
        """
        before = self.shares
        self.shares = before.copy()
        self.shares[priced] = after
        self.held = np.flatnonzero(self.shares)
        change = after - before[priced]
        moved = change != 0
        notional = float(np.abs(change[moved]) @ marks[priced][moved])
        kept = after != 0
        after_units = float(self.portfolio.cash) / UNITS_PER_USD + float(
            np.dot(after[kept], units[kept] / UNITS_PER_USD)
        )
        return notional, max(0.0, before_units - after_units)

    def net_scale(self, cols: np.ndarray, weights: np.ndarray, marks: np.ndarray) -> float:
        """V' / V for net sizing: V' = V - sum of fee(w_i V' - h_i), at nanobook's unit prices.

        A buy of value d costs d s + max(min fee, c d (1 + s)), a sell of value d costs
        d s + max(min fee, c d (1 - s)) (slippage moves the fill price; commission is on
        the filled notional). Solved by fixed-point iteration from V' = V (a contraction:
        the fee rate is far below 1).
        """
        costs = self.inp.costs
        c, s = costs.commission_bps / 1e4, costs.slippage_bps / 1e4
        floor = costs.min_trade_fee
        prices = np.rint(marks * UNITS_PER_USD) / UNITS_PER_USD
        target = np.zeros(len(self.shares))
        target[cols] = weights
        touched = (target != 0) | (self.shares != 0)
        held = np.where(self.shares[touched] != 0, self.shares[touched] * prices[touched], 0.0)
        equity = float(self.portfolio.cash) / UNITS_PER_USD + float(held.sum())
        wanted, net = target[touched], equity
        for _ in range(100):
            change = wanted * net - held
            buys, sells = np.maximum(change, 0.0), np.maximum(-change, 0.0)
            fees = (buys + sells) * s
            fees += np.where(buys > 0, np.maximum(floor, c * buys * (1 + s)), 0.0)
            fees += np.where(sells > 0, np.maximum(floor, c * sells * (1 - s)), 0.0)
            solved = equity - float(fees.sum())
            if abs(solved - net) <= 1e-13 * equity:
                return solved / equity
            net = solved
        return net / equity

    def current_weights(self, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Current (columns, weights), computed by nanobook at these marks, in its order."""
        held = self.held
        units = np.rint(marks[held] * UNITS_PER_USD).astype(np.int64).tolist()
        names = list(map(self.names.__getitem__, held.tolist()))
        pairs = self.portfolio.current_weights(list(zip(names, units, strict=True)))
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        found, weights = zip(*pairs, strict=True)
        cols = np.array(list(map(self.index.__getitem__, found)), dtype=np.int64)
        return cols, np.array(weights, dtype=np.float64)

    def _quantities(self, names: list[str]) -> list[float]:
        """Shares nanobook holds now in each named (aliased) symbol, 0 if none."""
        held = map(self.portfolio.position, names)
        return [0.0 if pos is None else pos.quantity for pos in held]


def run_portfolio(inp: EngineInput, marks: np.ndarray) -> EngineResult:
    """Execute the target schedule in a nanobook Portfolio and mark equity daily.

    Args:
        inp: Prices, targets and trading rules, already validated.
        marks: `forward_filled(inp.prices)`, already computed by the caller.

    Returns:
        Daily equity, shares, traded notional, costs and events.

    Raises:
        QtcError: If some day gets no equity (a bug in the adapter).
    """
    last_row = inp.last_rows if inp.last_rows is not None else last_priced_rows(inp.prices)
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
    wanted = np.flatnonzero(target != 0)
    priced = np.isfinite(inp.prices[row, wanted])
    dropped = [inp.symbols[j] for j in wanted[~priced].tolist()]
    cols = wanted[priced]
    weights = target[cols]
    if inp.costs.sizing == "net":
        weights = weights * book.net_scale(cols, weights, marks[row])
    notional, cost = book.trade(cols, weights, marks[row])
    _record(book, out, marks, inp.first_row, row, notional, cost)
    equity = float(out.equity[row - inp.first_row])
    book.peak = equity if book.peak is None else max(book.peak, equity)
    event: dict[str, Any] = {
        "date": str(inp.dates[row]),
        "kind": "rebalance",
        "names": len(cols),
    }
    if dropped:
        event["unpriced_targets"] = dropped
    out.events.append(event)


def _hold(
    book: _Book, out: EngineResult, marks: np.ndarray, last_row: np.ndarray, row: int, nxt: int
) -> None:
    """Mark days row+1 .. nxt-1, liquidating ended symbols and handling drawdown exits.

    Each day's ended names are sold once. A sale nanobook skips (below the minimum order,
    or inside the no-trade band) leaves the name held, marked at its last price, until the
    next rebalance.
    """
    start = row + 1
    since = row  # the first day whose ended names are still to be sold
    while start < nxt:
        ends = last_row[book.held]
        ends = ends[(since <= ends) & (ends < nxt - 1)]
        stop = min(int(ends.min()), nxt - 1) if ends.size else nxt - 1
        breach, book.peak = _mark(book, out, marks, start, stop + 1, peak=book.peak)
        if breach is not None and breach + 1 < nxt:
            _exit_all(book, out, marks, breach + 1, "drawdown_exit")
            _mark(book, out, marks, breach + 2, nxt)
            book.peak = None
            return
        if stop < nxt - 1:
            _liquidate_ended(book, out, marks, last_row, stop)
        start = since = stop + 1


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
    held = book.held
    value = marks[start:stop, held] @ book.shares[held] if held.size else 0.0
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
    """Sell every held symbol whose last priced bar is `row`, at that close.

    Only the ended names are sent (`_Book.sell`); with a no-trade band the whole book is
    re-sent at nanobook's current weights, since the band is measured against its equity.
    """
    inp = book.inp
    ending = book.held[last_row[book.held] == row]
    if inp.no_trade_band_bps:
        cols, weights = book.current_weights(marks[row])
        keep = ~np.isin(cols, ending)
        notional, cost = book.trade(cols[keep], weights[keep], marks[row])
    else:
        notional, cost = book.sell(ending, marks[row])
    _record(book, out, marks, inp.first_row, row, notional, cost)
    for j in ending.tolist():
        out.events.append(
            {"date": str(inp.dates[row]), "kind": "data_ended", "symbol": inp.symbols[j]}
        )


def _exit_all(book: _Book, out: EngineResult, marks: np.ndarray, row: int, kind: str) -> None:
    """Sell everything at the close of `row`."""
    nothing = np.zeros(0, dtype=np.int64)
    notional, cost = book.trade(nothing, np.zeros(0), marks[row])
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
