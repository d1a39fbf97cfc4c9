"""Metrics: nanobook wrapper, relative and activity metrics, and agreement with quantstats.

The reference implementations here are plain numpy written from the definitions in
docs/METRICS.md; they share no code with qtc. quantstats tolerances and the
convention behind each one are documented in docs/METRICS.md.
"""

from __future__ import annotations

import importlib
import json
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from qtc.errors import QtcError
from qtc.pipeline.metrics import MetricsInput, compute_metrics, to_json_safe
from qtc.pipeline.nb_metrics import (
    METRIC_FIELDS,
    drawdown_events,
    nanobook_metrics,
    rolling_sharpe,
)

PPY = 252
EXACT_REL = 1e-12  # "exact": float round-off only


def exact(value: float) -> Any:
    """pytest.approx at 1e-12 relative (and 1e-12 absolute around 0)."""
    return pytest.approx(value, rel=EXACT_REL, abs=EXACT_REL)


def _pandas() -> Any:
    """pandas without stubs (a quantstats dependency), typed as Any."""
    return importlib.import_module("pandas")


def _qs() -> Any:
    """quantstats' stats module, typed as Any (its functions are partly unannotated)."""
    return importlib.import_module("quantstats").stats


# ---------------------------------------------------------------- independent references


def ref_nanobook(r: np.ndarray, ppy: float, rf: float) -> dict[str, float]:
    """nanobook's Metrics definitions in plain numpy."""
    n = r.size
    growth = np.cumprod(1.0 + r)
    total = float(growth[-1] - 1.0)
    cagr = (1.0 + total) ** (ppy / n) - 1.0 if total > -1.0 else -1.0
    sd = float(r.std(ddof=1)) if n > 1 else 0.0
    downside = math.sqrt(float(np.mean(np.minimum(r - rf, 0.0) ** 2)))
    peak = np.maximum.accumulate(np.concatenate([[1.0], growth]))[1:]
    mdd = float(np.max(1.0 - growth / peak))
    wins, losses = r[r > 0], r[r < 0]
    gain, loss = float(wins.sum()), float(losses.sum())
    pf = gain / abs(loss) if loss != 0 else (math.inf if gain > 0 else 0.0)
    mean_win = float(wins.mean()) if wins.size else 0.0
    mean_loss = float(losses.mean()) if losses.size else 0.0
    payoff = mean_win / abs(mean_loss) if mean_loss != 0 else (math.inf if mean_win > 0 else 0.0)
    win_rate = wins.size / n
    return {
        "total_return": total,
        "cagr": cagr,
        "volatility": sd * math.sqrt(ppy),
        "sharpe": (float(r.mean()) - rf) / sd * math.sqrt(ppy) if sd > 0 else 0.0,
        "sortino": (float(r.mean()) - rf) / downside * math.sqrt(ppy) if downside > 0 else 0.0,
        "max_drawdown": mdd,
        "calmar": cagr / mdd if mdd > 0 else 0.0,
        "num_periods": n,
        "winning_periods": int(wins.size),
        "losing_periods": int(losses.size),
        "cvar_95": float(np.sort(r)[: math.ceil(0.05 * n)].mean()),
        "win_rate": win_rate,
        "profit_factor": pf,
        "payoff_ratio": payoff,
        "kelly": win_rate - (1 - win_rate) / payoff if 0 < payoff < math.inf else 0.0,
    }


def ref_relative(r: np.ndarray, b: np.ndarray, rf: np.ndarray, ppy: float) -> dict[str, float]:
    """Benchmark-relative statistics via np.polyfit / np.corrcoef."""
    beta, intercept = np.polyfit(b - rf, r - rf, 1)
    corr = float(np.corrcoef(r, b)[0, 1])
    te = float(np.std(r - b, ddof=1)) * math.sqrt(ppy)
    up, down = b > 0, b < 0
    return {
        "alpha": float(intercept) * ppy,
        "beta": float(beta),
        "correlation": corr,
        "r_squared": corr**2,
        "active_return": float(np.mean(r - b)) * ppy,
        "tracking_error": te,
        "information_ratio": float(np.mean(r - b)) * ppy / te,
        "up_capture": float(np.mean(r[up]) / np.mean(b[up])),
        "down_capture": float(np.mean(r[down]) / np.mean(b[down])),
        "days": r.size,
    }


def ref_activity(
    equity: np.ndarray, weights: np.ndarray, traded: np.ndarray, costs: np.ndarray, ppy: float
) -> dict[str, float]:
    """Activity metrics by their written definitions, with Python loops where natural."""
    years = (len(equity) - 1) / ppy
    mean_eq = sum(equity) / len(equity)
    reb = [t for t in range(len(traded)) if traded[t] > 0]
    counts = [sum(1 for w in row if w != 0) for row in weights]
    return {
        "turnover": sum(traded) / 2 / mean_eq / years,
        "turnover_per_rebalance": sum(traded[t] / (2 * equity[t]) for t in reb) / len(reb),
        "rebalances": len(reb),
        "traded_notional": float(sum(traded)),
        "cost_paid": float(sum(costs)),
        "cost_bps_per_year": sum(costs) / mean_eq / years * 1e4,
        "exposure": sum(sum(abs(w) for w in row) for row in weights) / len(weights),
        "net_exposure": sum(sum(row) for row in weights) / len(weights),
        "avg_holdings": sum(counts) / len(counts),
        "max_holdings": max(counts),
        "days": len(equity),
    }


# ---------------------------------------------------------------- fixtures


def _dates(n: int) -> np.ndarray:
    dates: np.ndarray = _pandas().bdate_range("2015-01-02", periods=n).to_numpy()
    return dates.astype("datetime64[D]")


def _market(seed: int = 11, days: int = 1500, lead_nan: int = 40) -> dict[str, Any]:
    """A random market: benchmark, a correlated strategy, time-varying rf, weights, trades."""
    rng = np.random.default_rng(seed)
    b = rng.normal(3e-4, 0.011, days - 1)
    r = 0.0002 + 0.8 * b + rng.normal(0, 0.006, days - 1)
    equity = 1e6 * np.concatenate([[1.0], np.cumprod(1.0 + r)])
    bench = 250.0 * np.concatenate([[1.0], np.cumprod(1.0 + b)])
    bench[:lead_nan] = np.nan
    # Fama-French-like daily rf: piecewise constant rate path between 0 and 5 % a year.
    rate = np.repeat(rng.uniform(0.0, 0.05, days // 100 + 1), 100)[:days]
    rf = np.round(rate / 252, 7)
    weights = rng.uniform(0.0, 0.2, (days, 12))
    weights[rng.random((days, 12)) < 0.4] = 0.0
    traded = np.where(rng.random(days) < 0.05, rng.uniform(1e4, 5e5, days), 0.0)
    traded[0] = 1e6
    costs = traded * 1e-3
    return {
        "r": r,
        "b": b,
        "inp": MetricsInput(_dates(days), equity, bench, rf, weights, traded, costs),
        "lead_nan": lead_nan,
    }


@pytest.fixture(scope="module")
def market() -> dict[str, Any]:
    return _market()


@pytest.fixture
def quiet() -> Iterator[None]:
    """Silence quantstats' warnings (deprecations, empty-series notes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _assert_section(got: dict[str, float], want: dict[str, float]) -> None:
    """Same keys; counts and infinities equal, other values equal to 1e-12."""
    assert set(got) == set(want)
    for key, value in want.items():
        if isinstance(value, int) or math.isinf(value):
            assert got[key] == value, key
        else:
            assert got[key] == exact(value), key


# ---------------------------------------------------------------- (1) vs numpy


def test_nanobook_wrapper_returns_every_field_and_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    for r, rf in [
        (rng.normal(4e-4, 0.012, 3000), 1.3e-4),
        (np.where(rng.random(400) < 0.3, 0.0, rng.normal(0, 0.01, 400)), 5e-5),
        (np.abs(rng.normal(0.01, 0.01, 30)) + 1e-3, 0.0),  # no loss: inf ratios
        (-np.abs(rng.normal(0.01, 0.01, 30)) - 1e-3, 0.0),  # no gain
        (np.array([0.05]), 0.0),
    ]:
        got = nanobook_metrics(r, PPY, rf)
        assert tuple(got) == METRIC_FIELDS
        _assert_section(got, ref_nanobook(r, PPY, rf))
        assert all(type(got[k]) is int for k in ("num_periods", "winning_periods"))


def test_all_sections_match_numpy_reference(market: dict[str, Any]) -> None:
    inp: MetricsInput = market["inp"]
    first = market["lead_nan"]
    out = compute_metrics(inp, periods_per_year=PPY)
    assert tuple(out) == ("strategy", "benchmark", "relative", "activity")

    r = inp.equity[1:] / inp.equity[:-1] - 1.0
    np.testing.assert_allclose(r, market["r"], rtol=1e-12, atol=1e-15)
    _assert_section(out["strategy"], ref_nanobook(r, PPY, float(np.mean(inp.rf[1:]))))

    close = inp.benchmark[first:]
    b = close[1:] / close[:-1] - 1.0
    rf_b = inp.rf[first + 1 :]
    assert out["benchmark"]["num_periods"] == len(inp.dates) - first - 1
    _assert_section(out["benchmark"], ref_nanobook(b, PPY, float(np.mean(rf_b))))

    _assert_section(out["relative"], ref_relative(r[first:], b, rf_b, PPY))
    assert out["relative"]["beta"] == pytest.approx(0.8, abs=0.05)

    want = ref_activity(inp.equity, inp.weights, inp.traded_notional, inp.costs_paid, PPY)
    _assert_section(out["activity"], want)


def test_rf_convention_is_mean_daily_rf(market: dict[str, Any]) -> None:
    """Sharpe uses mean(r) - mean(rf) over the return days, divided by std(r)."""
    inp: MetricsInput = market["inp"]
    r = inp.equity[1:] / inp.equity[:-1] - 1.0
    sharpe = compute_metrics(inp)["strategy"]["sharpe"]
    mean_excess = float(np.mean(r - inp.rf[1:]))
    assert sharpe == exact(mean_excess / r.std(ddof=1) * math.sqrt(PPY))
    # rf[0] (no return on the first date) must not matter
    rf = inp.rf.copy()
    rf[0] = 0.5
    shifted = MetricsInput(**{**inp.__dict__, "rf": rf})
    assert compute_metrics(shifted)["strategy"]["sharpe"] == sharpe


def test_rolling_sharpe_and_drawdown_events() -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(5e-4, 0.01, 300)
    got = rolling_sharpe(r, 63, PPY)
    assert np.isnan(got[:62]).all()
    for t in (62, 150, 299):
        w = r[t - 62 : t + 1]
        assert got[t] == exact(w.mean() / w.std(ddof=1) * math.sqrt(PPY))
    events = drawdown_events([100.0, 110.0, 99.0, 108.9, 121.0])
    assert events == [
        {
            "drawdown_pct": exact(0.1),
            "underwater_periods": 2,
            "peak_index": 1,
            "trough_index": 2,
            "recovery_index": 4,
        }
    ]


# ---------------------------------------------------------------- (2) vs quantstats


def _qs_series(values: np.ndarray, dates: np.ndarray) -> Any:
    pd = _pandas()
    return pd.Series(values, index=pd.DatetimeIndex(dates))


@pytest.mark.usefixtures("quiet")
def test_agrees_with_quantstats(market: dict[str, Any]) -> None:
    stats = _qs()
    inp: MetricsInput = market["inp"]
    first = market["lead_nan"]
    out = compute_metrics(inp, periods_per_year=PPY)
    st, rel = out["strategy"], out["relative"]
    r = inp.equity[1:] / inp.equity[:-1] - 1.0
    rets = _qs_series(r, inp.dates[1:])
    rf_day = float(np.mean(inp.rf[1:]))
    rf_annual = (1.0 + rf_day) ** PPY - 1.0  # quantstats de-annualizes: (1+rf)^(1/P) - 1

    # Scalar rf: identical definitions; only the rf round trip differs (~1e-16 on rf).
    assert st["sharpe"] == pytest.approx(stats.sharpe(rets, rf=rf_annual, periods=PPY), 1e-10)
    assert st["sortino"] == pytest.approx(stats.sortino(rets, rf=rf_annual, periods=PPY), 1e-10)
    # Daily rf Series: quantstats divides by std(r - rf_t) instead of std(r).
    rf_series = _qs_series((1.0 + inp.rf[1:]) ** PPY - 1.0, inp.dates[1:])
    qs_sharpe_ts = stats.sharpe(rets, rf=rf_series, periods=PPY)
    assert st["sharpe"] == pytest.approx(qs_sharpe_ts, rel=1e-3)
    assert st["sortino"] == pytest.approx(stats.sortino(rets, rf=rf_series, periods=PPY), 1e-3)

    # Business-day index: a calendar-year CAGR (older quantstats) would differ here.
    assert st["cagr"] == exact(stats.cagr(rets, periods=PPY))
    assert st["volatility"] == exact(stats.volatility(rets, periods=PPY))
    assert st["max_drawdown"] == exact(-stats.max_drawdown(rets))
    assert st["calmar"] == exact(stats.calmar(rets, periods=PPY))
    assert st["cvar_95"] == exact(stats.cvar(rets, method="historical"))
    assert st["cvar_95"] == exact(stats.expected_shortfall(rets, method="historical"))
    assert st["win_rate"] == exact(stats.win_rate(rets))
    assert st["profit_factor"] == exact(stats.profit_factor(rets))
    assert st["payoff_ratio"] == exact(stats.payoff_ratio(rets))
    assert st["kelly"] == exact(stats.kelly_criterion(rets))
    # quantstats' default CVaR is the Gaussian (parametric) ES: a different estimator.
    parametric = stats.cvar(rets)
    assert parametric != pytest.approx(st["cvar_95"], rel=1e-6)

    # Benchmark-relative on the paired dates.
    close = inp.benchmark[first:]
    b = close[1:] / close[:-1] - 1.0
    rf_b = inp.rf[first + 1 :]
    paired = inp.dates[first + 1 :]
    rs, bs = _qs_series(r[first:], paired), _qs_series(b, paired)
    xs, ys = _qs_series(r[first:] - rf_b, paired), _qs_series(b - rf_b, paired)
    greeks = stats.greeks(xs, ys, periods=PPY)  # on excess returns: Jensen's alpha
    assert rel["beta"] == exact(greeks["beta"])
    assert rel["alpha"] == exact(greeks["alpha"])
    raw = stats.greeks(rs, bs, periods=PPY)  # quantstats' own (no rf) convention
    gap = (1.0 - raw["beta"]) * float(np.mean(rf_b)) * PPY
    assert rel["alpha"] == pytest.approx(raw["alpha"] - gap, rel=1e-3)
    assert rel["information_ratio"] == exact(stats.information_ratio(rs, bs) * math.sqrt(PPY))
    assert rel["r_squared"] == exact(stats.r_squared(rs, bs))

    bench = out["benchmark"]
    assert bench["cagr"] == exact(stats.cagr(bs, periods=PPY))
    assert bench["max_drawdown"] == exact(-stats.max_drawdown(bs))
    assert bench["volatility"] == exact(stats.volatility(bs, periods=PPY))


@pytest.mark.usefixtures("quiet")
@pytest.mark.parametrize("n", [20, 21, 59, 100, 257, 1000, 1001, 5039])
def test_cvar_cutoff_matches_quantstats_historical(n: int) -> None:
    """Worst ceil(5% n) returns == returns <= the linear 5% quantile (no ties), for any n."""
    stats = _qs()
    r = np.random.default_rng(n).normal(0, 0.01, n)
    got = nanobook_metrics(r, PPY, 0.0)["cvar_95"]
    assert got == pytest.approx(stats.cvar(_qs_series(r, _dates(n)), method="historical"))


@pytest.mark.usefixtures("quiet")
def test_zero_returns_win_rate_convention() -> None:
    """quantstats' win rate ignores zero-return days; nanobook's counts them."""
    stats = _qs()
    rng = np.random.default_rng(9)
    r = np.where(rng.random(500) < 0.2, 0.0, rng.normal(2e-4, 0.01, 500))
    m = nanobook_metrics(r, PPY, 0.0)
    rets = _qs_series(r, _dates(r.size))
    nonzero = m["winning_periods"] + m["losing_periods"]
    assert m["win_rate"] == m["winning_periods"] / r.size
    assert stats.win_rate(rets) == exact(m["win_rate"] * r.size / nonzero)
    assert m["profit_factor"] == exact(stats.profit_factor(rets))
    assert m["payoff_ratio"] == exact(stats.payoff_ratio(rets))
    # Sortino's downside deviation uses all n periods in both.
    assert m["sortino"] == exact(stats.sortino(rets, periods=PPY))


# ---------------------------------------------------------------- (3) hand-made case


def _tiny(**overrides: Any) -> MetricsInput:
    base: dict[str, Any] = {
        "dates": np.arange("2024-01-02", "2024-01-06", dtype="datetime64[D]"),
        "equity": np.array([100.0, 110.0, 99.0, 108.9]),
        "benchmark": np.array([np.nan, 200.0, 210.0, 199.5]),
        "rf": np.zeros(4),
        "weights": np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0], [1.0, 0.0]]),
        "traded_notional": np.array([100.0, 0.0, 99.0, 0.0]),
        "costs_paid": np.array([0.1, 0.0, 0.099, 0.0]),
    }
    return MetricsInput(**{**base, **overrides})


def test_hand_made_case() -> None:
    out = compute_metrics(_tiny())
    s = out["strategy"]  # returns +10 %, -10 %, +10 %
    assert s["total_return"] == exact(0.089)
    assert s["max_drawdown"] == exact(0.10)  # 110 -> 99
    assert s["cagr"] == exact(1.089**84 - 1)  # 3 periods = 1/84 year
    assert s["calmar"] == exact((1.089**84 - 1) / 0.1)
    assert s["volatility"] == exact(0.2 * math.sqrt(84))  # std = 0.2/√3
    assert s["sharpe"] == exact(math.sqrt(21))  # (1/30)/(0.2/√3)·√252
    assert s["sortino"] == exact(math.sqrt(84))  # downside dev 0.1/√3
    assert s["cvar_95"] == exact(-0.1)  # the worst ceil(0.15) = 1 return
    assert s["win_rate"] == exact(2 / 3)
    assert s["profit_factor"] == exact(2.0)
    assert s["payoff_ratio"] == exact(1.0)
    assert s["kelly"] == exact(1 / 3)
    assert (s["num_periods"], s["winning_periods"], s["losing_periods"]) == (3, 2, 1)

    bm = out["benchmark"]  # starts on its first priced date: +5 %, -5 %
    assert bm["num_periods"] == 2
    assert bm["total_return"] == exact(-0.0025)
    assert bm["max_drawdown"] == exact(0.05)

    rel = out["relative"]  # paired: r = (-0.1, +0.1), b = (+0.05, -0.05), so r = -2 b
    assert rel["days"] == 2
    assert rel["beta"] == exact(-2.0)
    assert rel["alpha"] == exact(0.0)
    assert rel["correlation"] == exact(-1.0)
    assert rel["r_squared"] == exact(1.0)
    assert rel["tracking_error"] == exact(0.15 * math.sqrt(2) * math.sqrt(252))
    assert rel["active_return"] == exact(0.0)
    assert rel["information_ratio"] == exact(0.0)
    assert rel["up_capture"] == exact(-2.0)
    assert rel["down_capture"] == exact(-2.0)

    act = out["activity"]
    assert act["exposure"] == 1.0
    assert act["avg_holdings"] == 1.5
    assert act["max_holdings"] == 2
    assert act["days"] == 4
    assert act["rebalances"] == 2
    assert act["turnover_per_rebalance"] == exact(0.5)  # 100/200, 99/198
    mean_eq = (100 + 110 + 99 + 108.9) / 4
    assert act["turnover"] == exact(199 / 2 / mean_eq / (3 / 252))
    assert act["cost_paid"] == exact(0.199)


def test_json_safe_maps_inf_and_nan_to_none() -> None:
    up = _tiny(equity=np.array([100.0, 101.0, 102.0, 103.0]), traded_notional=np.zeros(4))
    out = compute_metrics(up)
    assert out["strategy"]["profit_factor"] == math.inf
    assert math.isnan(out["activity"]["turnover_per_rebalance"])  # no rebalance
    safe = to_json_safe(out)
    assert safe["strategy"]["profit_factor"] is None
    assert safe["strategy"]["payoff_ratio"] is None
    assert safe["activity"]["turnover_per_rebalance"] is None
    assert safe["strategy"]["num_periods"] == 3
    assert type(safe["activity"]["days"]) is int
    text = json.dumps(safe, allow_nan=False)
    assert json.loads(text) == safe


def test_benchmark_interior_gap_is_forward_filled() -> None:
    out = compute_metrics(
        _tiny(benchmark=np.array([200.0, np.nan, 210.0, 199.5]), equity=np.full(4, 100.0))
    )
    bm = out["benchmark"]  # 200, 200 (filled), 210, 199.5: returns 0, +5 %, -5 %
    assert bm["num_periods"] == 3
    assert bm["total_return"] == exact(-0.0025)
    assert out["relative"]["days"] == 3


# ---------------------------------------------------------------- (4) turnover


@pytest.mark.parametrize("years", [1, 2])
def test_turnover_two_rebalances(years: int) -> None:
    days = 252 * years + 1  # 252·years return periods
    traded = np.zeros(days)
    traded[0] = 1_000_000.0  # initial buy-in of the whole book: one-way 0.5
    traded[126] = 400_000.0  # sell 200k, buy 200k: one-way 0.2
    costs = traded * 1e-3
    weights = np.zeros((days, 3))
    weights[:126] = [0.5, 0.5, 0.0]
    weights[126:] = [0.3, 0.5, 0.2]
    inp = MetricsInput(
        dates=_dates(days),
        equity=np.full(days, 1_000_000.0),
        benchmark=np.linspace(100.0, 110.0, days),
        rf=np.full(days, 1e-4),
        weights=weights,
        traded_notional=traded,
        costs_paid=costs,
    )
    act = compute_metrics(inp)["activity"]
    assert act["turnover"] == exact(0.7 / years)
    assert act["turnover_per_rebalance"] == exact(0.35)
    assert act["rebalances"] == 2
    assert act["traded_notional"] == 1_400_000.0
    assert act["cost_paid"] == exact(1_400.0)
    assert act["cost_bps_per_year"] == exact(14.0 / years)
    assert act["exposure"] == exact(1.0)
    assert act["avg_holdings"] == exact((126 * 2 + (days - 126) * 3) / days)
    assert act["max_holdings"] == 3


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        ([0.01, math.nan, 0.02], "NaN or infinite"),
        ([0.01, math.inf], "NaN or infinite"),
        ([], "at least 1"),
        ([[0.01, 0.02]], "one-dimensional"),
    ],
)
def test_nanobook_wrapper_rejects_bad_returns(returns: list[Any], message: str) -> None:
    with pytest.raises(QtcError, match=message):
        nanobook_metrics(np.asarray(returns, dtype=float), PPY, 0.0)


def test_nanobook_wrapper_rejects_bad_scalars() -> None:
    with pytest.raises(QtcError, match="periods_per_year"):
        nanobook_metrics([0.01], 0.0, 0.0)
    with pytest.raises(QtcError, match="risk_free_per_period"):
        nanobook_metrics([0.01], PPY, math.nan)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"equity": np.array([100.0, np.nan, 99.0, 108.9])}, "'equity' has 1 NaN"),
        ({"equity": np.array([100.0, 0.0, 99.0, 108.9])}, "equity must stay > 0"),
        ({"equity": np.array([100.0, 110.0])}, "'equity' must have shape"),
        ({"rf": np.array([0.0, np.nan, 0.0, 0.0])}, "'rf' has 1 NaN"),
        ({"benchmark": np.full(4, np.nan)}, "benchmark has no price"),
        ({"benchmark": np.array([np.nan, np.nan, np.nan, 1.0])}, "benchmark has no price"),
        ({"benchmark": np.array([1.0, -1.0, 1.0, 1.0])}, "'benchmark' must be > 0"),
        ({"traded_notional": np.array([1.0, -1.0, 0.0, 0.0])}, "must be >= 0"),
        ({"costs_paid": np.array([0.0, np.inf, 0.0, 0.0])}, "'costs_paid' has 1 NaN"),
        ({"weights": np.zeros((3, 2))}, "'weights' must have shape"),
        ({"weights": np.full((4, 2), np.inf)}, "infinite"),
        ({"dates": np.array(["2024-01-02"] * 4, "datetime64[D]")}, "strictly increasing"),
        ({"dates": np.array(["2024-01-02"], "datetime64[D]")}, "at least 2 dates"),
    ],
)
def test_compute_metrics_rejects_bad_input(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(QtcError, match=message):
        compute_metrics(_tiny(**overrides))
