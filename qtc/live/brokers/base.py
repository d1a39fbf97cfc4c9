"""The broker protocol: the few calls `qtc rebalance` makes, and the values they exchange.

Every adapter (`mock`, `paper`, `alpaca`, `ibkr`) implements `Broker` and passes the contract
suite in `tests/live/test_broker_contract.py`. The rules every adapter keeps:

* Prices and cash are floats in the account currency; quantities are shares (floats, whole
  numbers unless `supports_fractional`).
* `submit` is idempotent on `client_order_id`: submitting an id the broker already knows returns
  that order's current state and sends nothing. This is what makes a resume after a crash safe.
  Reusing an id for a *different* order raises `BrokerError`.
* A refused order is not an exception: it comes back with status `"rejected"` and a `reason`
  (selling more than is held - no shorts -, fractional shares on a whole-share broker, ...).
* Every call made while disconnected raises `BrokerDisconnected`; only `connect` and
  `disconnect` work then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, runtime_checkable

from qtc.errors import QtcError
from qtc.live.brokers.capabilities import Capabilities

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
OrderStatus = Literal["new", "accepted", "partially_filled", "filled", "canceled", "rejected"]

OPEN_STATUSES: frozenset[str] = frozenset({"new", "accepted", "partially_filled"})
"""Statuses of an order that may still fill (and can be canceled)."""

FRACTIONAL_NOT_SUPPORTED = "fractional shares not supported"
"""The reject reason of a whole-share broker given a fractional quantity."""


EPS = 1e-9
"""Tolerance for share and cash comparisons."""


class BrokerError(QtcError):
    """A broker call failed (bad request, unknown order, transport or API error)."""


class BrokerDisconnected(BrokerError):  # noqa: N818 - the name the issue and callers use
    """The broker is not connected: raised by every call made while disconnected."""


@dataclass(frozen=True, slots=True)
class Position:
    """A holding.

    Attributes:
        symbol: Ticker.
        quantity: Shares held (positive; no shorts in qtc).
        avg_price: Average entry price.
    """

    symbol: str
    quantity: float
    avg_price: float


@dataclass(frozen=True, slots=True)
class Account:
    """Account balances.

    Attributes:
        account_id: Broker account identifier (not a secret).
        cash: Settled cash available.
        equity: Cash plus the market value of positions.
        currency: Account currency.
    """

    account_id: str
    cash: float
    equity: float
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class Quote:
    """A last price for one symbol."""

    symbol: str
    price: float


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order to send.

    Attributes:
        client_order_id: Caller-chosen unique id (derived from the order-plan hash).
        symbol: Ticker.
        side: `"buy"` or `"sell"`.
        quantity: Shares, positive.
        order_type: `"market"` or `"limit"`.
        limit_price: Required for limit orders.
    """

    client_order_id: str
    symbol: str
    side: Side
    quantity: float
    order_type: OrderType = "market"
    limit_price: float | None = None


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the broker knows about an order.

    Attributes:
        client_order_id: The caller's id.
        broker_order_id: The broker's own id.
        symbol: Ticker.
        side: `"buy"` or `"sell"`.
        quantity: Shares ordered.
        filled_quantity: Shares filled so far.
        avg_fill_price: Average fill price, `None` before the first fill.
        status: Lifecycle status (see `OPEN_STATUSES`).
        reason: Why it was rejected (or other broker remark); empty otherwise.
    """

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    quantity: float
    filled_quantity: float
    avg_fill_price: float | None
    status: OrderStatus
    reason: str = ""

    @classmethod
    def rejected(cls, order: OrderRequest, reason: str) -> OrderState:
        """The state of `order` refused before the broker recorded it (nothing filled)."""
        return cls(
            client_order_id=order.client_order_id,
            broker_order_id="",
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            filled_quantity=0.0,
            avg_fill_price=None,
            status="rejected",
            reason=reason,
        )

    @property
    def is_open(self) -> bool:
        """Whether the order may still fill."""
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> float:
        """Shares still to fill while open (0 once the order is closed)."""
        return max(self.quantity - self.filled_quantity, 0.0) if self.is_open else 0.0


@runtime_checkable
class Broker(Protocol):
    """The calls qtc makes to a broker. See the module docstring for the shared rules.

    `capabilities` (on the class) says what the adapter can do; `supports_fractional` whether
    this instance sends fractional quantities.
    """

    name: str
    capabilities: ClassVar[Capabilities]
    supports_fractional: bool

    def connect(self) -> None:
        """Open the session (idempotent)."""
        ...

    def disconnect(self) -> None:
        """Close the session (idempotent); later calls raise `BrokerDisconnected`."""
        ...

    def account(self) -> Account:
        """Return cash and equity."""
        ...

    def positions(self) -> list[Position]:
        """Return the current holdings, sorted by symbol."""
        ...

    def quotes(self, symbols: list[str]) -> dict[str, float]:
        """Return the last price of each symbol; symbols without a price are left out."""
        ...

    def submit(self, order: OrderRequest) -> OrderState:
        """Send an order, or return the existing one with the same `client_order_id`."""
        ...

    def order(self, client_order_id: str) -> OrderState | None:
        """Return the order's current state, or `None` if the broker does not know the id."""
        ...

    def open_orders(self) -> list[OrderState]:
        """Return the orders that may still fill."""
        ...

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order; a closed order's state is returned unchanged.

        Raises:
            BrokerError: The id is unknown.
        """
        ...

    def cancel_all(self) -> list[OrderState]:
        """Cancel every open order and return their new states."""
        ...


def is_whole(quantity: float) -> bool:
    """Whether a share quantity is a whole number (within `EPS`)."""
    return abs(quantity - round(quantity)) <= EPS


def request_problem(order: OrderRequest, *, fractional: bool) -> str:
    """Why an order request is malformed for a broker, or `""`: the checks every adapter shares.

    A non-positive or non-finite quantity, a fractional quantity on a whole-share broker, a
    limit order without a positive limit price.
    """
    qty = order.quantity
    if not (math.isfinite(qty) and qty > 0):
        return "quantity must be positive"
    if not fractional and not is_whole(qty):
        return FRACTIONAL_NOT_SUPPORTED
    if order.order_type == "limit" and not (
        order.limit_price is not None and math.isfinite(order.limit_price) and order.limit_price > 0
    ):
        return "a limit order needs a positive limit price"
    return ""
