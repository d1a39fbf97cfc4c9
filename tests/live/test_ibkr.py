"""The IBKR adapter over a scripted stand-in for nanobook's `IbkrBroker` (no TWS needed).

The broker contract runs on it too (`test_broker_contract.py`, factory `ibkr`); these tests cover
what is IBKR-specific: cents, status mapping, the order map across processes, the crash window,
error mapping, settings, and that the stand-in matches the real nanobook class.
"""

from __future__ import annotations

import inspect
import json
import stat
from pathlib import Path
from typing import Any

import nanobook
import pytest
from fake_ibkr import NANOBOOK_METHODS, ScriptedIbkr

from qtc.errors import UserError
from qtc.live.brokers import (
    FRACTIONAL_NOT_SUPPORTED,
    Broker,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    Position,
)
from qtc.live.brokers.ibkr import (
    CANCEL_PENDING,
    CANCELED_UNCONFIRMED,
    MAX_MESSAGE,
    REJECTED_BY_IBKR,
    STATUS_MAP,
    STATUS_UNAVAILABLE,
    UNCONFIRMED,
    IbkrAdapter,
    IbkrClient,
    from_settings,
    order_ref,
)
from qtc.manifest.broker import IbkrBroker as IbkrSettings

PRICES = {"AAA": 100.0, "BBB": 50.0}


def buy(coid: str, symbol: str = "AAA", qty: float = 10, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "buy", qty, **kw)


def sell(coid: str, symbol: str = "AAA", qty: float = 10, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "sell", qty, **kw)


@pytest.fixture
def ib() -> ScriptedIbkr:
    return ScriptedIbkr(cash=100_000.0, prices=PRICES)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ibkr" / "orders.json"


def adapter(ib: ScriptedIbkr, path: Path, **kw: Any) -> IbkrAdapter:
    broker = IbkrAdapter(path, client=ib, **kw)
    broker.connect()
    return broker


# -- cents and whole shares ---------------------------------------------------------------------


def test_cents_become_dollars(path: Path) -> None:
    ib = ScriptedIbkr(cash=12_345.67, prices={"AAA": 101.23})
    broker = adapter(ib, path)
    state = broker.submit(buy("b1", qty=3))
    assert state.avg_fill_price == 101.23
    assert broker.positions() == [Position("AAA", 3.0, 101.23)]
    account = broker.account()
    # 3 x 101.23 = 303.69 spent; equity unchanged at the fill price.
    assert account.cash == pytest.approx(12_041.98, abs=1e-9)
    assert account.equity == pytest.approx(12_345.67, abs=1e-9)
    ib.set_price("AAA", 105.50)
    # 12_041.98 cash + 3 x 105.50 = 12_358.48
    assert broker.account().equity == pytest.approx(12_358.48, abs=1e-9)


def test_average_fill_price_of_partial_fills(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.script("partial:2")
    state = broker.submit(buy("p1", qty=3))
    assert (state.status, state.filled_quantity, state.remaining) == ("partially_filled", 2, 1)
    assert state.avg_fill_price == 100.0
    ib.set_price("AAA", 101.0)
    ib.fill_order(int(state.broker_order_id))
    done = broker.order("p1")
    assert done is not None and done.status == "filled"
    # (2 x 10_000 + 1 x 10_100) / 3 = 10_033.33 cents, nanobook rounds to 10_033
    assert done.avg_fill_price == 100.33


def test_quantities_go_out_as_whole_share_ints(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    state = broker.submit(buy("w1", qty=2.0))
    sent = ib.orders[int(state.broker_order_id)]
    assert type(sent.quantity) is int and sent.quantity == 2
    assert state.filled_quantity == 2


def test_fractional_quantity_is_rejected_without_calling_ib(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    state = broker.submit(buy("f1", qty=1.5))
    assert (state.status, state.reason) == ("rejected", FRACTIONAL_NOT_SUPPORTED)
    assert state.broker_order_id == ""
    assert "submit_order" not in ib.calls
    assert broker.order("f1") == state


def test_limit_prices_round_in_the_traders_favour(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    broker.submit(buy("hold", "BBB", 10))
    ib.script("rest", "rest")
    b = broker.submit(buy("lb", "BBB", 1, order_type="limit", limit_price=50.005))
    s = broker.submit(sell("ls", "BBB", 1, order_type="limit", limit_price=50.001))
    assert ib.orders[int(b.broker_order_id)].limit_cents == 5000  # 5000.5 down
    assert ib.orders[int(s.broker_order_id)].limit_cents == 5001  # 5000.1 up
    assert ib.orders[int(b.broker_order_id)].order_type == "limit"


def test_sub_cent_buy_limit_is_rejected(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    state = broker.submit(buy("tiny", qty=1, order_type="limit", limit_price=0.004))
    assert state.status == "rejected" and "limit price" in state.reason
    assert "submit_order" not in ib.calls


def test_symbol_too_long_for_nanobook_is_rejected(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    state = broker.submit(buy("long", "ABCDEFGHI", 1))
    assert state.status == "rejected" and "8 bytes" in state.reason
    assert "submit_order" not in ib.calls


def test_quotes_use_last_then_mid_and_skip_unpriced(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.set_quote("MID", bid=49.99, ask=50.02, last=None)
    ib.set_quote("BIDONLY", bid=10.0, ask=None, last=None)
    got = broker.quotes(["AAA", "MID", "BIDONLY", "NOPE", "TOOLONGSYM", "AAA"])
    # (4_999 + 5_002) / 2 cents = 50.005 dollars
    assert got == {"AAA": 100.0, "MID": pytest.approx(50.005)}


def test_positions_skip_zero_and_refuse_duplicate_symbols(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.holdings = {"ZZZ": [0, 0], "BBB": [4, 20_010], "AAA": [1, 10_000]}
    # 20_010 cents / 4 shares = 5_002.5, rounded to 5_002 (nanobook reports whole cents)
    assert broker.positions() == [Position("AAA", 1, 100.0), Position("BBB", 4, 50.02)]

    class Doubled(ScriptedIbkr):
        def positions(self) -> list[dict[str, Any]]:
            return super().positions() * 2

    doubled = Doubled(prices=PRICES)
    doubled.holdings = {"AAA": [1, 10_000]}
    with pytest.raises(BrokerError, match="several positions for AAA"):
        adapter(doubled, path).positions()


def test_non_integer_cents_from_nanobook_are_an_error(path: Path) -> None:
    class Drifted(ScriptedIbkr):
        def account(self) -> dict[str, Any]:
            return {**super().account(), "cash_cents": 100.5}

    with pytest.raises(BrokerError, match="non-integer cents value for cash_cents"):
        adapter(Drifted(prices=PRICES), path).account()


# -- status mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "filled", "expected", "reason"),
    [
        ("Pending", 0, "new", ""),
        ("Submitted", 0, "accepted", ""),
        ("Submitted", 4, "partially_filled", ""),
        ("PartiallyFilled", 4, "partially_filled", ""),
        ("Filled", 10, "filled", ""),
        ("Cancelled", 0, "canceled", ""),
        ("Cancelled", 4, "canceled", ""),
        ("Rejected", 0, "rejected", REJECTED_BY_IBKR),
        ("ApiPending", 0, "accepted", "unrecognized IBKR status 'ApiPending'"),
    ],
)
def test_status_mapping(
    ib: ScriptedIbkr, path: Path, raw: str, filled: int, expected: str, reason: str
) -> None:
    broker = adapter(ib, path)
    ib.script("rest")
    state = broker.submit(buy("o1", qty=10))
    sim = ib.orders[int(state.broker_order_id)]
    sim.status, sim.filled, sim.fill_cost_cents = raw, filled, filled * 10_000
    got = broker.order("o1")
    assert got is not None
    assert (got.status, got.filled_quantity, got.reason) == (expected, filled, reason)
    assert got.avg_fill_price == (100.0 if filled else None)


def test_status_map_covers_nanobooks_order_states() -> None:
    # nanobook_broker::OrderState variants, formatted with {:?} by the Python binding.
    variants = {"Pending", "Submitted", "PartiallyFilled", "Filled", "Cancelled", "Rejected"}
    assert set(STATUS_MAP) == variants
    assert set(STATUS_MAP.values()) == {
        "new",
        "accepted",
        "partially_filled",
        "filled",
        "canceled",
        "rejected",
    }


def test_rejected_by_ib_is_a_state_not_an_exception(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.script("reject")
    state = broker.submit(buy("r1"))
    assert (state.status, state.reason, state.filled_quantity) == ("rejected", REJECTED_BY_IBKR, 0)
    assert broker.open_orders() == []


def test_terminal_states_are_served_from_the_file(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    broker.submit(buy("b1"))
    polls = ib.calls.count("order_status")
    assert broker.order("b1") is not None and broker.open_orders() == []
    assert ib.calls.count("order_status") == polls


def test_nanobook_placeholder_status_is_flagged(ib: ScriptedIbkr, path: Path) -> None:
    ib.status_placeholder = True  # nanobook 0.19.2: always Submitted, 0 filled, 0 remaining
    broker = adapter(ib, path)
    state = broker.submit(buy("b1", qty=2))
    assert (state.status, state.filled_quantity, state.reason) == (
        "accepted",
        0,
        STATUS_UNAVAILABLE,
    )
    assert ib.holdings["AAA"][0] == 2  # IB filled it; only positions show that
    assert broker.positions() == [Position("AAA", 2, 100.0)]
    canceled = broker.cancel("b1")
    assert (canceled.status, canceled.reason) == ("canceled", CANCELED_UNCONFIRMED)
    assert broker.open_orders() == []
    assert broker.order("b1") == canceled


def test_unconfirmed_cancel_stays_open(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.script("rest")
    broker.submit(buy("r1"))
    ib.cancel_confirms = False
    state = broker.cancel("r1")
    assert (state.status, state.reason) == ("accepted", CANCEL_PENDING)
    ib.orders[int(state.broker_order_id)].status = "Cancelled"
    assert broker.order("r1").status == "canceled"  # type: ignore[union-attr]


def test_cancel_rejected_because_it_filled_returns_the_fill(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.script("rest")
    state = broker.submit(buy("r1", qty=3))
    oid = int(state.broker_order_id)
    ib.fill_order(oid)
    ib.fail_next("cancel_order", f"cancel rejected for order {oid}: order already filled")
    assert broker.cancel("r1").status == "filled"


def test_cancel_rejected_while_open_is_an_error(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.script("rest")
    oid = broker.submit(buy("r1")).broker_order_id
    ib.fail_next("cancel_order", f"cancel rejected for order {oid}: cannot cancel")
    with pytest.raises(BrokerError, match="cannot cancel") as err:
        broker.cancel("r1")
    assert not isinstance(err.value, BrokerDisconnected)


# -- the order map ------------------------------------------------------------------------------


def test_submit_is_idempotent_across_adapter_instances(ib: ScriptedIbkr, path: Path) -> None:
    ib.script("rest")
    first = adapter(ib, path).submit(buy("plan-1-AAA", qty=5))
    assert ib.calls.count("submit_order") == 1

    restarted = adapter(ib, path)  # a new process: same file, same TWS
    again = restarted.submit(buy("plan-1-AAA", qty=5))
    assert again == first
    assert ib.calls.count("submit_order") == 1
    assert [o.client_order_id for o in restarted.open_orders()] == ["plan-1-AAA"]
    with pytest.raises(BrokerError, match="already used"):
        restarted.submit(buy("plan-1-AAA", qty=6))
    assert restarted.cancel("plan-1-AAA").status == "canceled"
    assert adapter(ib, path).order("plan-1-AAA").status == "canceled"  # type: ignore[union-attr]


def test_state_file_is_private_json_with_ib_ids(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    state = broker.submit(buy("b1", qty=1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    entry = data["orders"]["b1"]
    assert data["version"] == 1
    assert entry["broker_order_id"] == int(state.broker_order_id) == 1001
    assert entry["order_ref"] == "b1" and entry["client_id"] == 1
    assert entry["request"]["quantity"] == 1 and entry["state"]["status"] == "filled"
    assert ib.order_by_ref("b1").id == 1001  # the client order id reached IB as orderRef


def test_long_or_unsafe_client_order_ids_get_a_hashed_order_ref(
    ib: ScriptedIbkr, path: Path
) -> None:
    coid = "plan:" + "f" * 64 + "/AAA buy"
    ref = order_ref(coid)
    assert ref.startswith("qtc-") and len(ref) == 36
    assert order_ref(coid) == ref and order_ref(coid + "x") != ref
    assert order_ref("ok_id-1.2") == "ok_id-1.2"
    state = adapter(ib, path).submit(buy(coid, qty=1))
    assert state.status == "filled"
    assert ib.order_by_ref(ref).id == int(state.broker_order_id)


def test_crash_after_ib_accepted_is_unconfirmed_not_resent(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.fail_next("submit_order", "connection error: broken pipe", after=True)
    with pytest.raises(BrokerDisconnected, match="may have reached IBKR") as err:
        broker.submit(buy("c1", qty=4))
    assert "orderRef 'c1'" in err.value.hint
    assert ib.order_by_ref("c1").quantity == 4  # IB did get it

    restarted = adapter(ib, path)
    with pytest.raises(BrokerError, match="unconfirmed"):
        restarted.submit(buy("c1", qty=4))
    assert ib.calls.count("submit_order") == 1
    state = restarted.order("c1")
    assert state is not None
    assert (state.status, state.broker_order_id, state.reason) == ("new", "", UNCONFIRMED)
    with pytest.raises(BrokerError, match="unconfirmed"):
        restarted.cancel("c1")
    ib.script("rest")
    restarted.submit(buy("r1", qty=1))
    with pytest.raises(BrokerError, match="cannot cancel unconfirmed orders 'c1'"):
        restarted.cancel_all()
    assert restarted.order("r1").status == "canceled"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "message",
    ["not connected", "order error: failed to get order id: socket closed"],
)
def test_submit_that_never_left_can_be_retried(ib: ScriptedIbkr, path: Path, message: str) -> None:
    broker = adapter(ib, path)
    ib.fail_next("submit_order", message)
    with pytest.raises(BrokerError):
        broker.submit(buy("n1", qty=1))
    assert ib.orders == {}
    broker.connect()  # a "not connected" dropped the session
    assert broker.submit(buy("n1", qty=1)).status == "filled"
    assert len(ib.orders) == 1


def test_sell_counts_open_sells_against_holdings(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    broker.submit(buy("b1", qty=5))
    ib.script("rest")
    assert broker.submit(sell("s1", qty=4, order_type="limit", limit_price=200.0)).is_open
    refused = broker.submit(sell("s2", qty=2))
    assert refused.status == "rejected"
    assert refused.reason == "cannot sell 2 AAA: only 1 held (short selling is not supported)"
    assert broker.submit(sell("s3", qty=1)).status == "filled"
    assert ib.calls.count("submit_order") == 3


def test_cancel_of_an_order_of_another_client_id_is_refused(ib: ScriptedIbkr, path: Path) -> None:
    ib.script("rest")
    adapter(ib, path, client_id=1).submit(buy("r1"))
    other = adapter(ib, path, client_id=2)
    with pytest.raises(BrokerError, match="placed by IB API client 1"):
        other.cancel("r1")
    assert "cancel_order" not in ib.calls


def test_corrupt_state_file_is_a_clear_error(ib: ScriptedIbkr, path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(BrokerError, match=r"order map .* is corrupt"):
        adapter(ib, path)
    path.write_text(json.dumps({"version": 99, "orders": {}}))
    with pytest.raises(BrokerError, match="unsupported version 99"):
        adapter(ib, path)


# -- connection and errors ----------------------------------------------------------------------


def test_connection_error_maps_to_disconnected_until_reconnect(
    ib: ScriptedIbkr, path: Path
) -> None:
    broker = adapter(ib, path)
    ib.fail_next("positions", "connection error: failed to request positions: broken pipe")
    with pytest.raises(BrokerDisconnected, match="failed to request positions"):
        broker.positions()
    calls = len(ib.calls)
    with pytest.raises(BrokerDisconnected, match="not connected"):
        broker.account()
    assert len(ib.calls) == calls  # refused without asking IB
    broker.connect()
    assert broker.account().cash == 100_000.0


@pytest.mark.parametrize(
    ("message", "disconnected"),
    [
        ("not connected", True),
        ("connection error: failed to request account summary: eof", True),
        ("connection lost during order execution (order_id=5, filled_quantity=0)", True),
        ("reconnect failed after 5 attempts: refused", True),
        ("rate limit exceeded", False),
        ("order error: Reconciliation blocked - manual review required", False),
    ],
)
def test_runtime_errors_map_to_broker_errors(
    ib: ScriptedIbkr, path: Path, message: str, disconnected: bool
) -> None:
    broker = adapter(ib, path)
    ib.fail_next("account", message)
    with pytest.raises(BrokerError) as err:
        broker.account()
    assert isinstance(err.value, BrokerDisconnected) is disconnected
    assert message in err.value.message
    if not disconnected:
        assert broker.account().cash == 100_000.0  # still connected


def test_error_messages_are_one_clean_line(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    ib.fail_next("account", "order error: bad\n\x1b[31mthing\t" + "x" * 1_000)
    with pytest.raises(BrokerError) as err:
        broker.account()
    text = err.value.message
    assert "\n" not in text and "\x1b" not in text and "\t" not in text
    assert "bad [31mthing x" in text
    assert len(text) <= MAX_MESSAGE + len("IBKR account failed: ")


def test_connect_refused_is_disconnected_with_where(ib: ScriptedIbkr, path: Path) -> None:
    ib.refuse_connect = True
    broker = IbkrAdapter(path, client=ib, host="10.0.0.5", port=4002, client_id=7)
    with pytest.raises(BrokerDisconnected, match=r"10\.0\.0\.5:4002 \(client id 7\)") as err:
        broker.connect()
    assert "Connection refused" in err.value.message and "4002 paper" in err.value.hint
    with pytest.raises(BrokerDisconnected):
        broker.positions()


def test_default_client_is_nanobooks_ibkr_broker(path: Path) -> None:
    # Port 1 on localhost is closed: this exercises the real nanobook call and its error text.
    broker = IbkrAdapter(path, host="127.0.0.1", port=1, client_id=3)
    with pytest.raises(BrokerDisconnected, match=r"cannot connect to IBKR at 127\.0\.0\.1:1"):
        broker.connect()
    assert type(broker._client).__module__ == "builtins"  # the compiled nanobook class
    assert type(broker._client).__name__ == "IbkrBroker"


def test_disconnect_is_idempotent_and_closes_the_client(ib: ScriptedIbkr, path: Path) -> None:
    broker = adapter(ib, path)
    broker.disconnect()
    broker.disconnect()
    assert ib.calls.count("disconnect") == 1 and not ib.connected
    broker.connect()
    broker.connect()
    assert ib.calls.count("connect") == 2


def test_adapter_is_a_broker(ib: ScriptedIbkr, path: Path) -> None:
    broker = IbkrAdapter(path, client=ib)
    assert isinstance(broker, Broker)
    assert (broker.name, broker.supports_fractional) == ("ibkr", False)


# -- settings -----------------------------------------------------------------------------------


def test_settings_come_from_the_section(path: Path) -> None:
    section = IbkrSettings(kind="ibkr", host="gw", port=4002, client_id=9, account="DU123")
    broker = from_settings(section, {}, path)
    assert (broker.host, broker.port, broker.client_id) == ("gw", 4002, 9)
    assert broker.account_id == "DU123" and broker.path == path
    assert broker._client is None  # nanobook is only touched on connect
    assert from_settings(IbkrSettings(kind="ibkr"), {}, path).account_id == "ibkr"


def test_environment_overrides_the_section(path: Path) -> None:
    env = {"QTC_IBKR_HOST": "10.1.2.3", "QTC_IBKR_PORT": "4001", "QTC_IBKR_CLIENT_ID": " 0 "}
    broker = from_settings(IbkrSettings(kind="ibkr", port=7497, client_id=5), env, path)
    assert (broker.host, broker.port, broker.client_id) == ("10.1.2.3", 4001, 0)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("QTC_IBKR_PORT", "abc", "a port"),
        ("QTC_IBKR_PORT", "0", "a port"),
        ("QTC_IBKR_PORT", "65536", "a port"),
        ("QTC_IBKR_PORT", "7497.0", "a port"),
        ("QTC_IBKR_CLIENT_ID", "-1", "a whole number"),
        ("QTC_IBKR_CLIENT_ID", "2147483648", "a whole number"),
        ("QTC_IBKR_CLIENT_ID", "", "a whole number"),
        ("QTC_IBKR_HOST", "", "a host name"),
        ("QTC_IBKR_HOST", "my host", "a host name"),
    ],
)
def test_bad_environment_values_are_user_errors(
    path: Path, name: str, value: str, expected: str
) -> None:
    with pytest.raises(UserError) as err:
        from_settings(IbkrSettings(kind="ibkr"), {name: value}, path)
    assert err.value.message.startswith(f"{name}=")
    assert expected in err.value.hint and name in err.value.hint


def test_client_id_too_large_for_ib_is_a_user_error(path: Path) -> None:
    with pytest.raises(UserError, match="client_id 2147483648 is too large"):
        from_settings(IbkrSettings(kind="ibkr", client_id=2**31), {}, path)


# -- the stand-in cannot drift from nanobook ----------------------------------------------------


def _public_methods(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}


def _params(func: Any) -> list[tuple[str, Any, Any]]:
    sig = inspect.signature(func)
    return [(p.name, p.kind, p.default) for p in sig.parameters.values() if p.name != "self"]


def test_stand_in_matches_nanobooks_ibkr_broker() -> None:
    real = nanobook.IbkrBroker
    assert _public_methods(real) == set(NANOBOOK_METHODS)
    for name in NANOBOOK_METHODS:
        assert _params(getattr(ScriptedIbkr, name)) == _params(getattr(real, name)), name
    assert real.__text_signature__ == "(host, port, client_id)"
    stand_in_init = list(inspect.signature(ScriptedIbkr.__init__).parameters)[1:4]
    assert stand_in_init == ["host", "port", "client_id"]


def test_adapter_protocol_matches_nanobooks_ibkr_broker() -> None:
    protocol = {n for n in vars(IbkrClient) if not n.startswith("_")}
    assert protocol == set(NANOBOOK_METHODS)
    for name in NANOBOOK_METHODS:
        assert _params(getattr(IbkrClient, name)) == _params(getattr(nanobook.IbkrBroker, name))


def test_stand_in_raises_what_nanobook_raises_before_connecting() -> None:
    real, fake = nanobook.IbkrBroker("127.0.0.1", 1, 1), ScriptedIbkr()
    cases: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("submit_order", ("AAA", "buy", 1.5), {}),
        ("submit_order", ("AAA", "buy", -1), {}),
        ("submit_order", ("TOOLONGSYM", "buy", 1), {}),
        ("submit_order", ("AAA", "hold", 1), {}),
        ("submit_order", ("AAA", "buy", 1), {"order_type": "limit"}),
        ("submit_order", ("AAA", "buy", 1), {"order_type": "stop_limit", "stop_price_cents": 5}),
        ("submit_order", ("AAA", "buy", 1), {"order_type": "weird"}),
        ("submit_order", ("AAA", "buy", 1), {"client_order_id": "x" * 37}),
        ("submit_order", ("AAA", "buy", 1), {"client_order_id": "a b"}),
        ("submit_order", ("AAA", "buy", 1), {}),
        ("order_status", (-1,), {}),
        ("order_status", (1,), {}),
        ("cancel_order", (1.0,), {}),
        ("cancel_order", (1,), {}),
        ("quote", ("TOOLONGSYM",), {}),
        ("quote", ("AAA",), {}),
        ("positions", (), {}),
        ("account", (), {}),
    ]
    for method, args, kwargs in cases:
        outcomes = []
        for client in (real, fake):
            with pytest.raises(Exception) as err:  # whichever nanobook raises
                getattr(client, method)(*args, **kwargs)
            outcomes.append((type(err.value), str(err.value)))
        assert outcomes[0] == outcomes[1], (method, args, kwargs)
