"""The market panel every stage reads: dates x symbols arrays plus per-date series.

Prices on the total-return basis: `adj_close` is split- and dividend-adjusted;
`open/high/low` are rescaled by `adj_close / close` so OHLC and adj_close share
one basis (needed by ATR and stops). Raw `close` is kept for price filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Panel:
    """Market data aligned on one trading calendar.

    Attributes:
        dates: Trading dates, `datetime64[D]`, shape (T,).
        symbols: Column symbols, length N.
        adj_close: Total-return close, (T, N), NaN where not priced.
        close: Raw (split-adjusted) close, (T, N).
        open: Open on the adj_close basis, (T, N); None unless a stage needs OHLC.
        high: High on the adj_close basis, (T, N); None unless needed.
        low: Low on the adj_close basis, (T, N); None unless needed.
        volume: Share volume, (T, N); None unless needed.
        sectors: Sector per symbol, length N ("" when unknown).
        benchmark: Benchmark total-return close per date, (T,), NaN where missing.
        rf: Daily risk-free return per date, (T,), 0 where missing.
        start: Index of the first date of the backtest window (dates before are warm-up).
        extra: Other per-date data keyed by name (macro series, ...).
    """

    dates: np.ndarray
    symbols: list[str]
    adj_close: np.ndarray
    close: np.ndarray
    open: np.ndarray | None
    high: np.ndarray | None
    low: np.ndarray | None
    volume: np.ndarray | None
    sectors: list[str]
    benchmark: np.ndarray
    rf: np.ndarray
    start: int
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(T, N)."""
        return (self.adj_close.shape[0], self.adj_close.shape[1])

    def returns(self) -> np.ndarray:
        """Daily simple returns of adj_close, (T, N); NaN on a symbol's first priced day."""
        px = self.adj_close
        out = np.empty(px.shape)
        out[:1] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(px[1:], px[:-1], out=out[1:])
        out[1:] -= 1.0
        return out
