"""The executor on the mock broker: the happy path and every fault the issue names.

The account holds 100 AAA ($100) and $10,000 cash: equity $20,000. The targets are BBB 50%,
CCC 25%, DDD 25%, so the plan is: sell 100 AAA; buy 200 BBB ($50), 250 CCC ($20), 500 DDD
($10) - $20,000 of buys against $10,000 of cash, so the sell must fill before any buy.
Every case ends with the same checks: no order at the broker twice, none lost, and the audit
log, replayed, says what the broker says.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from qtc.live.audit import AuditLog, read_log, replay, verify
from qtc.live.brokers.base import BrokerDisconnected, OrderRequest, OrderState, Position
from qtc.live.brokers.mock import MockBroker, never, partial, reject
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


class Clock:
    """A fake monotonic clock that advances only when slept."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def timing(timeout: float = 10.0) -> Timing:
    clock = Clock()
    return Timing(
        timeout=timeout, poll=1.0, reconnects=2, sleep=clock.sleep, monotonic=clock.monotonic
    )


def new_broker() -> MockBroker:
    broker = MockBroker(
        cash=10_000.0,
        prices=PRICES,
        positions=[Position("AAA", 100.0, 90.0)],
        fractional=False,
    )
    broker.connect()
    return broker


def make_plan(broker: MockBroker) -> dict[str, Any]:
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


def execution(doc: dict[str, Any]) -> ExecutionPlan:
    """The plan as the executor runs it."""
    orders = [PlanOrder(o["symbol"], o["side"], o["quantity"], o["price"]) for o in doc["orders"]]
    return ExecutionPlan(doc["sha256"], orders, doc["prices"], doc["targets"], RULES)


def execute(
    broker: MockBroker,
    doc: dict[str, Any],
    log: Path,
    *,
    known: bool = False,
    t: Timing | None = None,
) -> Any:
    states = None
    if known:
        states = replay(r for r in read_log(log) if r["plan_hash"] == doc["sha256"])
    with AuditLog(log, run_id="run-1" if not known else "run-2", plan_hash=doc["sha256"]) as audit:
        return Executor(broker, audit, execution(doc), timing=t or timing(), known=states).run()


def held(broker: MockBroker) -> dict[str, float]:
    return {p.symbol: p.quantity for p in broker.ledger.sorted_positions()}


def assert_consistent(broker: MockBroker, doc: dict[str, Any], log: Path) -> dict[str, Any]:
    """No duplicate, no lost order; the log replays to the broker's final state."""
    planned = {client_order_id(doc["sha256"], i): o for i, o in enumerate(doc["orders"])}
    at_broker = broker.ledger.states
    assert set(at_broker) <= set(planned)  # nothing the plan did not name
    pairs = [(s.symbol, s.side) for s in at_broker.values()]
    assert len(pairs) == len(set(pairs))  # no symbol traded twice on one side
    assert verify(log).ok
    logged = replay(read_log(log))
    for cid, state in at_broker.items():
        assert logged[cid].filled_quantity == pytest.approx(state.filled_quantity)
        assert logged[cid].status == state.status, cid
        assert not logged[cid].outcome_unknown
    fills = {f.client_order_id: 0.0 for f in broker.fills()}
    for f in broker.fills():
        fills[f.client_order_id] += f.quantity
    for cid, qty in fills.items():
        assert at_broker[cid].filled_quantity == pytest.approx(qty)
    return logged


def test_happy_path_sells_fill_before_buys_and_the_log_is_written_ahead(tmp_path: Path) -> None:
    broker = new_broker()
    doc = make_plan(broker)
    assert [(o["side"], o["symbol"], o["quantity"]) for o in doc["orders"]] == [
        ("sell", "AAA", 100.0),
        ("buy", "BBB", 200.0),
        ("buy", "CCC", 250.0),
        ("buy", "DDD", 500.0),
    ]
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    assert report.complete
    assert held(broker) == FINAL
    assert broker.ledger.cash == pytest.approx(0.0)
    assert all(abs(r["diff"]) < 1e-12 for r in report.residual)
    assert [o["status"] for o in report.orders] == ["filled"] * 4
    assert_consistent(broker, doc, log)
    records = read_log(log)
    events = [(r["event"], r["payload"].get("client_order_id")) for r in records]
    for i in range(4):
        cid = client_order_id(doc["sha256"], i)
        assert events.index(("intent.submit", cid)) < events.index(("result.submit", cid))
    # the sell's fill is in the log before the first buy's intent
    sell = client_order_id(doc["sha256"], 0)
    first_buy = client_order_id(doc["sha256"], 1)
    assert events.index(("fill", sell)) < events.index(("intent.submit", first_buy))
    assert events[0][0] == "run.start" and events[-1][0] == "run.end"


def test_disconnect_after_the_intent_before_submit_sends_once(tmp_path: Path) -> None:
    broker = new_broker()
    doc = make_plan(broker)
    broker.fail_next("submit")  # the line drops before the order reaches the broker
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    assert report.complete and held(broker) == FINAL
    assert len(broker.ledger.states) == 4
    assert any(r["event"] == "broker.disconnected" for r in read_log(log))
    assert_consistent(broker, doc, log)


def test_disconnect_after_submit_before_the_fill_is_seen_is_not_resent(tmp_path: Path) -> None:
    broker = new_broker()
    doc = make_plan(broker)
    broker.fail_next("submit", after=True)  # the order exists; the answer is lost
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    assert report.complete and held(broker) == FINAL
    assert broker.calls.count("submit") == 4  # the lost answer was asked for, not re-sent
    assert_consistent(broker, doc, log)


def test_broker_away_stops_the_run_and_resume_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = new_broker()
    doc = make_plan(broker)
    broker.fail_next("submit", after=True)

    def refuse() -> None:
        raise BrokerDisconnected("mock broker: still down")

    monkeypatch.setattr(broker, "connect", refuse)
    log = tmp_path / "audit.jsonl"
    with pytest.raises(ExecutionInterrupted, match="could not reconnect") as stopped:
        execute(broker, doc, log)
    assert "--resume" in str(stopped.value.hint)
    monkeypatch.undo()
    assert replay(read_log(log))[client_order_id(doc["sha256"], 0)].outcome_unknown
    broker.connect()
    report = execute(broker, doc, log, known=True)
    assert report.complete and held(broker) == FINAL
    assert len(broker.ledger.states) == 4
    assert_consistent(broker, doc, log)


def test_partial_fill_then_timeout_cancels_the_rest(tmp_path: Path) -> None:
    broker = new_broker()
    broker.on_symbol("CCC", partial(0.4))  # 100 of 250 fill, the rest never does
    doc = make_plan(broker)
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log, t=timing(timeout=5))
    ccc = next(o for o in report.orders if o["symbol"] == "CCC")
    assert (ccc["filled"], ccc["status"]) == (100.0, "canceled")
    assert held(broker) == {"BBB": 200.0, "CCC": 100.0, "DDD": 500.0}
    gap = next(r for r in report.residual if r["symbol"] == "CCC")
    assert gap["weight"] == pytest.approx(100 * 20 / 20_000) and gap["diff"] == pytest.approx(-0.15)
    assert report.residual[0]["symbol"] == "CCC"  # largest gap first
    logged = assert_consistent(broker, doc, log)
    assert logged[client_order_id(doc["sha256"], 2)].filled_quantity == 100.0


def test_reject_of_one_buy_leaves_the_others(tmp_path: Path) -> None:
    broker = new_broker()
    broker.on_symbol("DDD", reject("halted"))
    doc = make_plan(broker)
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    ddd = next(o for o in report.orders if o["symbol"] == "DDD")
    assert (ddd["status"], ddd["reason"], ddd["filled"]) == ("rejected", "halted", 0.0)
    assert held(broker) == {"BBB": 200.0, "CCC": 250.0}
    assert broker.ledger.cash == pytest.approx(5_000.0)
    assert report.complete
    assert_consistent(broker, doc, log)


def test_buys_shrink_to_the_cash_left_when_the_sell_is_rejected(tmp_path: Path) -> None:
    broker = new_broker()
    broker.on_symbol("AAA", reject("not shortable today"))
    doc = make_plan(broker)
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log)
    # $10,000 of cash for $20,000 of buys: every buy halves (BBB 100, CCC 125, DDD 250)
    assert held(broker) == {"AAA": 100.0, "BBB": 100.0, "CCC": 125.0, "DDD": 250.0}
    assert broker.ledger.cash == pytest.approx(0.0)
    resized = [r["payload"] for r in read_log(log) if r["event"] == "order.resized"]
    assert [(p["symbol"], p["planned"], p["quantity"]) for p in resized] == [
        ("BBB", 200.0, 100.0),
        ("CCC", 250.0, 125.0),
        ("DDD", 500.0, 250.0),
    ]
    assert report.complete
    assert_consistent(broker, doc, log)


class Crash(BaseException):
    """Stands in for the process dying (nothing in qtc catches a BaseException)."""


class CrashingBroker(MockBroker):
    """Dies right after (or right before) its `n`-th submit reaches the broker."""

    def __init__(self, n: int, *, before: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n, self.before, self.count = n, before, 0
        self.armed = True

    def submit(self, order: OrderRequest) -> OrderState:
        self.count += 1
        if self.armed and self.count == self.n and self.before:
            raise Crash
        state = super().submit(order)
        if self.armed and self.count == self.n:
            raise Crash
        return state


@pytest.mark.parametrize("before", [True, False], ids=["before-submit", "after-submit"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_crash_mid_run_then_resume_neither_duplicates_nor_loses(
    tmp_path: Path, n: int, before: bool
) -> None:
    broker = CrashingBroker(
        n,
        before=before,
        cash=10_000.0,
        prices=PRICES,
        positions=[Position("AAA", 100.0, 90.0)],
        fractional=False,
    )
    broker.connect()
    doc = make_plan(broker)
    log = tmp_path / "audit.jsonl"
    with pytest.raises(Crash):
        execute(broker, doc, log)
    assert len(broker.ledger.states) == (n - 1 if before else n)
    broker.armed = False
    report = execute(broker, doc, log, known=True)
    assert report.complete and held(broker) == FINAL
    assert len(broker.ledger.states) == 4
    assert_consistent(broker, doc, log)
    resumed = [r for r in read_log(log) if r["run_id"] == "run-2"]
    recovered = [r for r in resumed if r["payload"].get("recovered")]
    assert len(recovered) == (0 if before else 1)  # the lost answer is asked, not re-sent


def test_each_poll_round_is_one_open_orders_call(tmp_path: Path) -> None:
    broker = MockBroker(cash=20_000.0, prices=PRICES, fractional=False, default=never())
    broker.connect()
    doc = make_plan(broker)  # three buys, nothing held: no sells to wait for
    log = tmp_path / "audit.jsonl"
    report = execute(broker, doc, log, t=timing(timeout=3))
    # rounds at t = 0, 1, 2, 3 s; at 3 s the timeout has passed and the three buys are canceled
    assert broker.calls.count("open_orders") == 4
    assert broker.calls.count("order") == 0
    assert broker.calls.count("cancel") == 3
    assert [o["status"] for o in report.orders] == ["canceled"] * 3
    assert_consistent(broker, doc, log)
