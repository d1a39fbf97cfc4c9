"""What a run held, computed once when its artifact is written (run artifact schema 2).

A run's end-of-day weights and shares are (D, N) matrices: D trading days, N names. Writing
them out per day and held name gives millions of rows for a broad portfolio (an equal weight
of ~500 names over 19 years: 2.3 M rows, 18 MB). Artifact schema 2 stores instead:

* `weights.parquet`, **the book on the days it changes**: for every date on which the shares
  of some name change, and for the run's last date, one row per name held at that close
  (`date`, `symbol`, `sector`, `weight`, `shares`), plus a row with weight and shares 0 for
  each name sold out that day. Shares stay constant until a name's next row (its weight
  drifts with prices in between), so a name's position on any day is its last row on or
  before that day.
* `exposure.parquet`, one row per trading day: `gross` (sum of the absolute weights), `net`
  (sum of the weights) and `names` (how many are held at the close).
* `sectors.parquet`, one row per trading day and sector (every sector of a name held during
  the run, sorted): `weight` (sum of its names' weights) and `names` (how many are held).
* `holdings.parquet`, one row per name held at some close, sorted by symbol: `days_held`,
  `average_weight` (over all D days, 0 when not held), `held_weight` (average on the days
  held) and `contribution` (below).

Sectors that are missing ("", None, "None") are labelled "Unknown". Weights are end of day:
shares x close / equity.

**Contribution** (fractions of equity, arithmetic, not compounded): a name's close is
p_t = w_t E_t / q_t, its daily return r_t = p_t / p_{t-1} - 1 where it is held at both
closes, and its contribution is the sum over days of w_{t-1} r_t. A name sold out completely
on day t also gets w_{t-1} (exit / p_{t-1} - 1), exit = the stop's `exit_price` for a stop,
else that day's close (the price of the sale in trades.parquet). Since
r_t = sum_i w_{i,t-1} r_{i,t} - costs_t / E_{t-1}, the contributions add up to the sum of
the daily returns plus the cost drag, up to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

F64 = npt.NDArray[np.float64]
UNKNOWN_SECTOR = "Unknown"


@dataclass(frozen=True)
class Held:
    """The names held at some close, sorted by symbol, as dense (D, n) matrices.

    Attributes:
        symbols: The n names, sorted.
        sectors: Their sector labels ("Unknown" when missing).
        columns: Each name's column in the run's (D, N) arrays.
        weights: End-of-day weights, 0 where not held.
        shares: End-of-day shares, 0 where not held.
        held: Where shares are not 0.
    """

    symbols: list[str]
    sectors: list[str]
    columns: npt.NDArray[np.intp]
    weights: F64
    shares: F64
    held: npt.NDArray[np.bool_]


def sector_label(sector: Any) -> str:
    """A sector as shown and stored: "Unknown" when missing."""
    return UNKNOWN_SECTOR if sector in (None, "", "None") else str(sector)


def held_names(symbols: Sequence[str], sectors: Sequence[Any], weights: F64, shares: F64) -> Held:
    """Restrict a run's (D, N) weights and shares to the names held at some close."""
    found = np.flatnonzero((shares != 0).any(axis=0)).tolist()
    cols = np.array(sorted(found, key=lambda c: symbols[c]), dtype=np.intp)
    # np.take gives C order, which matters: numpy's row sums (exposure, sectors) are
    # pairwise on C order and round differently on the F order of `shares[:, cols]`.
    q = np.take(shares, cols, axis=1)
    held = q != 0
    return Held(
        symbols=[symbols[c] for c in cols],
        sectors=[sector_label(sectors[c]) for c in cols],
        columns=cols,
        weights=np.where(held, np.take(weights, cols, axis=1), 0.0),
        shares=np.where(held, q, 0.0),
        held=held,
    )


# ---------------------------------------------------------------------------- contribution


def contributions(
    h: Held,
    dates: np.ndarray,
    equity: F64,
    stops: Sequence[dict[str, Any]],
    closes: F64,
) -> F64:
    """Contribution per held name (see the module docstring), in `h.symbols` order.

    Args:
        h: The held names.
        dates: The run's dates, (D,), `datetime64[D]`.
        equity: End-of-day equity, (D,).
        stops: The run's stop events (`symbol`, `date`, `exit_price`).
        closes: The run's (D, N) closes; a sale's price is the day's close.
    """
    out = _daily_contribution(h, equity)
    done = _stop_exits(h, dates, equity, stops, out)
    _sale_exits(h, equity, closes, out, done)
    return out


def _stop_exits(
    h: Held, dates: np.ndarray, equity: F64, stops: Sequence[dict[str, Any]], out: F64
) -> set[tuple[int, int]]:
    """Add the exit day of names a stop sold out, at its `exit_price`; return those cells."""
    done: set[tuple[int, int]] = set()
    for event in stops:
        symbol = str(event.get("symbol"))
        col = int(np.searchsorted(h.symbols, symbol))
        if event.get("exit_price") is None or col >= len(h.symbols) or h.symbols[col] != symbol:
            continue
        row = int(np.searchsorted(dates, np.datetime64(str(event["date"]), "D")))
        _add_exit(h, out, equity, (row, col), float(event["exit_price"]), done)
    return done


def _sale_exits(h: Held, equity: F64, closes: F64, out: F64, done: set[tuple[int, int]]) -> None:
    """Add the exit day of names sold out at the close (a sale in trades.parquet).

    Added name by name in date order, after the stops' (`np.add.at` is sequential), so the
    sums are those of adding one exit at a time.
    """
    rows, cols = np.nonzero((h.shares[:-1] > 1e-12) & ~h.held[1:])
    rows = rows + 1
    if done:
        cells = zip(rows.tolist(), cols.tolist(), strict=True)
        fresh = np.array([cell not in done for cell in cells], dtype=bool)
        rows, cols = rows[fresh], cols[fresh]
    weight = h.weights[rows - 1, cols]
    prev = weight * equity[rows - 1] / h.shares[rows - 1, cols]
    price = closes[rows, h.columns[cols]]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(price) & (price > 0) & (prev > 0)
    np.add.at(out, cols[ok], weight[ok] * (price[ok] / prev[ok] - 1.0))


def _daily_contribution(h: Held, equity: F64) -> F64:
    """Sum over days of w_{t-1} r_t per name, r from p_t = w_t E_t / q_t (both days held).

    Computed only on the (day, name) pairs held at both closes. The per-name sums are
    `np.bincount` in day order, which adds sequentially, as numpy's column sum of a
    C-ordered (D, n) matrix does for n >= 2 (the zeros of the other days change nothing),
    so the figures are bit for bit those of the dense sum. One name: numpy's sum is then
    pairwise, so the dense form is kept.
    """
    n = len(h.symbols)
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return _dense_contribution(h, equity)
    rows, cols = np.nonzero(h.held[1:] & h.held[:-1])
    now = rows + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        price = h.weights[now, cols] * equity[now] / h.shares[now, cols]
        before = h.weights[rows, cols] * equity[rows] / h.shares[rows, cols]
        ret = price / before - 1.0
    values = np.where(np.isfinite(ret), h.weights[rows, cols] * ret, 0.0)
    out: F64 = np.bincount(cols, weights=values, minlength=n).astype(np.float64, copy=False)
    return out


def _dense_contribution(h: Held, equity: F64) -> F64:
    """`_daily_contribution` over the whole (D, n) matrices."""
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(h.held, h.weights * equity[:, None] / h.shares, np.nan)
        ret = price[1:] / price[:-1] - 1.0
    contrib = np.where(np.isfinite(ret), h.weights[:-1] * ret, 0.0)
    out: F64 = contrib.sum(axis=0)
    return out


def _add_exit(
    h: Held,
    out: F64,
    equity: F64,
    cell: tuple[int, int],
    price: float,
    done: set[tuple[int, int]],
) -> None:
    """Add one exit-day move (once per day and name; only for a name sold out that day)."""
    row, col = cell
    if not 0 < row < equity.size or cell in done:
        return
    if h.held[row, col] or not h.held[row - 1, col]:
        return
    prev = h.weights[row - 1, col] * equity[row - 1] / h.shares[row - 1, col]
    if math.isfinite(price) and price > 0 and prev > 0:
        out[col] += h.weights[row - 1, col] * (price / prev - 1.0)
        done.add(cell)


# ---------------------------------------------------------------------------- tables


def date_column(values: np.ndarray) -> pl.Series:
    """A polars Date series from datetime64 values."""
    return pl.Series(values.astype("datetime64[D]")).cast(pl.Date)


def name_column(names: list[str], cols: np.ndarray) -> pl.Series:
    """`names[cols]` as a String column, gathered by polars (no Python string per row)."""
    return pl.Series(names, dtype=pl.String).gather(cols)


def book_table(h: Held, dates: np.ndarray) -> pl.DataFrame:
    """weights.parquet: the book on each day it changes and on the last day."""
    moved = np.empty(dates.size, dtype=bool)
    moved[0] = h.held[0].any()
    moved[1:] = (h.shares[1:] != h.shares[:-1]).any(axis=1)
    moved[-1] = True  # the last date is always listed
    days = np.flatnonzero(moved)
    before = np.zeros((days.size, len(h.symbols)))
    later = days > 0
    before[later] = h.shares[days[later] - 1]
    picked, cols = np.nonzero(h.held[days] | (before != 0))  # held, or sold out that day
    rows = days[picked]
    return pl.DataFrame(
        {
            "date": date_column(dates[rows]),
            "symbol": name_column(h.symbols, cols),
            "sector": name_column(h.sectors, cols),
            "weight": h.weights[rows, cols],
            "shares": h.shares[rows, cols],
        }
    )


def exposure_table(h: Held, dates: np.ndarray) -> pl.DataFrame:
    """exposure.parquet: gross and net weight and the number of names held, per day."""
    return pl.DataFrame(
        {
            "date": date_column(dates),
            "gross": np.abs(h.weights).sum(axis=1),
            "net": h.weights.sum(axis=1),
            "names": np.count_nonzero(h.held, axis=1).astype(np.int64),
        }
    )


def sectors_table(h: Held, dates: np.ndarray) -> pl.DataFrame:
    """sectors.parquet: weight and names held per day and sector (sectors sorted)."""
    names = sorted(set(h.sectors))
    d, k = dates.size, len(names)
    weight, count = np.zeros((d, k)), np.zeros((d, k), dtype=np.int64)
    for j, sector in enumerate(names):
        cols = np.array([i for i, s in enumerate(h.sectors) if s == sector], dtype=np.intp)
        weight[:, j] = np.take(h.weights, cols, axis=1).sum(axis=1)
        count[:, j] = np.count_nonzero(np.take(h.held, cols, axis=1), axis=1)
    return pl.DataFrame(
        {
            "date": date_column(np.repeat(dates, k)),
            "sector": name_column(names, np.tile(np.arange(k), d)),
            "weight": weight.ravel(),
            "names": count.ravel(),
        }
    )


def holdings_table(h: Held, contribution: F64) -> pl.DataFrame:
    """holdings.parquet: per held name, days held, average weights and contribution."""
    days = np.count_nonzero(h.held, axis=0).astype(np.int64)
    # each name's column summed as one contiguous row: the same pairwise sum as the
    # column's own `.sum()`, without a Python loop over the names
    total = np.ascontiguousarray(h.weights.T).sum(axis=1)
    held_weight = total / np.maximum(days, 1)
    return pl.DataFrame(
        {
            "symbol": pl.Series(h.symbols, dtype=pl.String),
            "sector": pl.Series(h.sectors, dtype=pl.String),
            "days_held": days,
            "average_weight": h.weights.mean(axis=0),
            "held_weight": held_weight,
            "contribution": contribution,
        }
    )
