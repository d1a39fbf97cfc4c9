"""Price-based factors: momentum, volatility, beta, RSI, MACD, Bollinger %b, ATR, GARCH vol.

Every function maps (spec, panel) to a (T, N) float64 array on the panel's
dates x symbols grid. Point in time: the value on row t uses only rows <= t.
Returns are simple daily returns of `adj_close` (`Panel.returns`): the return
on a symbol's first priced day, and on the day after a missing price, is NaN.
Windowed factors require every return of their window to be present (a gap
makes the next `window` values NaN). The dispatcher (`qtc.pipeline.factors`)
sets every factor to NaN on dates where the symbol has no `adj_close`.

Momentum, volatility and beta are vectorized numpy (rolling sums from
cumulative sums). RSI, MACD, Bollinger and ATR call nanobook through
`qtc.pipeline.indicators`, once per symbol on the symbol's priced segment
(first to last priced day) with interior gaps forward-filled, because NaN
inside nanobook's input corrupts RSI silently and ends EMA-based indicators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from qtc.errors import QtcError
from qtc.manifest.factors import (
    AtrFactor,
    BbandsFactor,
    BetaFactor,
    GarchVolFactor,
    MacdFactor,
    MomentumFactor,
    RsiFactor,
    VolatilityFactor,
)
from qtc.pipeline import indicators
from qtc.pipeline.panel import Panel

TRADING_DAYS = 252
"""Periods per year used to annualize daily volatilities (x sqrt(252))."""

BENCHMARK_EXTRA_PREFIX = "benchmark:"
"""`Panel.extra` key prefix of a beta benchmark other than the panel's (`benchmark:QQQ`)."""

FLAT_BAND = 1e-9
"""Bollinger width below this fraction of the price counts as flat (%b is NaN)."""

BLOCK_ROWS = 256
"""Rows per block of the blocked panel loops (a block of 500 symbols is about 1 MB)."""


# -- vectorized -------------------------------------------------------------------------------


def momentum(spec: MomentumFactor, panel: Panel) -> np.ndarray:
    """Total return over `lookback` days, skipping the most recent `skip` days.

    value[t] = adj_close[t - skip] / adj_close[t - lookback] - 1, a fraction
    (1.0 = the price doubled). NaN if either price is missing, if adj_close[t]
    is (the dispatcher's rule, applied here), and on the first `lookback` rows.

    Computed in blocks of `BLOCK_ROWS` rows, so each block's prices are read from
    the cache by the division and the mask; every value is the same division and
    subtraction as on the whole panel at once.

    Args:
        spec: The factor.
        panel: The market panel.

    Returns:
        (T, N) float64.
    """
    px = panel.adj_close
    lookback, skip, rows = spec.lookback, spec.skip, px.shape[0]
    out = np.empty(px.shape)
    out[:lookback] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        for first in range(lookback, rows, BLOCK_ROWS):
            last = min(first + BLOCK_ROWS, rows)
            block = out[first:last]
            np.divide(
                px[first - skip : last - skip], px[first - lookback : last - lookback], out=block
            )
            block -= 1.0
            np.copyto(block, np.nan, where=np.isnan(px[first:last]))
    return out


def volatility(spec: VolatilityFactor, panel: Panel) -> np.ndarray:
    """Standard deviation (ddof=1) of the `window` daily returns ending on each date.

    Units: daily return fraction, or annualized (x sqrt(252)) when
    `annualize`. NaN unless all `window` returns are present.

    Args:
        spec: The factor.
        panel: The market panel.

    Returns:
        (T, N) float64.
    """
    window = spec.window
    stack = np.empty((panel.shape[0], 3, panel.shape[1]))
    dev = _returns_into(panel.adj_close, stack[:, 1])
    valid = ~np.isnan(dev)
    stack[:, 0] = valid
    dev -= _column_center(dev, valid, window)
    np.copyto(dev, 0.0, where=~valid)
    np.square(dev, out=stack[:, 2])
    sums = _window_sums(stack, window)
    count, s1, s2 = sums[:, 0], sums[:, 1], sums[:, 2]
    np.copyto(s2, np.nan, where=count != window)
    s1 *= s1
    s1 *= 1.0 / window
    s2 -= s1  # (window - 1) x variance
    np.maximum(s2, 0.0, out=s2)
    out: np.ndarray = np.sqrt(s2)
    scale = np.sqrt(TRADING_DAYS if spec.annualize else 1.0) / np.sqrt(window - 1)
    out *= scale
    return out


def beta(spec: BetaFactor, panel: Panel) -> np.ndarray:
    """Rolling OLS beta of a symbol's daily returns on the benchmark's, over `window` days.

    beta[t] = cov(r, b) / var(b) over the `window` days ending on t (a pure
    number: 2.0 = twice the benchmark's moves). NaN unless both returns are
    present on all `window` days, or if the benchmark did not move.

    Args:
        spec: The factor; `benchmark` None uses `panel.benchmark`, otherwise
            `panel.extra["benchmark:<symbol>"]` (a total-return close per date).
        panel: The market panel.

    Returns:
        (T, N) float64.

    Raises:
        QtcError: If the named benchmark series is not in the panel.
    """
    window = spec.window
    bench = _benchmark_series(spec, panel)
    x = np.full((bench.shape[0], 1), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        x[1:, 0] = bench[1:] / bench[:-1] - 1.0
    vx = ~np.isnan(x)
    dx = np.where(vx, x - _column_center(x, vx, window), 0.0)
    xsums = _window_sums(np.stack([dx, dx * dx], axis=1), window)
    sx, sxx = xsums[:, 0], xsums[:, 1]
    sxx -= sx * sx / window
    stack = np.empty((panel.shape[0], 3, panel.shape[1]))
    dy = _returns_into(panel.adj_close, stack[:, 1])
    vy = ~np.isnan(dy)
    stack[:, 0] = vy & vx
    dy -= _column_center(dy, vy, window)
    np.copyto(dy, 0.0, where=~vy)
    np.multiply(dy, dx, out=stack[:, 2])
    sums = _window_sums(stack, window)
    count, sy, sxy = sums[:, 0], sums[:, 1], sums[:, 2]
    sy *= sx
    sy /= window
    sxy -= sy
    out = np.full(panel.shape, np.nan)
    ok = (count == window) & (sxx > 0)
    np.divide(sxy, sxx, out=out, where=ok)
    return out


def _returns_into(px: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Daily simple returns as in `Panel.returns`, written into a preallocated array.

    Args:
        px: (T, N) adj_close.
        out: (T, N) float64 destination (may be a strided view).

    Returns:
        `out`: px[t] / px[t - 1] - 1, NaN on row 0 and next to missing prices.
    """
    out[0] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(px[1:], px[:-1], out=out[1:])
    out[1:] -= 1.0
    return out


def _benchmark_series(spec: BetaFactor, panel: Panel) -> np.ndarray:
    """The benchmark close series a beta factor regresses on.

    Args:
        spec: The factor.
        panel: The market panel.

    Returns:
        (T,) float64 total-return close.

    Raises:
        QtcError: If a named benchmark is not in `panel.extra`.
    """
    if spec.benchmark is None:
        return np.asarray(panel.benchmark, dtype=np.float64)
    key = BENCHMARK_EXTRA_PREFIX + spec.benchmark
    if key not in panel.extra:
        raise QtcError(
            f"factor {spec.name!r} regresses on benchmark {spec.benchmark!r}, "
            f"but the panel has no {key!r} series (LoadData must load it)"
        )
    return np.asarray(panel.extra[key], dtype=np.float64)


def _window_sums(stack: np.ndarray, window: int) -> np.ndarray:
    """Sums over the `window` rows ending on each row (partial sums on the first rows).

    Takes cumulative sums down the rows in place (a loop over rows adding
    whole contiguous rows, ~2x faster than `np.cumsum(axis=0)` on C-ordered
    panels), then differences them `window` rows apart. The sum on row t
    depends on rows <= t only.

    Args:
        stack: (T, ...) float64 without NaN; overwritten with its cumulative sums.
        window: Rows per window.

    Returns:
        (T, ...) float64, a new array.
    """
    flat = stack.reshape(stack.shape[0], -1)
    for row in range(1, flat.shape[0]):
        np.add(flat[row], flat[row - 1], out=flat[row])
    out = np.empty_like(stack)
    out[:window] = stack[:window]
    np.subtract(stack[window:], stack[:-window], out=out[window:])
    return out


def _rolling_complete(valid: np.ndarray, window: int) -> np.ndarray:
    """Whether all `window` rows ending on each row are valid.

    Args:
        valid: (T, N) bool.
        window: Rows per window.

    Returns:
        (T, N) bool.
    """
    count = np.cumsum(valid, axis=0, dtype=np.int32)
    complete: np.ndarray = count == window
    complete[window:] = (count[window:] - count[:-window]) == window
    return complete


def _column_center(x: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    """A per-column constant to subtract before taking rolling moments.

    The mean of the present values among the `window` rows starting at each
    column's first present value. Every complete window lies at or after
    those rows, so the constant never brings later data into earlier values.
    Centering keeps cumulative sums small, so window variances do not lose
    digits to cancellation (a constant-growth series gets a volatility of
    ~1e-17, not ~1e-9).

    Args:
        x: (T, N) float64 with NaN where missing.
        valid: `~isnan(x)`.
        window: Window length.

    Returns:
        (N,) float64 (0 for a column without values).
    """
    rows, cols = x.shape
    first = valid.argmax(axis=0)
    pick = np.minimum(first[None, :] + np.arange(window)[:, None], rows - 1)
    col = np.arange(cols)[None, :]
    present = valid[pick, col]
    total = np.where(present, x[pick, col], 0.0).sum(axis=0)
    center: np.ndarray = total / np.maximum(present.sum(axis=0), 1)
    return center


# -- nanobook indicators -------------------------------------------------------------------------


def rsi(spec: RsiFactor, panel: Panel) -> np.ndarray:
    """Wilder's RSI of adj_close, 0-100 (nanobook `rsi`, TA-Lib definition).

    Args:
        spec: The factor.
        panel: The market panel.

    Returns:
        (T, N) float64; NaN on each symbol's first `period` priced days.
    """
    period = spec.period
    (out,) = _per_symbol((panel.adj_close,), lambda s: (indicators.rsi(s[0], period),))
    return out


def macd(spec: MacdFactor, panel: Panel) -> np.ndarray:
    """MACD of adj_close: the `output` line (nanobook `macd`, TA-Lib EMAs).

    `macd` = EMA(fast) - EMA(slow), `signal` = EMA(signal) of it, `hist` =
    macd - signal; in price units, or divided by adj_close on the same date
    when `normalize` (a fraction of the price).

    Args:
        spec: The factor.
        panel: The market panel.

    Returns:
        (T, N) float64; NaN on each symbol's first `slow + signal - 2` priced days.
    """
    pick = ("macd", "signal", "hist").index(spec.output)
    fast, slow, signal = spec.fast, spec.slow, spec.signal
    (out,) = _per_symbol(
        (panel.adj_close,), lambda s: (indicators.macd(s[0], fast, slow, signal)[pick],)
    )
    if spec.normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            out /= panel.adj_close
    return out


def bbands(spec: BbandsFactor, panel: Panel) -> np.ndarray:
    """Bollinger %b of adj_close: (close - lower) / (upper - lower).

    Bands are SMA(`period`) +- `num_std` population standard deviations
    (nanobook `py_bbands`). 0 = on the lower band, 1 = on the upper band.
    NaN where the bands are flat (width below 1e-9 of the price).

    Args:
        spec: The factor.
        panel: The market panel.

    Returns:
        (T, N) float64; NaN on each symbol's first `period - 1` priced days.
    """
    period, k = spec.period, spec.num_std
    upper, lower = _per_symbol(
        (panel.adj_close,), lambda s: indicators.bbands(s[0], period, k), outputs=2
    )
    close = panel.adj_close
    width = upper - lower
    out = np.full(close.shape, np.nan)
    with np.errstate(invalid="ignore"):
        wide = width > FLAT_BAND * np.abs(close)
    np.divide(close - lower, width, out=out, where=wide)
    return out


def atr(spec: AtrFactor, panel: Panel) -> np.ndarray:
    """Wilder's average true range (nanobook `py_atr`, TA-Lib definition).

    Uses high/low/adj_close on the adj_close basis; a day is priced only if all
    three are present. In price units, or divided by adj_close on the same date
    when `normalize` (a fraction of the price).

    Args:
        spec: The factor.
        panel: The market panel (needs `high` and `low`).

    Returns:
        (T, N) float64; NaN on each symbol's first `period` priced days.

    Raises:
        QtcError: If the panel has no high/low.
    """
    if panel.high is None or panel.low is None:
        raise QtcError(f"factor {spec.name!r} (atr) needs high and low in the panel")
    period = spec.period
    (out,) = _per_symbol(
        (panel.high, panel.low, panel.adj_close),
        lambda s: (indicators.atr(s[0], s[1], s[2], period),),
    )
    if spec.normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            out /= panel.adj_close
    return out


def _per_symbol(
    inputs: Sequence[np.ndarray],
    fn: Callable[[list[np.ndarray]], Sequence[np.ndarray]],
    outputs: int = 1,
) -> list[np.ndarray]:
    """Run a per-series indicator on every symbol's priced segment.

    A day is priced when every input is present. Each symbol's segment runs
    from its first to its last priced day; missing days inside it are
    forward-filled (from earlier days only) before the call, and every output
    is NaN again on them afterwards.

    Args:
        inputs: (T, N) arrays (e.g. high, low, close).
        fn: Takes the clean 1-D segments of one symbol, returns `outputs` arrays.
        outputs: Number of arrays `fn` returns.

    Returns:
        `outputs` arrays of shape (T, N).
    """
    valid = np.logical_and.reduce([~np.isnan(x) for x in inputs])
    rows, cols = valid.shape
    filled = [np.asfortranarray(_ffill(x, valid)) for x in inputs]
    result = [np.full((rows, cols), np.nan, order="F") for _ in range(outputs)]
    seen = valid.any(axis=0)
    first = valid.argmax(axis=0)
    last = rows - valid[::-1].argmax(axis=0)
    for j in np.flatnonzero(seen):
        lo, hi = first[j], last[j]
        for out, values in zip(result, fn([x[lo:hi, j] for x in filled]), strict=True):
            out[lo:hi, j] = values
    final = [np.ascontiguousarray(out) for out in result]
    for out in final:
        out[~valid] = np.nan
    return final


def _ffill(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Forward-fill each column from its last valid row (rows before the first stay as is).

    Args:
        x: (T, N) float64.
        valid: (T, N) bool, rows to keep.

    Returns:
        (T, N) float64, a new array.
    """
    rows = np.where(valid, np.arange(x.shape[0])[:, None], 0)
    np.maximum.accumulate(rows, axis=0, out=rows)
    out: np.ndarray = np.take_along_axis(x, rows, axis=0)
    return out


# -- GARCH ---------------------------------------------------------------------------------------


def garch_vol(spec: GarchVolFactor, panel: Panel, dates_needed: np.ndarray | None) -> np.ndarray:
    """One-day-ahead volatility forecast from the `window` daily returns ending on t.

    `ewma`: nanobook `garch_ewma_forecast` (fixed alpha 0.08, beta 0.90, omega
    from the window's sample variance, zero mean). `mle`: a GARCH(1,1) with zero
    mean and normal errors fitted by `arch` on the window's returns x 100,
    forecast one step. Units: daily return sigma, x sqrt(252) when `annualize`.
    NaN unless all `window` returns are present. Each forecast is a separate
    call (ewma ~7 us, mle ~5 ms), so only rows in `dates_needed` are computed.

    Args:
        spec: The factor.
        panel: The market panel.
        dates_needed: (T,) bool rows to compute, or None for all; other rows are NaN.

    Returns:
        (T, N) float64.
    """
    window = spec.window
    ret = panel.returns()
    wanted = _rolling_complete(~np.isnan(ret), window)
    wanted &= ~np.isnan(panel.adj_close)
    if dates_needed is not None:
        wanted &= dates_needed[:, None]
    out = np.full(ret.shape, np.nan)
    for j in np.flatnonzero(wanted.any(axis=0)):
        ends = np.flatnonzero(wanted[:, j])
        column = np.ascontiguousarray(ret[:, j])
        if spec.method == "ewma":
            out[ends, j] = indicators.garch_ewma_at(column, ends.tolist(), window)
        else:
            out[ends, j] = [_arch_forecast(column[end - window + 1 : end + 1]) for end in ends]
    if spec.annualize:
        out *= np.sqrt(TRADING_DAYS)
    return out


def _arch_forecast(returns: np.ndarray) -> float:
    """Fit a zero-mean GARCH(1,1) with `arch` and forecast the next day's sigma.

    Args:
        returns: Daily simple returns without NaN.

    Returns:
        Daily sigma as a fraction; NaN if the window has no variance or the fit fails.
    """
    if not np.ptp(returns) > 0:
        return float("nan")
    from arch import arch_model

    model = arch_model(returns * 100.0, mean="Zero", vol="GARCH", p=1, q=1, rescale=False)
    try:
        fit = model.fit(disp="off", show_warning=False)
        variance = float(fit.forecast(horizon=1, reindex=False).variance.to_numpy()[-1, 0])
    except (ValueError, np.linalg.LinAlgError):
        return float("nan")
    return float(np.sqrt(variance) / 100.0) if np.isfinite(variance) else float("nan")
