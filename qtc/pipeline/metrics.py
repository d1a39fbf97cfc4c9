"""Backtest metrics: nanobook's `Metrics` for strategy and benchmark, plus relative and activity.

`compute_metrics(MetricsInput)` returns four sections:

* **strategy**, **benchmark** — every field of nanobook's `Metrics` (see
  `qtc.pipeline.nb_metrics` for the exact definitions), from daily simple returns.
* **relative** — benchmark-relative statistics nanobook does not have.
* **activity** — turnover, costs, exposure and holdings.

Conventions (qtc's; see docs/METRICS.md for the full table against quantstats):

* **Returns** are simple: r_t = E_t / E_{t-1} - 1 for t = 1..D-1 (the first date
  has no return; it is the starting equity). Benchmark returns b_t are computed the
  same way from its total-return close.
* **Risk-free rate.** nanobook takes one scalar rf *per period*. qtc passes the
  **mean daily rf over the return days of the series** (rf[1:] for the strategy,
  the benchmark's own return days for the benchmark). So Sharpe =
  (mean(r) - mean(rf)) / std(r, ddof=1) · √P: the numerator equals the mean daily
  excess return exactly, the denominator is std(r), not std(r - rf_t). With a
  time-varying rf the two denominators differ by O(std(rf_t) / std(r)) (about
  1e-5 to 2e-4 relative on the tests' daily data with rf between 0 and 5 % a
  year); quantstats with an rf Series uses std(r - rf_t).
* **Benchmark gaps.** Leading NaNs are dropped: the benchmark series starts on its
  first priced date. Interior or trailing NaNs are forward-filled (a flat day,
  the move lands on the next priced day) so compounding is preserved.
* **Relative** statistics use the dates on which both a strategy and a benchmark
  return exist (t from the benchmark's first priced date + 1 to D-1), with
  x = r - rf_t and y = b - rf_t using the **daily** rf_t:

  * beta = cov(x, y) / var(y) (OLS slope), alpha = (mean(x) - beta · mean(y)) · P
    (annualized Jensen's alpha: OLS intercept × P);
  * correlation = Pearson corr(r, b) of raw returns, r_squared = correlation²;
  * active_return = mean(r - b) · P, tracking_error = std(r - b, ddof=1) · √P,
    information_ratio = active_return / tracking_error;
  * up_capture = mean(r | b > 0) / mean(b | b > 0), down_capture =
    mean(r | b < 0) / mean(b | b < 0) (daily arithmetic means);
  * days = number of paired dates. Undefined values (zero variance, no up or down
    days, fewer than 2 pairs) are NaN.
* **Activity** (years = (D - 1) / P, the span of the D-1 return periods; mean
  equity over all D dates):

  * turnover = Σ traded_notional / 2 / mean equity / years — annualized one-way
    turnover, where the initial purchase counts (a 100% buy-in is 0.5);
  * rebalances = number of dates with traded_notional > 0;
    turnover_per_rebalance = mean over those dates of traded_t / (2 · E_t), E_t the
    end-of-day equity after costs (NaN when there is none);
  * traded_notional = Σ traded_notional (USD); cost_paid = Σ costs_paid (USD);
    cost_bps_per_year = cost_paid / mean equity / years · 1e4;
  * exposure = mean_t Σ_i |w_ti| (gross), net_exposure = mean_t Σ_i w_ti;
    avg_holdings = mean_t #(w_ti != 0), max_holdings = max_t #(w_ti != 0);
    NaN weights mean "not held" (0);
  * days = D.

Differences from quantstats 0.0.86 (asserted in tests/pipeline/test_metrics.py;
the table with tolerances is in docs/METRICS.md):

* sharpe, sortino: quantstats takes an *annual* rf and de-annualizes it as
  (1 + rf)^(1/P) - 1; with an rf Series it divides by std(r - rf_t). Equal with a
  scalar rf (1e-10 relative: the rf round trip), 1e-3 relative with a daily rf Series.
* sortino: quantstats returns NaN with no downside period, nanobook 0; otherwise
  the same (downside deviation with ddof=0 over all n).
* cagr: quantstats 0.0.86 uses n / P years, as nanobook (older releases used
  calendar days / 365 from the index); it ignores rf. Equal to 1e-12.
* max_drawdown: quantstats returns a negative number; equal up to the sign.
* cvar: quantstats' default is *parametric* (Gaussian expected shortfall); its
  method="historical" averages the returns <= the 5% quantile (linear
  interpolation), which is the worst ceil(0.05 n) returns when there are no ties:
  equal to 1e-12.
* win_rate (and kelly through it): quantstats divides by the non-zero periods,
  nanobook by all periods; equal when no return is exactly 0.
* greeks: quantstats regresses raw returns with no rf; on excess returns
  (r - rf_t, b - rf_t) alpha and beta are equal to 1e-12; on raw returns alpha
  differs by about (1 - beta) · mean(rf) · P.
* information_ratio: quantstats' is not annualized (daily mean / daily std); qtc's
  equals it × √P.
* volatility, calmar, profit_factor, payoff_ratio, r_squared: equal to 1e-12.

`to_json_safe` maps every non-finite value (NaN, ±inf — e.g. `profit_factor` with
no losing day) to `None`, because JSON has no NaN/Infinity; `None` therefore means
"undefined or infinite".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qtc.errors import QtcError
from qtc.pipeline.nb_metrics import nanobook_metrics

SECTIONS: tuple[str, ...] = ("strategy", "benchmark", "relative", "activity")

BLOCK_ROWS = 256
"""Rows of the (D, N) weights read per block by `_row_stats` (about 1 MB for 500 names)."""

Float64Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MetricsInput:
    """Daily series of one backtest window, as produced by the engine stage.

    Attributes:
        dates: Daily dates of the backtest window, `datetime64[D]`, (D,), increasing.
        equity: End-of-day equity in USD after costs, (D,), finite and > 0.
        benchmark: Benchmark total-return close aligned to `dates`, (D,); NaN
            allowed (leading NaNs trim the benchmark window, others are
            forward-filled).
        rf: Daily risk-free simple return per date, (D,), finite (0 for none).
        weights: End-of-day weights (fraction of equity) held, (D, N); NaN = 0.
        traded_notional: USD traded per day (buys + sells), (D,), >= 0.
        costs_paid: USD of commissions + slippage per day, (D,), >= 0.
    """

    dates: np.ndarray
    equity: np.ndarray
    benchmark: np.ndarray
    rf: np.ndarray
    weights: np.ndarray
    traded_notional: np.ndarray
    costs_paid: np.ndarray


def _vector(values: np.ndarray, name: str, days: int) -> Float64Array:
    """Return `values` as a float64 vector of length `days`, or raise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (days,):
        raise QtcError(f"metrics input {name!r} must have shape ({days},), got {arr.shape}")
    return arr


def _require_finite(arr: Float64Array, name: str, *, minimum: float | None = None) -> None:
    """Raise if `arr` has a non-finite value, or a value below `minimum`."""
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise QtcError(
            f"metrics input {name!r} has {bad.size} NaN or infinite value(s), "
            f"the first at row {int(bad[0])}"
        )
    if minimum is not None and arr.size and float(arr.min()) < minimum:
        row = int(np.argmin(arr))
        raise QtcError(f"metrics input {name!r} must be >= {minimum}, got {arr[row]} at row {row}")


@dataclass(frozen=True)
class _RowStats:
    """What the activity metrics need of the (D, N) weights, read in one pass.

    Attributes:
        sums: `weights.sum(axis=1)`, (D,): net exposure per day.
        held: `np.count_nonzero(weights, axis=1)`, (D,) int64.
        lowest: `weights.min()` (+inf without weights).
    """

    sums: Float64Array
    held: npt.NDArray[np.int64]
    lowest: float


@dataclass(frozen=True)
class _Checked:
    """Validated float64 views of a `MetricsInput` (and the weights' row statistics)."""

    equity: Float64Array
    benchmark: Float64Array
    rf: Float64Array
    weights: Float64Array
    traded: Float64Array
    costs: Float64Array
    rows: _RowStats


def _validate(inp: MetricsInput) -> _Checked:
    """Check shapes and values of every input series and return float64 copies."""
    dates = np.asarray(inp.dates)
    if dates.ndim != 1 or dates.size < 2:
        raise QtcError(
            f"metrics need at least 2 dates (one return), got shape {dates.shape}",
            hint="the backtest window is empty or has a single date",
        )
    if not np.issubdtype(dates.dtype, np.datetime64):
        raise QtcError(f"metrics input 'dates' must be datetime64, got {dates.dtype}")
    days = int(dates.size)
    if not bool(np.all(dates[1:] > dates[:-1])):
        raise QtcError("metrics input 'dates' must be strictly increasing")
    equity = _vector(inp.equity, "equity", days)
    _require_finite(equity, "equity")
    if float(equity.min()) <= 0.0:
        row = int(np.argmin(equity))
        raise QtcError(
            f"equity must stay > 0 to compute returns, got {equity[row]} at {dates[row]}"
        )
    rf = _vector(inp.rf, "rf", days)
    _require_finite(rf, "rf")
    benchmark = _vector(inp.benchmark, "benchmark", days)
    if bool(np.any(np.isinf(benchmark))) or bool(np.any(benchmark[np.isfinite(benchmark)] <= 0)):
        raise QtcError("metrics input 'benchmark' must be > 0 where priced (NaN where missing)")
    traded = _vector(inp.traded_notional, "traded_notional", days)
    _require_finite(traded, "traded_notional", minimum=0.0)
    costs = _vector(inp.costs_paid, "costs_paid", days)
    _require_finite(costs, "costs_paid", minimum=0.0)
    weights, rows = _weights(inp.weights, days)
    return _Checked(equity, benchmark, rf, weights, traded, costs, rows)


def _weights(values: np.ndarray, days: int) -> tuple[Float64Array, _RowStats]:
    """The weights with NaN as 0, and their row statistics; raises on a bad shape or an inf.

    A finite row sum means every weight of the row is finite (a NaN or an inf makes
    the sum NaN or infinite), so the usual case checks the sums, not every weight.
    """
    weights = np.asarray(values, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[0] != days:
        raise QtcError(f"metrics input 'weights' must have shape ({days}, N), got {weights.shape}")
    rows = _row_stats(weights)
    if bool(np.isfinite(rows.sums).all()):
        return weights, rows
    if bool(np.isinf(weights).any()):
        raise QtcError("metrics input 'weights' has infinite values")
    weights = np.nan_to_num(weights, nan=0.0)
    return weights, _row_stats(weights)


def _row_stats(weights: Float64Array) -> _RowStats:
    """Row sums, non-zero counts and the minimum of the weights.

    C-ordered weights are read in blocks of `BLOCK_ROWS` rows, each block once from
    memory for the three reductions; each row's sum is the same pairwise reduction of
    its N weights as `weights.sum(axis=1)`. Other layouts use the whole-array calls.
    """
    count = np.uint16 if weights.shape[1] < 2**16 else np.int64
    if not weights.flags.c_contiguous:
        lowest = float(weights.min()) if weights.size else math.inf
        nonzero = (weights != 0.0).sum(axis=1, dtype=np.int64)
        return _RowStats(weights.sum(axis=1), nonzero, lowest)
    days = weights.shape[0]
    sums, held, lowest = np.empty(days), np.empty(days, np.int64), math.inf
    for first in range(0, days, BLOCK_ROWS):
        block = weights[first : first + BLOCK_ROWS]
        np.add.reduce(block, axis=1, out=sums[first : first + len(block)])
        nonzero = (block != 0.0).view(np.uint8)
        held[first : first + len(block)] = nonzero.sum(axis=1, dtype=count)
        if block.size:
            lowest = min(lowest, float(block.min()))
    return _RowStats(sums, held, lowest)


def _benchmark_returns(close: Float64Array) -> tuple[Float64Array, int]:
    """Benchmark simple returns from its first priced date on.

    Args:
        close: Benchmark close per date, (D,), NaN where missing.

    Returns:
        (returns for dates first+1..D-1, first), `first` being the index of the first
        priced date. Interior/trailing NaNs are forward-filled (a zero return).

    Raises:
        QtcError: If fewer than two dates from the first priced one are left.
    """
    priced = np.flatnonzero(np.isfinite(close))
    if priced.size == 0 or int(priced[0]) >= close.size - 1:
        raise QtcError(
            "the benchmark has no price before the last date of the window; "
            "cannot compute benchmark metrics",
            hint="check that the lake's benchmarks dataset covers the backtest window",
        )
    first = int(priced[0])
    tail = close[first:]
    filled_idx = np.maximum.accumulate(np.where(np.isfinite(tail), np.arange(tail.size), 0))
    filled = tail[filled_idx]
    return filled[1:] / filled[:-1] - 1.0, first


def _ratio(num: float, den: float) -> float:
    """Return num / den, or NaN when den is 0 or either is not finite."""
    if den == 0.0 or not (math.isfinite(num) and math.isfinite(den)):
        return math.nan
    return num / den


def _relative(r: Float64Array, b: Float64Array, rf: Float64Array, ppy: float) -> dict[str, float]:
    """Benchmark-relative statistics on paired daily returns (see the module docstring)."""
    n = int(r.size)
    out: dict[str, float] = {
        "alpha": math.nan,
        "beta": math.nan,
        "correlation": math.nan,
        "r_squared": math.nan,
        "active_return": math.nan,
        "tracking_error": math.nan,
        "information_ratio": math.nan,
        "up_capture": math.nan,
        "down_capture": math.nan,
        "days": n,
    }
    if n < 2:
        return out
    x = r - rf
    y = b - rf
    xd = x - x.mean()
    yd = y - y.mean()
    beta = _ratio(float(xd @ yd), float(yd @ yd))
    out["beta"] = beta
    out["alpha"] = (float(x.mean()) - beta * float(y.mean())) * ppy
    rd = r - r.mean()
    bd = b - b.mean()
    corr = _ratio(float(rd @ bd), math.sqrt(float(rd @ rd) * float(bd @ bd)))
    out["correlation"] = corr
    out["r_squared"] = corr * corr
    active = r - b
    out["active_return"] = float(active.mean()) * ppy
    tracking_error = float(active.std(ddof=1)) * math.sqrt(ppy)
    out["tracking_error"] = tracking_error
    out["information_ratio"] = _ratio(out["active_return"], tracking_error)
    up = b > 0.0
    down = b < 0.0
    if up.any():
        out["up_capture"] = _ratio(float(r[up].mean()), float(b[up].mean()))
    if down.any():
        out["down_capture"] = _ratio(float(r[down].mean()), float(b[down].mean()))
    return out


def _activity(c: _Checked, ppy: float) -> dict[str, float]:
    """Turnover, costs, exposure and holdings (see the module docstring)."""
    days = int(c.equity.size)
    years = (days - 1) / ppy
    mean_equity = float(c.equity.mean())
    traded_total = float(c.traded.sum())
    cost_total = float(c.costs.sum())
    rebalance = c.traded > 0.0
    per_rebalance = (
        float(np.mean(c.traded[rebalance] / (2.0 * c.equity[rebalance])))
        if rebalance.any()
        else math.nan
    )
    held = c.rows.held
    return {
        "turnover": traded_total / 2.0 / mean_equity / years,
        "turnover_per_rebalance": per_rebalance,
        "rebalances": int(np.count_nonzero(rebalance)),
        "traded_notional": traded_total,
        "cost_paid": cost_total,
        "cost_bps_per_year": cost_total / mean_equity / years * 1e4,
        "exposure": float(_gross(c.weights, c.rows).mean()),
        "net_exposure": float(c.rows.sums.mean()),
        "avg_holdings": float(held.mean()),
        "max_holdings": int(held.max()),
        "days": days,
    }


def _gross(weights: Float64Array, rows: _RowStats) -> Float64Array:
    """Gross exposure per day, (D,): `np.abs(weights).sum(axis=1)`, bit for bit.

    Without a negative weight (long-only books) |w| and w differ at most by the sign of
    a zero, and adding a zero of either sign to anything but a zero gives the same sum,
    so the row sums are the gross sums except that a row of zeros sums to +0 (C-ordered
    weights: the two reductions then run in the same order).
    """
    if not weights.flags.c_contiguous or rows.lowest < 0.0:
        gross: Float64Array = np.abs(weights).sum(axis=1)
        return gross
    return np.where(rows.sums == 0.0, 0.0, rows.sums)


def compute_metrics(
    inp: MetricsInput, *, periods_per_year: int = 252
) -> dict[str, dict[str, float]]:
    """Compute strategy, benchmark, relative and activity metrics of one backtest.

    Requires daily series of one window (see `MetricsInput`); produces
    `{"strategy": {...}, "benchmark": {...}, "relative": {...}, "activity": {...}}`
    with the conventions in the module docstring. Counts are `int`; undefined
    values are NaN and `profit_factor`/`payoff_ratio` may be `inf` — use
    `to_json_safe` before writing JSON.

    Args:
        inp: The backtest's daily series.
        periods_per_year: Annualization factor of the daily series.

    Returns:
        The four metric sections.

    Raises:
        QtcError: If an input has the wrong shape or invalid values (NaN equity or
            rf, equity <= 0, negative traded notional or costs, unsorted dates,
            fewer than 2 dates), or the benchmark has no price before the last date.
    """
    if periods_per_year <= 0:
        raise QtcError(f"periods_per_year must be > 0, got {periods_per_year}")
    ppy = float(periods_per_year)
    c = _validate(inp)
    r = c.equity[1:] / c.equity[:-1] - 1.0
    rf = c.rf[1:]
    strategy = nanobook_metrics(r, ppy, float(rf.mean()))
    b, first = _benchmark_returns(c.benchmark)
    rf_b = c.rf[first + 1 :]
    benchmark = nanobook_metrics(b, ppy, float(rf_b.mean()))
    relative = _relative(r[first:], b, rf_b, ppy)
    return {
        "strategy": strategy,
        "benchmark": benchmark,
        "relative": relative,
        "activity": _activity(c, ppy),
    }


def to_json_safe(
    metrics: dict[str, dict[str, float]],
) -> dict[str, dict[str, float | int | None]]:
    """Make metrics JSON-safe: non-finite values become None, numbers become builtins.

    JSON has no NaN or Infinity, so `nan`, `inf` and `-inf` all map to `None`
    ("undefined or infinite": e.g. `profit_factor` with no losing day, or
    `information_ratio` with zero tracking error). Integers (counts) stay `int`.

    Args:
        metrics: Output of `compute_metrics` (any nesting of one level of dicts).

    Returns:
        A new dict that `json.dumps(..., allow_nan=False)` accepts.
    """
    safe: dict[str, dict[str, float | int | None]] = {}
    for section, values in metrics.items():
        out: dict[str, float | int | None] = {}
        for key, value in values.items():
            if isinstance(value, bool | int | np.integer):
                out[key] = int(value)
            else:
                number = float(value)
                out[key] = number if math.isfinite(number) else None
        safe[section] = out
    return safe
