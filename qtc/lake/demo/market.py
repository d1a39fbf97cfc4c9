"""Simulation of the SYNTHETIC demo market (prices only; tables are in `demo_tables`).

Nothing here is real data. The market is drawn from `numpy.random.Generator(
PCG64(seed))`, with random numbers consumed in a fixed order, so a seed always
gives the same market on the same platform.

Model, per trading day `t` and stock `i` in sector `k` (log returns):

    r[t, i] = c[i] + alpha[t, i] / 252 + beta[i] * m[t] + load[i] * s[t, k] + e[t, i]

* `m` - market factor: GJR-GARCH(1,1) volatility (long-run ~16 %/yr, higher
  after down days) with standardized Student-t(5) shocks, and a two-state
  calm/bear regime chain (bear: negative drift, 1.5x volatility, ~5 months
  on average, ~9 % of the time) that produces crashes and recoveries;
* `s` - 11 sector factors: GARCH(1,1), sector-specific long-run volatility,
  Student-t(6) shocks;
* `e` - idiosyncratic: GARCH(1,1) per stock around a stock-specific long-run
  volatility (lognormal, ~25 %/yr), Student-t(4.5) shocks (fat tails);
* `alpha` - a slowly varying per-stock drift (AR(1), two-year time constant,
  ~12 %/yr cross-sectional dispersion): past winners tend to keep winning,
  which makes 12-month returns positively autocorrelated across stocks
  (momentum persistence).

Listings: about a quarter of the stocks start late; about 15 % are delisted
early, and any stock whose price falls below $1 is delisted then. Close is
the price-return path rounded to cents, then split-adjusted (2-for-1 steps,
so that no stock ends above $500: winners start at small adjusted prices, as
in Yahoo data); `adj_close` is the total-return path (dividend yield 0-4 %),
equal to close on the stock's last day, like Yahoo's adjusted close. Open
gaps from the previous close; high/low bracket open and close; volume follows
turnover and the size of the move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

SECTORS: tuple[tuple[str, float, float, float, tuple[str, ...]], ...] = (
    # name, weight, sector beta, sector factor vol (annual), industries
    ("Information Technology", 0.14, 1.20, 0.12, ("Software", "Semiconductors", "IT Services")),
    ("Health Care", 0.12, 0.85, 0.10, ("Pharmaceuticals", "Health Care Equipment", "Biotech")),
    ("Financials", 0.13, 1.10, 0.12, ("Banks", "Insurance", "Capital Markets")),
    ("Consumer Discretionary", 0.11, 1.10, 0.10, ("Retail", "Hotels & Leisure", "Automobiles")),
    ("Industrials", 0.14, 1.05, 0.08, ("Machinery", "Aerospace & Defense", "Transportation")),
    ("Communication Services", 0.05, 1.00, 0.10, ("Media", "Telecom Services")),
    ("Consumer Staples", 0.07, 0.65, 0.07, ("Food Products", "Household Products")),
    ("Energy", 0.05, 1.00, 0.20, ("Oil & Gas E&P", "Energy Equipment")),
    ("Utilities", 0.06, 0.50, 0.08, ("Electric Utilities", "Gas Utilities")),
    ("Real Estate", 0.06, 0.90, 0.11, ("REITs", "Real Estate Services")),
    ("Materials", 0.07, 1.05, 0.12, ("Chemicals", "Metals & Mining", "Containers")),
)
"""The 11 sectors with their share of stocks, beta, factor volatility and industries."""

TRADING_DAYS = 252
MIN_PRICE = 1.0
SPLIT_ABOVE = 500.0
"""Stocks whose last close is above this have their history split-adjusted (2-for-1 steps)."""
SHOCK_CAP = 8.0
"""Standardized shocks are clipped at +-8 (tails stay fat, no absurd jumps)."""


@dataclass(frozen=True, slots=True)
class Universe:
    """The stocks of the demo market.

    Attributes:
        symbols: Tickers (pronounceable, 5 letters).
        names: Company names.
        sector: Sector index per stock (into `SECTORS`).
        industry: Industry name per stock.
    """

    symbols: list[str]
    names: list[str]
    sector: np.ndarray
    industry: list[str]


@dataclass(frozen=True, slots=True)
class Market:
    """A simulated market: arrays of shape (days, stocks) unless noted.

    Attributes:
        dates: Trading dates, `datetime64[D]` (days,).
        universe: The stocks.
        first: Index of each stock's first trading day (stocks,).
        last: Index of each stock's last trading day (stocks,).
        open: Open prices (NaN outside a stock's life).
        high: High prices.
        low: Low prices.
        close: Close prices (split-adjusted price-return path, cents).
        adj_close: Total-return adjusted close.
        volume: Share volume (float, NaN outside life).
        shares: Shares outstanding (stocks,).
        alpha: Latent annual drift.
        market_var: Daily variance of the market factor (days,).
    """

    dates: np.ndarray
    universe: Universe
    first: np.ndarray
    last: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    adj_close: np.ndarray
    volume: np.ndarray
    shares: np.ndarray
    alpha: np.ndarray
    market_var: np.ndarray

    @property
    def alive(self) -> np.ndarray:
        """Boolean (days, stocks): the stock trades on the day."""
        t = np.arange(len(self.dates))[:, None]
        return (t >= self.first[None, :]) & (t <= self.last[None, :])


def trading_calendar(start: date, end: date) -> np.ndarray:
    """Weekdays from start to end minus fixed-rule US holidays.

    Removed: Jan 1, Jul 4, Dec 25 (no weekend observance), MLK day, Presidents
    day, Memorial day, Labor day and Thanksgiving.

    Args:
        start: First calendar date.
        end: Last calendar date.

    Returns:
        Sorted `datetime64[D]` array.
    """
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    weekday = (days.astype(np.int64) + 3) % 7
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    monday = weekday == 0
    holiday = (
        ((month == 1) & (dom == 1))
        | ((month == 7) & (dom == 4))
        | ((month == 12) & (dom == 25))
        | ((month == 1) & monday & (dom >= 15) & (dom <= 21))
        | ((month == 2) & monday & (dom >= 15) & (dom <= 21))
        | ((month == 5) & monday & (dom >= 25))
        | ((month == 9) & monday & (dom <= 7))
        | ((month == 11) & (weekday == 3) & (dom >= 22) & (dom <= 28))
    )
    trading: np.ndarray = days[(weekday < 5) & ~holiday]
    return trading


def draw_universe(rng: np.random.Generator, n: int) -> Universe:
    """Draw tickers, names, sectors and industries.

    Args:
        rng: Random generator.
        n: Number of stocks.

    Returns:
        The universe.
    """
    weights = np.array([s[1] for s in SECTORS])
    sector = np.sort(rng.choice(len(SECTORS), size=n, p=weights / weights.sum()))
    symbols = _tickers(rng, n)
    suffixes = ("Corp", "Holdings", "Group", "Industries", "Systems", "Partners", "Labs", "Co")
    picks = rng.integers(0, len(suffixes), n)
    names = [f"{s.capitalize()} {suffixes[j]}" for s, j in zip(symbols, picks, strict=True)]
    ind_pick = rng.integers(0, 3, n)
    industry = [
        SECTORS[k][4][j % len(SECTORS[k][4])] for k, j in zip(sector, ind_pick, strict=True)
    ]
    return Universe(symbols, names, sector, industry)


def _tickers(rng: np.random.Generator, n: int) -> list[str]:
    """Draw unique pronounceable 5-letter tickers (consonant-vowel-consonant-vowel-consonant).

    Five letters keep them visibly unlike most real US tickers (KAVOR, MIRET, ...).

    Args:
        rng: Random generator.
        n: How many.

    Returns:
        Tickers in draw order.
    """
    consonants = np.array(list("BCDFGKLMNPRSTVZ"))
    vowels = np.array(list("AEIOU"))
    chosen: dict[str, None] = {}
    while len(chosen) < n:
        k = 2 * n
        c1, c2, c3 = rng.choice(consonants, (3, k))
        v1, v2 = rng.choice(vowels, (2, k))
        words = np.char.add(np.char.add(np.char.add(np.char.add(c1, v1), c2), v2), c3)
        for word in words.tolist():
            if len(chosen) < n:
                chosen[word] = None
    return list(chosen)


def _student_t(rng: np.random.Generator, df: float, size: tuple[int, ...]) -> np.ndarray:
    """Student-t draws scaled to unit variance, clipped at +-`SHOCK_CAP`.

    Args:
        rng: Random generator.
        df: Degrees of freedom (> 2).
        size: Output shape.

    Returns:
        Array of standardized t draws.
    """
    draws: np.ndarray = rng.standard_t(df, size) * np.sqrt((df - 2.0) / df)
    clipped: np.ndarray = np.clip(draws, -SHOCK_CAP, SHOCK_CAP)
    return clipped


REGIMES: tuple[tuple[float, float, float], ...] = (
    # annual log drift of the market factor, volatility multiplier, daily exit probability
    (0.11, 1.0, 1.0 / (4 * TRADING_DAYS)),
    (-0.25, 1.5, 1.0 / 100),
)
"""Calm and bear market regimes (a two-state Markov chain)."""


@dataclass(frozen=True, slots=True)
class Loadings:
    """Per-stock exposures and long-run volatilities.

    Attributes:
        beta: Market beta.
        load: Sector-factor loading.
        sector_vol: Long-run annual volatility of each sector factor (sectors,).
        idio_vol: Long-run annual idiosyncratic volatility.
    """

    beta: np.ndarray
    load: np.ndarray
    sector_vol: np.ndarray
    idio_vol: np.ndarray


@dataclass(frozen=True, slots=True)
class Shocks:
    """Pre-drawn random inputs of the return recursion, one row per day.

    Attributes:
        market: Standardized t(5) market shocks (days,).
        sector: Standardized t(6) sector shocks (days, sectors).
        idio: Standardized t(4.5) idiosyncratic shocks (days, stocks).
        drift: Normal innovations of the latent drift (days, stocks).
        regime: Uniform draws for regime switches (days,).
        alpha0: Initial annual drift per stock.
        log_cap0: Initial log market cap per stock (drives the size effect).
    """

    market: np.ndarray
    sector: np.ndarray
    idio: np.ndarray
    drift: np.ndarray
    regime: np.ndarray
    alpha0: np.ndarray
    log_cap0: np.ndarray


def simulate_returns(
    rng: np.random.Generator, days: int, universe: Universe
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate daily log returns of every stock.

    Args:
        rng: Random generator.
        days: Number of trading days.
        universe: The stocks.

    Returns:
        `(log_returns, total_variance, alpha, market_variance, log_cap)`: all
        of shape (days, stocks) except `market_variance` (days,); `log_cap` is
        the log market cap the size effect used.
    """
    n = len(universe.symbols)
    sec_beta = np.array([s[2] for s in SECTORS])
    loadings = Loadings(
        beta=np.clip(sec_beta[universe.sector] + rng.normal(0.0, 0.2, n), 0.2, 2.2),
        load=np.clip(rng.normal(1.0, 0.25, n), 0.3, 1.8),
        sector_vol=np.array([s[3] for s in SECTORS]),
        idio_vol=np.clip(np.exp(rng.normal(np.log(0.25), 0.35, n)), 0.12, 0.60),
    )
    shocks = Shocks(
        market=_student_t(rng, 5.0, (days,)),
        sector=_student_t(rng, 6.0, (days, len(SECTORS))),
        idio=_student_t(rng, 4.5, (days, n)),
        drift=rng.standard_normal((days, n)),
        regime=rng.random(days),
        alpha0=rng.normal(0.0, ALPHA_VOL, n),
        log_cap0=rng.normal(np.log(10e9), 1.1, n),
    )
    returns, var, alpha, market_var = _recursion(shocks, loadings, universe.sector)
    log_cap = shocks.log_cap0 + np.cumsum(returns, axis=0)
    return returns, var, alpha, market_var, log_cap


ALPHA_VOL = 0.12
"""Cross-sectional standard deviation of the latent annual drift."""

ALPHA_YEARS = 2.0
"""Time constant (years) of the latent drift's AR(1)."""

SIZE_EFFECT = 0.04
"""Annual drift per unit of log market cap below the cap-weighted mean log cap.

Measured against the cap-weighted mean, the size effect gives small caps a
premium and keeps mega caps from compounding forever, without dragging the
cap-weighted index itself."""


def _regime_path(uniform: np.ndarray) -> np.ndarray:
    """Run the two-state regime chain.

    Args:
        uniform: One uniform draw per day.

    Returns:
        Regime index per day (0 calm, 1 bear).
    """
    state = 0
    path = np.empty(len(uniform), dtype=np.int64)
    for t, u in enumerate(uniform.tolist()):
        if u < REGIMES[state][2]:
            state = 1 - state
        path[t] = state
    return path


def _recursion(
    shocks: Shocks, loadings: Loadings, sec: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the GARCH and drift recursions over days (vectorized over stocks).

    GARCH variances are capped (market at 4x, sectors and stocks at 3x their
    long-run volatility). Drifts are relative: the cap-weighted means of the
    latent drift and of the size effect are removed each day, so the market
    factor alone sets the cap-weighted index's drift. Stock log returns get a
    convexity correction of -0.5 * (idiosyncratic + sector variance), so a
    stock's expected simple return is about beta times the market's plus its
    relative drift, whatever its volatility.

    Args:
        shocks: Pre-drawn random inputs.
        loadings: Per-stock exposures.
        sec: Sector index per stock.

    Returns:
        `(log_returns, total_variance, alpha, market_variance)`.
    """
    days, n = shocks.idio.shape
    beta, load = loadings.beta, loadings.load
    vm = 0.16**2 / TRADING_DAYS
    vs = loadings.sector_vol**2 / TRADING_DAYS
    vi = loadings.idio_vol**2 / TRADING_DAYS
    am, gm, bm, a_s, b_s, a_i, b_i = 0.03, 0.10, 0.90, 0.06, 0.92, 0.05, 0.93
    om, os_, oi = vm * (1 - am - gm / 2 - bm), vs * (1 - a_s - b_s), vi * (1 - a_i - b_i)
    phi = np.exp(-1.0 / (ALPHA_YEARS * TRADING_DAYS))
    kick = np.sqrt(1.0 - phi**2) * ALPHA_VOL
    convexity = -0.5 * (vi + load * load * vs[sec])
    regime = _regime_path(shocks.regime)
    drift = np.array([r[0] for r in REGIMES])[regime] / TRADING_DAYS
    vol_mult = np.array([r[1] for r in REGIMES])[regime]
    hm, hs, hi, em, es, ei = vm, vs.copy(), vi.copy(), 0.0, np.zeros_like(vs), np.zeros(n)
    alpha = shocks.alpha0.copy()
    log_cap = shocks.log_cap0.copy()
    out, var, alphas = np.empty((days, n)), np.empty((days, n)), np.empty((days, n))
    market_var = np.empty(days)
    for t in range(days):
        hm = min(om + (am + gm * (em < 0)) * em * em + bm * hm, 16.0 * vm)
        hs = np.minimum(os_ + a_s * es * es + b_s * hs, 9.0 * vs)
        hi = np.minimum(oi + a_i * ei * ei + b_i * hi, 9.0 * vi)
        em = np.sqrt(hm) * shocks.market[t]
        es = np.sqrt(hs) * shocks.sector[t]
        ei = np.sqrt(hi) * shocks.idio[t]
        alpha = phi * alpha + kick * shocks.drift[t]
        market = drift[t] + em * vol_mult[t]
        cap_weight = np.exp(log_cap - log_cap.max())
        cap_weight /= cap_weight.sum()
        size = SIZE_EFFECT * (log_cap - cap_weight @ log_cap)
        relative = alpha - cap_weight @ alpha - size
        out[t] = convexity + relative / TRADING_DAYS + beta * market + load * es[sec] + ei
        log_cap += out[t]
        market_var[t] = hm * vol_mult[t] ** 2
        var[t] = beta * beta * market_var[t] + load * load * hs[sec] + hi
        alphas[t] = alpha
    return out, var, alphas, market_var


def lifetimes(rng: np.random.Generator, days: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw listing and delisting days.

    Args:
        rng: Random generator.
        days: Number of trading days.
        n: Number of stocks.

    Returns:
        `(first, last)` day indices per stock (delistings for low prices are
        applied later, in `simulate_market`).
    """
    late = rng.random(n) < 0.25
    first = np.where(late, rng.integers(days // 20, max(days * 17 // 20, days // 20 + 1), n), 0)
    early = rng.random(n) < 0.15
    span = np.maximum(days - 1 - (first + TRADING_DAYS), 1)
    end_draw = first + TRADING_DAYS + (rng.random(n) * span).astype(np.int64)
    last = np.where(early & (end_draw < days - 1), end_draw, days - 1)
    return first.astype(np.int64), last.astype(np.int64)


def simulate_market(rng: np.random.Generator, n_symbols: int, start: date, end: date) -> Market:
    """Simulate the whole demo market.

    Args:
        rng: The seeded PCG64 generator (consumed in a fixed order).
        n_symbols: Number of stocks.
        start: First calendar date.
        end: Last calendar date.

    Returns:
        The market.
    """
    dates = trading_calendar(start, end)
    days = len(dates)
    universe = draw_universe(rng, n_symbols)
    log_ret, var, alpha, market_var, log_cap = simulate_returns(rng, days, universe)
    first, last = lifetimes(rng, days, n_symbols)
    p0 = np.clip(np.exp(rng.normal(np.log(40.0), 0.7, n_symbols)), 5.0, 400.0)
    div_yield = np.where(rng.random(n_symbols) < 0.3, 0.0, rng.uniform(0.005, 0.04, n_symbols))
    t = np.arange(days)[:, None]
    alive = (t >= first) & (t <= last)
    tr_log = np.log(p0) + np.cumsum(np.where(alive & (t > first), log_ret, 0.0), axis=0)
    price_log = tr_log - div_yield / TRADING_DAYS * np.maximum(t - first, 0)
    last = _delist_penny_stocks(price_log, first, last)
    alive = (t >= first) & (t <= last)
    close = np.where(alive, np.maximum(np.round(np.exp(price_log), 2), 0.01), np.nan)
    adj_factor = np.exp(-div_yield / TRADING_DAYS * (last[None, :] - t))
    adj_close = close * adj_factor
    sigma = np.sqrt(var)
    open_, high, low = _ohlc(rng, close, sigma)
    cap_at_listing = np.exp(log_cap[first, np.arange(n_symbols)])
    shares = np.round(cap_at_listing / p0, -3)
    volume = _volume(rng, close, log_ret, sigma, shares)
    split = _split_factors(close, last)
    return Market(
        dates, universe, first, last, open_ / split, high / split, low / split, close / split,
        adj_close / split, volume * split, shares * split, alpha, market_var,
    )  # fmt: skip


def _split_factors(close: np.ndarray, last: np.ndarray) -> np.ndarray:
    """2-for-1 split factor per stock that brings its last close to at most `SPLIT_ABOVE`.

    Dividing a whole history by it gives a split-adjusted series on the last day's
    share basis, like Yahoo's: big winners end near ordinary price levels and
    start at small split-adjusted prices.

    Args:
        close: Traded closes (days, stocks), NaN outside life.
        last: Last day per stock.

    Returns:
        Factor per stock (a power of two, 1 when no split is needed).
    """
    final = close[last, np.arange(close.shape[1])]
    splits = np.ceil(np.log2(np.maximum(final / SPLIT_ABOVE, 1.0)))
    factors: np.ndarray = 2.0**splits
    return factors


def _delist_penny_stocks(price_log: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Move a stock's last day to the first day its price falls below `MIN_PRICE`.

    Args:
        price_log: Log price paths (days, stocks).
        first: First day per stock.
        last: Last day per stock.

    Returns:
        New last day per stock.
    """
    t = np.arange(price_log.shape[0])[:, None]
    below = (price_log < np.log(MIN_PRICE)) & (t >= first) & (t <= last)
    hit = below.any(axis=0)
    return np.where(hit, np.maximum(below.argmax(axis=0), first), last)


def _ohlc(
    rng: np.random.Generator, close: np.ndarray, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Build open, high and low around the closes, consistent with them.

    Args:
        rng: Random generator.
        close: Closes (NaN outside life).
        sigma: Daily volatility per day and stock.

    Returns:
        `(open, high, low)` rounded to cents with low <= open, close <= high.
    """
    prev = np.vstack([close[:1], close[:-1]])
    prev = np.where(np.isnan(prev), close, prev)
    gap = rng.normal(0.0, 0.3, close.shape) * sigma
    open_ = np.round(prev * np.exp(gap), 2)
    up = np.abs(rng.normal(0.0, 0.5, close.shape)) * sigma
    down = np.abs(rng.normal(0.0, 0.5, close.shape)) * sigma
    high = np.round(np.fmax(open_, close) * np.exp(up), 2)
    low = np.round(np.fmin(open_, close) * np.exp(-down), 2)
    open_ = np.where(np.isnan(close), np.nan, np.maximum(open_, 0.01))
    high = np.fmax(np.fmax(high, open_), close)
    low = np.maximum(np.fmin(np.fmin(low, open_), close), 0.01)
    return open_, high, low


def _volume(
    rng: np.random.Generator,
    close: np.ndarray,
    log_ret: np.ndarray,
    sigma: np.ndarray,
    shares: np.ndarray,
) -> np.ndarray:
    """Daily share volume: turnover times a surprise factor for large moves.

    Args:
        rng: Random generator.
        close: Closes (NaN outside life).
        log_ret: Log returns.
        sigma: Daily volatility.
        shares: Shares outstanding.

    Returns:
        Volume as float (NaN outside life).
    """
    turnover = np.exp(rng.normal(np.log(0.006), 0.4, shares.shape))
    surprise = np.minimum(np.abs(log_ret) / np.maximum(sigma, 1e-6), 6.0)
    noise = rng.normal(0.0, 0.35, close.shape)
    vol = np.round(shares * turnover * np.exp(noise + 0.3 * surprise - 0.3), -2)
    return np.where(np.isnan(close), np.nan, np.maximum(vol, 100.0))
