"""Rebalance calendar: signal rows (period ends) and execution rows.

One signal at the last trading day of each complete period (week, month,
quarter; every day for daily). `first = "window_start"` (default) adds the
window's first trading day, so a run is invested from its start;
`"first_period_end"` waits for the first period end. The last row of the data
is a signal only if its period is complete (the next trading day, or else the
next weekday, is in a new period): a backtest whose data ends mid-month does
not rebalance on its last day. Live targets keep the last row as today's
signal (`keep_last`). With `next_close` a signal at the close of row t executes
at the close of row t+1; signals whose execution would fall after the last
date are dropped.
"""

from __future__ import annotations

import numpy as np


def period_keys(dates: np.ndarray, frequency: str) -> np.ndarray:
    """An integer per date that changes when a new period starts."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    if frequency == "daily":
        return days
    if frequency == "weekly":
        return (days + 3) // 7  # 1970-01-01 was a Thursday: weeks start on Monday
    months = dates.astype("datetime64[M]").astype(np.int64)
    if frequency == "monthly":
        return months
    if frequency == "quarterly":
        return months // 3
    raise ValueError(f"unknown rebalance frequency {frequency!r}")


def signal_rows(
    dates: np.ndarray,
    first_row: int,
    frequency: str,
    execution: str,
    *,
    first: str = "window_start",
    next_date: np.datetime64 | None = None,
    keep_last: bool = False,
) -> np.ndarray:
    """Rows of signal dates inside the window whose execution is still inside it.

    Args:
        dates: Trading dates, (T,).
        first_row: First row of the window.
        frequency: Rebalance frequency.
        execution: `next_close` or `close`.
        first: `window_start` (the first row is a signal) or `first_period_end`.
        next_date: The first trading day after `dates[-1]` (None: unknown, weekdays decide).
        keep_last: The last row is a signal whatever its period (live: today's signal).
    """
    keys = period_keys(dates, frequency)
    ends = np.flatnonzero(keys[:-1] != keys[1:])
    if keep_last or last_is_period_end(dates[-1], frequency, next_date):
        ends = np.append(ends, len(dates) - 1)
    starts = [first_row] if first == "window_start" else []
    rows = np.unique(np.concatenate([starts, ends[ends >= first_row]])).astype(np.int64)
    lag = execution_lag(execution)
    return rows[rows + lag < len(dates)]


def last_is_period_end(
    last: np.datetime64, frequency: str, next_date: np.datetime64 | None
) -> bool:
    """Whether the last date of the data closes its period.

    It does when the next trading day is in a new period; without one (the data ends
    there), when no weekday is left in the period after it.
    """
    day = np.asarray(last).astype("datetime64[D]")
    if next_date is None:
        after = np.busday_offset(day, 1, roll="forward")
    else:
        after = np.asarray(next_date).astype("datetime64[D]")
    keys = period_keys(np.array([day, after]), frequency)
    return bool(keys[0] != keys[1])


def execution_lag(execution: str) -> int:
    """Rows between a signal and its execution: 1 for next_close, 0 for close."""
    return 0 if execution == "close" else 1
