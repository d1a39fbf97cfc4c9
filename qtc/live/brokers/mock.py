"""The in-memory simulated account (`Ledger`) and `MockBroker`, a scriptable broker for tests.

`Ledger` is the accounting both simulated brokers share: cash, positions, orders by
client order id and the fill history, with the order checks of the broker contract (no shorts,
whole shares, enough cash). `PaperBroker` persists one on disk; `MockBroker` keeps one in memory
and adds a script of behaviours and faults:

    broker = MockBroker(cash=10_000, prices={"AAA": 100.0})
    broker.on_symbol("AAA", partial(0.5))    # every AAA order fills half, then stays open
    broker.on_order(2, reject("halted"))     # the 2nd new order is rejected
    broker.fail_next("submit", after=True)   # the order reaches the broker, the caller sees
                                             # BrokerDisconnected instead of the result
    broker.disconnect_after(3)               # 3 more calls succeed, then the line drops

Everything is deterministic: nothing depends on time or randomness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar, Literal, TypeVar

from qtc.live.brokers.base import (
    EPS,
    Account,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderState,
    OrderStatus,
    Position,
    request_problem,
)
from qtc.live.brokers.capabilities import Capabilities

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution.

    Attributes:
        client_order_id: The order's client id.
        broker_order_id: The order's broker id.
        symbol: Ticker.
        side: `"buy"` or `"sell"`.
        quantity: Shares filled.
        price: Fill price (the quote with slippage).
        commission: Commission paid, in cash.
        timestamp: ISO time of the fill (empty for the mock broker).
    """

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: str
    quantity: float
    price: float
    commission: float
    timestamp: str = ""


class Ledger:
    """A simulated account: cash, positions, orders and fills, with the contract's order checks."""

    def __init__(
        self,
        *,
        cash: float,
        positions: Iterable[Position] = (),
        fractional: bool = True,
        commission_bps: float = 0.0,
        slippage_bps: float = 0.0,
        id_prefix: str = "mock",
        clock: Callable[[], str] | None = None,
    ) -> None:
        """Create the account.

        Args:
            cash: Starting cash.
            positions: Starting holdings.
            fractional: Whether fractional quantities are accepted.
            commission_bps: Commission on each fill's notional, in bps.
            slippage_bps: Fill price worse than the quote by this many bps.
            id_prefix: Prefix of broker order ids (`mock-1`, `mock-2`, ...).
            clock: Returns the timestamp recorded with each fill.
        """
        self.cash = float(cash)
        self.positions: dict[str, Position] = {p.symbol: p for p in positions}
        self.fractional = fractional
        self.commission_bps = float(commission_bps)
        self.slippage_bps = float(slippage_bps)
        self.id_prefix = id_prefix
        self.clock = clock or (lambda: "")
        self.requests: dict[str, OrderRequest] = {}
        self.states: dict[str, OrderState] = {}
        self.reserve_price: dict[str, float] = {}
        self.fills: list[Fill] = []
        self.next_id = 1

    # -- queries -------------------------------------------------------------------------------

    def get(self, client_order_id: str) -> OrderState | None:
        """Return an order's state, or `None` if unknown."""
        return self.states.get(client_order_id)

    def existing(self, order: OrderRequest) -> OrderState | None:
        """Return the state of an already submitted order with the same client id.

        Raises:
            BrokerError: The id was used for a different order.
        """
        known = self.requests.get(order.client_order_id)
        if known is None:
            return None
        if known != order:
            raise BrokerError(
                f"client order id {order.client_order_id!r} was already used for a different "
                f"order ({known.side} {known.quantity:g} {known.symbol})"
            )
        return self.states[order.client_order_id]

    def open_orders(self) -> list[OrderState]:
        """Return the open orders in submission order."""
        return [s for s in self.states.values() if s.is_open]

    def sorted_positions(self) -> list[Position]:
        """Return the positions sorted by symbol."""
        return [self.positions[s] for s in sorted(self.positions)]

    def account(self, account_id: str, prices: Mapping[str, float]) -> Account:
        """Return cash and equity, valuing positions at `prices` (else their average price)."""
        value = sum(p.quantity * prices.get(p.symbol, p.avg_price) for p in self.positions.values())
        return Account(account_id=account_id, cash=self.cash, equity=self.cash + value)

    def fill_price(self, order: OrderRequest, quote: float) -> float:
        """Return the price a fill at `quote` gets: slippage against the side, capped by a limit."""
        slip = self.slippage_bps / 10_000.0
        if order.side == "buy":
            price = quote * (1.0 + slip)
            if order.limit_price is not None and order.order_type == "limit":
                price = min(price, order.limit_price)
        else:
            price = quote * (1.0 - slip)
            if order.limit_price is not None and order.order_type == "limit":
                price = max(price, order.limit_price)
        return price

    def marketable(self, client_order_id: str, quote: float) -> bool:
        """Whether an order can fill at `quote` (market orders always can)."""
        order = self.requests[client_order_id]
        if order.order_type != "limit" or order.limit_price is None:
            return True
        if order.side == "buy":
            return quote <= order.limit_price + EPS
        return quote >= order.limit_price - EPS

    def check(self, order: OrderRequest, quote: float | None) -> str:
        """Return why the order must be rejected, or `""` if it may be accepted."""
        qty = order.quantity
        problem = request_problem(order, fractional=self.fractional)
        if problem:
            return problem
        if quote is None or not (math.isfinite(quote) and quote > 0):
            return f"no price for {order.symbol}"
        if order.side == "sell":
            held = self.positions[order.symbol].quantity if order.symbol in self.positions else 0.0
            pending = sum(
                s.remaining
                for s in self.open_orders()
                if s.symbol == order.symbol and s.side == "sell"
            )
            available = held - pending
            if qty > available + EPS:
                return (
                    f"cannot sell {qty:g} {order.symbol}: only {max(available, 0.0):g} held "
                    "(short selling is not supported)"
                )
            return ""
        ref = self._reserve_price(order, quote)
        cost = qty * ref * (1.0 + self.commission_bps / 10_000.0)
        free = self.cash - self._reserved_cash()
        if cost > free + EPS:
            return f"insufficient cash: the order needs {cost:.2f}, {free:.2f} is available"
        return ""

    # -- changes -------------------------------------------------------------------------------

    def record(
        self, order: OrderRequest, status: OrderStatus, *, quote: float = 0.0, reason: str = ""
    ) -> OrderState:
        """Register a new order with a fresh broker id and return its state."""
        state = OrderState(
            client_order_id=order.client_order_id,
            broker_order_id=f"{self.id_prefix}-{self.next_id}",
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            filled_quantity=0.0,
            avg_fill_price=None,
            status=status,
            reason=reason,
        )
        self.next_id += 1
        self.requests[order.client_order_id] = order
        self.states[order.client_order_id] = state
        if status != "rejected" and order.side == "buy":
            self.reserve_price[order.client_order_id] = self._reserve_price(order, quote)
        return state

    def fill(self, client_order_id: str, quantity: float, quote: float) -> OrderState:
        """Execute `quantity` shares of an open order at `quote` (plus costs)."""
        order = self.requests[client_order_id]
        state = self.states[client_order_id]
        quantity = min(quantity, state.remaining)
        if quantity <= EPS:
            return state
        price = self.fill_price(order, quote)
        notional = quantity * price
        commission = notional * self.commission_bps / 10_000.0
        held = self.positions.get(order.symbol)
        if order.side == "buy":
            self.cash -= notional + commission
            old_qty = held.quantity if held else 0.0
            old_avg = held.avg_price if held else 0.0
            new_qty = old_qty + quantity
            avg = (old_qty * old_avg + notional) / new_qty
            self.positions[order.symbol] = Position(order.symbol, new_qty, avg)
        else:
            self.cash += notional - commission
            old_qty = held.quantity if held else 0.0
            new_qty = old_qty - quantity
            if abs(new_qty) <= EPS:
                self.positions.pop(order.symbol, None)
            else:
                avg_price = held.avg_price if held else price
                self.positions[order.symbol] = Position(order.symbol, new_qty, avg_price)
        filled = state.filled_quantity + quantity
        prior = state.filled_quantity * (state.avg_fill_price or 0.0)
        done = filled >= state.quantity - EPS
        new_state = replace(
            state,
            filled_quantity=state.quantity if done else filled,
            avg_fill_price=(prior + notional) / filled,
            status="filled" if done else "partially_filled",
        )
        self.states[client_order_id] = new_state
        self.fills.append(
            Fill(
                client_order_id=client_order_id,
                broker_order_id=state.broker_order_id,
                symbol=order.symbol,
                side=order.side,
                quantity=quantity,
                price=price,
                commission=commission,
                timestamp=self.clock(),
            )
        )
        return new_state

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order; a closed order's state is returned unchanged.

        Raises:
            BrokerError: The id is unknown.
        """
        state = self.states.get(client_order_id)
        if state is None:
            raise BrokerError(f"unknown order {client_order_id!r}")
        if not state.is_open:
            return state
        new_state = replace(state, status="canceled")
        self.states[client_order_id] = new_state
        return new_state

    # -- persistence ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the whole account as JSON-ready data."""
        return {
            "cash": self.cash,
            "positions": [asdict(p) for p in self.sorted_positions()],
            "orders": [
                {
                    "request": asdict(self.requests[coid]),
                    "state": asdict(state),
                    "reserve_price": self.reserve_price.get(coid),
                }
                for coid, state in self.states.items()
            ],
            "fills": [asdict(f) for f in self.fills],
            "next_id": self.next_id,
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace the account with data written by `to_dict`."""
        self.cash = float(data["cash"])
        self.positions = {p["symbol"]: Position(**p) for p in data["positions"]}
        self.requests = {}
        self.states = {}
        self.reserve_price = {}
        for entry in data["orders"]:
            request = OrderRequest(**entry["request"])
            coid = request.client_order_id
            self.requests[coid] = request
            self.states[coid] = OrderState(**entry["state"])
            if entry.get("reserve_price") is not None:
                self.reserve_price[coid] = float(entry["reserve_price"])
        self.fills = [Fill(**f) for f in data["fills"]]
        self.next_id = int(data["next_id"])

    # -- helpers -------------------------------------------------------------------------------

    def _reserve_price(self, order: OrderRequest, quote: float) -> float:
        if order.order_type == "limit" and order.limit_price is not None:
            return order.limit_price
        return quote * (1.0 + self.slippage_bps / 10_000.0)

    def _reserved_cash(self) -> float:
        rate = 1.0 + self.commission_bps / 10_000.0
        return sum(
            s.remaining * self.reserve_price.get(s.client_order_id, 0.0) * rate
            for s in self.open_orders()
            if s.side == "buy"
        )


BehaviourKind = Literal["fill", "partial", "reject", "never"]


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the mock broker does with an accepted order.

    Attributes:
        kind: `"fill"` (fully), `"partial"` (a fraction, then stays open), `"reject"`,
            `"never"` (stays accepted until canceled).
        after_polls: Polls (`order()` / `open_orders()` calls) before the fill; 0 fills in
            `submit` itself.
        fraction: Share of the quantity a partial fill executes.
        reason: Reject reason.
    """

    kind: BehaviourKind = "fill"
    after_polls: int = 0
    fraction: float = 1.0
    reason: str = ""


def fill(after_polls: int = 0) -> Behaviour:
    """Fill fully, in `submit` or after `after_polls` polls (the default behaviour)."""
    return Behaviour("fill", after_polls=after_polls)


def partial(fraction: float, after_polls: int = 0) -> Behaviour:
    """Fill `fraction` of the quantity (rounded down to whole shares if needed), then stay open."""
    return Behaviour("partial", after_polls=after_polls, fraction=fraction)


def reject(reason: str = "rejected by the mock broker") -> Behaviour:
    """Reject the order with `reason`."""
    return Behaviour("reject", reason=reason)


def never() -> Behaviour:
    """Accept the order and never fill it (it stays open until canceled)."""
    return Behaviour("never")


@dataclass(slots=True)
class _Pending:
    behaviour: Behaviour
    polls: int = 0


@dataclass(frozen=True, slots=True)
class _Fault:
    error: BrokerError
    after: bool


class MockBroker:
    """A deterministic in-memory broker with scripted fills and injectable faults.

    Attributes:
        name: `"mock"`.
        capabilities: Simulated, in memory, priced at the prices it is given.
        supports_fractional: Whether fractional quantities are accepted.
        prices: Current quotes; fills happen at these (change them with `set_price`).
        ledger: The simulated account (cash, positions, orders, fills).
        calls: Every broker call attempted while connected, in order (method names).
    """

    name = "mock"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fractional=True, prices="lake_closes", persistence="memory", simulated=True
    )

    def __init__(
        self,
        *,
        cash: float = 100_000.0,
        prices: Mapping[str, float] | None = None,
        positions: Iterable[Position] = (),
        fractional: bool = True,
        commission_bps: float = 0.0,
        slippage_bps: float = 0.0,
        default: Behaviour | None = None,
        account_id: str = "mock-account",
    ) -> None:
        """Create a disconnected broker.

        Args:
            cash: Starting cash.
            prices: Starting quotes by symbol.
            positions: Starting holdings.
            fractional: Whether fractional quantities are accepted.
            commission_bps: Commission per fill, in bps of notional.
            slippage_bps: Fill price worse than the quote by this many bps.
            default: Behaviour of orders no rule matches (fill immediately).
            account_id: Account id reported by `account()`.
        """
        self.supports_fractional = fractional
        self.prices: dict[str, float] = dict(prices or {})
        self.ledger = Ledger(
            cash=cash,
            positions=positions,
            fractional=fractional,
            commission_bps=commission_bps,
            slippage_bps=slippage_bps,
            id_prefix="mock",
        )
        self.account_id = account_id
        self.default = default or fill()
        self.calls: list[str] = []
        self._connected = False
        self._by_symbol: dict[str, Behaviour] = {}
        self._by_count: dict[int, Behaviour] = {}
        self._new_orders = 0
        self._pending: dict[str, _Pending] = {}
        self._calls_left: int | None = None
        self._faults: dict[str, list[_Fault]] = {}

    # -- script --------------------------------------------------------------------------------

    def on_symbol(self, symbol: str, behaviour: Behaviour) -> None:
        """Apply `behaviour` to every later new order for `symbol`."""
        self._by_symbol[symbol] = behaviour

    def on_order(self, n: int, behaviour: Behaviour) -> None:
        """Apply `behaviour` to the `n`-th new order (1-based; idempotent re-submits don't count).

        A rule by order number wins over a rule by symbol.
        """
        self._by_count[n] = behaviour

    def set_price(self, symbol: str, price: float) -> None:
        """Change a quote (later fills happen at it)."""
        self.prices[symbol] = price

    def disconnect_after(self, n_calls: int) -> None:
        """Let `n_calls` more calls succeed; the next one drops the connection and raises."""
        self._calls_left = n_calls

    def fail_next(
        self, method: str, error: BrokerError | None = None, *, after: bool = False
    ) -> None:
        """Make the next call to `method` raise `error` (default `BrokerDisconnected`).

        Args:
            method: A `Broker` method name, e.g. `"submit"`.
            error: The exception; a `BrokerDisconnected` also drops the connection.
            after: Raise after the call took effect at the broker (e.g. the order exists but
                the caller never sees the result), instead of before.
        """
        if not hasattr(self, method):
            raise ValueError(f"MockBroker has no method {method!r}")
        exc = error or BrokerDisconnected(f"mock broker: connection lost during {method}")
        self._faults.setdefault(method, []).append(_Fault(exc, after))

    @property
    def connected(self) -> bool:
        """Whether the session is open."""
        return self._connected

    def fills(self) -> list[Fill]:
        """Return every execution so far (inspection only: works while disconnected)."""
        return list(self.ledger.fills)

    # -- Broker protocol -----------------------------------------------------------------------

    def connect(self) -> None:
        """Open the session."""
        self._connected = True

    def disconnect(self) -> None:
        """Close the session."""
        self._connected = False

    def account(self) -> Account:
        """Return cash and equity (positions valued at the current quotes)."""
        return self._call("account", lambda: self.ledger.account(self.account_id, self.prices))

    def positions(self) -> list[Position]:
        """Return holdings sorted by symbol."""
        return self._call("positions", self.ledger.sorted_positions)

    def quotes(self, symbols: list[str]) -> dict[str, float]:
        """Return the quotes of the symbols that have one."""
        return self._call(
            "quotes", lambda: {s: self.prices[s] for s in symbols if s in self.prices}
        )

    def submit(self, order: OrderRequest) -> OrderState:
        """Submit (idempotent on `client_order_id`) and apply the scripted behaviour."""
        return self._call("submit", lambda: self._submit(order))

    def order(self, client_order_id: str) -> OrderState | None:
        """Return an order's state; counts as one poll of that order."""

        def run() -> OrderState | None:
            self._poll(client_order_id)
            return self.ledger.get(client_order_id)

        return self._call("order", run)

    def open_orders(self) -> list[OrderState]:
        """Return the open orders; counts as one poll of each."""

        def run() -> list[OrderState]:
            for coid in list(self._pending):
                self._poll(coid)
            return self.ledger.open_orders()

        return self._call("open_orders", run)

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order (a closed one is returned unchanged)."""

        def run() -> OrderState:
            state = self.ledger.cancel(client_order_id)
            self._pending.pop(client_order_id, None)
            return state

        return self._call("cancel", run)

    def cancel_all(self) -> list[OrderState]:
        """Cancel every open order."""

        def run() -> list[OrderState]:
            out = []
            for state in self.ledger.open_orders():
                out.append(self.ledger.cancel(state.client_order_id))
                self._pending.pop(state.client_order_id, None)
            return out

        return self._call("cancel_all", run)

    # -- internals -----------------------------------------------------------------------------

    def _call(self, method: str, run: Callable[[], T]) -> T:
        if not self._connected:
            raise BrokerDisconnected(f"mock broker is not connected ({method})")
        self.calls.append(method)
        if self._calls_left is not None:
            if self._calls_left <= 0:
                self._calls_left = None
                self._connected = False
                raise BrokerDisconnected(f"mock broker: connection lost before {method}")
            self._calls_left -= 1
        queue = self._faults.get(method)
        fault = queue.pop(0) if queue else None
        if fault is not None and not fault.after:
            self._raise(fault)
        result = run()
        if fault is not None:
            self._raise(fault)
        return result

    def _raise(self, fault: _Fault) -> None:
        if isinstance(fault.error, BrokerDisconnected):
            self._connected = False
        raise fault.error

    def _submit(self, order: OrderRequest) -> OrderState:
        known = self.ledger.existing(order)
        if known is not None:
            return known
        self._new_orders += 1
        behaviour = self._by_count.get(
            self._new_orders, self._by_symbol.get(order.symbol, self.default)
        )
        quote = self.prices.get(order.symbol)
        if behaviour.kind == "reject":
            return self.ledger.record(order, "rejected", reason=behaviour.reason)
        reason = self.ledger.check(order, quote)
        if reason or quote is None:
            return self.ledger.record(order, "rejected", reason=reason)
        state = self.ledger.record(order, "accepted", quote=quote)
        if behaviour.kind == "never":
            return state
        self._pending[order.client_order_id] = _Pending(behaviour)
        return self._advance(order.client_order_id)

    def _poll(self, client_order_id: str) -> None:
        pending = self._pending.get(client_order_id)
        if pending is not None:
            pending.polls += 1
            self._advance(client_order_id)

    def _advance(self, client_order_id: str) -> OrderState:
        state = self.ledger.states[client_order_id]
        pending = self._pending[client_order_id]
        behaviour = pending.behaviour
        quote = self.prices.get(state.symbol)
        if (
            pending.polls < behaviour.after_polls
            or quote is None
            or not self.ledger.marketable(client_order_id, quote)
        ):
            return state
        del self._pending[client_order_id]
        qty = state.remaining
        if behaviour.kind == "partial":
            qty = state.quantity * behaviour.fraction
            if not self.supports_fractional:
                qty = float(math.floor(qty + EPS))
        return self.ledger.fill(client_order_id, qty, quote)
