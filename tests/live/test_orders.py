"""Order planning and pre-trade risk checks on tiny hand-computed accounts."""

from __future__ import annotations

import pytest

from qtc.errors import QtcError
from qtc.live.brokers.base import Account, Position
from qtc.live.orders import PlannedOrder, plan_orders
from qtc.live.risk import check_orders, whole_shares
from qtc.manifest.risk import RiskSection


def _acct(cash: float, equity: float) -> Account:
    return Account("acct-1", cash=cash, equity=equity)


def _plan(
    targets: dict[str, float],
    positions: list[Position],
    account: Account,
    prices: dict[str, float],
    *,
    fractional: bool = False,
    band: float = 0.0,
    min_value: float = 0.0,
) -> list[PlannedOrder]:
    return plan_orders(
        targets,
        positions,
        account,
        prices,
        fractional=fractional,
        no_trade_band_bps=band,
        min_order_value=min_value,
    )


def _rows(orders: list[PlannedOrder]) -> list[tuple[str, str, float]]:
    return [(o.symbol, o.side, o.quantity) for o in orders]


def test_whole_shares_from_cash() -> None:
    orders = _plan({"A": 0.5, "B": 0.3}, [], _acct(10_000, 10_000), {"A": 100.0, "B": 33.0})
    # A: 0.5 * 10000 / 100 = 50; B: 3000 / 33 = 90.9 -> 90 (truncated)
    assert _rows(orders) == [("A", "buy", 50), ("B", "buy", 90)]
    b = orders[1]
    assert b.notional == 90 * 33.0 and b.price == 33.0
    assert b.current_weight == 0 and b.target_weight == 0.3


def test_fractional_truncates_to_micro_shares() -> None:
    orders = _plan({"B": 0.3}, [], _acct(10_000, 10_000), {"B": 33.0}, fractional=True)
    assert orders[0].quantity == 90.909090  # 90.90909090... truncated toward zero


def test_sells_first_exits_sold_entirely_and_buys_use_sale_proceeds() -> None:
    positions = [Position("A", 60, 90.0), Position("C", 10, 40.0)]
    prices = {"A": 100.0, "B": 25.0, "C": 50.0}
    # equity 10000 = cash 3500 + A 6000 + C 500
    orders = _plan({"A": 0.4, "B": 0.5}, positions, _acct(3_500, 10_000), prices)
    # A 0.6 -> 0.4: sell 20; C not in targets: sell all 10; B: 5000 / 25 = 200 (cash 3500+2500)
    assert _rows(orders) == [("A", "sell", 20), ("C", "sell", 10), ("B", "buy", 200)]
    assert orders[0].current_weight == pytest.approx(0.6)
    assert orders[1].target_weight == 0


def test_buys_scaled_pro_rata_to_the_cash_available() -> None:
    positions = [Position("A", 90, 100.0)]
    prices = {"A": 100.0, "B": 10.0, "C": 20.0}
    # equity 10000, cash 1000; A already at 0.9. Wanted: B 200 sh ($2000), C 50 sh ($1000)
    orders = _plan({"A": 0.9, "B": 0.2, "C": 0.1}, positions, _acct(1_000, 10_000), prices)
    # scale 1000 / 3000: B 66.67 -> 66 ($660), C 16.67 -> 16 ($320)
    assert _rows(orders) == [("B", "buy", 66), ("C", "buy", 16)]
    assert sum(o.notional for o in orders) == 980  # <= the 1000 of cash


def test_scaled_buys_never_exceed_cash_even_fractional() -> None:
    prices = {"B": 7.0, "C": 3.0}
    orders = _plan({"B": 0.6, "C": 0.6}, [], _acct(1_000, 1_000), prices, fractional=True)
    assert sum(o.notional for o in orders) <= 1_000
    assert sum(o.notional for o in orders) > 999.99


def test_no_trade_band_and_min_order_value() -> None:
    positions = [Position("A", 50, 100.0)]
    account = _acct(5_000, 10_000)
    # |0.505 - 0.5| = 50 bps < 100 bps band -> nothing
    assert _plan({"A": 0.505}, positions, account, {"A": 100.0}, band=100) == []
    # no band: 0.5 share wanted; whole shares -> 0 -> nothing
    assert _plan({"A": 0.505}, positions, account, {"A": 100.0}) == []
    # fractional: a $50 order, skipped below a $100 minimum, kept above a $10 one
    frac = {"fractional": True}
    assert _plan({"A": 0.505}, positions, account, {"A": 100.0}, min_value=100, **frac) == []
    kept = _plan({"A": 0.505}, positions, account, {"A": 100.0}, min_value=10, **frac)
    assert _rows(kept) == [("A", "buy", 0.5)]


def test_dust_exit_ignores_band_and_minimum() -> None:
    positions = [Position("D", 0.3, 10.0)]
    orders = _plan({}, positions, _acct(997, 1_000), {"D": 10.0}, band=500, min_value=100)
    assert _rows(orders) == [("D", "sell", 0.3)]


def test_a_target_without_a_price_is_an_error_naming_it() -> None:
    with pytest.raises(QtcError, match="no price for target ZZZ"):
        _plan({"A": 0.5, "ZZZ": 0.1}, [], _acct(1_000, 1_000), {"A": 10.0})
    with pytest.raises(QtcError, match="no price for holding OLD"):
        _plan({}, [Position("OLD", 5, 1.0)], _acct(1_000, 1_005), {})
    with pytest.raises(QtcError, match="negative"):
        _plan({"A": -0.1}, [], _acct(1_000, 1_000), {"A": 10.0})


# --- risk checks (qtc.live.risk) -------------------------------------------------------------


RISK = RiskSection(max_position_pct=0.10, max_drawdown_pct=0.20)
PRICES = {"A": 100.0, "B": 50.0, "C": 20.0}
BOOK = [Position("A", 8, 100.0), Position("C", 20, 20.0)]  # A 800, C 400
ACCOUNT = _acct(8_800, 10_000)


def _rebalance() -> list[PlannedOrder]:
    return _plan({"A": 0.05, "B": 0.08}, BOOK, ACCOUNT, PRICES)


def test_a_normal_rebalance_passes() -> None:
    orders = _rebalance()
    assert _rows(orders) == [("A", "sell", 3), ("C", "sell", 20), ("B", "buy", 16)]
    report = check_orders(orders, ACCOUNT, BOOK, PRICES, RISK, peak_equity=10_500)
    assert report.status == "PASS" and not report.failed
    assert [(r.symbol, r.status) for r in report.per_order] == [
        ("A", "PASS"),
        ("C", "PASS"),
        ("B", "PASS"),
    ]
    assert {c.name for c in report.batch} >= {"Max position", "Leverage", "Drawdown"}


def test_an_order_above_max_position_fails() -> None:
    orders = _plan({"B": 0.30}, [], _acct(10_000, 10_000), PRICES)  # 60 sh = 30 % > 10 %
    report = check_orders(orders, _acct(10_000, 10_000), [], PRICES, RISK, peak_equity=None)
    assert report.failed
    (only,) = report.per_order
    assert only.status == "FAIL"
    assert any(c.name == "Max position" and c.status == "FAIL" for c in only.checks)


def test_a_short_fails_when_shorts_are_not_allowed() -> None:
    short = PlannedOrder("C", "sell", 30, 20.0, 600.0, 0.04, 0.0)  # 30 > 20 held
    report = check_orders([short], ACCOUNT, BOOK, PRICES, RISK, peak_equity=None)
    assert report.failed
    checks = report.per_order[0].checks
    assert any(c.name == "Short selling" and c.status == "FAIL" for c in checks)
    allowed = RiskSection(max_position_pct=0.10, allow_short=True, max_short_pct=0.3)
    ok = check_orders([short], ACCOUNT, BOOK, PRICES, allowed, peak_equity=None)
    assert not any(c.name == "Short selling" for c in ok.per_order[0].checks)


def test_drawdown_breach_blocks_buys_but_not_sells() -> None:
    orders = _rebalance()
    # equity 10000 < 13000 * 0.8 = 10400: breached
    report = check_orders(orders, ACCOUNT, BOOK, PRICES, RISK, peak_equity=13_000)
    assert report.failed
    status = {(r.symbol, r.side): r.status for r in report.per_order}
    assert status == {("A", "sell"): "PASS", ("C", "sell"): "PASS", ("B", "buy"): "FAIL"}
    (dd,) = [c for c in report.per_order[2].checks if c.name == "Drawdown"]
    assert "drawdown breach blocks new buys" in dd.detail
    sells = [o for o in orders if o.side == "sell"]
    only_sells = check_orders(sells, ACCOUNT, BOOK, PRICES, RISK, peak_equity=13_000)
    assert only_sells.status == "WARN"  # the breach is reported, the sells may go
    # exactly at the limit is not a breach; no limit set means no check
    assert not check_orders(orders, ACCOUNT, BOOK, PRICES, RISK, peak_equity=12_500).failed
    no_limit = RiskSection(max_position_pct=0.10)
    assert not check_orders(orders, ACCOUNT, BOOK, PRICES, no_limit, peak_equity=1e9).failed


def test_max_order_value_and_fractional_round_up() -> None:
    limited = RiskSection(max_position_pct=1.0, max_order_value=1_000.0)
    big = PlannedOrder("B", "buy", 30, 50.0, 1_500.0, 0.0, 0.15)
    report = check_orders([big], _acct(10_000, 10_000), [], PRICES, limited, peak_equity=None)
    assert report.failed
    assert whole_shares(0.3) == 1 and whole_shares(2.0) == 2 and whole_shares(2.0000000001) == 2
    # selling a whole fractional holding is not a short once both are rounded up
    dust = [Position("D", 0.3, 10.0)]
    sell = PlannedOrder("D", "sell", 0.3, 10.0, 3.0, 0.003, 0.0)
    done = check_orders([sell], _acct(997, 1_000), dust, {"D": 10.0}, RISK, peak_equity=None)
    assert done.status == "PASS"


def test_selling_down_an_oversized_position_only_warns() -> None:
    book = [Position("A", 50, 100.0)]  # 50 % of 10000, cap 10 %
    orders = _plan({"A": 0.25}, book, _acct(5_000, 10_000), PRICES)  # still 25 % after
    report = check_orders(orders, _acct(5_000, 10_000), book, PRICES, RISK, peak_equity=None)
    assert report.per_order[0].status == "WARN"
    # the post-trade portfolio still breaches the cap: the batch check fails
    assert report.status == "FAIL"
    assert any(c.name == "Max position" and c.status == "FAIL" for c in report.batch)
