"""The daily-bar path, for strategies with stops (nanobook's `stop_cfg`).

nanobook checks stops on closes after the rebalance and exits at that close,
so every trading day must be a period. To keep it fast, each day's bar list
holds only the names that are held or targeted around that day (not the
whole universe). Rebalances use `FillPolicy.NextBarOpen` with a
`fill_schedule` whose bar on the execution day carries that day's close as
its open: the trade happens at the execution close, and weights on other days
are ignored, so a stopped name stays out until the next rebalance.

`max_drawdown_pct` works as in the event-driven path (`portfolio`): after a
breach seen at a close, everything is sold at the next close and the book
stays in cash until the next rebalance (the run is repeated with that exit inserted; nanobook is
deterministic, so everything before it is unchanged).

nanobook returns post-trade weights but no quantities or fills. Shares are
derived from those weights only on the days nanobook traded (rebalance
executions, stops, drawdown exits) and carried unchanged on every other day;
traded notional and costs are therefore non-zero on those days only.

Differences from the event-driven path (documented conventions):

* a held symbol whose data ends keeps its last price until the next
  rebalance, where it is sold at that price;
* on a day with both a rebalance and a stop, the traded notional is that
  day's net share change: a stopped name that the rebalance traded just
  before the stop sold it at the same close counts once, as its holding
  going to zero; the cost is what was really paid.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from qtc.errors import QtcError
from qtc.pipeline.engine.common import (
    MICRO_SHARES,
    UNITS_PER_USD,
    EngineInput,
    EngineResult,
    aliases,
    new_cost_model,
    stop_config,
)


def run_daily(inp: EngineInput, marks: np.ndarray) -> EngineResult:
    """Run the schedule on daily bars with nanobook's stops; mark equity from its curve.

    The garbage collector is paused meanwhile: the bars and nanobook's result are millions
    of small objects, none of them in cycles, and collecting while they are made only costs
    time (a third of the run).

    Args:
        inp: Prices, targets and trading rules.
        marks: `forward_filled(inp.prices)`, already computed by the caller.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _run_daily(inp, marks)
    finally:
        if paused:
            gc.enable()


def _run_daily(inp: EngineInput, marks: np.ndarray) -> EngineResult:
    """`run_daily` with the collector paused."""
    import nanobook as nb

    units = np.where(np.isfinite(marks), np.rint(marks * UNITS_PER_USD), 0).astype(np.int64)
    names = aliases(len(inp.symbols))
    relevant = _relevant(inp)
    bars = _bars(nb, units, names, relevant, inp.first_row)
    weights, dropped = _schedule(inp, units, names)
    execution = sorted(int(r) - inp.first_row for r in inp.exec_rows)
    trading = set(execution)
    fills = [bars[d] if d in trading else [] for d in range(len(bars))]
    exits: list[int] = []
    while True:
        result = _simulate(
            nb, inp, bars, _with_exits(weights, exits), _with_exits(fills, exits, bars)
        )
        breach = _first_breach(result["equity_curve"], execution, exits, inp.max_drawdown_pct)
        if breach is None:
            break
        exits.append(breach + 1)
    out = _result(inp, marks, units, result, dropped, exits)
    for d in exits:
        out.events.append({"date": str(inp.dates[inp.first_row + d]), "kind": "drawdown_exit"})
    out.events.sort(key=lambda e: e.get("date", ""))
    return out


def _with_exits(
    schedule: list[list[Any]], exits: list[int], bars: list[list[Any]] | None = None
) -> list[list[Any]]:
    """A weight (bars None: go flat) or fill schedule (trade at that close) with exit days."""
    out = list(schedule)
    for d in exits:
        out[d] = [] if bars is None else bars[d]
    return out


def _first_breach(
    curve: list[int], execution: list[int], exits: list[int], limit: float | None
) -> int | None:
    """First day, after the last exit's re-entry, whose equity is `limit` below its peak.

    The peak runs from the first rebalance (or the first rebalance after the last exit).
    A breach on the day before a rebalance is not acted on (the rebalance comes anyway).
    """
    if limit is None or not execution:
        return None
    equity = np.asarray(curve[1:], dtype=float)
    after = [e for e in execution if not exits or e > exits[-1]]
    if not after:
        return None
    start = after[0]
    running = np.maximum.accumulate(equity[start:])
    for offset in np.flatnonzero(equity[start:] < running * (1.0 - limit)):
        day = start + int(offset)
        nxt = next((e for e in execution if e > day), len(equity))
        if day + 1 < nxt:
            return day
    return None


def _simulate(
    nb: Any,
    inp: EngineInput,
    bars: list[list[Any]],
    weights: list[list[Any]],
    fills: list[list[Any]],
) -> dict[str, Any]:
    """One nanobook run on daily bars; a short or empty result is an error."""
    result: dict[str, Any] = nb.backtest_weights(
        weights,
        bars,
        round(inp.initial_cash * UNITS_PER_USD),
        new_cost_model(inp.costs),
        nb.FillPolicy.NextBarOpen,
        quantity_step=MICRO_SHARES if inp.fractional else None,
        min_order_value=round(inp.min_order_value * UNITS_PER_USD) or None,
        no_trade_band_bps=inp.no_trade_band_bps or None,
        stop_cfg=stop_config(inp.stops),
        fill_schedule=fills,
    )
    days = len(inp.dates) - inp.first_row
    if len(result["returns"]) != days or len(result["equity_curve"]) != days + 1:
        raise QtcError("nanobook returned a short result on daily bars (invalid input)")
    return result


def _relevant(inp: EngineInput) -> list[np.ndarray]:
    """Columns needing a bar on each window day: held or targeted around it."""
    days = len(inp.dates) - inp.first_row
    out: list[np.ndarray] = [np.zeros(0, np.int64)] * days
    rows = [int(r) for r in inp.exec_rows]
    # With a no-trade band or a minimum order, nanobook may keep a position that a rebalance
    # dropped; such a name still needs a bar, so keep every name targeted so far.
    sticky = bool(inp.no_trade_band_bps or inp.min_order_value)
    seen = np.zeros(0, np.int64)
    for k, row in enumerate(rows):
        now = np.flatnonzero(inp.targets[k])
        before = np.flatnonzero(inp.targets[k - 1]) if k else np.zeros(0, np.int64)
        if sticky:
            seen = np.union1d(seen, now)
            now = before = seen
        nxt = rows[k + 1] if k + 1 < len(rows) else len(inp.dates)
        out[row - inp.first_row] = np.union1d(now, before)
        for t in range(row + 1, nxt):
            out[t - inp.first_row] = now
    return out


def _bars(
    nb: Any, units: np.ndarray, names: list[str], relevant: list[np.ndarray], first: int
) -> list[list[tuple[str, Any]]]:
    """Per day, `(alias, BarPrices)` for the relevant names (close used for o/h/l/c)."""
    bar = nb.BarPrices
    out = []
    for d, cols in enumerate(relevant):
        prices = units[first + d, cols].tolist()
        out.append(
            [
                (names[j], bar(p, p, p, p))
                for j, p in zip(cols.tolist(), prices, strict=True)
                if p > 0
            ]
        )
    return out


def _schedule(
    inp: EngineInput, units: np.ndarray, names: list[str]
) -> tuple[list[list[tuple[str, float]]], list[str]]:
    """Target weights per day (only execution days carry them) and unpriced targets.

    The fill bar of an execution day is that day's bar list, whose open is the close.
    """
    days = len(inp.dates) - inp.first_row
    weights: list[list[tuple[str, float]]] = [[] for _ in range(days)]
    dropped: list[str] = []
    previous = np.zeros(len(names))
    for k, row in enumerate(int(r) for r in inp.exec_rows):
        target = inp.targets[k]
        priced = np.isfinite(inp.prices[row]) & (units[row] > 0)
        dropped += [inp.symbols[j] for j in np.flatnonzero((target != 0) & ~priced)]
        cols = np.flatnonzero((target != 0) & priced)
        order = cols[np.argsort(target[cols] - previous[cols], kind="stable")]
        d = row - inp.first_row
        weights[d] = [(names[j], float(target[j])) for j in order]
        previous = np.where(priced, target, 0.0)
    return weights, dropped


def _result(
    inp: EngineInput,
    marks: np.ndarray,
    units: np.ndarray,
    result: dict[str, Any],
    dropped: list[str],
    exits: list[int],
) -> EngineResult:
    """Equity, shares, traded notional, costs and events from nanobook's daily output.

    Shares change only on the days nanobook traded (see `_holdings`). Traded notional is
    the share change at the close; the cost of a trade day is the equity it lost there:
    yesterday's equity marked to today's engine prices, minus today's equity.
    """
    first = inp.first_row
    equity = np.asarray(result["equity_curve"][1:], dtype=float) / UNITS_PER_USD
    prices = units[first:] / UNITS_PER_USD
    index = {a: j for j, a in enumerate(aliases(len(inp.symbols)))}
    shares, changed = _holdings(inp, prices, equity, result, exits, index)
    traded, moved = _traded(shares, marks[first:], changed)
    drift = np.zeros(len(equity))
    drift[1:] = (shares[:-1] * np.diff(prices, axis=0)).sum(axis=1)
    pre_trade = np.concatenate([[inp.initial_cash], equity[:-1]]) + drift
    out = EngineResult(
        equity=equity,
        shares=shares,
        traded_notional=traded,
        costs_paid=np.where(moved, np.maximum(pre_trade - equity, 0.0), 0.0),
    )
    for k, row in enumerate(int(r) for r in inp.exec_rows):
        out.events.append(
            {
                "date": str(inp.dates[row]),
                "kind": "rebalance",
                "names": int((inp.targets[k] != 0).sum()),
            }
        )
    for stop in result["stop_events"]:
        out.events.append(
            {
                "date": str(inp.dates[first + int(stop["period_index"])]),
                "kind": "stop",
                "symbol": inp.symbols[index[stop["symbol"]]],
                "reason": stop["reason"],
                "exit_price": stop["exit_price"] / UNITS_PER_USD,
            }
        )
    if dropped:
        out.events.append({"kind": "unpriced_targets", "symbols": sorted(set(dropped))})
    out.events.sort(key=lambda e: e.get("date", ""))
    return out


def _traded(
    shares: np.ndarray, marks: np.ndarray, changed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Traded notional per day and whether any holding moved, (D,) each.

    Shares change only on `changed` rows, so only those rows are compared and priced;
    every other day trades nothing.
    """
    traded = np.zeros(len(shares))
    moved = np.zeros(len(shares), dtype=bool)
    if changed.size:
        before = np.zeros((changed.size, shares.shape[1]))
        later = changed > 0
        before[later] = shares[changed[later] - 1]
        now = shares[changed]
        moved[changed] = (now != before).any(axis=1)
        traded[changed] = (np.abs(now - before) * np.nan_to_num(marks[changed])).sum(axis=1)
    return traded, moved


def _holdings(
    inp: EngineInput,
    prices: np.ndarray,
    equity: np.ndarray,
    result: dict[str, Any],
    exits: list[int],
    index: dict[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Shares held at each close, (D, N), changed only on the days nanobook traded.

    nanobook returns no quantities, only post-trade weights. A rebalance or drawdown exit
    day re-derives every holding from them (weight x equity / engine price, snapped to
    nanobook's share grid); a stop day re-derives only the stopped names; every other day
    carries the previous close's shares, so float noise never shows up as a trade.

    `index` maps nanobook's symbol aliases to columns.

    Returns:
        The shares, and the days nanobook traded (the only rows where they can change).
    """
    stopped: dict[int, list[int]] = {}
    for stop in result["stop_events"]:
        stopped.setdefault(int(stop["period_index"]), []).append(index[stop["symbol"]])
    full = {int(r) - inp.first_row for r in inp.exec_rows} | set(exits)
    days = sorted(full | stopped.keys())
    derived = _derived(inp, prices, equity, [result["holdings"][d] for d in days], days, index)
    shares = np.zeros((len(equity), len(inp.symbols)))
    held = np.zeros(len(inp.symbols))
    for k, d in enumerate(days):
        if d in full:
            held = derived[k]
        else:
            cols = sorted(set(stopped[d]))
            held = held.copy()
            held[cols] = derived[k][cols]
        shares[d : days[k + 1] if k + 1 < len(days) else len(equity)] = held
    return shares, np.asarray(days, dtype=np.int64)


def _derived(
    inp: EngineInput,
    prices: np.ndarray,
    equity: np.ndarray,
    holdings: list[list[tuple[str, float]]],
    days: list[int],
    index: dict[str, int],
) -> np.ndarray:
    """Shares implied by nanobook's post-trade weights on each of `days`, (len(days), N).

    weight x equity / engine price, snapped to nanobook's grid (micro-shares or whole
    shares); names absent from a day's holdings are 0.
    """
    counts = [len(h) for h in holdings]
    pairs = [pair for h in holdings for pair in h]
    cols = np.array([index[a] for a, _ in pairs], dtype=np.int64)
    weights = np.array([w for _, w in pairs], dtype=float)
    rows = np.repeat(np.arange(len(days)), counts)
    at = np.asarray(days, dtype=np.int64)[rows]
    values = weights * equity[at] / prices[at, cols]
    values = np.round(values, 6) if inp.fractional else np.round(values)
    out = np.zeros((len(days), len(inp.symbols)))
    out[rows, cols] = values
    return out
