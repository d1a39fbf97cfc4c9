"""Thin, validated wrapper over nanobook's metrics functions (nanobook 0.19.2).

One of the few qtc modules allowed to import nanobook (the nanobook contract in
pyproject.toml lists them with their reason). nanobook is imported lazily inside
each function so that importing this module stays cheap.

What the wrapper absorbs (see ../shared/NANOBOOK.md, "Metrics and analytics"):

* nanobook fails silently on bad input: a NaN return gives `total_return = nan`
  and `sharpe = 0.0` with no error, and an empty list gives `None`. Every input is
  checked here first (finite, one-dimensional, non-empty) and a `None` result is
  turned into a `QtcError`.
* nanobook takes `list[float]`; a numpy array is accepted but is copied element
  by element, which is slower than `ndarray.tolist()`. Inputs are converted to
  lists.
* `risk_free` is a scalar **per period** (not annual) and is used only by Sharpe
  and Sortino.
* Outputs are plain Python `float`/`int`. `profit_factor` and `payoff_ratio` may
  be `inf` (no losing period); JSON output must map them (see
  `qtc.pipeline.metrics.to_json_safe`).

nanobook's definitions (verified to 1e-12 against numpy in
tests/pipeline/test_metrics.py), for returns r of length n, periods per year P
and per-period risk-free rate f:

* total_return = prod(1 + r) - 1; cagr = (1 + total_return)^(P/n) - 1
  (-1 when total_return <= -1).
* volatility = std(r, ddof=1) * sqrt(P) (0 when n = 1).
* sharpe = (mean(r) - f) / std(r, ddof=1) * sqrt(P) (0 when std = 0).
* sortino = (mean(r) - f) / sqrt(mean(min(r - f, 0)^2)) * sqrt(P): downside
  deviation with ddof=0 over all n periods (0 when it is 0).
* max_drawdown = max(1 - equity / running peak) as a positive fraction, the
  running peak starting at 1 (the equity before the first return).
* calmar = cagr / max_drawdown (0 when max_drawdown = 0).
* num_periods = n, winning_periods = #(r > 0), losing_periods = #(r < 0).
* cvar_95 = mean of the ceil(0.05 n) lowest returns (a return, usually negative).
* win_rate = winning_periods / n (zero returns count in the denominator).
* profit_factor = sum(r > 0) / |sum(r < 0)| (inf if no losses and some gains,
  0 if neither).
* payoff_ratio = mean(r | r > 0) / |mean(r | r < 0)| (same inf/0 rules).
* kelly = win_rate - (1 - win_rate) / payoff_ratio (0 when payoff_ratio is 0 or
  inf).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from qtc.errors import QtcError

#: Every field of nanobook's `Metrics`, in nanobook's order.
METRIC_FIELDS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "num_periods",
    "winning_periods",
    "losing_periods",
    "cvar_95",
    "win_rate",
    "profit_factor",
    "payoff_ratio",
    "kelly",
)

#: Fields that are counts (returned as `int`).
COUNT_FIELDS: frozenset[str] = frozenset({"num_periods", "winning_periods", "losing_periods"})

_DRAWDOWN_KEYS: tuple[str, ...] = (
    "drawdown_pct",
    "underwater_periods",
    "peak_index",
    "trough_index",
    "recovery_index",
)


def _finite_vector(values: Any, what: str, *, min_len: int = 1) -> npt.NDArray[np.float64]:
    """Return `values` as a 1-D float64 array, or raise if it is not finite and long enough."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise QtcError(f"{what} must be numbers: {exc}") from exc
    if arr.ndim != 1:
        raise QtcError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.size < min_len:
        raise QtcError(f"{what} needs at least {min_len} value(s), got {arr.size}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise QtcError(
            f"{what} contain {bad.size} NaN or infinite value(s), the first at index "
            f"{int(bad[0])} ({arr[bad[0]]}); nanobook would silently return NaN or 0 metrics",
            hint="drop or fill missing periods before computing metrics",
        )
    return arr


def _finite_scalar(value: float, what: str, *, positive: bool = False) -> float:
    """Return `value` as a float, or raise if it is not finite (or not > 0 when asked)."""
    out = float(value)
    if not np.isfinite(out) or (positive and out <= 0.0):
        need = "a finite number > 0" if positive else "a finite number"
        raise QtcError(f"{what} must be {need}, got {value!r}")
    return out


def nanobook_metrics(
    returns: npt.ArrayLike, periods_per_year: float, risk_free_per_period: float
) -> dict[str, float]:
    """Compute nanobook's full `Metrics` set from simple per-period returns.

    Args:
        returns: Simple (arithmetic) returns, one per period, shape (n,), n >= 1,
            all finite.
        periods_per_year: Annualization factor (252 for daily returns), > 0.
        risk_free_per_period: Risk-free return **per period** (not annual),
            subtracted from the mean return in Sharpe and Sortino only.

    Returns:
        Every field of nanobook's `Metrics` (`METRIC_FIELDS`), counts as `int`,
        the rest as `float` (`profit_factor`/`payoff_ratio` may be `inf`).

    Raises:
        QtcError: If an input is empty, not 1-D or not finite, or nanobook returns
            no result.
    """
    arr = _finite_vector(returns, "returns")
    ppy = _finite_scalar(periods_per_year, "periods_per_year", positive=True)
    rf = _finite_scalar(risk_free_per_period, "risk_free_per_period")
    import nanobook as nb

    result = nb.py_compute_metrics(arr.tolist(), ppy, rf)
    if result is None:
        raise QtcError(f"nanobook computed no metrics for {arr.size} returns")
    return {
        name: int(getattr(result, name)) if name in COUNT_FIELDS else float(getattr(result, name))
        for name in METRIC_FIELDS
    }


def rolling_sharpe(
    returns: npt.ArrayLike, window: int, periods_per_year: int = 252
) -> npt.NDArray[np.float64]:
    """Rolling annualized Sharpe ratio (no risk-free rate) over a sliding window.

    Definition: mean(w) / std(w, ddof=1) * sqrt(periods_per_year) for each window
    w ending at t (0 when std = 0), NaN until the window fills.

    Args:
        returns: Simple returns, shape (n,), all finite.
        window: Window length in periods, >= 2.
        periods_per_year: Integer annualization factor (nanobook takes a usize).

    Returns:
        Array of shape (n,).

    Raises:
        QtcError: On non-finite input, a window < 2, or a result of the wrong length.
    """
    arr = _finite_vector(returns, "returns")
    if int(window) != window or window < 2:
        raise QtcError(f"rolling window must be an integer >= 2, got {window!r}")
    if int(periods_per_year) != periods_per_year or periods_per_year < 1:
        raise QtcError(f"periods_per_year must be a positive integer, got {periods_per_year!r}")
    import nanobook as nb

    out = np.asarray(
        nb.py_rolling_sharpe(arr.tolist(), int(window), int(periods_per_year)), dtype=np.float64
    )
    if out.shape != arr.shape:
        raise QtcError(f"nanobook rolling Sharpe returned {out.size} values for {arr.size} returns")
    return out


def drawdown_events(equity: npt.ArrayLike) -> list[dict[str, float | int | None]]:
    """Drawdown episodes of an equity curve (nanobook's `drawdown_series`).

    Despite its name, nanobook's `drawdown_series` returns one record per
    drawdown episode, not a per-period series; this wrapper keeps the index keys
    and drops nanobook's duplicate `*_date` keys (they hold the same indices).

    Args:
        equity: Equity values, shape (n,), all finite and > 0.

    Returns:
        One dict per episode: `drawdown_pct` (positive fraction),
        `underwater_periods`, `peak_index`, `trough_index` and `recovery_index`
        (None while not recovered); indices are positions in `equity`.

    Raises:
        QtcError: On non-finite or non-positive equity.
    """
    arr = _finite_vector(equity, "equity")
    if (arr <= 0.0).any():
        raise QtcError("equity must be > 0 to compute drawdowns")
    import nanobook as nb

    return [
        {key: event[key] for key in _DRAWDOWN_KEYS} for event in nb.drawdown_series(arr.tolist())
    ]
