"""Activity figures of stopped runs: trades only on the days the engine really traded.

The daily (stops) path gets no quantities from nanobook, only post-trade weights. Shares
must change only on rebalance, stop and drawdown-exit days; a re-derivation of shares from
weights on every day turned float noise into thousands of phantom micro-trades (issue 13).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qtc.compile.stages import RunEngine
from qtc.manifest.stops import TrailingStop
from qtc.manifest.trading import CostsSection
from qtc.pipeline.engine import EngineInput, run_engine
from qtc.pipeline.runner import run_on_lake
from tests.pipeline.conftest import plan_from_text

TEN_BPS = CostsSection(commission_bps=10.0, slippage_bps=0.0)


def test_stopped_run_trades_on_the_rebalance_and_stop_days_only() -> None:
    # 10,000 USD, 10 bps commission, no slippage, 10% trailing stop on closes.
    # day 0 (rebalance 40/40 at A 100, B 50): A 4,000 / 100 = 40 sh, B 4,000 / 50 = 80 sh,
    #   traded 8,000, fees 4 + 4 = 8; cash 10,000 - 8,008 = 1,992; equity 9,992.
    # day 2: A's peak close 120 -> stop level 108. day 3: A closes at 105 < 108: sold at 105,
    #   traded 40 x 105 = 4,200, fee 4.20; cash 1,992 + 4,200 - 4.2 = 6,187.80; B untouched.
    # days 4-5: no trade (A stays out although still a target). B's day-4 close is off the
    #   micro-dollar grid (the engine prices it at 53.000000): re-deriving shares from weights
    #   at that close gave 80 x 53 / 53.0000004 = 79.999999 sh, a phantom trade.
    # day 6 (rebalance 50/30 at A 100, B 50): equity before 6,187.80 + 80 x 50 = 10,187.80;
    #   A 5,093.90 / 100 = 50.939 sh (buy 5,093.90), B 3,056.34 / 50 = 61.1268 sh
    #   (sell 18.8732 sh = 943.66); traded 6,037.56, fees 6.03756; equity 10,181.76244.
    # days 7-11: no trade.
    prices = [
        [100, 50],
        [110, 50],
        [120, 51],
        [105, 52],
        [106, 53.0000004],
        [104, 52],
        [100, 50],
        [101, 51],
        [102, 52],
        [103, 51],
        [104, 50],
        [105, 50],
    ]
    res = run_engine(
        EngineInput(
            dates=np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-13")),
            symbols=["A", "B"],
            prices=np.array(prices, float),
            first_row=0,
            exec_rows=np.array([0, 6]),
            targets=np.array([[0.4, 0.4], [0.5, 0.3]]),
            initial_cash=10_000.0,
            costs=TEN_BPS,
            stops=TrailingStop(kind="trailing", trail_pct=0.1),
        )
    )
    assert [e["kind"] for e in res.events] == ["rebalance", "stop", "rebalance"]
    assert res.events[1]["date"] == "2020-01-04" and res.events[1]["symbol"] == "A"
    expected_shares = [[40, 80]] * 3 + [[0, 80]] * 3 + [[50.939, 61.1268]] * 6
    np.testing.assert_allclose(res.shares, expected_shares, rtol=0, atol=1e-6)
    traded = np.zeros(12)
    traded[[0, 3, 6]] = [8_000.0, 4_200.0, 6_037.56]
    np.testing.assert_allclose(res.traded_notional, traded, rtol=0, atol=0.005)
    costs = np.zeros(12)
    costs[[0, 3, 6]] = [8.0, 4.2, 6.03756]
    np.testing.assert_allclose(res.costs_paid, costs, rtol=0, atol=1e-5)
    assert res.equity[0] == pytest.approx(9_992.0, abs=1e-5)
    assert res.equity[3] == pytest.approx(6_187.8 + 80 * 52, abs=1e-5)
    assert res.equity[6] == pytest.approx(10_181.76244, abs=1e-5)
    assert res.equity[11] == pytest.approx(10_181.76244 + 50.939 * 5, abs=1e-5)


STOPPED = """
schema = 1
name = "stopped"

[data]
start = 2005-03-01
end = 2006-12-29
benchmark = "SPY"

[universe]
kind = "all"

[[factors]]
name = "mom"
kind = "momentum"
lookback = 21
skip = 0

[scoring]
method = "rank"
weights = { mom = 1.0 }

[selection]
top_n = 4

[rebalance]
frequency = "monthly"

[costs]
commission_bps = 10.0
slippage_bps = 0.0

[stops]
kind = "trailing"
trail_pct = 0.15
"""


@pytest.fixture(scope="module")
def stopped_run(tiny_lake: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A monthly top-4 momentum run with a 15% trailing stop on the 12-symbol demo lake."""
    folder: Path = tmp_path_factory.mktemp("stopped")
    return run_on_lake(plan_from_text(folder, STOPPED), tiny_lake)


def _days(run: Any, kind: str) -> set[str]:
    return {e["date"] for e in run.events if e["kind"] == kind}


def test_demo_run_trades_only_on_rebalance_and_stop_days(stopped_run: Any) -> None:
    dates = np.array([str(d) for d in stopped_run.dates])
    traded = stopped_run.traded_notional > 0
    rebalances, stops = _days(stopped_run, "rebalance"), _days(stopped_run, "stop")
    assert stops, "the case needs at least one stop"
    assert set(dates[traded]) == rebalances | stops
    assert stopped_run.metrics["activity"]["rebalances"] == len(rebalances | stops)
    # Shares change exactly on the trade days and are constant in between.
    shares = stopped_run.shares
    changed = np.concatenate([[shares[0].any()], (shares[1:] != shares[:-1]).any(axis=1)])
    np.testing.assert_array_equal(changed, traded)
    assert (stopped_run.costs_paid[~traded] == 0).all()


def test_demo_run_costs_are_the_commission_on_what_was_traded(stopped_run: Any) -> None:
    # 10 bps commission and no slippage: each trade day costs 10 bps of its notional, except
    # where a stop and a rebalance share a day (the net share change understates what traded).
    # Fees are charged at the engine's micro-dollar prices, the notional is at the closes:
    # they differ by up to half a micro-dollar per share traded.
    rebalances, stops = _days(stopped_run, "rebalance"), _days(stopped_run, "stop")
    both = np.isin([str(d) for d in stopped_run.dates], list(rebalances & stops))
    fee = 1e-3 * stopped_run.traded_notional
    np.testing.assert_allclose(stopped_run.costs_paid[~both], fee[~both], rtol=0, atol=1e-4)
    assert (stopped_run.costs_paid[both] >= fee[both] - 1e-4).all()


def test_demo_run_equity_is_cash_plus_marked_shares_minus_costs(stopped_run: Any) -> None:
    # Equity changes only by the carried shares' price moves (at the engine's micro-dollar
    # prices) and by the costs paid: the shares and costs account for every dollar.
    prices = np.rint(np.nan_to_num(stopped_run.closes) * 1e6) / 1e6
    shares = stopped_run.shares
    moves = (shares[:-1] * (prices[1:] - prices[:-1])).sum(axis=1)
    cash = stopped_run.plan.spec(RunEngine).initial_cash
    first = cash - stopped_run.costs_paid[0]
    later = stopped_run.equity[:-1] + moves - stopped_run.costs_paid[1:]
    np.testing.assert_allclose(stopped_run.equity, np.concatenate([[first], later]), atol=1e-4)
