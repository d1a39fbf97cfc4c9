"""Rebalance calendar: signal rows (period ends) and execution rows.

The first signal is the first trading day of the window, so a run is invested
from its start; then one signal at the last trading day of each period
(week, month, quarter; every day for daily). With `next_close` a signal at the
close of row t executes at the close of row t+1; signals whose execution would
fall after the last date are dropped.
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


def signal_rows(dates: np.ndarray, first_row: int, frequency: str, execution: str) -> np.ndarray:
    """Rows of signal dates inside the window whose execution is still inside it."""
    keys = period_keys(dates, frequency)
    ends = np.flatnonzero(keys[:-1] != keys[1:])
    ends = np.append(ends, len(dates) - 1)
    rows = np.unique(np.concatenate([[first_row], ends[ends >= first_row]]))
    lag = execution_lag(execution)
    return rows[rows + lag < len(dates)]


def execution_lag(execution: str) -> int:
    """Rows between a signal and its execution: 1 for next_close, 0 for close."""
    return 0 if execution == "close" else 1
