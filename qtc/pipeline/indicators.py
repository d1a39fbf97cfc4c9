"""nanobook's technical indicators and EWMA-GARCH recursion on clean numpy series.

One of the few qtc modules allowed to import nanobook, besides the
`qtc.pipeline.engine` package (see the nanobook contract in pyproject.toml);
it imports it lazily, inside the functions, so importing it costs nothing.
Callers pass **clean** 1-D float64 series: no NaN inside (nanobook's RSI
silently skips NaN, and its EMA-based indicators propagate one NaN to the end
of the series). `qtc.pipeline.factors_price` runs each symbol on its priced
segment with interior gaps forward-filled and puts NaN back afterwards.

Inputs go to nanobook as Python lists: NANOBOOK.md §4 measured list input
faster than numpy input (numpy arrays are copied element by element). One
call per symbol column was measured 2x faster than the `py_*_panel` variants
on a 4983 x 556 panel (the panel variants also cannot take columns that start
on different dates), so only the per-series functions are used.

Every output has the input's length, NaN during the indicator's warm-up, on
the same price basis as the input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def rsi(close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI (0-100), TA-Lib definition.

    Args:
        close: Clean price series, shape (L,).
        period: RSI period in bars; the first `period` values are NaN.

    Returns:
        RSI per bar, shape (L,).
    """
    import nanobook as nb

    return np.asarray(nb.rsi(close.tolist(), period), dtype=np.float64)


def macd(
    close: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal line and histogram, TA-Lib definition (EMAs seeded by SMAs).

    Args:
        close: Clean price series, shape (L,).
        fast: Fast EMA period in bars.
        slow: Slow EMA period in bars.
        signal: Signal EMA period in bars; the first `slow + signal - 2` values are NaN.

    Returns:
        `(macd, signal, hist)` in price units, each shape (L,).
    """
    import nanobook as nb

    line, sig, hist = nb.macd(close.tolist(), fast, slow, signal)
    return (
        np.asarray(line, dtype=np.float64),
        np.asarray(sig, dtype=np.float64),
        np.asarray(hist, dtype=np.float64),
    )


def bbands(close: np.ndarray, period: int, num_std: float) -> tuple[np.ndarray, np.ndarray]:
    """Bollinger bands: SMA +- `num_std` population (ddof=0) standard deviations.

    Args:
        close: Clean price series, shape (L,).
        period: Window in bars; the first `period - 1` values are NaN.
        num_std: Band half-width in standard deviations.

    Returns:
        `(upper, lower)` in price units, each shape (L,).
    """
    import nanobook as nb

    upper, _middle, lower = nb.py_bbands(close.tolist(), period, num_std, num_std)
    return np.asarray(upper, dtype=np.float64), np.asarray(lower, dtype=np.float64)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Average true range with Wilder smoothing, TA-Lib definition.

    Args:
        high: Clean highs, shape (L,).
        low: Clean lows, shape (L,).
        close: Clean closes, shape (L,).
        period: Smoothing period in bars; the first `period` values are NaN.

    Returns:
        ATR in price units, shape (L,).
    """
    import nanobook as nb

    return np.asarray(
        nb.py_atr(high.tolist(), low.tolist(), close.tolist(), period), dtype=np.float64
    )


def garch_ewma_at(returns: np.ndarray, ends: Sequence[int], window: int) -> np.ndarray:
    """Run nanobook's fixed-parameter EWMA-GARCH(1,1) forecast on trailing windows.

    For each `end`, calls `garch_ewma_forecast(returns[end - window + 1 : end + 1])`
    (zero mean, alpha 0.08, beta 0.90, omega from the window's sample variance):
    the volatility expected for the bar after `end`, from data up to `end`.

    Args:
        returns: Daily simple returns, shape (L,); the windows used must hold no NaN
            (nanobook would silently fall back to the sample standard deviation).
        ends: Bar indices (each >= window - 1) at which to forecast.
        window: Returns per forecast.

    Returns:
        Per-period (daily) sigma for each end, shape (len(ends),).
    """
    import nanobook as nb

    values = returns.tolist()
    forecast = nb.garch_ewma_forecast
    out = [forecast(values[end - window + 1 : end + 1]) for end in ends]
    return np.asarray(out, dtype=np.float64)
