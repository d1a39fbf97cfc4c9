"""The IBKR adapter: the real `ib_async` client against the fake TWS over a loopback socket.

The broker contract runs on it too (`test_broker_contract.py`, factory `ibkr`); these tests cover
what is IBKR-specific: IB's order states (partial and late fills, IB's rejects), the journal
across processes and TWS restarts, dropped lines around a submit, other API clients' orders,
several accounts, delayed market data, timeouts, pacing, the test guard and settings.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fake_tws_wire as wire
import pytest
from fake_tws import FAST, FakeIbAccount, FakeTws, adapter

from qtc.errors import UserError
from qtc.live.brokers import Broker, BrokerDisconnected, BrokerError, OrderRequest, Position
from qtc.live.brokers.ibkr import IbkrAdapter, Timeouts, disconnect_all, from_settings, order_ref
from qtc.live.brokers.ibkr.connection import Connection
from qtc.live.brokers.ibkr.settings import Endpoint, check_reachable, endpoint, is_loopback
from qtc.live.brokers.ibkr.status import map_status
from qtc.manifest.broker import IbkrBroker as IbkrSettings

REPO = Path(__file__).resolve().parents[2]


def buy(coid: str, symbol: str = "AAA", qty: float = 10, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "buy", qty, **kw)


def sell(coid: str, symbol: str = "AAA", qty: float = 10, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "sell", qty, **kw)


@pytest.fixture
def tws() -> Iterator[FakeTws]:
    fake = FakeTws().start()
    yield fake
    disconnect_all()  # a stale session's dropped socket would cancel the next test's calls
    fake.stop()
    assert fake.crashes == [] and fake.unknown == []  # every message the client sent, served


@pytest.fixture
def account(tws: FakeTws) -> FakeIbAccount:
    return tws.add_account(cash=100_000.0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ibkr"


class Brokers:
    """Connected adapters of a test, disconnected at its end."""

    def __init__(self, tws: FakeTws, account: FakeIbAccount, folder: Path) -> None:
        self.tws, self.account, self.folder = tws, account, folder
        self.made: list[IbkrAdapter] = []

    def __call__(self, *, connect: bool = True, **options: Any) -> IbkrAdapter:
        options.setdefault("client_id", 7)
        broker = adapter(self.tws, self.account, self.folder, **options)
        self.made.append(broker)
        if connect:
            broker.connect()
        return broker


@pytest.fixture
def make(tws: FakeTws, account: FakeIbAccount, folder: Path) -> Iterator[Brokers]:
    brokers = Brokers(tws, account, folder)
    yield brokers
    for broker in brokers.made:
        broker.disconnect()


def placed(tws: FakeTws, account: FakeIbAccount, ref: str) -> int:
    """How many orders with this reference reached the fake."""
    return len(tws.by_ref(account).get(ref, []))


# -- the wire format -----------------------------------------------------------------------------


class Recorder:
    """A stand-in for `ib_async`'s wrapper that records what the decoder calls."""

    defaultTimezone = dt.UTC  # noqa: N815 - ib_async's attribute name

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args))


def test_every_message_of_the_fake_parses_with_ib_async_s_decoder() -> None:
    from ib_async.decoder import Decoder

    order = wire.WireOrder(
        order_id=5, client_id=7, perm_id=900, account="DU1", symbol="AAA", action="BUY",
        quantity=10.0, order_type="LMT", limit_price=99.5, tif="DAY", order_ref="qtc-x-000",
        status="Filled", filled=10.0, avg_price=99.25,
    )  # fmt: skip
    execution = wire.WireExecution("e1", order, 10.0, 99.25, 10.0, 99.25, 1_700_000_000)
    recorder = Recorder()
    decoder = Decoder(recorder, wire.SERVER_VERSION)  # type: ignore[arg-type]
    messages = [
        wire.open_order(order), wire.completed_order(order, "20240102 15:30:00"),
        wire.exec_details(3, execution), wire.position("DU1", "AAA", 10.0, 99.25),
        wire.portfolio_value("DU1", "AAA", 10.0, 100.0, 99.25), wire.contract_details(4, "AAA"),
        wire.order_status(order), wire.error(5, 201, "Order rejected - reason:x"),
    ]  # fmt: skip
    for message in messages:
        decoder.interpret([str(f) if f is not None else "" for f in wire.frame(message)[4:]
                           .decode().split("\0")[:-1]])  # fmt: skip
    calls = dict(recorder.calls)
    _, contract, opened, state = calls["openOrder"]
    assert (contract.symbol, opened.orderRef, opened.permId, opened.clientId) == (
        "AAA", "qtc-x-000", 900, 7,
    )  # fmt: skip
    assert (opened.totalQuantity, opened.lmtPrice, opened.account, state.status) == (
        10.0, 99.5, "DU1", "Filled",
    )  # fmt: skip
    _, done, done_state = calls["completedOrder"]
    assert (done.orderRef, done.filledQuantity, done_state.status) == ("qtc-x-000", 10.0, "Filled")
    _, _, executed = calls["execDetails"]
    assert (executed.permId, executed.shares, executed.price, executed.orderRef) == (
        900, 10.0, 99.25, "qtc-x-000",
    )  # fmt: skip
    assert calls["position"][0] == "DU1" and calls["position"][2:] == (10.0, 99.25)
    assert calls["updatePortfolio"][-1] == "DU1"
    assert calls["contractDetails"][1].contract.conId == wire.con_id("AAA")
    assert calls["orderStatus"][:4] == (5, "Filled", 10.0, 0.0)
    assert calls["error"] == (5, 201, "Order rejected - reason:x", "")


# -- orders: what IB reports -------------------------------------------------------------------


def test_partial_fills_then_the_rest_with_the_average_price(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    broker = make()
    tws.script("partial:4")
    first = broker.submit(buy("p1"))
    assert (first.status, first.filled_quantity, first.avg_fill_price) == (
        "partially_filled", 4.0, 100.0,
    )  # fmt: skip
    assert [o.client_order_id for o in broker.open_orders()] == ["p1"]
    tws.set_price("AAA", 110.0)  # the market order's remaining 6 fill at the new price
    done = broker.order("p1")
    assert done is not None and (done.status, done.filled_quantity) == ("filled", 10.0)
    assert done.avg_fill_price == pytest.approx((4 * 100 + 6 * 110) / 10)
    assert broker.positions() == [Position("AAA", 10.0, pytest.approx(106.0))]  # type: ignore[arg-type]


def test_a_late_fill_is_seen_when_it_happens(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    broker = make()
    tws.script("delay:0.3")
    state = broker.submit(buy("late", qty=3))
    assert state.status == "accepted" and state.filled_quantity == 0
    import time

    time.sleep(0.5)
    later = broker.order("late")
    assert later is not None and (later.status, later.filled_quantity) == ("filled", 3.0)
    assert account.held() == {"AAA": 3.0}


def test_ib_reject_is_a_state_with_ibs_reason_and_is_not_resent(
    make: Brokers, tws: FakeTws, account: FakeIbAccount, folder: Path
) -> None:
    broker = make()
    tws.script("reject:the stock is halted")
    state = broker.submit(buy("r1"))
    assert state.status == "rejected" and "the stock is halted" in state.reason
    assert state.broker_order_id  # it reached IB, which refused it
    assert broker.submit(buy("r1")) == state and broker.order("r1") == state
    assert placed(tws, account, "r1") == 1
    journal = json.loads(next(folder.glob("orders-*.json")).read_text())
    assert journal["orders"]["r1"]["state"]["status"] == "rejected"
    broker.disconnect()
    again = make(client_id=8)  # another process: IB reports the completed order
    assert again.order("r1") is not None and again.order("r1").status == "rejected"  # type: ignore[union-attr]


def test_a_buy_beyond_the_cash_is_refused_by_ib(make: Brokers, tws: FakeTws) -> None:
    broker = make()
    state = broker.submit(buy("big", qty=2_000))
    assert state.status == "rejected" and "insufficient cash" in state.reason
    assert broker.account().cash == pytest.approx(100_000.0)


def test_unknown_symbol_and_bad_requests_never_reach_ib(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    broker = make()
    unknown = broker.submit(buy("u1", symbol="ZZZ"))
    assert unknown.status == "rejected" and "ZZZ" in unknown.reason
    no_limit = broker.submit(buy("l1", order_type="limit", limit_price=0.0))
    assert no_limit.status == "rejected" and "limit price" in no_limit.reason
    assert tws.placed == 0


def test_limit_prices_go_out_on_ibs_tick_grid(make: Brokers, tws: FakeTws) -> None:
    broker = make()
    broker.submit(buy("lb", qty=1, order_type="limit", limit_price=50.126))
    broker.submit(buy("lc", symbol="BBB", qty=1, order_type="limit", limit_price=0.123456))
    limits = {o.wire.order_ref: o.wire.limit_price for o in tws.orders_all}
    assert limits == {"lb": 50.12, "lc": 0.1234}


def test_order_ref_is_the_client_order_id_or_its_hash() -> None:
    assert order_ref("qtc-0123456789abcdef0123-000") == "qtc-0123456789abcdef0123-000"
    long_id = "x" * 40
    assert order_ref(long_id).startswith("qtc-") and len(order_ref(long_id)) == 36
    assert order_ref("a b") != "a b"


@pytest.mark.parametrize(
    ("ib", "filled", "rejected", "qtc"),
    [
        ("PendingSubmit", 0, False, "new"),
        ("ApiPending", 0, False, "new"),
        ("PreSubmitted", 0, False, "accepted"),
        ("Submitted", 0, False, "accepted"),
        ("Submitted", 3, False, "partially_filled"),
        ("PendingCancel", 0, False, "accepted"),
        ("Filled", 10, False, "filled"),
        ("Cancelled", 0, False, "canceled"),
        ("Cancelled", 0, True, "rejected"),
        ("Cancelled", 4, True, "canceled"),
        ("ApiCancelled", 0, False, "canceled"),
        ("Inactive", 0, False, "rejected"),
        ("SomethingNew", 0, False, "accepted"),
    ],
)
def test_status_mapping(ib: str, filled: float, rejected: bool, qtc: str) -> None:
    assert map_status(ib, filled=filled, rejected=rejected) == qtc


# -- dropped lines around a submit ------------------------------------------------------------


def test_line_drops_before_the_order_arrives_then_it_is_sent_once(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    broker = make()
    tws.drop_on_place(1, "before")
    with pytest.raises(BrokerDisconnected):
        broker.submit(buy("d1"))
    with pytest.raises(BrokerDisconnected):
        broker.account()  # every call raises until connect
    broker.connect()
    assert broker.order("d1") is None  # sent today, never acknowledged: it did not arrive
    assert broker.submit(buy("d1")).status == "filled"
    assert placed(tws, account, "d1") == 1 and account.held() == {"AAA": 10.0}


def test_line_drops_after_the_order_arrived_then_it_is_not_resent(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    broker = make()
    tws.drop_on_place(1, "after")
    with pytest.raises(BrokerDisconnected):
        broker.submit(buy("d2"))
    broker.connect()
    found = broker.order("d2")
    assert found is not None and found.status == "filled"
    assert broker.submit(buy("d2")) == found
    assert placed(tws, account, "d2") == 1 and account.held() == {"AAA": 10.0}


def test_a_new_process_finds_every_order_at_ib(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    first = make()
    tws.script("fill", "rest")
    filled = first.submit(buy("n1"))
    resting = first.submit(buy("n2", qty=5, order_type="limit", limit_price=50.0))
    first.disconnect()
    second = make()  # same client id, a new session: nothing is sent again
    assert second.submit(buy("n1")) == filled
    assert second.order("n2") == resting
    assert second.cancel("n2").status == "canceled"
    assert [placed(tws, account, r) for r in ("n1", "n2")] == [1, 1]
    with pytest.raises(BrokerError, match="already used"):
        second.submit(buy("n1", qty=11))


def test_orders_of_another_api_client_are_read_but_not_canceled(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    placer = make(client_id=7)
    tws.script("rest")
    placer.submit(buy("o1", qty=5, order_type="limit", limit_price=50.0))
    other = make(client_id=9)
    state = other.order("o1")
    assert state is not None and state.status == "accepted"
    tws.fill("o1", 2)  # IB pushes this to client 7 only; client 9 asks again
    assert other.order("o1").filled_quantity == 2.0  # type: ignore[union-attr]
    with pytest.raises(BrokerError, match="IB API client 7"):
        other.cancel("o1")
    assert placer.cancel("o1").status == "canceled"
    assert other.order("o1").status == "canceled"  # type: ignore[union-attr]


def test_kill_cancels_other_clients_orders_on_a_one_account_login(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    tws.script("rest", "rest")
    make(client_id=7).submit(buy("k1", qty=5, order_type="limit", limit_price=50.0))
    mine = make(client_id=9)
    mine.submit(buy("k2", qty=5, order_type="limit", limit_price=50.0))
    states = mine.cancel_all()
    assert sorted((s.client_order_id, s.status) for s in states) == [
        ("k1", "canceled"), ("k2", "canceled"),
    ]  # fmt: skip
    assert mine.open_orders() == [] and mine.cancel_all() == []


def test_kill_on_a_login_with_several_accounts_leaves_other_clients_orders_to_tws(
    make: Brokers, tws: FakeTws, account: FakeIbAccount
) -> None:
    tws.add_account(code="DU7777777")
    tws.script("rest", "rest")
    make(client_id=7).submit(buy("k1", qty=5, order_type="limit", limit_price=50.0))
    mine = make(client_id=9)
    mine.submit(buy("k2", qty=5, order_type="limit", limit_price=50.0))
    with pytest.raises(BrokerError, match=r"1 open orders .* other API clients") as raised:
        mine.cancel_all()  # a global cancel would reach the other account too
    assert "TWS" in str(raised.value.hint)
    assert [o.client_order_id for o in mine.open_orders()] == ["k1"]  # k2 was canceled


def test_a_login_with_several_accounts_needs_one_chosen(
    tws: FakeTws, account: FakeIbAccount, folder: Path
) -> None:
    tws.add_account(code="DU7777777")
    broker = IbkrAdapter(folder, host=tws.host, port=tws.port, client_id=3, timeouts=FAST)
    with pytest.raises(BrokerError, match="manages 2 accounts") as raised:
        broker.connect()
    assert "DU7777777" not in str(raised.value) and account.code not in str(raised.value)
    stranger = IbkrAdapter(folder, host=tws.host, port=tws.port, client_id=3, account="U1",
                           timeouts=FAST)  # fmt: skip
    with pytest.raises(BrokerError, match="does not manage account 'U1'"):
        stranger.connect()


def test_two_accounts_of_one_login_stay_apart(
    make: Brokers, tws: FakeTws, account: FakeIbAccount, folder: Path
) -> None:
    other = tws.add_account(code="DU7777777", cash=5_000.0)
    mine = make()
    theirs = adapter(tws, other, folder, client_id=8)
    theirs.connect()
    mine.submit(buy("same"))
    assert theirs.order("same") is None and theirs.positions() == []
    assert theirs.account().cash == pytest.approx(5_000.0)
    assert theirs.submit(buy("same", symbol="BBB", qty=2)).status == "filled"
    assert (account.held(), other.held()) == ({"AAA": 10.0}, {"BBB": 2.0})
    theirs.disconnect()


# -- TWS forgets: the journal -------------------------------------------------------------------


def test_after_a_tws_restart_the_journal_stops_a_blind_resend(
    tws: FakeTws, account: FakeIbAccount, folder: Path
) -> None:
    broker = adapter(tws, account, folder, client_id=7)
    broker.connect()
    tws.script("fill", "rest")
    filled = broker.submit(buy("j1"))
    broker.submit(buy("j2", qty=5, order_type="limit", limit_price=50.0))
    broker.disconnect()
    restarted = FakeTws().start()  # same account, but TWS no longer knows today's orders
    try:
        fresh = restarted.add_account(
            code=account.code, positions=account.ledger.sorted_positions()
        )
        again = adapter(restarted, fresh, folder, client_id=7)
        again.connect()
        assert again.order("j1") == filled  # closed: the journal has its final state
        assert again.submit(buy("j1")) == filled
        with pytest.raises(BrokerError, match="no longer reports order 'j2'") as raised:
            again.order("j2")  # acknowledged, still open when last seen: no guessing
        assert "orders-" in str(raised.value.hint)
        with pytest.raises(BrokerError, match="no longer reports"):
            again.submit(buy("j2", qty=5, order_type="limit", limit_price=50.0))
        assert restarted.placed == 0
        again.disconnect()
    finally:
        restarted.stop()


def test_an_unacknowledged_order_of_an_earlier_day_is_not_resent(
    tws: FakeTws, account: FakeIbAccount, folder: Path
) -> None:
    broker = adapter(tws, account, folder, client_id=7, today=lambda: dt.date(2024, 1, 2))
    broker.connect()
    tws.drop_on_place(1, "before")
    with pytest.raises(BrokerDisconnected):
        broker.submit(buy("y1"))
    later = adapter(tws, account, folder, client_id=7, today=lambda: dt.date(2024, 1, 3))
    later.connect()
    with pytest.raises(BrokerError, match="sent 2024-01-02"):
        later.submit(buy("y1"))
    assert tws.placed == 1  # the one that dropped
    later.disconnect()


def test_the_journal_is_private_json_and_a_damaged_one_is_refused(
    make: Brokers, tws: FakeTws, account: FakeIbAccount, folder: Path
) -> None:
    broker = make()
    broker.submit(buy("f1"))
    path = folder / f"orders-{account.code}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entry = json.loads(path.read_text())["orders"]["f1"]
    assert entry["order_ref"] == "f1" and entry["perm_id"] > 0 and entry["client_id"] == 7
    assert entry["state"]["status"] == "filled"
    broker.disconnect()
    path.write_text("{not json")
    with pytest.raises(BrokerError, match="damaged"):
        make()


# -- account, positions, quotes -----------------------------------------------------------------


def test_a_short_position_at_ib_is_an_error(tws: FakeTws, folder: Path) -> None:
    shorted = tws.add_account(positions=[Position("AAA", -5.0, 100.0)])
    broker = adapter(tws, shorted, folder)
    broker.connect()
    with pytest.raises(BrokerError, match="short position in AAA"):
        broker.positions()
    broker.disconnect()


def test_positions_and_equity_use_ibs_values(tws: FakeTws, folder: Path) -> None:
    held = tws.add_account(cash=1_000.0, positions=[Position("BBB", 20.0, 40.0)])
    broker = adapter(tws, held, folder)
    broker.connect()
    assert broker.positions() == [Position("BBB", 20.0, 40.0)]
    account = broker.account()
    assert (account.cash, account.equity, account.currency) == (1_000.0, 2_000.0, "USD")
    assert broker.submit(sell("s1", symbol="BBB", qty=20)).status == "filled"
    assert broker.positions() == [] and broker.account().cash == pytest.approx(2_000.0)
    broker.disconnect()


def test_quotes_are_delayed_without_a_market_data_subscription(make: Brokers, tws: FakeTws) -> None:
    tws.live_data = False
    broker = make()
    assert broker.quotes(["BBB", "AAA", "NOPE", "AAA"]) == {"BBB": 50.0, "AAA": 100.0}
    tws.set_price("AAA", 101.5)
    assert broker.quotes(["AAA"]) == {"AAA": 101.5}


# -- the connection ------------------------------------------------------------------------------


def test_client_id_in_use_fails_fast_and_names_the_problem(
    make: Brokers, tws: FakeTws, account: FakeIbAccount, folder: Path
) -> None:
    make(client_id=7)
    clash = adapter(tws, account, folder, client_id=7, timeouts=Timeouts(
        connect=20.0, reconnect_interval=0.01, attempts=2))  # fmt: skip
    import time

    start = time.monotonic()
    with pytest.raises(BrokerDisconnected, match="326") as raised:
        clash.connect()
    assert time.monotonic() - start < 10.0  # did not wait out the 20 s connect timeout
    assert "client id" in str(raised.value.hint)


def test_tws_down_then_back(make: Brokers, tws: FakeTws, account: FakeIbAccount) -> None:
    broker = make()
    tws.go_down()
    with pytest.raises(BrokerDisconnected):
        broker.positions()
    with pytest.raises(BrokerDisconnected, match="cannot connect to IBKR"):
        broker.connect()
    tws.come_back()
    broker.connect()
    assert broker.positions() == []


def test_nothing_listening_is_disconnected_with_where_and_a_hint(folder: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # a free port: nothing listens there
    broker = IbkrAdapter(folder, host="127.0.0.1", port=port, timeouts=FAST)
    with pytest.raises(BrokerDisconnected, match=f"127.0.0.1:{port}") as raised:
        broker.connect()
    assert "7497 paper" in str(raised.value.hint)


def test_a_request_tws_never_answers_times_out_as_a_lost_line(
    tws: FakeTws, account: FakeIbAccount, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = adapter(tws, account, folder, timeouts=Timeouts(request=0.3, reconnect_interval=0))
    broker.connect()
    from fake_tws import _HANDLERS

    monkeypatch.setitem(_HANDLERS, wire.REQ_POSITIONS, lambda *_: None)  # never answered
    with pytest.raises(BrokerDisconnected, match="positions"):
        broker.positions()
    monkeypatch.undo()
    broker.connect()
    assert broker.positions() == []
    broker.disconnect()


def test_reconnects_are_paced() -> None:
    clock = {"now": 0.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    conn = Connection(
        Endpoint("127.0.0.1", 1, 1, None),
        Timeouts(reconnect_interval=2.0),
        sleep=sleep,
        clock=lambda: clock["now"],
    )
    for _ in range(3):
        conn._pace()
        clock["now"] += 0.5  # the attempt itself
    assert sleeps == [1.5, 1.5]


def test_requests_stay_paced_for_ibs_limit() -> None:
    from ib_async.client import Client

    assert 0 < Client.MaxRequests <= 50 and Client.RequestsInterval == 1  # IB allows 50 a second


def test_ib_async_logs_nothing_to_the_terminal(
    make: Brokers,
    tws: FakeTws,
    account: FakeIbAccount,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = make()
    tws.script("reject:margin")
    broker.submit(buy("q1"))  # ib_async logs rejects at error level, with the order
    broker.cancel_all()
    tws.drop_all()
    with pytest.raises(BrokerDisconnected):
        broker.positions()  # ib_async logs the lost connection at error level
    out, err = capfd.readouterr()
    assert account.code not in out + err and "Error 201" not in out + err
    assert [r for r in caplog.records if r.name.startswith("ib_async")] == []


def test_calls_before_connect_and_repr(make: Brokers) -> None:
    broker = make(connect=False)
    with pytest.raises(BrokerDisconnected, match="not connected"):
        broker.submit(buy("x"))
    assert "connected=False" in repr(broker)
    assert isinstance(broker, Broker)


# -- settings and the test guard ----------------------------------------------------------------


def test_settings_come_from_the_section_and_the_environment(folder: Path) -> None:
    section = IbkrSettings(kind="ibkr", host="10.0.0.5", port=4002, client_id=3, account="DU1")
    assert endpoint(section, {}) == Endpoint("10.0.0.5", 4002, 3, "DU1")
    env = {"QTC_IBKR_HOST": "127.0.0.1", "QTC_IBKR_PORT": "7496", "QTC_IBKR_CLIENT_ID": "12"}
    assert endpoint(section, env) == Endpoint("127.0.0.1", 7496, 12, "DU1")
    broker = from_settings(section, env, folder)
    assert broker.endpoint == Endpoint("127.0.0.1", 7496, 12, "DU1")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QTC_IBKR_PORT", "0"),
        ("QTC_IBKR_PORT", "x"),
        ("QTC_IBKR_CLIENT_ID", "-1"),
        ("QTC_IBKR_CLIENT_ID", str(2**31)),
        ("QTC_IBKR_HOST", "a b"),
        ("QTC_IBKR_HOST", ""),
    ],
)
def test_bad_environment_values_are_user_errors(name: str, value: str) -> None:
    with pytest.raises(UserError, match=name):
        endpoint(IbkrSettings(kind="ibkr"), {name: value})


def test_the_guard_refuses_real_tws_addresses_under_test(monkeypatch: pytest.MonkeyPatch) -> None:
    for host, port in (("10.1.2.3", 5000), ("tws.example.com", 5000), ("127.0.0.1", 7497),
                       ("localhost", 4001)):  # fmt: skip
        with pytest.raises(BrokerDisconnected, match="test mode"):
            check_reachable(host, port)
    check_reachable("127.0.0.1", 45_123)
    assert is_loopback("::1") and is_loopback("127.0.0.2") and not is_loopback("192.168.1.1")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.delenv("QTC_IBKR_LOOPBACK_ONLY", raising=False)
    check_reachable("10.1.2.3", 7497)  # outside the tests any host goes
    monkeypatch.setenv("QTC_IBKR_LOOPBACK_ONLY", "1")
    with pytest.raises(BrokerDisconnected):
        check_reachable("10.1.2.3", 5000)


def test_building_the_adapter_imports_no_ib_async() -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qtc.live.brokers.factory import broker_settings, build_broker\n"
        "from qtc.live.costs import Costs\n"
        "b = build_broker(broker_settings('ibkr', None), prices={}, costs=Costs.free(),"
        " state=Path('/nonexistent'), environ={})\n"
        "print(type(b).__name__, 'ib_async' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["IbkrAdapter", "False"]
