"""Live targets: same plan and stages as the backtest, signal at the live date (parity)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from qtc.api.strategy import compile_file
from qtc.compile.plan import Plan
from qtc.errors import UserError
from qtc.lake import build_demo_lake
from qtc.lake.read.reader import Lake
from qtc.live.targets import live_targets
from qtc.pipeline.runner import run_on_lake
from tests.conftest import REPO

STRATEGY = REPO / "strategies" / "momentum_us.toml"
START = "data.start=2007-01-02"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    path = tmp_path_factory.mktemp("live_demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return Lake(path)


def _plan(end: str) -> Plan:
    return compile_file(
        STRATEGY, overrides=[START, f"data.end={end}"], as_of=dt.date(2024, 1, 2)
    ).plan


def _row(weights: np.ndarray, symbols: list[str]) -> dict[str, float]:
    return {s: float(w) for s, w in zip(symbols, weights, strict=True) if abs(w) > 1e-12}


def test_live_targets_equal_the_backtest_on_that_rebalance_date(lake: Lake) -> None:
    backtest = run_on_lake(_plan("2009-08-31"), lake)
    signals = backtest.signal_dates.astype("datetime64[D]")
    for day in ("2008-10-31", "2009-06-30"):
        i = int(np.flatnonzero(signals == np.datetime64(day))[0])
        expected = _row(backtest.targets[i], backtest.symbols)
        assert expected  # the demo momentum strategy holds names on these dates
        # the live plan's own data.end is irrelevant: the live date wins
        live = live_targets(_plan("2010-12-30"), lake, as_of=dt.date.fromisoformat(day))
        assert live.signal_date == dt.date.fromisoformat(day)
        assert live.weights.keys() == expected.keys()
        for sym, w in expected.items():
            assert live.weights[sym] == pytest.approx(w, abs=1e-12)
        assert live.plan_fingerprint == _plan("2010-12-30").fingerprint


def test_live_signal_is_the_last_lake_date_even_though_a_backtest_drops_it(lake: Lake) -> None:
    plan = _plan("2010-12-31")
    last = lake.calendar()[-1].astype("datetime64[D]").item()
    live = live_targets(plan, lake)
    assert live.signal_date == last == live.as_of_date
    assert live.weights and all(w > 0 for w in live.weights.values())
    assert sum(live.weights.values()) <= 1 + 1e-9
    assert list(live.weights) == sorted(live.weights)
    backtest = run_on_lake(plan, lake)
    assert backtest.signal_dates[-1].astype("datetime64[D]").item() < last


def test_non_trading_as_of_uses_the_previous_session(lake: Lake) -> None:
    live = live_targets(_plan("2010-12-30"), lake, as_of=dt.date(2009, 7, 4))  # a Saturday
    assert live.as_of_date == dt.date(2009, 7, 4)
    previous = lake.calendar(None, "2009-07-04")[-1].astype("datetime64[D]").item()
    assert previous < dt.date(2009, 7, 4)
    assert live.signal_date == previous


def test_as_of_before_the_strategy_start_is_refused(lake: Lake) -> None:
    with pytest.raises(UserError, match=r"before the strategy's data\.start"):
        live_targets(_plan("2010-12-30"), lake, as_of=dt.date(2006, 6, 30))
