"""`ScriptedIbkr`: a stand-in for nanobook's `IbkrBroker` (TWS / Gateway), and the contract factory.

Same public methods, parameters, return shapes (integer cents, dicts) and errors as
`nanobook.IbkrBroker` 0.19.2 (`test_ibkr.py` checks the signatures against the real class):
argument checks first (`TypeError`, `OverflowError`, `ValueError` with nanobook's texts), then
`RuntimeError("not connected")`. It models a small margin account the way IB does - it lets a
sell go short; refusing that is the adapter's job - and is scriptable:

    ib = ScriptedIbkr(cash=100_000, prices={"AAA": 100.0})
    ib.script("rest", "reject", "partial:3")  # the next new orders: stay open, rejected, 3 filled
    ib.fail_next("submit_order", "connection error: broken pipe", after=True)  # placed, then lost
    ib.status_placeholder = True   # order_status answers like nanobook 0.19.2's placeholder

By default `order_status` reports real fills (what a complete nanobook would); see
`status_placeholder` for what 0.19.2 really does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qtc.live.brokers import Broker
from qtc.live.brokers.ibkr import IbkrAdapter

NANOBOOK_METHODS = (
    "account",
    "cancel_order",
    "connect",
    "disconnect",
    "order_status",
    "positions",
    "quote",
    "submit_order",
)
"""The public methods of `nanobook.IbkrBroker` (0.19.2); everything else here is scripting."""

CASH = 100_000.0
PRICES = {"AAA": 100.0, "BBB": 50.0}

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]*$")
_OPEN = ("Pending", "Submitted", "PartiallyFilled")


def cents(dollars: float) -> int:
    """Dollars as integer cents."""
    return round(dollars * 100)


@dataclass(slots=True)
class SimOrder:
    """An order the simulated IB holds (prices in cents)."""

    id: int
    symbol: str
    side: str
    quantity: int
    order_type: str
    limit_cents: int | None
    order_ref: str
    outcome: str
    status: str = "Submitted"
    filled: int = 0
    fill_cost_cents: int = 0


@dataclass(slots=True)
class _Fault:
    message: str
    after: bool


class ScriptedIbkr:
    """A scriptable stand-in for `nanobook.IbkrBroker`.

    Attributes:
        cash_cents: Cash.
        holdings: Symbol -> [shares (negative when short), total cost in cents].
        quotes: Symbol -> (bid, ask, last) in cents, 0 for a missing side.
        orders: IB order id -> order.
        calls: Every nanobook method called, in order.
        status_placeholder: Answer `order_status` like nanobook 0.19.2 (always `Submitted`,
            nothing filled, nothing remaining).
        cancel_confirms: Whether a cancel ends the order at once (else it stays open).
        refuse_connect: Whether `connect` fails like a closed port.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        *,
        cash: float = CASH,
        prices: dict[str, float] | None = None,
        first_order_id: int = 1001,
    ) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.cash_cents = cents(cash)
        self.holdings: dict[str, list[int]] = {}
        self.orders: dict[int, SimOrder] = {}
        self.quotes: dict[str, tuple[int, int, int]] = {}
        for symbol, price in (prices or {}).items():
            self.set_price(symbol, price)
        self.calls: list[str] = []
        self.status_placeholder = False
        self.cancel_confirms = True
        self.refuse_connect = False
        self.connected = False
        self._next_id = first_order_id
        self._script: list[str] = []
        self._faults: dict[str, list[_Fault]] = {}

    # -- scripting -----------------------------------------------------------------------------

    def script(self, *outcomes: str) -> None:
        """Next orders' outcomes: `fill` (default), `rest`, `reject`, `pending`, `partial:N`."""
        self._script.extend(outcomes)

    def fail_next(self, method: str, message: str, *, after: bool = False) -> None:
        """Make the next `method` call raise `RuntimeError(message)`, before or after its effect."""
        assert method in NANOBOOK_METHODS, method
        self._faults.setdefault(method, []).append(_Fault(message, after))

    def set_price(self, symbol: str, price: float) -> None:
        """Quote `symbol` at `price` (bid = ask = last) and fill resting orders now marketable."""
        self.set_quote(symbol, bid=price, ask=price, last=price)

    def set_quote(
        self, symbol: str, *, bid: float | None, ask: float | None, last: float | None
    ) -> None:
        """Quote `symbol`; a None side is reported as 0 cents, like nanobook."""
        bid_c, ask_c, last_c = (0 if p is None else cents(p) for p in (bid, ask, last))
        self.quotes[symbol] = (bid_c, ask_c, last_c)
        for order in self.orders.values():
            if order.symbol == symbol and order.outcome == "fill" and order.status in _OPEN:
                self._try_fill(order)

    def fill_order(self, order_id: int, shares: int | None = None) -> None:
        """Fill `shares` (default: the rest) of an open order at the current last price."""
        order = self.orders[order_id]
        self._fill(order, order.quantity - order.filled if shares is None else shares)

    def order_by_ref(self, ref: str) -> SimOrder:
        """The order placed with `orderRef` `ref`."""
        (order,) = [o for o in self.orders.values() if o.order_ref == ref]
        return order

    # -- nanobook.IbkrBroker -------------------------------------------------------------------

    def connect(self) -> None:
        self._enter("connect")
        if self.refuse_connect:
            raise RuntimeError(
                f"connection error: failed to connect to {self.host}:{self.port}: "
                "Connection refused (os error 111)"
            )
        self.connected = True
        self._leave("connect")

    def disconnect(self) -> None:
        self._enter("disconnect")
        self.connected = False
        self._leave("disconnect")

    def positions(self) -> list[dict[str, Any]]:
        self._start("positions")
        rows = []
        for symbol, (qty, cost) in self.holdings.items():
            avg = round(cost / qty) if qty else 0
            rows.append(
                {
                    "symbol": symbol,
                    "quantity": qty,
                    "avg_cost_cents": avg,
                    "market_value_cents": abs(qty) * avg,  # nanobook's approximation
                    "unrealized_pnl_cents": 0,
                }
            )
        self._leave("positions")
        return rows

    def account(self) -> dict[str, Any]:
        self._start("account")
        value = sum(qty * self._last(symbol) for symbol, (qty, _) in self.holdings.items())
        equity = self.cash_cents + value
        self._leave("account")
        return {
            "equity_cents": equity,
            "buying_power_cents": self.cash_cents,
            "cash_cents": self.cash_cents,
            "gross_position_value_cents": equity - self.cash_cents,
        }

    def submit_order(
        self,
        symbol: str,
        side: str,
        quantity: int,
        order_type: str = "market",
        limit_price_cents: int | None = None,
        client_order_id: str | None = None,
        stop_price_cents: int | None = None,
    ) -> int:
        self.calls.append("submit_order")
        _as_u64(quantity)
        for value in (limit_price_cents, stop_price_cents):
            if value is not None:
                _as_int(value)
        _check_symbol(symbol)
        if side.lower() not in ("buy", "b", "sell", "s"):
            raise ValueError(f"Invalid side '{side}'. Use 'buy' or 'sell'.")
        kind = _check_order_type(order_type, limit_price_cents, stop_price_cents)
        _check_client_order_id(client_order_id)
        self._start("submit_order", record=False)
        order = SimOrder(
            id=self._next_id,
            symbol=symbol,
            side="buy" if side.lower() in ("buy", "b") else "sell",
            quantity=quantity,
            order_type=kind,
            limit_cents=limit_price_cents,
            order_ref=client_order_id or "",
            outcome=self._script.pop(0) if self._script else "fill",
        )
        self._next_id += 1
        self.orders[order.id] = order
        self._apply_outcome(order)
        self._leave("submit_order")
        return order.id

    def order_status(self, order_id: int) -> dict[str, Any]:
        self.calls.append("order_status")
        _as_u64(order_id)
        self._start("order_status", record=False)
        self._leave("order_status")
        if self.status_placeholder:
            return _status(order_id, "Submitted", 0, 0, 0)
        order = self.orders.get(order_id)
        if order is None:
            raise RuntimeError(f"order error: unknown order id {order_id}")
        avg = round(order.fill_cost_cents / order.filled) if order.filled else 0
        remaining = order.quantity - order.filled if order.status in _OPEN else 0
        return _status(order_id, order.status, order.filled, remaining, avg)

    def cancel_order(self, order_id: int) -> None:
        self.calls.append("cancel_order")
        _as_u64(order_id)
        self._start("cancel_order", record=False)
        order = self.orders.get(order_id)
        if order is None:
            raise RuntimeError(f"cancel rejected for order {order_id}: No such order")
        if order.status in _OPEN and self.cancel_confirms:
            order.status = "Cancelled"
        self._leave("cancel_order")

    def quote(self, symbol: str) -> dict[str, Any]:
        self.calls.append("quote")
        _check_symbol(symbol)
        self._start("quote", record=False)
        bid, ask, last = self.quotes.get(symbol, (0, 0, 0))
        if bid <= 0 and ask <= 0 and last <= 0:
            raise RuntimeError("connection error: no valid price received")
        self._leave("quote")
        return {
            "symbol": symbol,
            "bid_cents": bid,
            "ask_cents": ask,
            "last_cents": last,
            "volume": 0,
        }

    def __repr__(self) -> str:
        return "IbkrBroker(...)"

    # -- simulation ----------------------------------------------------------------------------

    def _apply_outcome(self, order: SimOrder) -> None:
        outcome = order.outcome
        if outcome == "reject":
            order.status = "Rejected"
        elif outcome == "pending":
            order.status = "Pending"
        elif outcome.startswith("partial:"):
            self._fill(order, int(outcome.split(":", 1)[1]))
        elif outcome == "fill":
            self._try_fill(order)

    def _try_fill(self, order: SimOrder) -> None:
        last = self._last(order.symbol)
        if last <= 0 or order.order_type not in ("market", "limit"):
            return  # stop orders rest (the stand-in has no trigger logic)
        marketable = order.limit_cents is None or (
            last <= order.limit_cents if order.side == "buy" else last >= order.limit_cents
        )
        if marketable:
            self._fill(order, order.quantity - order.filled)

    def _fill(self, order: SimOrder, shares: int) -> None:
        price = self._last(order.symbol)
        sign = 1 if order.side == "buy" else -1
        held = self.holdings.setdefault(order.symbol, [0, 0])
        if sign > 0:
            held[1] += shares * price
        elif held[0]:
            held[1] -= round(held[1] * shares / held[0])
        held[0] += sign * shares
        if held[0] == 0:
            del self.holdings[order.symbol]
        self.cash_cents -= sign * shares * price
        order.filled += shares
        order.fill_cost_cents += shares * price
        order.status = "Filled" if order.filled >= order.quantity else "PartiallyFilled"

    def _last(self, symbol: str) -> int:
        return self.quotes.get(symbol, (0, 0, 0))[2]

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        self._fault(method, after=False)

    def _start(self, method: str, *, record: bool = True) -> None:
        """Record the call, raise a scripted fault, then check the connection (like nanobook)."""
        if record:
            self.calls.append(method)
        self._fault(method, after=False)
        if not self.connected:
            raise RuntimeError("not connected")

    def _leave(self, method: str) -> None:
        self._fault(method, after=True)

    def _fault(self, method: str, *, after: bool) -> None:
        queue = self._faults.get(method)
        if queue and queue[0].after == after:
            raise RuntimeError(queue.pop(0).message)


def _status(order_id: int, status: str, filled: int, remaining: int, avg: int) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": status,
        "filled_quantity": filled,
        "remaining_quantity": remaining,
        "avg_fill_price_cents": avg,
    }


def _as_int(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    return value


def _as_u64(value: object) -> int:
    number = _as_int(value)
    if number < 0:
        raise OverflowError("can't convert negative int to unsigned")
    return number


def _check_symbol(symbol: str) -> None:
    if len(symbol.encode("utf-8")) > 8:
        raise ValueError(f"Symbol '{symbol}' exceeds 8 bytes. Use a shorter symbol.")


def _check_order_type(order_type: str, limit: int | None, stop: int | None) -> str:
    kind = order_type.lower()
    needs = {"limit": ("limit",), "stop": ("stop",), "stop_limit": ("stop", "limit")}
    if kind != "market" and kind not in needs:
        raise ValueError(
            f"Invalid order_type '{order_type}'. Use 'market', 'limit', 'stop', or 'stop_limit'."
        )
    for need in needs.get(kind, ()):
        if (limit if need == "limit" else stop) is None:
            raise ValueError(f"{need}_price_cents required for {kind} orders")
    return kind


def _check_client_order_id(value: str | None) -> None:
    if value is None:
        return
    if not value or len(value) > 36:
        raise ValueError("order error: client_order_id must be 1..=36 ASCII-safe characters")
    if not _SAFE_ID.match(value):
        raise ValueError("order error: client_order_id contains unsafe query characters")


def ibkr_factory(
    tmp_path: Path,
    *,
    fractional: bool | None = None,
    commission_bps: float = 0.0,
    slippage_bps: float = 0.0,
) -> Broker:
    """The contract factory: an `IbkrAdapter` over a `ScriptedIbkr` (cash 100,000, AAA, BBB).

    `fractional` defaults to None (not asked): IBKR here is whole-share only, so an explicit
    `fractional=True` is skipped, as are costs (IB charges its own; the stand-in charges none).
    """
    if fractional:
        pytest.skip("IBKR through nanobook trades whole shares only")
    if commission_bps or slippage_bps:
        pytest.skip("the IBKR stand-in does not model commission or slippage")
    client = ScriptedIbkr(cash=CASH, prices=PRICES)
    return IbkrAdapter(tmp_path / "ibkr" / "orders.json", client=client)
