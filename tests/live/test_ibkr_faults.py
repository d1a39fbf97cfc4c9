"""The executor on IBKR: the fault-injection cases of `test_execute.py`, against the fake TWS.

The real `ib_async` client talks to the fake TWS over a loopback socket. The account holds 100
AAA ($100) and $10,000 cash: the plan sells 100 AAA and buys 200 BBB ($50), 250 CCC ($20) and
500 DDD ($10), $20,000 of buys, so the sell must fill before any buy. Faults: the line drops
before or after an order reaches TWS, TWS goes away, a partial fill, an IB reject, a late fill,
and a crash (the process dies) before or after a submit, then a resume in a new session. Every
case ends with the same checks: every order at TWS once at most, none lost, and the audit log,
replayed, says what TWS says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from fake_tws import FakeIbAccount, FakeTws, adapter

from qtc.live.audit import AuditLog, read_log, replay, verify
from qtc.live.brokers.base import OrderRequest, OrderState, Position
from qtc.live.brokers.ibkr import IbkrAdapter, disconnect_all
from qtc.live.execute import (
    ExecutionInterrupted,
    ExecutionPlan,
    Executor,
    PlanOrder,
    Timing,
    client_order_id,
)
from qtc.live.orderplan import plan_hash
from qtc.live.orders import plan_orders
from qtc.live.rules import OrderRules

PRICES = {"AAA": 100.0, "BBB": 50.0, "CCC": 20.0, "DDD": 10.0}
TARGETS = {"BBB": 0.5, "CCC": 0.25, "DDD": 0.25}
FINAL = {"BBB": 200.0, "CCC": 250.0, "DDD": 500.0}
RULES = OrderRules(fractional=False, no_trade_band_bps=0, min_order_value=0, cash_buffer_bps=0)
IB_TO_QTC = {"Filled": "filled", "Cancelled": "canceled", "Inactive": "rejected"}


class Crash(BaseException):
    """Stands in for the process dying (nothing in qtc catches a BaseException)."""


class CrashingAdapter(IbkrAdapter):
    """Dies right before (or right after) its `n`-th submit reaches TWS."""

    n = 0
    before = False
    count = 0

    def submit(self, order: OrderRequest) -> OrderState:
        self.count += 1
        if self.count == self.n and self.before:
            raise Crash
        state = super().submit(order)
        if self.count == self.n:
            raise Crash
        return state


@pytest.fixture
def tws() -> Iterator[FakeTws]:
    fake = FakeTws(prices=PRICES).start()
    yield fake
    disconnect_all()  # a stale session's dropped socket would cancel the next test's calls
    fake.stop()
    assert fake.crashes == [] and fake.unknown == []  # every message the client sent, served


@pytest.fixture
def account(tws: FakeTws) -> FakeIbAccount:
    return tws.add_account(cash=10_000.0, positions=[Position("AAA", 100.0, 90.0)])


def connect(tws: FakeTws, account: FakeIbAccount, folder: Path, **kw: Any) -> IbkrAdapter:
    broker = adapter(tws, account, folder, client_id=5, **kw)
    broker.connect()
    return broker


def timing(timeout: float = 3.0) -> Timing:
    return Timing(timeout=timeout, poll=0.02, reconnects=2)


def make_plan(broker: IbkrAdapter) -> dict[str, Any]:
    orders = plan_orders(
        TARGETS,
        broker.positions(),
        broker.account(),
        PRICES,
        fractional=False,
        no_trade_band_bps=0,
        min_order_value=0,
    )
    doc: dict[str, Any] = {
        "strategy": "test",
        "targets": TARGETS,
        "prices": PRICES,
        "orders": [asdict(o) for o in orders],
        "order_rules": RULES.model_dump(),
    }
    doc["sha256"] = plan_hash(doc)
    return doc


def execute(
    broker: IbkrAdapter, doc: dict[str, Any], log: Path, *, resume: bool = False, **kw: Any
) -> Any:
    known = None
    if resume:
        known = replay(r for r in read_log(log) if r["plan_hash"] == doc["sha256"])
    orders = [PlanOrder(o["symbol"], o["side"], o["quantity"], o["price"]) for o in doc["orders"]]
    plan = ExecutionPlan(doc["sha256"], orders, doc["prices"], doc["targets"], RULES)
    with AuditLog(log, run_id="run-2" if resume else "run-1", plan_hash=doc["sha256"]) as audit:
        return Executor(broker, audit, plan, timing=kw.get("t") or timing(), known=known).run()


def assert_consistent(tws: FakeTws, account: FakeIbAccount, doc: dict[str, Any], log: Path) -> None:
    """Each planned order at TWS at most once, nothing else; the log replays to TWS's state."""
    planned = {client_order_id(doc["sha256"], i) for i in range(len(doc["orders"]))}
    at_tws = tws.by_ref(account)
    assert set(at_tws) <= planned
    assert all(len(orders) == 1 for orders in at_tws.values()), "an order reached TWS twice"
    assert verify(log).ok
    logged = replay(read_log(log))
    for ref, (order,) in at_tws.items():
        w = order.wire
        status = IB_TO_QTC.get(w.status, "partially_filled" if w.filled else "accepted")
        assert logged[ref].status == status, ref
        assert logged[ref].filled_quantity == pytest.approx(w.filled), ref
        assert not logged[ref].outcome_unknown
        executed = sum(e.shares for e in tws.executions if e.order is w)
        assert executed == pytest.approx(w.filled)


def test_happy_path_sells_fill_before_buys(
    tws: FakeTws, account: FakeIbAccount, tmp_path: Path
) -> None:
    broker = connect(tws, account, tmp_path)
    doc = make_plan(broker)
    assert [(o["side"], o["symbol"], o["quantity"]) for o in doc["orders"]] == [
        ("sell", "AAA", 100.0), ("buy", "BBB", 200.0), ("buy", "CCC", 250.0),
        ("buy", "DDD", 500.0),
    ]  # fmt: skip
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    assert report.complete and account.held() == FINAL
    assert account.ledger.cash == pytest.approx(0.0)
    assert [o["status"] for o in report.orders] == ["filled"] * 4
    events = [(r["event"], r["payload"].get("client_order_id")) for r in read_log(log)]
    sell, first_buy = client_order_id(doc["sha256"], 0), client_order_id(doc["sha256"], 1)
    assert events.index(("fill", sell)) < events.index(("intent.submit", first_buy))
    assert_consistent(tws, account, doc, log)


def test_a_late_sell_fill_is_waited_for(
    tws: FakeTws, account: FakeIbAccount, tmp_path: Path
) -> None:
    broker = connect(tws, account, tmp_path)
    doc = make_plan(broker)
    tws.script("delay:0.3")  # the sell fills 0.3 s after TWS accepted it
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    assert report.complete and account.held() == FINAL
    assert_consistent(tws, account, doc, log)


@pytest.mark.parametrize("when", ["before", "after"])
def test_line_drops_around_a_submit_and_the_order_goes_once(
    tws: FakeTws, account: FakeIbAccount, tmp_path: Path, when: str
) -> None:
    broker = connect(tws, account, tmp_path)
    doc = make_plan(broker)
    tws.drop_on_place(2, when)  # the first buy: lost on the way, or its answer lost
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    assert report.complete and account.held() == FINAL
    events = [r["event"] for r in read_log(log)]
    assert "broker.disconnected" in events and "broker.reconnected" in events
    assert tws.placed == (5 if when == "before" else 4)  # a lost order is sent again, once
    assert_consistent(tws, account, doc, log)


def test_tws_away_stops_the_run_and_a_new_session_resumes_it(
    tws: FakeTws, account: FakeIbAccount, tmp_path: Path
) -> None:
    broker = connect(tws, account, tmp_path)
    doc = make_plan(broker)
    tws.drop_on_place(1, "after")
    tws.go_down()  # ... and stays down: every reconnect is refused
    log = tmp_path / "audit.jsonl"
    with pytest.raises(ExecutionInterrupted, match="could not reconnect") as stopped:
        execute(broker, doc, log)
    assert "--resume" in str(stopped.value.hint)
    assert replay(read_log(log))[client_order_id(doc["sha256"], 0)].outcome_unknown
    tws.come_back()
    resumed = connect(tws, account, tmp_path)  # a new process
    report = execute(resumed, doc, log, resume=True)
    assert report.complete and account.held() == FINAL
    assert tws.placed == 4
    assert_consistent(tws, account, doc, log)


def test_partial_fill_then_timeout_cancels_the_rest(
    tws: FakeTws, account: FakeIbAccount, tmp_path: Path
) -> None:
    broker = connect(tws, account, tmp_path)
    doc = make_plan(broker)
    tws.on_symbol("CCC", "partial:100")  # 100 of 250 fill, the rest never does
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log, t=timing(timeout=0.5))
    ccc = next(o for o in report.orders if o["symbol"] == "CCC")
    assert (ccc["filled"], ccc["status"]) == (100.0, "canceled")
    assert account.held() == {"BBB": 200.0, "CCC": 100.0, "DDD": 500.0}
    assert report.residual[0]["symbol"] == "CCC"  # the largest gap first
    assert_consistent(tws, account, doc, log)


def test_ib_reject_of_one_buy_leaves_the_others(
    tws: FakeTws, account: FakeIbAccount, tmp_path: Path
) -> None:
    broker = connect(tws, account, tmp_path)
    doc = make_plan(broker)
    tws.on_symbol("DDD", "reject:trading halted")
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    ddd = next(o for o in report.orders if o["symbol"] == "DDD")
    assert ddd["status"] == "rejected" and "trading halted" in ddd["reason"]
    assert account.held() == {"BBB": 200.0, "CCC": 250.0}
    assert account.ledger.cash == pytest.approx(5_000.0)
    assert report.complete
    assert_consistent(tws, account, doc, log)


@pytest.mark.parametrize("before", [True, False], ids=["before-submit", "after-submit"])
@pytest.mark.parametrize("n", [1, 3])
def test_crash_then_resume_in_a_new_session(
    tws: FakeTws, account: FakeIbAccount, tmp_path: Path, n: int, before: bool
) -> None:
    crashing = adapter(tws, account, tmp_path, client_id=5, cls=CrashingAdapter)
    assert isinstance(crashing, CrashingAdapter)
    crashing.n, crashing.before = n, before
    crashing.connect()
    doc = make_plan(crashing)
    log = tmp_path / "audit.jsonl"
    with pytest.raises(Crash):
        execute(crashing, doc, log)
    crashing.disconnect()  # the process died: its socket closed
    assert tws.placed == (n - 1 if before else n)
    resumed = connect(tws, account, tmp_path)
    report = execute(resumed, doc, log, resume=True)
    assert report.complete and account.held() == FINAL
    assert tws.placed == 4
    assert_consistent(tws, account, doc, log)
    run2 = [r for r in read_log(log) if r["run_id"] == "run-2"]
    recovered = [r for r in run2 if r["payload"].get("recovered")]
    assert len(recovered) == (0 if before else 1)  # the lost answer is asked for, not re-sent
