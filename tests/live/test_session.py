"""The checks around sending: a risk FAIL, a moved account or a second run send nothing.

Plans are built from the same functions `qtc rebalance` uses (`plan_orders`, `check_orders`,
`order_plan_document`), on the mock broker; `session.execute` is what the CLI calls.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from qtc.errors import QtcError
from qtc.live.brokers.base import Position
from qtc.live.brokers.mock import MockBroker
from qtc.live.history import history_path, peak_equity, record_equity
from qtc.live.orderplan import order_plan_document, write_order_plan
from qtc.live.orders import PlannedOrder, plan_orders
from qtc.live.risk import check_orders
from qtc.live.session import execute, resume
from qtc.live.targets import LiveTargets
from qtc.manifest.risk import RiskSection

PRICES = {"AAA": 100.0, "BBB": 50.0}
RISK = RiskSection(max_position_pct=0.6, max_drawdown_pct=0.2)


def broker(cash: float = 10_000.0, positions: tuple[Position, ...] = ()) -> MockBroker:
    b = MockBroker(cash=cash, prices=PRICES, positions=positions, fractional=False)
    b.connect()
    return b


def plan(
    b: MockBroker,
    targets: dict[str, float],
    tmp_path: Path,
    *,
    risk: RiskSection = RISK,
    peak: float | None = None,
    orders: list[PlannedOrder] | None = None,
) -> tuple[dict[str, Any], Path]:
    account, positions = b.account(), b.positions()
    rules = {"fractional": False, "no_trade_band_bps": 0.0, "min_order_value": 0.0}
    if orders is None:
        orders = plan_orders(targets, positions, account, PRICES, **rules)
    report = check_orders(orders, account, positions, PRICES, risk, peak_equity=peak)
    day = dt.date(2024, 3, 28)
    doc = order_plan_document(
        strategy="test",
        targets=LiveTargets(day, day, targets, "f" * 64),
        broker={"kind": "mock", "account": account.account_id, "settings": {"kind": "mock"}},
        account=account,
        positions=positions,
        prices=PRICES,
        orders=orders,
        risk=report,
        git_commit=None,
        window="2024-03",
        order_rules=rules | {"cash_buffer_bps": 0.0},
        costs={"commission_bps": 0.0, "slippage_bps": 0.0},
        peak_equity=peak,
    )
    return doc, write_order_plan(doc, tmp_path / "orders")


def run(doc: dict[str, Any], path: Path, b: MockBroker, state: Path, force: bool = False) -> Any:
    return execute(doc, path, b, state=state, force=force, environ={})


def test_an_order_above_max_position_pct_fails_and_nothing_is_sent(tmp_path: Path) -> None:
    b = broker()
    doc, path = plan(b, {"AAA": 0.9}, tmp_path)  # 90 % of equity in one name > 60 %
    assert doc["risk"]["status"] == "FAIL"
    with pytest.raises(QtcError, match="failed its risk checks; nothing was sent"):
        run(doc, path, b, tmp_path / "state")
    assert "submit" not in b.calls and not b.ledger.states
    assert not (tmp_path / "state" / "runs").exists()


def test_a_short_is_refused_when_shorts_are_not_allowed(tmp_path: Path) -> None:
    b = broker(positions=(Position("AAA", 10.0, 100.0),))
    # a plan that sells 15 AAA while 10 are held: 5 would be short
    short = [PlannedOrder("AAA", "sell", 15.0, 100.0, 1_500.0, 1_000 / 11_000, 0.0)]
    doc, path = plan(b, {}, tmp_path, orders=short)
    checks = doc["risk"]["orders"][0]["checks"]
    assert any(c["name"] == "Short selling" and c["status"] == "FAIL" for c in checks)
    with pytest.raises(QtcError, match="failed its risk checks; nothing was sent"):
        run(doc, path, b, tmp_path / "state")
    assert not b.ledger.states and b.positions() == [Position("AAA", 10.0, 100.0)]


def test_a_drawdown_breach_from_the_kept_history_blocks_buys(tmp_path: Path) -> None:
    state = tmp_path / "state"
    history = history_path(state, "mock", "mock-account")
    record_equity(history, "2024-01-31", 15_000.0)
    record_equity(history, "2024-02-29", 13_000.0)
    assert peak_equity(history) == 15_000.0
    b = broker()  # equity 10,000 < 15,000 * (1 - 0.2) = 12,000: breached
    doc, path = plan(b, {"AAA": 0.5}, tmp_path, peak=peak_equity(history))
    assert doc["risk"]["status"] == "FAIL"
    buy = doc["risk"]["orders"][0]
    assert any("drawdown breach blocks new buys" in c["detail"] for c in buy["checks"])
    with pytest.raises(QtcError, match="nothing was sent"):
        run(doc, path, b, state)
    assert not b.ledger.states


def test_a_second_run_in_the_window_is_refused_unless_forced(tmp_path: Path) -> None:
    state = tmp_path / "state"
    b = broker()
    doc, path = plan(b, {"AAA": 0.5}, tmp_path)
    done = run(doc, path, b, state)
    assert done.report.complete and done.run.status == "done"
    assert {p.symbol: p.quantity for p in b.positions()} == {"AAA": 50.0}
    doc2, path2 = plan(b, {"AAA": 0.5, "BBB": 0.25}, tmp_path)
    with pytest.raises(QtcError, match=r"already ran .* in window 2024-03"):
        run(doc2, path2, b, state)
    assert len(b.ledger.states) == 1
    forced = run(doc2, path2, b, state, force=True)
    assert forced.report.complete
    assert {p.symbol: p.quantity for p in b.positions()} == {"AAA": 50.0, "BBB": 50.0}


def test_positions_moved_since_the_plan_refuses(tmp_path: Path) -> None:
    b = broker()
    doc, path = plan(b, {"AAA": 0.5}, tmp_path)
    b.ledger.positions["BBB"] = Position("BBB", 3.0, 50.0)  # someone traded meanwhile
    with pytest.raises(QtcError, match=r"positions have moved .*BBB: 0 -> 3 shares"):
        run(doc, path, b, tmp_path / "state")
    assert not b.ledger.states


def test_resume_without_a_started_run_says_so(tmp_path: Path) -> None:
    b = broker()
    _, path = plan(b, {"AAA": 0.5}, tmp_path)
    with pytest.raises(QtcError, match="nothing to resume"):
        resume(path, state=tmp_path / "state", environ={})
