"""The broker contract: every adapter in `FACTORIES` must pass every test in this file.

To add an adapter (alpaca against a fake HTTP server, ibkr through the real `ib_async` client
against a fake TWS on a local socket), add a factory to `FACTORIES`. A factory gets a temporary
folder and `fractional`, `commission_bps`, `slippage_bps`; it returns a *disconnected* broker
whose account holds `CASH` in cash, no positions, and quotes `PRICES`. A factory may
`pytest.skip` options its broker cannot honour (e.g. costs). Tests at the end of the file cover
only the simulated brokers (`mock`, `paper`).
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_alpaca import alpaca_factory
from fake_tws import ibkr_factory

from qtc.live.brokers import (
    FRACTIONAL_NOT_SUPPORTED,
    Account,
    Broker,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderState,
    Position,
)
from qtc.live.brokers.mock import MockBroker
from qtc.live.brokers.paper import PaperBroker

CASH = 100_000.0
PRICES = {"AAA": 100.0, "BBB": 50.0}

Factory = Callable[..., Broker]


def _mock(
    tmp_path: Path,
    *,
    fractional: bool = True,
    commission_bps: float = 0.0,
    slippage_bps: float = 0.0,
) -> Broker:
    return MockBroker(
        cash=CASH,
        prices=PRICES,
        fractional=fractional,
        commission_bps=commission_bps,
        slippage_bps=slippage_bps,
    )


def _price_source(symbols: list[str]) -> dict[str, float]:
    return {s: PRICES[s] for s in symbols if s in PRICES}


def _paper(
    tmp_path: Path,
    *,
    fractional: bool = True,
    commission_bps: float = 0.0,
    slippage_bps: float = 0.0,
) -> Broker:
    return PaperBroker(
        tmp_path / "paper" / "account.json",
        prices=_price_source,
        initial_cash=CASH,
        fractional=fractional,
        commission_bps=commission_bps,
        slippage_bps=slippage_bps,
    )


FACTORIES: dict[str, Callable[..., Broker]] = {"mock": _mock, "paper": _paper}
"""Every broker adapter; each runs the whole contract."""
FACTORIES["alpaca"] = alpaca_factory
FACTORIES["ibkr"] = ibkr_factory

SIMULATED = ("mock", "paper")
"""qtc's own brokers, which also model costs and cash checks exactly."""


def _builder(name: str, tmp_path: Path) -> Factory:
    def build(**options: Any) -> Broker:
        broker = FACTORIES[name](tmp_path, **options)
        broker.connect()
        return broker

    return build


@pytest.fixture(params=sorted(FACTORIES))
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """Build a connected broker of each kind: `make(fractional=False)`."""
    return _builder(request.param, tmp_path)


@pytest.fixture
def broker(make: Factory) -> Broker:
    return make()


@pytest.fixture(params=SIMULATED)
def sim_make(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    return _builder(request.param, tmp_path)


def buy(coid: str, symbol: str, qty: float, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "buy", qty, **kw)


def sell(coid: str, symbol: str, qty: float, **kw: Any) -> OrderRequest:
    return OrderRequest(coid, symbol, "sell", qty, **kw)


def resting_buy(coid: str, symbol: str = "AAA", qty: float = 5) -> OrderRequest:
    """A limit buy far below the market: accepted, never marketable."""
    return buy(coid, symbol, qty, order_type="limit", limit_price=PRICES[symbol] / 2)


# -- the contract ------------------------------------------------------------------------------


def test_connect_account_positions_quotes(broker: Broker) -> None:
    assert isinstance(broker, Broker)
    assert isinstance(broker.name, str) and broker.name
    account = broker.account()
    assert isinstance(account, Account)
    assert account.cash == pytest.approx(CASH)
    assert account.equity == pytest.approx(CASH)
    assert account.account_id
    assert broker.positions() == []
    assert broker.quotes(["AAA", "BBB", "NOPE"]) == pytest.approx(PRICES)
    assert broker.open_orders() == []
    broker.connect()  # idempotent
    assert broker.account().cash == pytest.approx(CASH)


def test_buy_then_sell_moves_cash_and_positions(broker: Broker) -> None:
    bought = broker.submit(buy("b1", "AAA", 10))
    assert isinstance(bought, OrderState)
    assert (bought.status, bought.filled_quantity) == ("filled", 10)
    assert bought.avg_fill_price == pytest.approx(100.0)
    assert (bought.client_order_id, bought.symbol, bought.side) == ("b1", "AAA", "buy")
    assert bought.broker_order_id
    assert broker.positions() == [Position("AAA", 10, 100.0)]
    account = broker.account()
    assert account.cash == pytest.approx(CASH - 10 * 100.0)
    assert account.equity == pytest.approx(CASH)

    sold = broker.submit(sell("s1", "AAA", 4))
    assert (sold.status, sold.filled_quantity) == ("filled", 4)
    assert broker.positions() == [Position("AAA", 6, 100.0)]
    assert broker.account().cash == pytest.approx(CASH - 6 * 100.0)

    broker.submit(sell("s2", "AAA", 6))
    assert broker.positions() == []
    assert broker.account().cash == pytest.approx(CASH)


def test_positions_are_sorted_by_symbol(broker: Broker) -> None:
    broker.submit(buy("b1", "BBB", 2))
    broker.submit(buy("b2", "AAA", 1))
    assert [p.symbol for p in broker.positions()] == ["AAA", "BBB"]


def test_submit_is_idempotent_on_client_order_id(broker: Broker) -> None:
    first = broker.submit(buy("same", "AAA", 10))
    again = broker.submit(buy("same", "AAA", 10))
    assert again == first
    assert broker.positions() == [Position("AAA", 10, 100.0)]
    assert broker.account().cash == pytest.approx(CASH - 1_000.0)
    assert broker.order("same") == first


def test_reusing_a_client_order_id_for_another_order_is_an_error(broker: Broker) -> None:
    broker.submit(buy("x", "AAA", 1))
    with pytest.raises(BrokerError, match="already used"):
        broker.submit(buy("x", "AAA", 2))
    assert broker.positions() == [Position("AAA", 1, 100.0)]


def test_order_lookup(broker: Broker) -> None:
    assert broker.order("unknown") is None
    state = broker.submit(buy("b1", "AAA", 1))
    assert broker.order("b1") == state


def test_open_order_then_cancel(broker: Broker) -> None:
    state = broker.submit(resting_buy("rest"))
    assert state.is_open and state.status in ("new", "accepted")
    assert state.filled_quantity == 0 and state.avg_fill_price is None
    assert [o.client_order_id for o in broker.open_orders()] == ["rest"]
    assert broker.order("rest") == state

    canceled = broker.cancel("rest")
    assert canceled.status == "canceled"
    assert canceled.filled_quantity == 0
    assert broker.open_orders() == []
    assert broker.order("rest") == canceled
    assert broker.cancel("rest") == canceled  # canceling a closed order changes nothing
    assert broker.positions() == []
    assert broker.account().cash == pytest.approx(CASH)


def test_cancel_of_a_filled_order_returns_it_unchanged(broker: Broker) -> None:
    filled = broker.submit(buy("b1", "AAA", 1))
    assert broker.cancel("b1") == filled


def test_cancel_of_an_unknown_order_is_an_error(broker: Broker) -> None:
    with pytest.raises(BrokerError, match="unknown order"):
        broker.cancel("nope")


def test_cancel_all(broker: Broker) -> None:
    broker.submit(buy("filled", "BBB", 1))
    broker.submit(resting_buy("r1", "AAA"))
    broker.submit(resting_buy("r2", "BBB"))
    canceled = broker.cancel_all()
    assert sorted(o.client_order_id for o in canceled) == ["r1", "r2"]
    assert all(o.status == "canceled" for o in canceled)
    assert broker.open_orders() == []
    assert broker.order("filled").status == "filled"  # type: ignore[union-attr]
    assert broker.cancel_all() == []


def test_selling_more_than_held_is_rejected(broker: Broker) -> None:
    broker.submit(buy("b1", "AAA", 5))
    cash = broker.account().cash
    state = broker.submit(sell("s1", "AAA", 6))
    assert state.status == "rejected"
    assert "short" in state.reason
    assert state.filled_quantity == 0
    assert broker.order("s1") == state
    assert broker.submit(sell("s1", "AAA", 6)) == state  # idempotent for rejects too
    assert broker.positions() == [Position("AAA", 5, 100.0)]
    assert broker.account().cash == pytest.approx(cash)
    assert broker.open_orders() == []


def test_selling_what_is_not_held_is_rejected(broker: Broker) -> None:
    state = broker.submit(sell("s1", "BBB", 1))
    assert state.status == "rejected" and "short" in state.reason
    assert broker.positions() == []


def test_calls_while_disconnected_raise(broker: Broker) -> None:
    broker.submit(buy("b1", "AAA", 1))
    broker.disconnect()
    broker.disconnect()  # idempotent
    calls: list[Callable[[], object]] = [
        broker.account,
        broker.positions,
        lambda: broker.quotes(["AAA"]),
        lambda: broker.submit(buy("b2", "AAA", 1)),
        lambda: broker.order("b1"),
        broker.open_orders,
        lambda: broker.cancel("b1"),
        broker.cancel_all,
    ]
    for call in calls:
        with pytest.raises(BrokerDisconnected):
            call()
    broker.connect()
    assert broker.positions() == [Position("AAA", 1, 100.0)]
    assert broker.order("b2") is None


def test_calls_before_connect_raise(make: Factory, tmp_path: Path) -> None:
    broker = make()
    broker.disconnect()
    with pytest.raises(BrokerDisconnected):
        broker.account()
    assert issubclass(BrokerDisconnected, BrokerError)


def test_whole_share_broker_rejects_fractional_quantities(make: Factory) -> None:
    broker = make(fractional=False)
    assert broker.supports_fractional is False
    state = broker.submit(buy("f1", "AAA", 1.5))
    assert state.status == "rejected"
    assert state.reason == FRACTIONAL_NOT_SUPPORTED
    assert broker.positions() == []
    assert broker.submit(buy("w1", "AAA", 2.0)).status == "filled"
    assert broker.positions() == [Position("AAA", 2, 100.0)]


def test_fractional_broker_fills_fractional_quantities(make: Factory) -> None:
    broker = make(fractional=True)
    assert broker.supports_fractional is True
    assert broker.submit(buy("f1", "AAA", 1.5)).status == "filled"
    assert broker.positions() == [Position("AAA", 1.5, 100.0)]
    assert broker.account().cash == pytest.approx(CASH - 150.0)


@pytest.mark.parametrize("qty", [0, -1, float("nan")])
def test_non_positive_quantity_is_rejected(broker: Broker, qty: float) -> None:
    state = broker.submit(buy(f"q{qty}", "AAA", qty))
    assert state.status == "rejected" and state.reason


# -- simulated brokers only (mock, paper) ----------------------------------------------------


def test_costs_are_charged_on_buys_and_sells(sim_make: Factory) -> None:
    broker = sim_make(commission_bps=10.0, slippage_bps=5.0)
    bought = broker.submit(buy("b1", "AAA", 10))
    buy_px = 100.0 * (1 + 5 / 10_000)
    assert bought.avg_fill_price == pytest.approx(buy_px)
    cost = 10 * buy_px * (1 + 10 / 10_000)
    assert broker.account().cash == pytest.approx(CASH - cost)
    assert broker.positions() == [Position("AAA", 10, pytest.approx(buy_px))]  # type: ignore[arg-type]

    sold = broker.submit(sell("s1", "AAA", 10))
    sell_px = 100.0 * (1 - 5 / 10_000)
    assert sold.avg_fill_price == pytest.approx(sell_px)
    assert broker.account().cash == pytest.approx(CASH - cost + 10 * sell_px * (1 - 10 / 10_000))


def test_buy_beyond_cash_is_rejected(sim_make: Factory) -> None:
    broker = sim_make()
    state = broker.submit(buy("big", "AAA", 1_001))
    assert state.status == "rejected" and "insufficient cash" in state.reason
    assert broker.account().cash == pytest.approx(CASH)
    # Cash held by an open buy is not available to another one.
    broker.submit(buy("rest", "AAA", 1_500, order_type="limit", limit_price=60.0))
    assert broker.submit(buy("more", "BBB", 300)).status == "rejected"
    broker.cancel("rest")
    assert broker.submit(buy("more2", "BBB", 300)).status == "filled"


def test_open_sells_count_against_holdings(sim_make: Factory) -> None:
    broker = sim_make()
    broker.submit(buy("b1", "AAA", 5))
    resting = broker.submit(sell("s1", "AAA", 4, order_type="limit", limit_price=200.0))
    assert resting.is_open
    assert broker.submit(sell("s2", "AAA", 2)).status == "rejected"
    assert broker.submit(sell("s3", "AAA", 1)).status == "filled"


def test_unknown_symbol_is_rejected(sim_make: Factory) -> None:
    broker = sim_make()
    state = broker.submit(buy("b1", "ZZZ", 1))
    assert state.status == "rejected" and "no price for ZZZ" in state.reason


def test_limit_order_without_price_is_rejected(sim_make: Factory) -> None:
    broker = sim_make()
    state = broker.submit(buy("b1", "AAA", 1, order_type="limit"))
    assert state.status == "rejected" and "limit price" in state.reason


# -- paper only --------------------------------------------------------------------------------


def _paper_at(path: Path, prices: dict[str, float], **kw: Any) -> PaperBroker:
    broker = PaperBroker(
        path, prices=lambda syms: {s: prices[s] for s in syms if s in prices}, **kw
    )
    broker.connect()
    return broker


def test_paper_account_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "acct.json"
    first = _paper_at(path, PRICES, initial_cash=10_000.0)
    first.submit(buy("b1", "AAA", 10))
    first.submit(resting_buy("rest", "BBB", 2))

    second = _paper_at(path, PRICES, initial_cash=999.0)  # initial cash ignored: file exists
    assert second.account().cash == pytest.approx(9_000.0)
    assert second.positions() == [Position("AAA", 10, 100.0)]
    assert second.order("b1") == first.order("b1")
    assert [o.client_order_id for o in second.open_orders()] == ["rest"]
    # Idempotency survives a restart: the same id does not fill again.
    assert second.submit(buy("b1", "AAA", 10)).status == "filled"
    assert second.positions() == [Position("AAA", 10, 100.0)]
    assert len(second.fills()) == 1
    # Changes made by one instance are seen by the other.
    second.cancel("rest")
    assert first.open_orders() == []
    # Broker ids keep counting across instances.
    third = second.submit(buy("b2", "BBB", 1))
    assert third.broker_order_id not in {"paper-1", "paper-2"}


def test_paper_file_is_private_json(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "acct.json"
    broker = _paper_at(path, PRICES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    broker.submit(buy("b1", "AAA", 1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["version"] == 1
    assert data["positions"] == [{"symbol": "AAA", "quantity": 1, "avg_price": 100.0}]
    assert [o["state"]["client_order_id"] for o in data["orders"]] == ["b1"]
    assert data["fills"][0]["price"] == 100.0 and data["fills"][0]["timestamp"]


def test_paper_limit_order_fills_when_price_reaches_it(tmp_path: Path) -> None:
    prices = dict(PRICES)
    broker = _paper_at(tmp_path / "a.json", prices)
    state = broker.submit(buy("lim", "AAA", 2, order_type="limit", limit_price=95.0))
    assert state.is_open
    prices["AAA"] = 94.0
    filled = broker.order("lim")
    assert filled is not None and filled.status == "filled"
    assert filled.avg_fill_price == pytest.approx(94.0)
    assert broker.positions() == [Position("AAA", 2, 94.0)]


def test_paper_equity_uses_latest_prices(tmp_path: Path) -> None:
    prices = dict(PRICES)
    broker = _paper_at(tmp_path / "a.json", prices)
    broker.submit(buy("b1", "AAA", 10))
    prices["AAA"] = 110.0
    assert broker.account().equity == pytest.approx(CASH + 100.0)


def test_paper_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    broker = _paper_at(path, PRICES)
    path.write_text("{not json")
    with pytest.raises(BrokerError, match="cannot read paper account file"):
        broker.account()
