"""The Parquet files of a run folder, built from a `RunResult` (run artifact schema 2).

* `equity.parquet`: per day, equity, its return, the benchmark close and return, traded
  notional and costs paid.
* `weights.parquet`, `exposure.parquet`, `sectors.parquet`, `holdings.parquet`: what was
  held (the book on the days it changes, exposure per day, weight per day and sector, a
  summary per name); see `qtc.outputs.holdings`.
* `targets.parquet`: target weights per rebalance (signal and execution dates; non-zero only).
* `trades.parquet`: share changes per day (side, shares, the day's close as price, notional).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from qtc.outputs.holdings import (
    book_table,
    contributions,
    date_column,
    exposure_table,
    held_names,
    holdings_table,
    name_column,
    sectors_table,
)

if TYPE_CHECKING:
    from qtc.pipeline.runner import RunResult


def run_tables(r: RunResult) -> dict[str, pl.DataFrame]:
    """Every Parquet file of the run folder, by file name."""
    dates = r.dates.astype("datetime64[D]")
    held = held_names(r.symbols, r.sectors, r.weights, r.shares)
    stops = [e for e in r.events if e.get("kind") == "stop"]
    contribution = contributions(held, dates, r.equity, stops, r.closes)
    return {
        "equity.parquet": equity_table(r),
        "exposure.parquet": exposure_table(held, dates),
        "holdings.parquet": holdings_table(held, contribution),
        "sectors.parquet": sectors_table(held, dates),
        "targets.parquet": targets_table(r),
        "trades.parquet": trades_table(r),
        "weights.parquet": book_table(held, dates),
    }


def equity_table(r: RunResult) -> pl.DataFrame:
    """Daily equity, benchmark and their returns."""
    bench = r.benchmark
    with np.errstate(invalid="ignore", divide="ignore"):
        bench_ret = np.concatenate([[np.nan], bench[1:] / bench[:-1] - 1.0])
    return pl.DataFrame(
        {
            "date": date_column(r.dates),
            "equity": r.equity,
            "return": r.returns,
            "benchmark": bench,
            "benchmark_return": bench_ret,
            "traded_notional": r.traded_notional,
            "costs_paid": r.costs_paid,
        }
    )


def targets_table(r: RunResult) -> pl.DataFrame:
    """Target weights per rebalance (non-zero only)."""
    rows, cols = np.nonzero(r.targets)
    return pl.DataFrame(
        {
            "signal_date": date_column(r.signal_dates[rows]),
            "execution_date": date_column(r.execution_dates[rows]),
            "symbol": name_column(r.symbols, cols),
            "target_weight": r.targets[rows, cols],
        }
    )


def trades_table(r: RunResult) -> pl.DataFrame:
    """Share changes per day, valued at the close."""
    before = np.vstack([np.zeros((1, r.shares.shape[1])), r.shares[:-1]])
    delta = r.shares - before
    rows, cols = np.nonzero(np.abs(delta) > 1e-12)
    qty = delta[rows, cols]
    price = r.closes[rows, cols]
    return pl.DataFrame(
        {
            "date": date_column(r.dates[rows]),
            "symbol": name_column(r.symbols, cols),
            "side": name_column(["sell", "buy"], (qty > 0).astype(np.int64)),
            "shares": np.abs(qty),
            "price": price,
            "notional": np.abs(qty) * price,
        }
    )
