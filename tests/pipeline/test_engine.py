"""The engine adapter on tiny markets whose answers are derived by hand (to the cent)."""

from __future__ import annotations

import numpy as np
import pytest

from qtc.errors import QtcError
from qtc.manifest.trading import CostsSection
from qtc.pipeline.engine import EngineInput, forward_filled, last_priced_rows, run_engine

DATES = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-09"))
NO_COSTS = CostsSection(commission_bps=0.0, slippage_bps=0.0)


def run(prices: list[list[float]], rows: list[int], targets: list[list[float]], **kw: object):  # type: ignore[no-untyped-def]
    px = np.array(prices, float)
    inp = EngineInput(
        dates=DATES[: len(px)],
        symbols=[f"S{j}" for j in range(px.shape[1])],
        prices=px,
        first_row=kw.pop("first_row", 0),  # type: ignore[arg-type]
        exec_rows=np.array(rows),
        targets=np.array(targets, float),
        initial_cash=kw.pop("cash", 1000.0),  # type: ignore[arg-type]
        costs=kw.pop("costs", NO_COSTS),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return run_engine(inp)


def test_two_assets_hold_then_rebalance_to_the_cent() -> None:
    # day 0: 50% A at 10 (50 sh), 50% B at 20 (25 sh); B ends on day 4 at 22 -> sold there.
    # day 6: all into A at 13 with 1200 -> 92.307692 sh; day 7: A = 14.
    res = run(
        [
            [10, 20],
            [11, 20],
            [12, 20],
            [12, 21],
            [12, 22],
            [13, np.nan],
            [13, np.nan],
            [14, np.nan],
        ],
        [0, 6],
        [[0.5, 0.5], [1.0, 0.0]],
    )
    expected = [1000, 1050, 1100, 1125, 1150, 1200, 1200, 1200 / 13 * 14]
    np.testing.assert_allclose(res.equity, expected, rtol=0, atol=0.005)
    assert [e["kind"] for e in res.events] == ["rebalance", "data_ended", "rebalance"]
    assert res.events[1] == {"date": "2020-01-05", "kind": "data_ended", "symbol": "S1"}
    np.testing.assert_allclose(res.shares[3], [50, 25])
    np.testing.assert_allclose(res.shares[4], [50, 0])


def test_commission_and_slippage_to_the_cent() -> None:
    # 10 bps commission, 0 slippage: buying 100% with 1000 USD -> nanobook trims the buy so that
    # notional + commission <= cash: q * 10 * 1.001 <= 1000 -> notional 999.000999, fee 0.999001.
    costs = CostsSection(commission_bps=10.0, slippage_bps=0.0)
    res = run([[10], [10], [11]], [0], [[1.0]], costs=costs)
    notional = 1000 / 1.001
    assert res.costs_paid[0] == pytest.approx(notional * 0.001, abs=1e-5)
    assert res.equity[0] == pytest.approx(1000 - notional * 0.001, abs=1e-5)
    # cash left = 1000 - notional * 1.001 = 0; then the shares gain 10%
    assert res.equity[2] == pytest.approx(1000 - notional * 1.001 + notional * 1.1, abs=1e-5)


def test_slippage_moves_the_fill_price() -> None:
    # 100 bps slippage: buy at 10.1; 1000 / 10.1 = 99.0099 shares marked at 10 -> 990.099.
    costs = CostsSection(commission_bps=0.0, slippage_bps=100.0)
    res = run([[10], [10]], [0], [[1.0]], costs=costs)
    assert res.shares[0, 0] == pytest.approx(1000 / 10.1, abs=1e-6)
    assert res.equity[0] == pytest.approx(1000 / 10.1 * 10, abs=1e-4)


def test_whole_shares_leave_cash() -> None:
    res = run([[30], [33]], [0], [[1.0]], fractional=False)
    assert res.shares[0, 0] == 33  # floor(1000 / 30)
    assert res.equity[1] == pytest.approx(10 + 33 * 33)


def test_drawdown_exit_goes_to_cash_until_next_rebalance() -> None:
    # 20% limit: A falls 100 -> 70 on day 2 (-30% from peak) -> sold at day 3's close (75),
    # cash until the rebalance on day 5, which buys back in.
    res = run(
        [[100], [100], [70], [75], [90], [80], [88]],
        [0, 5],
        [[1.0], [1.0]],
        max_drawdown_pct=0.2,
    )
    assert [e["kind"] for e in res.events] == ["rebalance", "drawdown_exit", "rebalance"]
    np.testing.assert_allclose(res.equity[:5], [1000, 1000, 700, 750, 750])
    assert res.shares[4, 0] == 0
    assert res.equity[6] == pytest.approx(750 / 80 * 88)


def test_target_without_price_on_execution_day_stays_cash() -> None:
    res = run([[10, np.nan], [10, 20]], [0], [[0.5, 0.5]])
    assert res.events[0]["unpriced_targets"] == ["S1"]
    assert res.shares[0, 1] == 0
    assert res.equity[1] == pytest.approx(1000)


def test_invested_from_first_execution_only() -> None:
    res = run([[10], [10], [20]], [1], [[1.0]])
    np.testing.assert_allclose(res.equity, [1000, 1000, 2000])


@pytest.mark.parametrize(
    ("targets", "message"),
    [([[np.nan]], "NaN"), ([[-0.1]], "long-only"), ([[1.2]], "borrow")],
)
def test_bad_targets_rejected_before_nanobook(targets: list[list[float]], message: str) -> None:
    with pytest.raises(QtcError, match=message):
        run([[10], [11]], [0], targets)


def test_non_positive_prices_rejected() -> None:
    with pytest.raises(QtcError, match="non-positive"):
        run([[10], [0]], [0], [[1.0]])


def test_long_symbols_are_aliased() -> None:
    px = np.array([[10.0, 20.0], [11.0, 22.0]])
    inp = EngineInput(
        dates=DATES[:2],
        symbols=["AVERYLONGTICKER", "BRK-B"],
        prices=px,
        first_row=0,
        exec_rows=np.array([0]),
        targets=np.array([[0.5, 0.5]]),
        initial_cash=1000.0,
        costs=NO_COSTS,
    )
    assert run_engine(inp).equity[1] == pytest.approx(1100)


def test_helpers() -> None:
    px = np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, np.nan], [3.0, np.nan]])
    np.testing.assert_array_equal(forward_filled(px), [[np.nan, 1], [2, 1], [2, 1], [3, 1]])
    np.testing.assert_array_equal(last_priced_rows(px), [3, 0])


def test_trailing_stop_fires_and_stays_out_until_next_rebalance() -> None:
    from qtc.manifest.stops import TrailingStop

    # A: 100 -> 120 -> 90 (25% off the 120 high: stop at 20% fires, exit at 90's close)
    # stays out on days 3-4 although still a target, re-enters at the rebalance on day 5.
    res = run(
        [[100], [120], [90], [95], [99], [100], [110]],
        [0, 5],
        [[1.0], [1.0]],
        stops=TrailingStop(kind="trailing", trail_pct=0.2),
    )
    kinds = [e["kind"] for e in res.events]
    assert kinds == ["rebalance", "stop", "rebalance"]
    assert res.events[1]["date"] == "2020-01-03" and res.events[1]["exit_price"] == 90
    assert (res.shares[2:5, 0] == 0).all()
    np.testing.assert_allclose(res.equity[:5], [1000, 1200, 900, 900, 900], atol=1e-6)
    assert res.shares[5, 0] == pytest.approx(9.0)
    assert res.equity[6] == pytest.approx(990, abs=1e-6)


def test_daily_stop_path_equals_event_path_when_no_stop_fires() -> None:
    from qtc.manifest.stops import FixedStop

    rng = np.random.default_rng(3)
    px = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, (8, 4)), axis=0))
    targets = [[0.25, 0.25, 0.25, 0.25], [0.4, 0.0, 0.3, 0.3], [0.1, 0.2, 0.3, 0.4]]
    costs = CostsSection(commission_bps=5.0, slippage_bps=3.0)
    plain = run(px.tolist(), [0, 3, 6], targets, costs=costs)
    stopped = run(
        px.tolist(), [0, 3, 6], targets, costs=costs, stops=FixedStop(kind="fixed", stop_pct=0.9)
    )
    # The daily path marks in nanobook's integer micro-dollars, the event path in float prices:
    # they may differ by half a micro-dollar per share held (here ~80 shares) and no more.
    bound = 0.5e-6 * np.abs(plain.shares).sum(axis=1) + 1e-6
    assert (np.abs(stopped.equity - plain.equity) <= bound).all()
    np.testing.assert_allclose(stopped.shares, plain.shares, rtol=1e-9)
    np.testing.assert_allclose(stopped.costs_paid, plain.costs_paid, atol=1e-4)


def test_rebalance_that_selects_nothing_goes_to_cash() -> None:
    res = run([[10], [20], [20], [40]], [0, 2], [[1.0], [0.0]])
    np.testing.assert_allclose(res.equity, [1000, 2000, 2000, 2000])
    assert res.shares[2, 0] == 0


def test_interior_nan_is_marked_through_not_liquidated() -> None:
    # A has no price on day 2 (a data gap): it keeps its day-1 mark and is still held after.
    res = run([[10], [11], [np.nan], [12]], [0], [[1.0]])
    np.testing.assert_allclose(res.equity, [1000, 1100, 1100, 1200])
    assert [e["kind"] for e in res.events] == ["rebalance"]


def test_drawdown_exit_on_the_stops_path_matches_the_event_path() -> None:
    from qtc.manifest.stops import FixedStop

    prices = [[100], [100], [70], [75], [90], [80], [88]]
    plain = run(prices, [0, 5], [[1.0], [1.0]], max_drawdown_pct=0.2)
    daily = run(
        prices,
        [0, 5],
        [[1.0], [1.0]],
        max_drawdown_pct=0.2,
        stops=FixedStop(kind="fixed", stop_pct=0.95),  # never fires
    )
    assert [e["kind"] for e in daily.events] == ["rebalance", "drawdown_exit", "rebalance"]
    assert daily.events[1]["date"] == plain.events[1]["date"] == "2020-01-04"
    np.testing.assert_allclose(daily.equity, plain.equity, atol=1e-4)
    np.testing.assert_allclose(daily.shares, plain.shares, atol=1e-6)


def test_an_ended_name_is_sold_alone_and_the_rest_of_the_book_is_untouched() -> None:
    # A, B, C bought on day 0; B's data ends on day 2 at 25 and it is sold at that close,
    # 10 bps commission + 20 bps slippage: fill 25 * 0.998 = 24.95, fee 0.1% of the fill.
    costs = CostsSection(commission_bps=10.0, slippage_bps=20.0)
    prices = [[10, 20, 30], [11, 22, 33], [12, 25, 36], [13, np.nan, 39]]
    res = run(prices, [0], [[1 / 3, 1 / 3, 1 / 3]], costs=costs)
    b = res.shares[1, 1]
    assert res.shares[2, 1] == 0 and res.shares[3, 1] == 0
    np.testing.assert_array_equal(res.shares[2, [0, 2]], res.shares[1, [0, 2]])
    assert res.traded_notional[2] == pytest.approx(b * 25, abs=1e-9)
    fill = b * 25 * (1 - 0.002)
    assert res.costs_paid[2] == pytest.approx(b * 25 - fill + fill * 0.001, abs=1e-5)
    held = res.shares[1, 0] * 12 + res.shares[1, 2] * 36
    cash_before = res.equity[1] - res.shares[1] @ [11, 22, 33]
    assert res.equity[2] == pytest.approx(cash_before + held + fill * 0.999, abs=1e-5)
    assert res.equity[3] == pytest.approx(res.equity[2] + res.shares[2] @ [1, 0, 3], abs=1e-9)


def test_an_ended_name_below_the_minimum_order_is_kept_as_nanobook_keeps_it() -> None:
    # B is bought for 30 USD (1.5 shares at 20, above the 25 USD minimum order), then ends
    # at 10: its 15 USD sale is below the minimum, nanobook skips it, so B stays held at
    # its last price and nothing is traded or paid that day.
    res = run([[10, 20], [10, 10], [11, np.nan]], [0], [[0.97, 0.03]], min_order_value=25.0)
    assert res.shares[0, 1] == pytest.approx(1.5, abs=1e-6)
    assert res.shares[1, 1] == res.shares[0, 1] and res.shares[2, 1] == res.shares[0, 1]
    assert res.traded_notional[1] == 0 and res.costs_paid[1] == 0
    cash = 1000 - res.shares[0] @ [10, 20]
    assert res.equity[2] == pytest.approx(cash + res.shares[0, 0] * 11 + 1.5 * 10, abs=1e-9)


def test_an_ended_name_inside_the_no_trade_band_is_kept_until_the_next_rebalance() -> None:
    # B is bought at 1% of the book (outside the 50 bps band), falls to 0.4% and its data
    # ends on day 1: selling it is a 0.4% drift, inside the band, so nanobook keeps it (this
    # looped forever before); the rebalance on day 3 (B unpriced, marked at its last price)
    # leaves it too.
    res = run(
        [[10, 20], [10, 8], [11, np.nan], [12, np.nan], [12, np.nan]],
        [0, 3],
        [[0.99, 0.01], [1.0, 0.0]],
        no_trade_band_bps=50.0,
    )
    assert res.shares[0, 1] == pytest.approx(0.5, abs=1e-6)
    assert (res.shares[:, 1] == res.shares[0, 1]).all()
    assert [e["kind"] for e in res.events] == ["rebalance", "data_ended", "rebalance"]
    cash = res.equity[0] - res.shares[0] @ [10, 20]
    assert res.equity[2] == pytest.approx(cash + res.shares[0, 0] * 11 + 0.5 * 8, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_forward_fill_and_last_rows_match_a_plain_loop(seed: int) -> None:
    # panels longer than one 64-row scan block, with listings, delistings, inner gaps and
    # columns that never trade, in both memory orders
    rng = np.random.default_rng(seed)
    t, n = int(rng.integers(1, 300)), int(rng.integers(1, 40))
    px = rng.random((t, n)) + 1.0
    px[rng.random((t, n)) < 0.05] = np.nan
    for j in range(n):
        a, b = sorted(rng.integers(0, t + 1, 2))
        px[:a, j] = np.nan
        px[b:, j] = np.nan
    if seed % 2:
        px = np.asfortranarray(px)
    filled, last = px.copy(), np.full(n, -1)
    for j in range(n):
        seen = np.nan
        for i in range(t):
            if np.isfinite(px[i, j]):
                seen, last[j] = px[i, j], i
            filled[i, j] = seen
    np.testing.assert_array_equal(forward_filled(px), filled)
    np.testing.assert_array_equal(last_priced_rows(px), last)
