"""The checks around sending: a risk FAIL, a moved account, an edited plan, a stale signal,
a racing run or a second run in the window send nothing.

Plans are built from the same functions `qtc rebalance` uses (`OrderRules.orders`,
`check_orders`, `build_order_plan`), on the mock broker; `session.execute` is what the CLI calls.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from qtc.errors import QtcError, UserError
from qtc.live.audit import read_log
from qtc.live.brokers.base import Position
from qtc.live.brokers.mock import MockBroker
from qtc.live.costs import Costs
from qtc.live.history import history_path, peak_equity, record_equity
from qtc.live.orderplan import BrokerRef, OrderPlan, build_order_plan, plan_hash
from qtc.live.orders import PlannedOrder
from qtc.live.planfile import read_order_plan, write_order_plan
from qtc.live.risk import check_orders
from qtc.live.rules import OrderRules
from qtc.live.session import execute, resume, window_record
from qtc.live.signing import sign
from qtc.live.staleness import signal_age
from qtc.live.targets import LiveTargets
from qtc.live.windows import WindowRecord, WindowRegistry
from qtc.manifest.risk import RiskSection

PRICES = {"AAA": 100.0, "BBB": 50.0}
RISK = RiskSection(max_position_pct=0.6, max_drawdown_pct=0.2)
KEY = bytes(range(32))
DAY = dt.date(2024, 3, 28)  # a Thursday


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
    signal: dt.date = DAY,
) -> tuple[OrderPlan, Path]:
    account, positions = b.account(), b.positions()
    rules = OrderRules(
        fractional=False, no_trade_band_bps=0.0, min_order_value=0.0, cash_buffer_bps=0.0
    )
    if orders is None:
        orders = rules.orders(targets, positions, account, PRICES)
    report = check_orders(orders, account, positions, PRICES, risk, peak_equity=peak)
    doc = build_order_plan(
        strategy="test",
        targets=LiveTargets(DAY, signal, targets, "f" * 64),
        broker=BrokerRef(kind="mock", account=account.account_id, settings={"kind": "mock"}),
        account=account,
        positions=positions,
        prices=PRICES,
        orders=orders,
        risk=report,
        git_commit=None,
        window="2024-03",
        order_rules=rules,
        costs=Costs(commission_bps=0.0, slippage_bps=0.0),
        peak_equity=peak,
        risk_limits=risk,
        signal_age=signal_age("mock", signal, DAY, DAY, 2),
        key=KEY,
    )
    return doc, write_order_plan(doc, tmp_path / "orders")


def run(
    doc: OrderPlan,
    path: Path,
    b: MockBroker,
    state: Path,
    force: bool = False,
    allow_stale: bool = False,
) -> Any:
    return execute(
        doc, path, b, state=state, force=force, environ={}, today=DAY, allow_stale=allow_stale
    )


def test_an_order_above_max_position_pct_fails_and_nothing_is_sent(tmp_path: Path) -> None:
    b = broker()
    doc, path = plan(b, {"AAA": 0.9}, tmp_path)  # 90 % of equity in one name > 60 %
    assert doc.risk.status == "FAIL"
    with pytest.raises(QtcError, match=r"fails its risk checks .*AAA buy: Max position"):
        run(doc, path, b, tmp_path / "state")
    assert "submit" not in b.calls and not b.ledger.states
    assert not list((tmp_path / "state" / "runs" / "mock-mock-account" / "test").glob("*.json"))


def test_a_short_is_refused_when_shorts_are_not_allowed(tmp_path: Path) -> None:
    b = broker(positions=(Position("AAA", 10.0, 100.0),))
    # a plan that sells 15 AAA while 10 are held: 5 would be short. plan_orders never
    # makes such an order, so the rebuild from the targets (sell 10) refuses it first.
    short = [PlannedOrder("AAA", "sell", 15.0, 100.0, 1_500.0, 1_000 / 11_000, 0.0)]
    doc, path = plan(b, {}, tmp_path, orders=short)
    checks = doc.risk.orders[0].checks
    assert any(c.name == "Short selling" and c.status == "FAIL" for c in checks)
    with pytest.raises(QtcError, match=r"not the ones its targets give \(AAA sell 15 @ 100 "):
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
    assert doc.risk.status == "FAIL"
    buy = doc.risk.orders[0]
    assert any("drawdown breach blocks new buys" in c.detail for c in buy.checks)
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
        resume(path, state=tmp_path / "state", environ={}, key=KEY, today=DAY)


def edited(path: Path, change: Any, *, resign: bool = False) -> dict[str, Any]:
    """The plan at `path` changed by `change(doc)`, its sha256 recomputed (and re-signed)."""
    doc = json.loads(path.read_text())
    change(doc)
    doc["sha256"] = plan_hash(doc)
    if resign:
        doc["signature"] = sign(doc, KEY)
    path.write_text(json.dumps(doc))
    return doc


def test_an_edited_plan_with_a_recomputed_hash_fails_its_signature(tmp_path: Path) -> None:
    b = broker()
    _, path = plan(b, {"AAA": 0.5}, tmp_path)
    assert read_order_plan(path, KEY).orders[0].quantity == 50
    edited(path, lambda d: d["orders"][0].update(quantity=95.0, notional=9_500.0))
    with pytest.raises(UserError, match="modified after it was signed"):
        read_order_plan(path, KEY)
    with pytest.raises(UserError, match="signed with another key"):
        read_order_plan(path, bytes(32))
    edited(path, lambda d: d.pop("signature"))
    with pytest.raises(UserError, match="is not signed"):
        read_order_plan(path, KEY)


def test_orders_that_the_targets_do_not_give_are_refused_even_when_signed(
    tmp_path: Path,
) -> None:
    b = broker()
    _, path = plan(b, {"AAA": 0.5}, tmp_path)
    doc = edited(path, lambda d: d["orders"][0].update(quantity=95.0), resign=True)
    loaded = read_order_plan(path, KEY)  # the signature is right: only the rebuild can tell
    with pytest.raises(QtcError, match=r"AAA buy 95 @ 100 \(the targets give 50 @ 100\)"):
        run(loaded, path, b, tmp_path / "state")
    assert doc["risk"]["status"] == "PASS" and not b.ledger.states


def test_risk_is_re_run_against_the_account_now(tmp_path: Path) -> None:
    b = broker()
    doc, path = plan(b, {"AAA": 0.5}, tmp_path)  # 50 AAA at 100 = 50 % of 10,000: PASS
    assert doc.risk.status == "PASS"
    b.set_price("AAA", 150.0)  # now 50 AAA are 7,500 = 75 % of equity > 60 %
    with pytest.raises(QtcError, match=r"AAA buy: Max position: 75.0% \(AAA\) > 60.0% limit"):
        run(doc, path, b, tmp_path / "state")
    assert not b.ledger.states


def test_a_stale_signal_is_refused_unless_allowed_and_the_allowance_is_logged(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    b = broker()
    old = dt.date(2024, 3, 22)  # Friday; Mon-Thu after it: 4 trading days > 2
    doc, path = plan(b, {"AAA": 0.5}, tmp_path, signal=old)
    assert doc.document()["signal_age"] == {
        "signal_date": "2024-03-22", "reference": "2024-03-28", "trading_days": 4,
        "max_days": 2, "stale": True,
    }  # fmt: skip
    with pytest.raises(QtcError, match=r"stale data: signal 2024-03-22 is 4 trading days"):
        run(doc, path, b, state)
    assert not b.ledger.states
    done = run(doc, path, b, state, allow_stale=True)
    assert done.report.complete
    checks = [r for r in read_log(done.audit_log) if r["event"] == "run.checks"]
    assert checks[0]["payload"]["allow_stale"] is True
    assert checks[0]["payload"]["signal_age"]["trading_days"] == 4


def test_a_run_racing_another_is_told_it_is_in_progress_not_to_resume(tmp_path: Path) -> None:
    state = tmp_path / "state"
    b = broker()
    doc, path = plan(b, {"AAA": 0.5}, tmp_path)
    record: WindowRecord = window_record(doc, path)
    busy = r"another qtc rebalance \(pid \d+\) is executing"
    # the lock held here plays the other process, executing this window
    with WindowRegistry(state).lock(record), pytest.raises(QtcError, match=busy):
        run(doc, path, b, state)
    assert not b.ledger.states
    assert run(doc, path, b, state).report.complete  # once it is over, the window is free


def test_the_window_registry_keeps_the_runs_folder_earlier_versions_wrote(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    b = broker()
    doc, path = plan(b, {"AAA": 0.5}, tmp_path)
    record = window_record(doc, path)
    # where qtc wrote run records before the registry was named after windows
    old = state / "runs" / "mock-mock-account" / "test" / "2024-03.json"
    assert WindowRegistry(state).path(record) == old
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps(asdict(record)))
    assert WindowRegistry(state).unfinished_plan("test") == path.resolve()
    with pytest.raises(QtcError, match="has an unfinished run"):
        run(doc, path, b, state)
