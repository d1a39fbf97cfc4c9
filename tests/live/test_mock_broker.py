"""MockBroker's script: delayed, partial and never fills, rejects, and injected faults."""

from __future__ import annotations

import pytest

from qtc.live.brokers import (
    Broker,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderState,
    Position,
)
from qtc.live.brokers.mock import MockBroker, fill, never, partial, reject

PRICES = {"AAA": 100.0, "BBB": 50.0}


def connected(**kw: object) -> MockBroker:
    broker = MockBroker(cash=10_000.0, prices=PRICES, **kw)  # type: ignore[arg-type]
    broker.connect()
    return broker


def buy(coid: str, symbol: str = "AAA", qty: float = 10) -> OrderRequest:
    return OrderRequest(coid, symbol, "buy", qty)


def poll_until_closed(broker: Broker, coid: str, max_polls: int) -> OrderState:
    """The executor's wait loop, with a poll budget standing in for a timeout."""
    state = broker.order(coid)
    assert state is not None
    for _ in range(max_polls):
        if not state.is_open:
            break
        state = broker.order(coid)
        assert state is not None
    return state


def test_partial_fill_then_cancel() -> None:
    broker = connected()
    broker.on_symbol("AAA", partial(0.5))
    state = broker.submit(buy("p1"))
    assert (state.status, state.filled_quantity) == ("partially_filled", 5)
    assert state.remaining == 5
    assert [o.client_order_id for o in broker.open_orders()] == ["p1"]
    assert broker.positions() == [Position("AAA", 5, 100.0)]

    canceled = broker.cancel("p1")
    assert (canceled.status, canceled.filled_quantity) == ("canceled", 5)
    assert canceled.avg_fill_price == pytest.approx(100.0)
    assert broker.open_orders() == []
    assert broker.account().cash == pytest.approx(10_000.0 - 500.0)
    assert len(broker.fills()) == 1


def test_partial_fill_rounds_down_on_a_whole_share_broker() -> None:
    broker = connected(fractional=False)
    broker.on_symbol("AAA", partial(0.5))
    assert broker.submit(buy("p1", qty=3)).filled_quantity == 1


def test_partial_fill_then_timeout_leaves_the_rest_open() -> None:
    broker = connected()
    broker.on_order(1, partial(0.25))
    broker.submit(buy("p1", qty=8))
    state = poll_until_closed(broker, "p1", max_polls=5)
    assert (state.status, state.filled_quantity) == ("partially_filled", 2)
    assert broker.cancel_all()[0].status == "canceled"
    assert broker.positions() == [Position("AAA", 2, 100.0)]


def test_reject_one_buy() -> None:
    broker = connected()
    broker.on_order(2, reject("halted"))
    assert broker.submit(buy("b1", qty=1)).status == "filled"
    second = broker.submit(buy("b2", "BBB", 1))
    assert (second.status, second.reason) == ("rejected", "halted")
    # An idempotent re-submit is not a new order: the next new order is number 3.
    assert broker.submit(buy("b2", "BBB", 1)) == second
    assert broker.submit(buy("b3", "BBB", 1)).status == "filled"
    assert broker.positions() == [Position("AAA", 1, 100.0), Position("BBB", 1, 50.0)]


def test_reject_by_symbol() -> None:
    broker = connected()
    broker.on_symbol("BBB", reject())
    assert broker.submit(buy("b1", "BBB", 1)).status == "rejected"
    assert broker.submit(buy("a1", "AAA", 1)).status == "filled"


def test_disconnect_after_submit_before_the_result_is_seen() -> None:
    broker = connected()
    broker.fail_next("submit", after=True)
    with pytest.raises(BrokerDisconnected):
        broker.submit(buy("c1"))
    assert not broker.connected
    with pytest.raises(BrokerDisconnected):
        broker.order("c1")
    broker.connect()
    # The order reached the broker: a resume finds it and does not send it again.
    found = broker.order("c1")
    assert found is not None and found.status == "filled"
    assert broker.submit(buy("c1")) == found
    assert len(broker.fills()) == 1
    assert broker.positions() == [Position("AAA", 10, 100.0)]


def test_disconnect_before_submit_sends_nothing() -> None:
    broker = connected()
    broker.fail_next("submit")
    with pytest.raises(BrokerDisconnected):
        broker.submit(buy("c1"))
    broker.connect()
    assert broker.order("c1") is None
    assert broker.submit(buy("c1")).status == "filled"
    assert len(broker.fills()) == 1


def test_fail_next_with_another_error_keeps_the_connection() -> None:
    broker = connected()
    broker.fail_next("quotes", BrokerError("rate limited"))
    with pytest.raises(BrokerError, match="rate limited"):
        broker.quotes(["AAA"])
    assert broker.connected
    assert broker.quotes(["AAA"]) == {"AAA": 100.0}


def test_fail_next_unknown_method() -> None:
    with pytest.raises(ValueError, match="no method"):
        MockBroker().fail_next("sumbit")


def test_disconnect_after_n_calls() -> None:
    broker = connected()
    broker.disconnect_after(2)
    broker.account()
    broker.submit(buy("d1", qty=1))
    with pytest.raises(BrokerDisconnected):
        broker.submit(buy("d2", qty=1))
    assert not broker.connected
    broker.connect()
    assert broker.order("d2") is None  # the dropped call never reached the broker
    assert broker.order("d1").status == "filled"  # type: ignore[union-attr]
    assert broker.calls == ["account", "submit", "submit", "order", "order"]


def test_fill_after_polls_at_the_price_of_the_fill() -> None:
    broker = connected()
    broker.on_symbol("AAA", fill(after_polls=2))
    state = broker.submit(buy("f1", qty=2))
    assert state.status == "accepted"
    assert broker.account().cash == pytest.approx(10_000.0)
    broker.set_price("AAA", 101.0)
    assert broker.order("f1").status == "accepted"  # type: ignore[union-attr]
    filled = broker.order("f1")
    assert filled is not None and filled.status == "filled"
    assert filled.avg_fill_price == pytest.approx(101.0)
    assert broker.account().cash == pytest.approx(10_000.0 - 202.0)


def test_open_orders_counts_as_a_poll() -> None:
    broker = connected()
    broker.on_symbol("AAA", fill(after_polls=1))
    broker.submit(buy("f1", qty=1))
    assert broker.open_orders() == []
    assert broker.order("f1").status == "filled"  # type: ignore[union-attr]


def test_never_fill_then_timeout_and_cancel() -> None:
    broker = connected()
    broker.on_symbol("AAA", never())
    broker.submit(buy("n1"))
    state = poll_until_closed(broker, "n1", max_polls=10)
    assert state.status == "accepted" and state.filled_quantity == 0
    assert broker.cancel("n1").status == "canceled"
    assert broker.fills() == []
    assert broker.account().cash == pytest.approx(10_000.0)


def test_limit_order_fills_when_the_price_crosses() -> None:
    broker = connected()
    state = broker.submit(OrderRequest("l1", "AAA", "buy", 1, order_type="limit", limit_price=90.0))
    assert state.status == "accepted"
    broker.set_price("AAA", 89.0)
    filled = broker.open_orders()
    assert filled == []
    assert broker.order("l1").avg_fill_price == pytest.approx(89.0)  # type: ignore[union-attr]


def test_starting_positions_and_equity() -> None:
    broker = connected(positions=[Position("BBB", 10, 40.0)])
    assert broker.account().equity == pytest.approx(10_000.0 + 500.0)
    assert broker.submit(OrderRequest("s1", "BBB", "sell", 10)).status == "filled"
    assert broker.positions() == []
    assert broker.account().cash == pytest.approx(10_500.0)


def test_is_a_broker() -> None:
    assert isinstance(MockBroker(), Broker)
