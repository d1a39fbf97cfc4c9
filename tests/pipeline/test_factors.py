"""ComputeFactors: every factor kind against hand answers and independent references.

References here are plain numpy loops written from the textbook / TA-Lib
definitions (Wilder RSI and ATR, SMA-seeded EMA MACD, ddof=0 Bollinger,
ddof=1 volatility, cov/var beta); they share no code with qtc.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtc.errors import QtcError
from qtc.lake.demo.build import build_demo_lake
from qtc.lake.ingest.store import DatasetWrite, write_lake
from qtc.lake.read.reader import Lake
from qtc.lake.schema import FUNDAMENTAL_FIELDS, conform
from qtc.manifest.factors import (
    AtrFactor,
    BbandsFactor,
    BetaFactor,
    FactorSpec,
    GarchVolFactor,
    GrowthFactor,
    MacdFactor,
    MomentumFactor,
    QualityFactor,
    RsiFactor,
    SizeFactor,
    ValueFactor,
    VolatilityFactor,
)
from qtc.pipeline import indicators
from qtc.pipeline.factors import (
    FactorCache,
    compute_factor,
    compute_factors,
    factor_key,
    lake_fundamentals,
)
from qtc.pipeline.factors_fundamental import LakeFundamentals, visible_rows
from qtc.pipeline.panel import Panel

SQRT252 = math.sqrt(252.0)


# -- helpers -------------------------------------------------------------------------------------


def make_panel(
    adj_close: np.ndarray,
    *,
    close: np.ndarray | None = None,
    high: np.ndarray | None = None,
    low: np.ndarray | None = None,
    benchmark: np.ndarray | None = None,
    start: str = "2020-01-01",
    extra: dict[str, np.ndarray] | None = None,
) -> Panel:
    """A panel on consecutive calendar days (the factors do not care about weekends)."""
    adj = np.asarray(adj_close, dtype=np.float64)
    if adj.ndim == 1:
        adj = adj[:, None]
    t, n = adj.shape
    dates = np.datetime64(start, "D") + np.arange(t)
    return Panel(
        dates=dates,
        symbols=[f"S{i}" for i in range(n)],
        adj_close=adj,
        close=adj.copy() if close is None else close,
        open=None,
        high=high,
        low=low,
        volume=None,
        sectors=[""] * n,
        benchmark=np.ones(t) if benchmark is None else benchmark,
        rf=np.zeros(t),
        start=0,
        extra=extra or {},
    )


def random_walk(rng: np.random.Generator, t: int, n: int, vol: float = 0.02) -> np.ndarray:
    return np.asarray(100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, (t, n)), axis=0)))


def ragged(px: np.ndarray) -> np.ndarray:
    """Column 1 starts late and ends early, column 2 has a 5-day gap, column 3 is empty."""
    out = px.copy()
    out[:20, 1] = np.nan
    out[-15:, 1] = np.nan
    out[50:55, 2] = np.nan
    if out.shape[1] > 3:
        out[:, 3] = np.nan
    return out


def assert_same(a: np.ndarray, b: np.ndarray, tol: float = 1e-9) -> None:
    """Equal NaN masks and values within `tol` (absolute, relative to scale 1)."""
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    both = ~np.isnan(a)
    if both.any():
        assert float(np.max(np.abs(a[both] - b[both]))) <= tol


# -- independent references (numpy loops) ---------------------------------------------------------


def ref_rsi(c: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(c), np.nan)
    d = np.diff(c)
    if len(d) < n:
        return out
    gain, loss = np.where(d > 0, d, 0.0), np.where(d < 0, -d, 0.0)
    ag, al = gain[:n].mean(), loss[:n].mean()
    out[n] = 100.0 * ag / (ag + al) if ag + al > 0 else 0.0
    for i in range(n, len(d)):
        ag = (ag * (n - 1) + gain[i]) / n
        al = (al * (n - 1) + loss[i]) / n
        out[i + 1] = 100.0 * ag / (ag + al) if ag + al > 0 else 0.0
    return out


def ref_ema(x: np.ndarray, n: int, seed_at: int) -> np.ndarray:
    """EMA (k = 2 / (n + 1)) seeded at `seed_at` with the SMA of the n values ending there."""
    out = np.full(len(x), np.nan)
    if seed_at >= len(x):
        return out
    out[seed_at] = x[seed_at - n + 1 : seed_at + 1].mean()
    k = 2.0 / (n + 1)
    for i in range(seed_at + 1, len(x)):
        out[i] = (x[i] - out[i - 1]) * k + out[i - 1]
    return out


def ref_macd(c: np.ndarray, fast: int, slow: int, sig: int) -> dict[str, np.ndarray]:
    """TA-Lib MACD: both EMAs seeded at bar slow-1; all lines start at bar slow+sig-2."""
    line = ref_ema(c, fast, slow - 1) - ref_ema(c, slow, slow - 1)
    signal = np.full(len(c), np.nan)
    first = slow + sig - 2
    if first < len(c):
        signal[slow - 1 :] = ref_ema(line[slow - 1 :], sig, sig - 1)
    line[:first] = np.nan
    return {"macd": line, "signal": signal, "hist": line - signal}


def ref_bbands_pctb(c: np.ndarray, n: int, k: float) -> np.ndarray:
    out = np.full(len(c), np.nan)
    for i in range(n - 1, len(c)):
        w = c[i - n + 1 : i + 1]
        mid, sd = w.mean(), w.std(ddof=0)
        out[i] = (c[i] - (mid - k * sd)) / (2 * k * sd)
    return out


def ref_atr(h: np.ndarray, low: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(c), np.nan)
    if len(c) <= n:
        return out
    tr = np.maximum(h[1:] - low[1:], np.maximum(abs(h[1:] - c[:-1]), abs(low[1:] - c[:-1])))
    a = tr[:n].mean()
    out[n] = a
    for i in range(n + 1, len(c)):
        a = (a * (n - 1) + tr[i - 1]) / n
        out[i] = a
    return out


def ref_volatility(px: np.ndarray, w: int, annualize: bool) -> np.ndarray:
    r = px[1:] / px[:-1] - 1.0
    out = np.full(px.shape, np.nan)
    for t in range(w, px.shape[0]):
        for j in range(px.shape[1]):
            win = r[t - w : t, j]
            if np.isfinite(win).all():
                out[t, j] = np.std(win, ddof=1) * (SQRT252 if annualize else 1.0)
    return out


def ref_beta(px: np.ndarray, bench: np.ndarray, w: int) -> np.ndarray:
    r = px[1:] / px[:-1] - 1.0
    b = bench[1:] / bench[:-1] - 1.0
    out = np.full(px.shape, np.nan)
    for t in range(w, px.shape[0]):
        x = b[t - w : t]
        for j in range(px.shape[1]):
            y = r[t - w : t, j]
            if np.isfinite(x).all() and np.isfinite(y).all() and np.var(x) > 0:
                out[t, j] = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
    return out


def per_segment(px: np.ndarray, fn: Any, *others: np.ndarray) -> np.ndarray:
    """Apply a 1-D reference on each column's first..last priced rows, gaps forward-filled."""
    out = np.full(px.shape, np.nan)
    for j in range(px.shape[1]):
        ok = np.isfinite(px[:, j])
        for o in others:
            ok &= np.isfinite(o[:, j])
        if not ok.any():
            continue
        lo, hi = int(np.argmax(ok)), len(ok) - int(np.argmax(ok[::-1]))
        cols = []
        for series in (*others, px):
            seg = series[lo:hi, j].copy()
            for i in range(1, len(seg)):
                if not ok[lo + i]:
                    seg[i] = seg[i - 1]
            cols.append(seg)
        out[lo:hi, j] = fn(*cols)
        out[~ok, j] = np.nan
    return out


# -- momentum ------------------------------------------------------------------------------------


def test_momentum_of_a_doubling_stock_is_one() -> None:
    px = np.column_stack([np.linspace(100, 200, 30), np.full(30, 50.0)])
    px[:, 0] = 100 * 2 ** (np.arange(30) / 10)  # doubles every 10 days
    out = compute_factor(
        MomentumFactor(name="m", kind="momentum", lookback=10, skip=0), make_panel(px)
    )
    assert np.isnan(out[:10]).all()
    np.testing.assert_allclose(out[10:, 0], 1.0, rtol=1e-12)
    np.testing.assert_allclose(out[10:, 1], 0.0, atol=1e-15)


def test_momentum_skips_the_most_recent_days() -> None:
    px = np.arange(1.0, 41.0)  # price on day t is t + 1
    out = compute_factor(
        MomentumFactor(name="m", kind="momentum", lookback=12, skip=2), make_panel(px)
    )
    t = 30
    assert out[t, 0] == pytest.approx((t - 2 + 1) / (t - 12 + 1) - 1)
    assert np.isnan(out[11, 0]) and np.isfinite(out[12, 0])


def test_momentum_nan_when_an_end_price_is_missing() -> None:
    px = np.arange(1.0, 41.0)[:, None].repeat(2, 1)
    px[20, 1] = np.nan
    out = compute_factor(
        MomentumFactor(name="m", kind="momentum", lookback=10, skip=3), make_panel(px)
    )
    assert np.isnan(out[23, 1])  # t - skip = 20 missing
    assert np.isnan(out[30, 1])  # t - lookback = 20 missing
    assert np.isnan(out[20, 1])  # not priced on t
    assert np.isfinite(out[24, 1]) and np.isfinite(out[23, 0])


# -- volatility and beta ---------------------------------------------------------------------------


def test_volatility_of_constant_growth_is_zero() -> None:
    px = 100 * 1.01 ** np.arange(300.0)
    out = compute_factor(VolatilityFactor(name="v", kind="volatility", window=20), make_panel(px))
    assert np.isnan(out[:20]).all()
    assert float(np.max(np.abs(out[20:]))) < 1e-12


def test_volatility_matches_reference_with_gaps() -> None:
    rng = np.random.default_rng(1)
    px = ragged(random_walk(rng, 160, 5))
    panel = make_panel(px)
    for annualize in (True, False):
        spec = VolatilityFactor(name="v", kind="volatility", window=15, annualize=annualize)
        ref = ref_volatility(px, 15, annualize)
        ref[np.isnan(px)] = np.nan
        assert_same(compute_factor(spec, panel), ref, 1e-12)


def test_beta_of_twice_the_benchmark_is_two() -> None:
    rng = np.random.default_rng(2)
    b = np.cumprod(1 + rng.normal(0, 0.01, 300)) * 100
    rb = b[1:] / b[:-1] - 1
    twice = np.concatenate([[50.0], 50 * np.cumprod(1 + 2 * rb)])
    noise = random_walk(rng, 300, 1, 0.01)[:, 0]
    out = compute_factor(
        BetaFactor(name="b", kind="beta", window=250),
        make_panel(np.column_stack([twice, noise]), benchmark=b),
    )
    assert np.isnan(out[:250]).all()
    np.testing.assert_allclose(out[250:, 0], 2.0, rtol=1e-10)
    assert float(np.max(np.abs(out[250:, 1]))) < 0.2  # independent noise: beta ~ 0


def test_beta_matches_reference_and_named_benchmark() -> None:
    rng = np.random.default_rng(3)
    px = ragged(random_walk(rng, 200, 4))
    bench = random_walk(rng, 200, 1, 0.01)[:, 0]
    bench[100] = np.nan
    panel = make_panel(px, benchmark=bench)
    ref = ref_beta(px, bench, 30)
    ref[np.isnan(px)] = np.nan
    assert_same(compute_factor(BetaFactor(name="b", kind="beta", window=30), panel), ref, 1e-10)
    other = make_panel(px, benchmark=np.ones(200), extra={"benchmark:QQQ": bench})
    named = BetaFactor(name="b", kind="beta", window=30, benchmark="QQQ")
    assert_same(compute_factor(named, other), ref, 1e-10)
    with pytest.raises(QtcError, match="benchmark:QQQ"):
        compute_factor(named, panel)


# -- nanobook indicators ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ohlc() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    c = ragged(random_walk(rng, 150, 4))
    h = c * (1 + rng.uniform(0, 0.02, c.shape))
    low = c * (1 - rng.uniform(0, 0.02, c.shape))
    return h, low, c


def test_rsi_matches_wilder_reference(ohlc: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    _, _, c = ohlc
    out = compute_factor(RsiFactor(name="r", kind="rsi", period=14), make_panel(c))
    assert_same(out, per_segment(c, lambda x: ref_rsi(x, 14)))
    assert np.isnan(out[50:55, 2]).all() and np.isfinite(out[55, 2])  # gap: NaN, then resumes
    assert np.isnan(out[:34, 1]).all() and np.isfinite(out[34, 1])  # late start + warm-up


@pytest.mark.parametrize("output", ["hist", "macd", "signal"])
@pytest.mark.parametrize("normalize", [True, False])
def test_macd_matches_ema_reference(
    ohlc: tuple[np.ndarray, np.ndarray, np.ndarray], output: str, normalize: bool
) -> None:
    _, _, c = ohlc
    spec = MacdFactor.model_validate(
        {"name": "m", "kind": "macd", "fast": 5, "slow": 13, "signal": 4}
        | {"output": output, "normalize": normalize}
    )
    ref = per_segment(c, lambda x: ref_macd(x, 5, 13, 4)[output])
    if normalize:
        ref = ref / c
    assert_same(compute_factor(spec, make_panel(c)), ref)


def test_bbands_percent_b_matches_reference(
    ohlc: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    _, _, c = ohlc
    out = compute_factor(
        BbandsFactor(name="b", kind="bbands", period=10, num_std=1.5), make_panel(c)
    )
    assert_same(out, per_segment(c, lambda x: ref_bbands_pctb(x, 10, 1.5)))


def test_bbands_flat_prices_are_nan() -> None:
    out = compute_factor(
        BbandsFactor(name="b", kind="bbands", period=5), make_panel(np.full(20, 7.0))
    )
    assert np.isnan(out).all()


@pytest.mark.parametrize("normalize", [True, False])
def test_atr_matches_wilder_reference(
    ohlc: tuple[np.ndarray, np.ndarray, np.ndarray], normalize: bool
) -> None:
    h, low, c = ohlc
    spec = AtrFactor(name="a", kind="atr", period=7, normalize=normalize)
    ref = per_segment(c, lambda hh, ll, cc: ref_atr(hh, ll, cc, 7), h, low)
    if normalize:
        ref = ref / c
    assert_same(compute_factor(spec, make_panel(c, high=h, low=low)), ref)
    with pytest.raises(QtcError, match="high and low"):
        compute_factor(spec, make_panel(c))


# -- GARCH ---------------------------------------------------------------------------------------


def test_garch_ewma_equals_nanobook_on_needed_dates_only() -> None:
    import nanobook as nb

    rng = np.random.default_rng(5)
    px = ragged(random_walk(rng, 140, 4))
    needed = np.zeros(140, bool)
    needed[[60, 80, 99, 139]] = True
    spec = GarchVolFactor(name="g", kind="garch_vol", window=50)
    out = compute_factor(spec, make_panel(px), dates_needed=needed)
    assert np.isnan(out[~needed]).all()
    r = px[1:] / px[:-1] - 1
    for t in np.flatnonzero(needed):
        for j in range(4):
            win = r[t - 50 : t, j]
            if np.isfinite(win).all() and np.isfinite(px[t, j]):
                assert out[t, j] == nb.garch_ewma_forecast(win.tolist()) * SQRT252
            else:
                assert np.isnan(out[t, j])
    assert np.isfinite(out[60, 0]) and np.isnan(out[139, 1]) and np.isnan(out[60, 2])
    daily = compute_factor(
        spec.model_copy(update={"annualize": False}), make_panel(px), dates_needed=needed
    )
    np.testing.assert_allclose(daily * SQRT252, out, rtol=1e-15)


def simulate_garch(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns and the true sigma of each day's return (GARCH(1,1), % units inside)."""
    rng = np.random.default_rng(seed)
    omega, alpha, beta = 0.05, 0.10, 0.85
    h = np.empty(n + 1)
    e = np.empty(n)
    h[0] = omega / (1 - alpha - beta)
    for t in range(n):
        e[t] = math.sqrt(h[t]) * rng.standard_normal()
        h[t + 1] = omega + alpha * e[t] ** 2 + beta * h[t]
    return e / 100.0, np.sqrt(h) / 100.0


def test_garch_mle_tracks_the_true_conditional_sigma() -> None:
    pytest.importorskip("arch")
    returns, sigma = simulate_garch(3000, seed=7)
    px = np.concatenate([[100.0], 100 * np.cumprod(1 + returns)])
    needed = np.zeros(len(px), bool)
    rows = np.arange(1600, 3001, 140)
    needed[rows] = True
    spec = GarchVolFactor(name="g", kind="garch_vol", method="mle", window=1500, annualize=False)
    out = compute_factor(spec, make_panel(px), dates_needed=needed)
    assert np.isnan(out[~needed]).all()
    # row t holds returns 1..t (return i = day i's move); the forecast is for return t + 1
    rel = out[rows, 0] / sigma[rows] - 1
    assert float(np.max(np.abs(rel))) < 0.15, rel  # typically ~2 % (median), 10 % (max)


# -- point in time -------------------------------------------------------------------------------

PRICE_SPECS: list[FactorSpec] = [
    MomentumFactor(name="mom", kind="momentum", lookback=10, skip=2),
    VolatilityFactor(name="vol", kind="volatility", window=5),
    RsiFactor(name="rsi", kind="rsi", period=5),
    MacdFactor(name="macd", kind="macd", fast=3, slow=6, signal=2),
    BbandsFactor(name="bb", kind="bbands", period=5),
    AtrFactor(name="atr", kind="atr", period=4),
    BetaFactor(name="beta", kind="beta", window=20),
    GarchVolFactor(name="garch", kind="garch_vol", window=50),
]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    cut=st.integers(0, 79),
    mode=st.sampled_from(["scale", "nan", "noise"]),
)
def test_future_prices_never_change_past_values(seed: int, cut: int, mode: str) -> None:
    rng = np.random.default_rng(seed)
    c = ragged(random_walk(rng, 80, 4))
    c[:, 1:][rng.random((80, 3)) < 0.05] = np.nan  # column 0 stays clean
    h, low = c * 1.01, c * 0.99
    bench = random_walk(rng, 80, 1, 0.01)[:, 0]
    before = make_panel(c, high=h, low=low, benchmark=bench)
    later = slice(cut + 1, None)
    c2, h2, l2, b2 = c.copy(), h.copy(), low.copy(), bench.copy()
    if mode == "scale":
        for a in (c2, h2, l2):
            a[later] *= 1.7
        b2[later] *= 0.6
    elif mode == "nan":
        for a in (c2, h2, l2):
            a[later] = np.nan
        b2[later] = np.nan
    else:
        noise = np.exp(rng.normal(0, 0.1, c2[later].shape))
        c2[later] *= noise
        h2[later] = c2[later] * 1.02
        l2[later] = c2[later] * 0.97
    after = make_panel(c2, high=h2, low=l2, benchmark=b2)
    x = compute_factors(PRICE_SPECS, before)
    y = compute_factors(PRICE_SPECS, after)
    for name in x:
        np.testing.assert_array_equal(x[name][: cut + 1], y[name][: cut + 1], err_msg=name)
        if cut >= 60:  # every factor has values before the cut
            assert np.isfinite(x[name][: cut + 1]).any(), name


def test_every_factor_is_nan_where_not_priced() -> None:
    rng = np.random.default_rng(6)
    c = ragged(random_walk(rng, 90, 4))
    source = FakeFundamentals(90, 4)
    panel = make_panel(c, high=c * 1.01, low=c * 0.99, benchmark=random_walk(rng, 90, 1)[:, 0])
    for spec in [*PRICE_SPECS, *FUNDAMENTAL_SPECS]:
        out = compute_factor(spec, panel, source)
        assert out.shape == (90, 4)
        assert np.isnan(out[np.isnan(c)]).all(), spec.kind


# -- fundamentals ----------------------------------------------------------------------------------


class FakeFundamentals:
    """Hand-made point-in-time values: constant per symbol, known from row 10 on."""

    VALUES: ClassVar[dict[str, list[float]]] = {
        "net_income": [10.0, -5.0, 8.0, 1.0],
        "net_income__prev": [5.0, 2.0, -1.0, 1.0],
        "revenue": [100.0, 50.0, 80.0, 10.0],
        "revenue__prev": [80.0, 0.0, 100.0, 10.0],
        "total_equity": [50.0, -20.0, 40.0, 5.0],
        "total_assets": [200.0, 100.0, 0.0, 20.0],
        "gross_profit": [40.0, 10.0, 30.0, 2.0],
        "shares_outstanding": [10.0, 5.0, 4.0, 0.0],
    }

    def __init__(self, t: int, n: int) -> None:
        self.t, self.n = t, n
        self.calls: list[list[str]] = []

    def asof(
        self, dates: np.ndarray, symbols: list[str], fields: Sequence[str]
    ) -> dict[str, np.ndarray]:
        assert len(dates) == self.t and len(symbols) == self.n
        self.calls.append(list(fields))
        out = {}
        for f in fields:
            grid = np.tile(np.array(self.VALUES[f][: self.n]), (self.t, 1))
            grid[:10] = np.nan
            out[f] = grid
        return out


FUNDAMENTAL_SPECS: list[FactorSpec] = [
    ValueFactor(name="ey", kind="value", metric="earnings_yield"),
    ValueFactor(name="bp", kind="value", metric="book_to_price"),
    ValueFactor(name="sp", kind="value", metric="sales_to_price"),
    QualityFactor(name="roe", kind="quality", metric="roe"),
    QualityFactor(name="gp", kind="quality", metric="gross_profitability"),
    QualityFactor(name="roa", kind="quality", metric="roa"),
    GrowthFactor(name="rg", kind="growth", metric="revenue_growth"),
    GrowthFactor(name="eg", kind="growth", metric="earnings_growth"),
    SizeFactor(name="size", kind="size"),
]


def test_fundamental_ratios_by_hand() -> None:
    close = np.tile([2.0, 10.0, 5.0, 3.0], (20, 1))
    adj = close * 0.9  # market cap uses the raw close, not adj_close
    panel = make_panel(adj, close=close)
    source = FakeFundamentals(20, 4)
    got = compute_factors(FUNDAMENTAL_SPECS, panel, fundamentals=lambda pit, lag: source)
    nan = math.nan
    cap = [20.0, 50.0, 20.0, nan]  # shares x close; no shares -> NaN
    expected = {
        "ey": [10 / 20, -5 / 50, 8 / 20, nan],
        "bp": [50 / 20, -20 / 50, 40 / 20, nan],
        "sp": [100 / 20, 50 / 50, 80 / 20, nan],
        "roe": [10 / 50, nan, 8 / 40, 1 / 5],  # equity <= 0 -> NaN
        "gp": [40 / 200, 10 / 100, nan, 2 / 20],  # assets <= 0 -> NaN
        "roa": [10 / 200, -5 / 100, nan, 1 / 20],
        "rg": [100 / 80 - 1, nan, 80 / 100 - 1, 0.0],  # prior revenue <= 0 -> NaN
        "eg": [10 / 5 - 1, -5 / 2 - 1, nan, 0.0],  # prior earnings <= 0 -> NaN
        "size": [math.log(c) for c in cap],
    }
    for name, row in expected.items():
        assert np.isnan(got[name][:10]).all(), name
        np.testing.assert_allclose(got[name][10:], np.tile(row, (10, 1)), rtol=1e-15, err_msg=name)
    assert len(source.calls) == len(FUNDAMENTAL_SPECS)


def test_fundamental_factor_without_source_is_an_error() -> None:
    with pytest.raises(QtcError, match="needs fundamentals"):
        compute_factors([SizeFactor(name="s", kind="size")], make_panel(np.ones(5)))


def fundamentals_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    full = []
    for r in rows:
        row: dict[str, Any] = dict.fromkeys(FUNDAMENTAL_FIELDS, None)
        row |= {"lag_applied_days": 0}
        row |= r
        for key in ("period_end", "publish_date"):
            row[key] = dt.date.fromisoformat(row[key])
        full.append(row)
    return conform(pl.DataFrame(full), "fundamentals")


TINY_ROWS: list[dict[str, Any]] = [
    # A: FY2019 and FY2020, then a late restatement of FY2019 that must never become "latest"
    {"symbol": "A", "fiscal_year": 2019, "period_end": "2019-12-31", "publish_date": "2020-02-14",
     "source": "simfin", "revenue": 100.0, "net_income": 10.0, "shares_outstanding": 5.0},
    {"symbol": "A", "fiscal_year": 2020, "period_end": "2020-12-31", "publish_date": "2021-02-12",
     "source": "simfin", "revenue": 130.0, "net_income": 12.0, "shares_outstanding": 6.0},
    {"symbol": "A", "fiscal_year": 2019, "period_end": "2019-12-31", "publish_date": "2021-03-01",
     "source": "nyse", "revenue": 999.0, "net_income": 99.0, "shares_outstanding": 9.0},
    # B: FY2020 only from NYSE (assumed lag), FY2021 from SimFin
    {"symbol": "B", "fiscal_year": 2020, "period_end": "2020-06-30", "publish_date": "2020-09-28",
     "source": "nyse", "revenue": 40.0, "net_income": -4.0, "shares_outstanding": 2.0},
    {"symbol": "B", "fiscal_year": 2021, "period_end": "2021-06-30", "publish_date": "2021-08-20",
     "source": "simfin", "revenue": 50.0, "net_income": 6.0, "shares_outstanding": 2.0},
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    path: Path = tmp_path_factory.mktemp("factors") / "lake"
    write_lake(
        path, {"fundamentals": DatasetWrite(fundamentals_frame(TINY_ROWS))}, operation="test"
    )
    return Lake(path)


def on(
    source: LakeFundamentals, days: list[str], field: str, symbols: list[str] | None = None
) -> list[float]:
    dates = np.array(days, dtype="datetime64[D]")
    syms = symbols or ["A"]
    return [float(v) for v in source.asof(dates, syms, [field])[field][:, 0]]


def test_lake_fundamentals_publish_date_and_lag(tiny_lake: Lake) -> None:
    src = LakeFundamentals(lambda: tiny_lake.read("fundamentals"), "publish_date", 0)
    days = ["2020-02-13", "2020-02-14", "2021-02-11", "2021-02-12", "2021-03-02"]
    got = on(src, days, "revenue")
    assert got[0] != got[0]  # NaN before the first publication
    assert got[1:] == [100.0, 100.0, 130.0, 130.0]  # visible on publish_date; restatement skipped
    assert on(src, days, "revenue__prev")[3:] == [100.0, 100.0]
    lagged = LakeFundamentals(lambda: tiny_lake.read("fundamentals"), "publish_date", 10)
    got = on(lagged, ["2020-02-23", "2020-02-24", "2021-02-21", "2021-02-22"], "revenue")
    assert got[0] != got[0] and got[1:] == [100.0, 100.0, 130.0]


def test_lake_fundamentals_period_end(tiny_lake: Lake) -> None:
    src = lake_fundamentals(tiny_lake, "period_end", 30)
    assert isinstance(src, LakeFundamentals)
    got = on(src, ["2020-01-29", "2020-01-30", "2021-01-30"], "revenue")
    assert got[0] != got[0] and got[1:] == [100.0, 130.0]
    with pytest.raises(QtcError):
        LakeFundamentals(lambda: tiny_lake.read("fundamentals"), "filing_date", 0)
    with pytest.raises(QtcError, match="unknown fundamentals field"):
        on(src, ["2021-01-30"], "ebitda")


def test_previous_year_comes_from_reports_visible_by_then(tiny_lake: Lake) -> None:
    src = lake_fundamentals(tiny_lake, "publish_date", 0)
    days = ["2020-10-01", "2021-08-19", "2021-08-20"]
    # B FY2021 (SimFin) has FY2020 only from NYSE: used (no same-source row exists)
    got = src.asof(
        np.array(days, dtype="datetime64[D]"), ["B", "A", "ZZZ"], ["net_income", "net_income__prev"]
    )
    assert np.isnan(got["net_income__prev"][0, 0]) and got["net_income"][0, 0] == -4.0
    assert got["net_income__prev"][2, 0] == -4.0 and got["net_income"][2, 0] == 6.0
    assert np.isnan(got["net_income"][:, 2]).all()  # unknown symbol
    # earnings growth of B on 2021-08-20: prior net income <= 0 -> NaN
    panel = Panel(
        dates=np.array(days, dtype="datetime64[D]"), symbols=["B"], adj_close=np.ones((3, 1)),
        close=np.ones((3, 1)), open=None, high=None, low=None, volume=None, sectors=[""],
        benchmark=np.ones(3), rf=np.zeros(3), start=0,
    )  # fmt: skip
    eg = compute_factor(GrowthFactor(name="g", kind="growth", metric="earnings_growth"), panel, src)
    rg = compute_factor(GrowthFactor(name="g", kind="growth"), panel, src)
    assert np.isnan(eg).all()
    assert rg[:, 0].tolist()[2] == pytest.approx(50 / 40 - 1)


def test_visible_rows_match_lake_fundamentals_asof_on_demo_lake(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path = tmp_path_factory.mktemp("demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=40, years=4)
    lake = Lake(path)
    dates = lake.calendar()
    symbols = [*lake.read("fundamentals")["symbol"].unique().sort().to_list()[:25], "NOPE"]
    fields = list(FUNDAMENTAL_FIELDS)
    mine = lake_fundamentals(lake, "publish_date", 0).asof(dates, symbols, fields)
    long = lake.fundamentals_asof(symbols, dates, fields)
    for field in fields:
        wide = long.pivot(on="symbol", index="date", values=field).sort("date")
        ref = np.column_stack(
            [
                wide[s].cast(pl.Float64).fill_null(np.nan).to_numpy()
                if s in wide.columns
                else np.full(len(dates), np.nan)
                for s in symbols
            ]
        )
        np.testing.assert_array_equal(mine[field], ref, err_msg=field)
    assert np.isfinite(mine["revenue"]).mean() > 0.3
    assert len(visible_rows(lake.read("fundamentals"), "publish_date", 0)) > 0


# -- cache -----------------------------------------------------------------------------------------


def test_cache_shares_renamed_factors_per_market() -> None:
    rng = np.random.default_rng(8)
    panel = make_panel(random_walk(rng, 60, 3))
    cache = FactorCache()
    assert len(cache) == 0 and bool(cache)
    a = MomentumFactor(name="a", kind="momentum", lookback=20, skip=5)
    b = MomentumFactor(name="b", kind="momentum", lookback=20, skip=5)
    c = MomentumFactor(name="c", kind="momentum", lookback=20, skip=4)
    assert factor_key(a) == factor_key(b) != factor_key(c)
    out = compute_factors([a, b, c], panel, cache=cache)
    assert out["a"] is out["b"] and cache.computed == 2 and len(cache) == 2
    again = compute_factors([b], panel, cache=cache)
    assert again["b"] is out["a"] and cache.computed == 2 and cache.hits == 2
    assert not out["a"].flags.writeable
    other = make_panel(panel.adj_close.copy())  # without a market key: its own market
    cache.get_or_compute(a, other, None)
    assert cache.computed == 3 and len(cache) == 3
    cache.get_or_compute(a, panel, None, market="m1")
    with pytest.raises(QtcError, match="shape"):
        cache.get_or_compute(a, make_panel(np.ones((10, 3))), None, market="m1")
    with pytest.raises(QtcError, match="duplicate factor name"):
        compute_factors([a, a], panel, cache=cache)


def test_cache_forgets_one_market_and_keeps_the_others() -> None:
    rng = np.random.default_rng(9)
    panel = make_panel(random_walk(rng, 60, 3))
    cache = FactorCache()
    a = MomentumFactor(name="a", kind="momentum", lookback=20, skip=5)
    kept = cache.get_or_compute(a, panel, None, market="m1")
    cache.get_or_compute(a, panel, None, market="m2")
    assert len(cache) == 2
    cache.forget("m2")
    assert len(cache) == 1
    assert cache.get_or_compute(a, panel, None, market="m1") is kept  # m1 still served
    cache.get_or_compute(a, make_panel(np.ones((10, 3))), None, market="m2")  # m2 starts over
    assert cache.computed == 3


def test_fundamentals_factory_called_once_per_rule() -> None:
    panel = make_panel(np.ones((20, 4)))
    made: list[tuple[str, int]] = []

    def factory(pit: str, lag: int) -> FakeFundamentals:
        made.append((pit, lag))
        return FakeFundamentals(20, 4)

    specs: list[FactorSpec] = [
        ValueFactor(name="a", kind="value"),
        SizeFactor(name="b", kind="size"),
        SizeFactor(name="c", kind="size", lag_days=5),
    ]
    compute_factors(specs, panel, fundamentals=factory)
    assert made == [("publish_date", 0), ("publish_date", 5)]


def test_cache_computes_only_missing_garch_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    panel = make_panel(random_walk(rng, 120, 2))
    calls: list[int] = []
    real = indicators.garch_ewma_at

    def counting(returns: np.ndarray, ends: Sequence[int], window: int) -> np.ndarray:
        calls.append(len(ends))
        return real(returns, ends, window)

    monkeypatch.setattr(indicators, "garch_ewma_at", counting)
    spec = GarchVolFactor(name="g", kind="garch_vol", window=50)
    first = np.zeros(120, bool)
    first[[60, 70, 80]] = True
    cache = FactorCache()
    x = cache.get_or_compute(spec, panel, None, dates_needed=first)
    assert sum(calls) == 6
    sub = np.zeros(120, bool)
    sub[[70]] = True
    y = cache.get_or_compute(spec.model_copy(update={"name": "h"}), panel, None, dates_needed=sub)
    assert sum(calls) == 6 and cache.hits == 1
    assert np.isnan(y[60]).all() and np.array_equal(y[70], x[70])
    more = first.copy()
    more[90] = True
    z = cache.get_or_compute(spec, panel, None, dates_needed=more)
    assert sum(calls) == 8  # only row 90, for both symbols
    np.testing.assert_array_equal(z[[60, 70, 80]], x[[60, 70, 80]])
    full = compute_factor(spec, panel)
    np.testing.assert_array_equal(z[more], full[more])
    with pytest.raises(QtcError, match="dates_needed"):
        cache.get_or_compute(spec, panel, None, dates_needed=np.ones(3, bool))
