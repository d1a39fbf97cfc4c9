"""Forward returns of signal dates: what a signal at a close could have earned after it.

A signal at the close of panel row t is traded at the close of row e = t + lag, with
lag = 1 for `next_close` (the strategy's default) and 0 for `close`. Its forward return
over h trading days is marks[e + h] / marks[e] - 1: it starts strictly after the signal
under `next_close`, so no forward return contains the signal day's own move. `marks` are
the forward-filled total-return closes the backtest marks positions at (a symbol whose
data ends keeps its last price, as alphalens' `prices.ffill()` does). A forward return is
NaN when either price is missing or e + h is past the window's last row.

The holding-period return of a signal date runs from its execution to the next signal
date's execution: it feeds the cumulative quantile returns (the last date has none).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Rows = npt.NDArray[np.int64]


def forward_returns(marks: Array, rows: Rows, lag: int, horizon: int) -> Array:
    """(R, N) forward returns over `horizon` rows from each signal row's execution row."""
    return _between(marks, rows + lag, rows + lag + horizon)


def holding_returns(marks: Array, rows: Rows, lag: int) -> Array:
    """(R, N) returns from each signal's execution to the next signal's execution."""
    entry = rows + lag
    exit_ = np.concatenate([entry[1:], [marks.shape[0]]])  # the last has no next signal
    return _between(marks, entry, exit_)


def _between(marks: Array, entry: Rows, exit_: Rows) -> Array:
    """marks[exit] / marks[entry] - 1 per row pair (NaN where a row is outside the panel)."""
    out = np.full((entry.size, marks.shape[1]), np.nan)
    ok = (entry >= 0) & (exit_ < marks.shape[0]) & (entry < marks.shape[0])
    if ok.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            out[ok] = marks[exit_[ok]] / marks[entry[ok]] - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def usable_dates(rows: Rows, lag: int, horizon: int, n_rows: int) -> int:
    """How many signal rows have their exit row inside a panel of `n_rows` rows."""
    return int(np.count_nonzero(rows + lag + horizon < n_rows))
