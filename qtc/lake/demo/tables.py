"""Tables of the SYNTHETIC demo market: every lake dataset built from a `Market`.

* `prices` - the stocks' daily bars, one row per trading day of each stock's life.
* `symbols` - tickers, made-up names, sectors and industries.
* `membership` - index `sp500` (a stand-in, not the real index): on the first
  trading day of each quarter, the largest stocks by market cap (200, or two
  thirds of a smaller universe) among those trading that day.
* `fundamentals` - annual statements (source `demo`) for each fiscal year a
  stock is listed at the year end, published 60-90 days after it (only those
  published by the market's last day). Profitability (ROE) follows the
  stock's latent drift, so quality and returns are related; book value follows
  market cap through a persistent price-to-book ratio.
* `benchmarks` - `SPY`: the cap-weighted index of all listed demo stocks
  (close = price return scaled to start at 120; adj_close = total return).
* `rates` - `rf` per day from a fixed annual policy-rate path (2005-2023 shape)
  with small seeded noise, divided by 252.
* `macro` - `vix` from the market factor's GARCH volatility, and a yield curve
  from the short rate plus a term spread that inverts when rates are high.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from qtc.lake.demo.market import SECTORS, TRADING_DAYS, Market
from qtc.lake.schema import FUNDAMENTAL_FIELDS, YIELD_COLUMNS, conform

RATE_KNOTS: tuple[tuple[str, float], ...] = (
    ("2000-01-01", 0.055),
    ("2004-06-01", 0.010),
    ("2006-07-01", 0.0525),
    ("2007-08-01", 0.0525),
    ("2008-12-20", 0.0010),
    ("2015-12-01", 0.0020),
    ("2018-12-20", 0.0240),
    ("2019-12-01", 0.0160),
    ("2020-04-01", 0.0010),
    ("2022-02-15", 0.0010),
    ("2023-08-01", 0.0530),
    ("2030-01-01", 0.0530),
)
"""(date, annual short rate) knots; the rate path interpolates linearly between them."""

TENORS_YEARS: tuple[float, ...] = (1 / 12, 0.25, 0.5, 1, 2, 3, 5, 7, 10, 20, 30)
"""Maturity in years of each column of `YIELD_COLUMNS`."""


def prices_frame(market: Market) -> pl.DataFrame:
    """Long `prices` frame: one row per stock per trading day of its life.

    Args:
        market: The simulated market.

    Returns:
        Conformed `prices` frame.
    """
    alive_t = market.alive.T
    stock, day = np.nonzero(alive_t)
    symbols = pl.Series("symbol", market.universe.symbols, dtype=pl.String)
    frame = pl.DataFrame(
        {
            "date": market.dates[day],
            "symbol": symbols.gather(stock),
            "open": market.open.T[alive_t],
            "high": market.high.T[alive_t],
            "low": market.low.T[alive_t],
            "close": market.close.T[alive_t],
            "adj_close": market.adj_close.T[alive_t],
            "volume": market.volume.T[alive_t].astype(np.int64),
        }
    )
    return conform(frame, "prices")


def symbols_frame(market: Market) -> pl.DataFrame:
    """`symbols` frame: ticker, name, sector, industry.

    Args:
        market: The simulated market.

    Returns:
        Conformed `symbols` frame.
    """
    uni = market.universe
    frame = pl.DataFrame(
        {
            "symbol": uni.symbols,
            "name": uni.names,
            "sector": [SECTORS[k][0] for k in uni.sector],
            "industry": uni.industry,
        }
    )
    return conform(frame, "symbols")


def market_caps(market: Market) -> np.ndarray:
    """Market capitalization per day and stock (NaN outside life).

    Args:
        market: The simulated market.

    Returns:
        Array (days, stocks).
    """
    caps: np.ndarray = market.close * market.shares[None, :]
    return caps


def membership_frame(market: Market, size: int | None = None) -> pl.DataFrame:
    """Quarterly top-by-market-cap index snapshots, index name `sp500`.

    Args:
        market: The simulated market.
        size: Members per snapshot; default 200 or two thirds of the universe.

    Returns:
        Conformed `membership` frame.
    """
    n = len(market.universe.symbols)
    k = size if size is not None else min(200, max(1, round(n * 2 / 3)))
    months = market.dates.astype("datetime64[M]")
    new_month = np.concatenate(([True], months[1:] != months[:-1]))
    quarter_start = (months.astype(np.int64) % 12) % 3 == 0
    snap_rows = np.flatnonzero(new_month & quarter_start)
    caps = np.nan_to_num(market_caps(market)[snap_rows], nan=-np.inf)
    order = np.argsort(-caps, axis=1, kind="stable")[:, :k]
    listed = np.take_along_axis(caps, order, axis=1) > -np.inf
    rows = np.repeat(snap_rows, k)[listed.ravel()]
    stocks = order.ravel()[listed.ravel()]
    symbols = pl.Series("symbol", market.universe.symbols, dtype=pl.String)
    frame = pl.DataFrame(
        {"index": "sp500", "snapshot_date": market.dates[rows], "symbol": symbols.gather(stocks)}
    )
    return conform(frame, "membership")


def index_returns(market: Market) -> tuple[np.ndarray, np.ndarray]:
    """Daily price and total returns of the cap-weighted index of listed stocks.

    Weights are the previous day's market caps of stocks listed on both days.

    Args:
        market: The simulated market.

    Returns:
        `(price_returns, total_returns)` per day (0 on the first day).
    """
    caps = np.nan_to_num(market_caps(market), nan=0.0)
    weight = np.vstack([caps[:1], caps[:-1]])
    both = (weight > 0) & (caps > 0)
    weight = np.where(both, weight, 0.0)
    total_w = np.maximum(weight.sum(axis=1), 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_price = np.where(both, _simple_returns(market.close), 0.0)
        r_total = np.where(both, _simple_returns(market.adj_close), 0.0)
    price: np.ndarray = (r_price * weight).sum(axis=1) / total_w
    total: np.ndarray = (r_total * weight).sum(axis=1) / total_w
    price[0] = total[0] = 0.0
    return price, total


def benchmark_frame(rng: np.random.Generator, market: Market) -> pl.DataFrame:
    """`SPY`: the cap-weighted index of the demo stocks, as a price bar series.

    Args:
        rng: Random generator.
        market: The simulated market.

    Returns:
        Conformed `benchmarks` frame (close starts at 120; adj_close is the
        total-return index, equal to close on the last day).
    """
    r_price, r_total = index_returns(market)
    close = np.round(120.0 * np.cumprod(1.0 + r_price), 2)
    tr = np.cumprod(1.0 + r_total)
    sigma = np.sqrt(market.market_var)
    prev = np.concatenate(([close[0]], close[:-1]))
    open_ = np.round(prev * np.exp(rng.normal(0.0, 0.2, len(close)) * sigma), 2)
    up = np.exp(np.abs(rng.normal(0.0, 0.4, len(close))) * sigma)
    down = np.exp(-np.abs(rng.normal(0.0, 0.4, len(close))) * sigma)
    volume = 8e7 * np.exp(rng.normal(0.0, 0.3, len(close))) * (1.0 + 20.0 * np.abs(r_price))
    frame = pl.DataFrame(
        {
            "date": market.dates,
            "symbol": "SPY",
            "open": open_,
            "high": np.round(np.fmax(open_, close) * up, 2),
            "low": np.round(np.fmin(open_, close) * down, 2),
            "close": close,
            # Rounded: numpy's SIMD sums differ in the last bit between CPUs (AVX2 vs
            # AVX-512); 6 decimals keep the demo lake byte-identical on every machine.
            "adj_close": np.round(close[-1] * (tr / tr[-1]), 6),
            "volume": np.round(volume, -2).astype(np.int64),
        }
    ).with_columns(
        high=pl.max_horizontal("open", "high", "close"),
        low=pl.min_horizontal("open", "low", "close"),
    )
    return conform(frame, "benchmarks")


def _simple_returns(prices: np.ndarray) -> np.ndarray:
    """Day-over-day simple returns (row 0 is NaN).

    Args:
        prices: Array (days, stocks).

    Returns:
        Returns of the same shape.
    """
    prev = np.vstack([np.full((1, prices.shape[1]), np.nan), prices[:-1]])
    returns: np.ndarray = prices / prev - 1.0
    return returns


def short_rate(rng: np.random.Generator, dates: np.ndarray) -> np.ndarray:
    """Annual short rate per day: the knot path plus small AR(1) noise, floored at 0.

    Args:
        rng: Random generator.
        dates: Trading dates.

    Returns:
        Annual decimal rates.
    """
    knot_days = np.array([np.datetime64(d, "D") for d, _ in RATE_KNOTS]).astype(np.int64)
    knot_rates = np.array([r for _, r in RATE_KNOTS])
    base = np.interp(dates.astype(np.int64), knot_days, knot_rates)
    shocks = rng.normal(0.0, 0.0002, len(dates))
    noise = np.zeros(len(dates))
    for t in range(1, len(dates)):
        noise[t] = 0.98 * noise[t - 1] + shocks[t]
    rate: np.ndarray = np.maximum(base + noise, 0.0)
    return rate


def rates_frame(dates: np.ndarray, rate: np.ndarray) -> pl.DataFrame:
    """`rates`: daily risk-free return = annual short rate / 252.

    Args:
        dates: Trading dates.
        rate: Annual short rate per day.

    Returns:
        Conformed `rates` frame.
    """
    rf = np.round(rate / TRADING_DAYS, 7)
    return conform(pl.DataFrame({"date": dates, "rf": rf}), "rates")


def macro_frame(
    rng: np.random.Generator, dates: np.ndarray, rate: np.ndarray, market_var: np.ndarray
) -> pl.DataFrame:
    """`macro`: VIX from market volatility and a yield curve from the short rate.

    Args:
        rng: Random generator.
        dates: Trading dates.
        rate: Annual short rate per day.
        market_var: Daily market variance per day.

    Returns:
        Conformed `macro` frame.
    """
    vol = 100.0 * np.sqrt(market_var * TRADING_DAYS)
    vix = np.clip(1.1 * vol + 2.0 + rng.normal(0.0, 0.8, len(dates)), 9.0, 85.0)
    spread_noise = rng.normal(0.0, 0.0002, len(dates)).cumsum()
    spread_noise -= np.linspace(0.0, spread_noise[-1], len(dates))
    slope = 0.018 - 0.6 * (rate - 0.02) + spread_noise
    data: dict[str, object] = {"date": dates, "vix": np.round(vix, 2)}
    for name, tenor in zip(YIELD_COLUMNS, TENORS_YEARS, strict=True):
        level = rate + slope * (1.0 - np.exp(-tenor / 3.0))
        data[name] = np.round(np.maximum(level, 0.0001), 4)
    return conform(pl.DataFrame(data), "macro")


def fundamentals_frame(rng: np.random.Generator, market: Market) -> pl.DataFrame:
    """Annual fundamentals consistent with each stock's size and drift.

    Args:
        rng: Random generator.
        market: The simulated market.

    Returns:
        Conformed `fundamentals` frame (source `demo`, lag_applied_days 0).
    """
    n = len(market.universe.symbols)
    fye_month = rng.choice(np.array([12, 9, 6, 3]), size=n, p=[0.75, 0.1, 0.1, 0.05])
    years = np.arange(market.dates[0].astype("datetime64[Y]").astype(int) + 1970 - 1,
                      market.dates[-1].astype("datetime64[Y]").astype(int) + 1970 + 1)  # fmt: skip
    stock = np.repeat(np.arange(n), len(years))
    year = np.tile(years, n)
    period_end = _month_end(year, fye_month[stock])
    lag = rng.integers(60, 91, len(stock))
    publish = period_end + lag.astype("timedelta64[D]")
    day = np.searchsorted(market.dates, period_end, side="right") - 1
    valid = (day >= market.first[stock]) & (day <= market.last[stock]) & (day >= 0)
    valid &= publish <= market.dates[-1]
    stock, year, period_end, publish, day = (
        a[valid] for a in (stock, year, period_end, publish, day)
    )
    values = _statement_values(rng, market, stock, day)
    fiscal_year = np.where(fye_month[stock] <= 3, year - 1, year)
    symbols = pl.Series("symbol", market.universe.symbols, dtype=pl.String)
    frame = pl.DataFrame(
        {
            "symbol": symbols.gather(stock),
            "fiscal_year": fiscal_year.astype(np.int32),
            "period_end": period_end,
            "publish_date": publish,
            "lag_applied_days": np.zeros(len(stock), dtype=np.int32),
            "source": "demo",
            **values,
        }
    )
    return conform(frame, "fundamentals")


def _month_end(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Last calendar day of each (year, month).

    Args:
        year: Years.
        month: Months 1-12.

    Returns:
        `datetime64[D]` array.
    """
    first_next = ((year - 1970) * 12 + month).astype("datetime64[M]")
    ends: np.ndarray = first_next.astype("datetime64[D]") - np.timedelta64(1, "D")
    return ends


def _statement_values(
    rng: np.random.Generator, market: Market, stock: np.ndarray, day: np.ndarray
) -> dict[str, np.ndarray]:
    """Draw the canonical statement fields for (stock, period-end day) pairs.

    Args:
        rng: Random generator.
        market: The simulated market.
        stock: Stock index per row.
        day: Trading-day index of each period end.

    Returns:
        Field name -> values, for every name in `FUNDAMENTAL_FIELDS`.
    """
    n = len(market.universe.symbols)
    rows = len(stock)
    pb = np.exp(rng.normal(np.log(2.5), 0.5, n))[stock] * np.exp(rng.normal(0.0, 0.15, rows))
    leverage = rng.uniform(1.5, 4.0, n)[stock]
    debt_share = rng.uniform(0.3, 0.6, n)[stock]
    turnover = np.exp(rng.normal(np.log(0.8), 0.4, n))[stock] * np.exp(rng.normal(0, 0.05, rows))
    margin = rng.uniform(0.2, 0.7, n)[stock]
    roe = 0.10 + 0.6 * market.alpha[day, stock] + rng.normal(0.0, 0.04, rows)
    cap = market.close[day, stock] * market.shares[stock]
    equity = cap / pb
    assets = equity * leverage
    revenue = assets * turnover
    gross = revenue * margin
    net_income = roe * equity
    shares = market.shares[stock]
    values = {
        "revenue": revenue,
        "cost_of_revenue": revenue - gross,
        "gross_profit": gross,
        "operating_income": 1.3 * net_income,
        "net_income": net_income,
        "total_assets": assets,
        "total_liabilities": assets - equity,
        "total_equity": equity,
        "long_term_debt": (assets - equity) * debt_share,
        "operating_cash_flow": net_income + 0.04 * assets * np.exp(rng.normal(0, 0.3, rows)),
        "shares_outstanding": shares,
        "eps": net_income / shares,
    }
    rounded = {
        k: np.round(v, -3) for k, v in values.items() if k not in ("eps", "shares_outstanding")
    }
    rounded["eps"] = np.round(values["eps"], 2)
    rounded["shares_outstanding"] = shares
    return {k: rounded[k] for k in FUNDAMENTAL_FIELDS}


def all_tables(market: Market, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """Build every dataset of the demo lake.

    Args:
        market: The simulated market.
        rng: Random generator (continues the market's stream).

    Returns:
        Dataset name -> conformed frame.
    """
    rate = short_rate(rng, market.dates)
    return {
        "prices": prices_frame(market),
        "symbols": symbols_frame(market),
        "membership": membership_frame(market),
        "fundamentals": fundamentals_frame(rng, market),
        "benchmarks": benchmark_frame(rng, market),
        "rates": rates_frame(market.dates, rate),
        "macro": macro_frame(rng, market.dates, rate, market.market_var),
    }


def demo_window(years: int | None, start: date, end: date) -> tuple[date, date]:
    """Shorten the demo window to whole calendar years from its start year.

    Args:
        years: Calendar years to keep (`start.year` .. `start.year + years - 1`),
            or None for the full window.
        start: Default first date.
        end: Default last date.

    Returns:
        `(start, end)`.
    """
    if years is None:
        return start, end
    return start, min(end, date(start.year + years, 1, 1) - timedelta(days=1))
