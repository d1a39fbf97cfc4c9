"""`IbkrAdapter`: Interactive Brokers (TWS / IB Gateway) through nanobook's `IbkrBroker`.

nanobook (0.19.2) speaks integer cents and whole shares; this adapter converts to the dollars and
float share counts of `base.Broker`, and adds what nanobook's Python class does not offer.

**Whole shares only.** A fractional quantity is rejected (`FRACTIONAL_NOT_SUPPORTED`) without
calling IB. Limit prices go out in cents, rounded in the trader's favour (a buy limit down, a
sell limit up).

**No shorts.** IB lets a margin account sell what it does not hold, so the adapter refuses a sell
larger than the position minus the open sells it knows of (status `"rejected"`, reason says
"short selling is not supported").

**Client order ids.** IB's own order ids are integers. The adapter keeps a map, client order id ->
the request, IB order id, API client id and last known state, in a JSON file (mode 0600, atomic
writes) given to the constructor. The entry is written *before* `submit_order` is called and
completed with IB's id before `submit` returns, so a new process recognises every order it sent:
`submit` with a known id returns that order and sends nothing. The client order id also goes to
IB as the order's `orderRef` (as is when it fits IB's 1-36 characters of `[A-Za-z0-9_.-]`, else
`"qtc-"` + 32 hex characters of its SHA-256).

**The crash window.** If the process dies, or the line drops, after the entry was written but
before IB's id came back, the order may or may not be at IB. nanobook cannot find it: its
`order_status` echoes no `orderRef` and its Python class has no `open_orders`. Such an entry is
*unconfirmed*: `order` reports it with status `"new"` and an explanatory reason, and `submit` and
`cancel` of that id raise `BrokerError` asking to check TWS for that `orderRef` (nothing is sent
twice). When nanobook's error says the order was not sent (`not connected`, `failed to get order
id`, `Reconciliation blocked`), the entry is removed instead and the id may be submitted again;
an argument nanobook refuses (`ValueError`, ...) makes the order `"rejected"`.

**Status mapping** (nanobook's `order_status()["status"]`, the Debug name of its `OrderState`,
which nanobook derives from IB's status text):

| nanobook          | IB status text                                      | qtc                |
|-------------------|-----------------------------------------------------|--------------------|
| `Pending`         | -                                                   | `new`              |
| `Submitted`       | Submitted, PreSubmitted, PendingSubmit, ApiPending  | `accepted`         |
| `PartiallyFilled` | (filled > 0 and remaining > 0)                      | `partially_filled` |
| `Filled`          | Filled                                              | `filled`           |
| `Cancelled`       | Cancelled, ApiCancelled, PendingCancel              | `canceled`         |
| `Rejected`        | Inactive                                            | `rejected`         |
| anything else     |                                                     | `accepted` + reason |

An open status with shares filled becomes `partially_filled`. Terminal states are final and
served from the file without asking IB again.

**Known nanobook 0.19.2 limitation.** Its `IbkrBroker.order_status` is a placeholder: for any id
it answers `Submitted` with 0 filled and 0 remaining. The adapter recognises that answer and
reports the order `accepted` with reason `STATUS_UNAVAILABLE`: fills, IB rejects and IB-side
cancels are invisible through nanobook, and `positions()` / `account()` are the only truth. A
successful `cancel` of such an order ends it as `canceled` with reason `CANCELED_UNCONFIRMED`
(it may have filled before the cancel; check positions).

**Errors.** nanobook raises `RuntimeError`; `not connected`, `connection error: ...`, `connection
lost ...` and `reconnect failed ...` become `BrokerDisconnected` (the adapter then needs
`connect()` again), anything else `BrokerError`. A quote without any price (`connection error: no
valid price received`) just leaves the symbol out. Messages are IB's text on one line, cut to
`MAX_MESSAGE` characters; IBKR has no API keys, so nothing secret passes through.

**Other limits.** IB only lets the API client that placed an order cancel it: keep `client_id`
stable (the adapter refuses to cancel an order placed under another client id). `open_orders`
and `cancel_all` cover the orders in the state file, not orders placed in TWS by hand. nanobook
reports positions of every account under the login, by symbol only; two positions with one
symbol (several accounts, or an option on a held stock) are an error. `account_id` is a label,
not an account selector. Cash is IB's `TotalCashValue`, equity its `NetLiquidation`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from qtc.atomic import write_text_atomic
from qtc.errors import UserError
from qtc.live.brokers.base import (
    OPEN_STATUSES,
    Account,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderState,
    OrderStatus,
    Position,
    Side,
    request_problem,
)
from qtc.live.brokers.capabilities import Capabilities
from qtc.manifest.broker import IbkrBroker as IbkrSettings

T = TypeVar("T")

FORMAT_VERSION = 1
"""Version of the order-map file."""

ENV_HOST = "QTC_IBKR_HOST"
ENV_PORT = "QTC_IBKR_PORT"
ENV_CLIENT_ID = "QTC_IBKR_CLIENT_ID"

MAX_CLIENT_ID = 2**31 - 1
"""IB API client ids are 32-bit signed integers."""

MAX_MESSAGE = 300
"""Longest IB error text kept in an exception message."""

MAX_SYMBOL_BYTES = 8
"""nanobook's symbol limit."""

STATUS_MAP: dict[str, OrderStatus] = {
    "Pending": "new",
    "Submitted": "accepted",
    "PartiallyFilled": "partially_filled",
    "Filled": "filled",
    "Cancelled": "canceled",
    "Rejected": "rejected",
}
"""nanobook order status -> qtc order status (see the module docstring)."""

STATUS_UNAVAILABLE = (
    "IBKR order status unavailable: nanobook's order_status reports no fills; "
    "check positions or TWS"
)
CANCELED_UNCONFIRMED = (
    "cancel accepted by IBKR; fills before the cancel are unknown (check positions)"
)
CANCEL_PENDING = "cancel requested, not yet confirmed by IBKR"
REJECTED_BY_IBKR = "rejected by IBKR"
UNCONFIRMED = "unconfirmed: the order may or may not have reached IBKR (submit was interrupted)"

_DISCONNECTED = ("not connected", "connection error", "connection lost", "reconnect failed")
_NOT_SENT = ("not connected", "order error: failed to get order id", "reconciliation blocked")
_NO_PRICE = "no valid price received"
_SAFE_REF = re.compile(r"^[A-Za-z0-9_.-]{1,36}$")
_PORT_HINT = "TWS: 7497 paper, 7496 live; IB Gateway: 4002 paper, 4001 live"


class IbkrClient(Protocol):
    """The calls of nanobook's `IbkrBroker` the adapter uses (all of its public methods)."""

    def connect(self) -> None:
        """Open the TWS / Gateway session."""
        ...

    def disconnect(self) -> None:
        """Close the session."""
        ...

    def positions(self) -> list[dict[str, Any]]:
        """Holdings: symbol, quantity, avg_cost_cents, market_value_cents, ..."""
        ...

    def account(self) -> dict[str, Any]:
        """Balances: equity_cents, buying_power_cents, cash_cents, gross_position_value_cents."""
        ...

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
        """Place an order; return IB's order id."""
        ...

    def order_status(self, order_id: int) -> dict[str, Any]:
        """Status: id, status, filled_quantity, remaining_quantity, avg_fill_price_cents."""
        ...

    def cancel_order(self, order_id: int) -> None:
        """Cancel an order."""
        ...

    def quote(self, symbol: str) -> dict[str, Any]:
        """Snapshot: symbol, bid_cents, ask_cents, last_cents, volume."""
        ...


@dataclass(slots=True)
class _Entry:
    """One order of the map.

    `broker_order_id` is None for an order refused locally (`state` set) or unconfirmed
    (`state` None).
    """

    request: OrderRequest
    order_ref: str
    client_id: int
    broker_order_id: int | None = None
    state: OrderState | None = None
    cancel_requested: bool = False


def order_ref(client_order_id: str) -> str:
    """The `orderRef` IB gets for a client order id (nanobook allows 1-36 safe characters)."""
    if _SAFE_REF.match(client_order_id):
        return client_order_id
    return "qtc-" + hashlib.sha256(client_order_id.encode("utf-8")).hexdigest()[:32]


def clean_message(text: str) -> str:
    """IB's error text on one line, at most `MAX_MESSAGE` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 3] + "..."


def dollars(value: object, field: str) -> float:
    """Integer cents from nanobook as dollars.

    Raises:
        BrokerError: The value is not an integer (nanobook's API changed).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise BrokerError(f"IBKR returned a non-integer cents value for {field}: {value!r}")
    return value / 100.0


def limit_cents(price: float, side: Side) -> int:
    """A limit price in whole cents, rounded in the trader's favour (buys down, sells up)."""
    raw = price * 100.0
    return math.floor(raw + 1e-6) if side == "buy" else math.ceil(raw - 1e-6)


def local_reject_reason(order: OrderRequest) -> str:
    """Why an order is refused before reaching IB (`""` if it may be sent)."""
    problem = request_problem(order, fractional=False)
    if problem:
        return problem
    if order.order_type == "limit" and limit_cents(order.limit_price or 0.0, order.side) <= 0:
        return "a limit order needs a positive limit price"
    if not order.symbol or len(order.symbol.encode("utf-8")) > MAX_SYMBOL_BYTES:
        return f"symbol {order.symbol!r} is not 1 to {MAX_SYMBOL_BYTES} bytes (nanobook's limit)"
    return ""


def map_status(
    data: Mapping[str, Any], *, cancel_requested: bool = False
) -> tuple[OrderStatus, float, float | None, str]:
    """Map nanobook's `order_status` dict to status, filled shares, average price and reason."""
    raw = str(data.get("status"))
    filled = _whole(data.get("filled_quantity"), "filled_quantity")
    remaining = _whole(data.get("remaining_quantity"), "remaining_quantity")
    status = STATUS_MAP.get(raw)
    reason = ""
    if status is None:
        status, reason = "accepted", f"unrecognized IBKR status {clean_message(raw)!r}"
    elif raw == "Submitted" and filled == 0 and remaining == 0:
        reason = STATUS_UNAVAILABLE
    elif status == "rejected":
        reason = REJECTED_BY_IBKR
    if status in ("new", "accepted") and filled > 0:
        status = "partially_filled"
    if cancel_requested and status in OPEN_STATUSES and not reason:
        reason = CANCEL_PENDING
    avg = dollars(data.get("avg_fill_price_cents"), "avg_fill_price_cents") if filled else None
    return status, float(filled), avg, reason


def _whole(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BrokerError(f"IBKR returned a non-integer share count for {field}: {value!r}")
    return value


def quote_price(data: Mapping[str, Any]) -> float | None:
    """Last price, else the bid/ask midpoint, else None (nanobook uses 0 for a missing price)."""
    last = dollars(data.get("last_cents", 0), "last_cents")
    if last > 0:
        return last
    bid = dollars(data.get("bid_cents", 0), "bid_cents")
    ask = dollars(data.get("ask_cents", 0), "ask_cents")
    if bid > 0 and ask > 0:
        return (bid + ask) / 2.0
    return None


def _nanobook_client(host: str, port: int, client_id: int) -> IbkrClient:
    import nanobook

    client: IbkrClient = nanobook.IbkrBroker(host, port, client_id)
    return client


class IbkrAdapter:
    """Interactive Brokers behind `base.Broker`, over nanobook's `IbkrBroker`.

    Attributes:
        name: `"ibkr"`.
        capabilities: A real market, IB's quotes, whole shares.
        supports_fractional: `False` (IB API orders here are whole shares).
        path: The order-map file.
        host: TWS / Gateway host.
        port: TWS / Gateway port.
        client_id: IB API client id.
        account_id: Label reported by `account()`.
    """

    name = "ibkr"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fractional=False, prices="broker_quotes", persistence="remote", simulated=False
    )
    supports_fractional = False

    def __init__(
        self,
        path: Path,
        *,
        client: IbkrClient | None = None,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        account_id: str = "ibkr",
    ) -> None:
        """Create a disconnected adapter.

        Args:
            path: The order-map file (created on the first order).
            client: A nanobook `IbkrBroker` or a stand-in; default: a new
                `nanobook.IbkrBroker(host, port, client_id)`, made on `connect`.
            host: TWS / Gateway host.
            port: TWS / Gateway port.
            client_id: IB API client id (keep it stable: only that client can cancel).
            account_id: Label for `Account.account_id`.
        """
        self.path = Path(path)
        self.host = host
        self.port = port
        self.client_id = client_id
        self.account_id = account_id
        self._client = client
        self._connected = False

    # -- Broker protocol -----------------------------------------------------------------------

    def connect(self) -> None:
        """Open the session (idempotent); also checks the order-map file is readable."""
        if self._connected:
            return
        self._load()
        if self._client is None:
            self._client = _nanobook_client(self.host, self.port, self.client_id)
        try:
            self._client.connect()
        except RuntimeError as exc:
            raise BrokerDisconnected(
                f"cannot connect to IBKR at {self.host}:{self.port} (client id "
                f"{self.client_id}): {clean_message(str(exc))}",
                hint=f"start TWS or IB Gateway with API socket clients enabled ({_PORT_HINT})",
            ) from exc
        self._connected = True

    def disconnect(self) -> None:
        """Close the session (idempotent)."""
        if not self._connected:
            return
        self._connected = False
        if self._client is not None:
            with contextlib.suppress(RuntimeError):  # the session is gone either way
                self._client.disconnect()

    def account(self) -> Account:
        """Return cash (IB TotalCashValue) and equity (IB NetLiquidation)."""
        data = self._call("account", lambda c: c.account())
        return Account(
            account_id=self.account_id,
            cash=dollars(data.get("cash_cents"), "cash_cents"),
            equity=dollars(data.get("equity_cents"), "equity_cents"),
        )

    def positions(self) -> list[Position]:
        """Return the non-zero holdings, sorted by symbol."""
        rows = self._call("positions", lambda c: c.positions())
        held: dict[str, Position] = {}
        for row in rows:
            symbol = str(row.get("symbol"))
            quantity = _whole(row.get("quantity"), "quantity")
            if quantity == 0:
                continue
            if symbol in held:
                raise BrokerError(
                    f"IBKR reports several positions for {symbol}",
                    hint="several accounts or a non-stock contract under one symbol: "
                    "qtc cannot tell them apart through nanobook",
                )
            avg = dollars(row.get("avg_cost_cents"), "avg_cost_cents")
            held[symbol] = Position(symbol, float(quantity), avg)
        return [held[s] for s in sorted(held)]

    def quotes(self, symbols: list[str]) -> dict[str, float]:
        """Return the last price (else the bid/ask mid) of each symbol that has one."""
        self._require("quotes")
        out: dict[str, float] = {}
        for symbol in dict.fromkeys(symbols):
            price = self._quote(symbol)
            if price is not None:
                out[symbol] = price
        return out

    def submit(self, order: OrderRequest) -> OrderState:
        """Send an order, or return the known order with the same `client_order_id`."""
        self._require("submit")
        entries = self._load()
        known = entries.get(order.client_order_id)
        if known is not None:
            return self._existing(known, order, entries)
        reason = local_reject_reason(order) or self._short_reason(order, entries)
        if reason:
            return self._reject(order, reason, entries)
        return self._send(order, entries)

    def order(self, client_order_id: str) -> OrderState | None:
        """Return the order's current state, or None if this adapter never sent it."""
        self._require("order")
        entries = self._load()
        entry = entries.get(client_order_id)
        return None if entry is None else self._state(client_order_id, entry, entries)

    def open_orders(self) -> list[OrderState]:
        """Return the orders of the map that may still fill, in submission order."""
        self._require("open_orders")
        return self._open_states(self._load())

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order; a closed order's state is returned unchanged.

        Raises:
            BrokerError: The id is unknown, unconfirmed, or placed by another API client.
        """
        self._require("cancel")
        entries = self._load()
        entry = entries.get(client_order_id)
        if entry is None:
            raise BrokerError(f"unknown order {client_order_id!r}")
        return self._cancel(client_order_id, entry, entries)

    def cancel_all(self) -> list[OrderState]:
        """Cancel every open order of the map and return their new states.

        Raises:
            BrokerError: Some orders are unconfirmed (raised after canceling the others).
        """
        self._require("cancel_all")
        entries = self._load()
        out: list[OrderState] = []
        unconfirmed: list[str] = []
        for state in self._open_states(entries):
            coid = state.client_order_id
            if entries[coid].broker_order_id is None:
                unconfirmed.append(coid)
            else:
                out.append(self._cancel(coid, entries[coid], entries))
        if unconfirmed:
            raise BrokerError(
                f"cannot cancel unconfirmed orders {', '.join(map(repr, unconfirmed))}",
                hint=self._unconfirmed_hint(unconfirmed[0], entries[unconfirmed[0]]),
            )
        return out

    # -- orders --------------------------------------------------------------------------------

    def _existing(
        self, entry: _Entry, order: OrderRequest, entries: dict[str, _Entry]
    ) -> OrderState:
        known = entry.request
        if known != order:
            raise BrokerError(
                f"client order id {order.client_order_id!r} was already used for a different "
                f"order ({known.side} {known.quantity:g} {known.symbol})"
            )
        if entry.broker_order_id is None and entry.state is None:
            raise BrokerError(
                f"order {order.client_order_id!r} is unconfirmed: it may have reached IBKR",
                hint=self._unconfirmed_hint(order.client_order_id, entry),
            )
        return self._state(order.client_order_id, entry, entries)

    def _reject(self, order: OrderRequest, reason: str, entries: dict[str, _Entry]) -> OrderState:
        state = OrderState(
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
        entries[order.client_order_id] = _Entry(
            order, order_ref(order.client_order_id), self.client_id, state=state
        )
        self._save(entries)
        return state

    def _send(self, order: OrderRequest, entries: dict[str, _Entry]) -> OrderState:
        coid = order.client_order_id
        entry = _Entry(order, order_ref(coid), self.client_id)
        entries[coid] = entry
        self._save(entries)  # the intent is on disk before IB hears of the order
        try:
            broker_id = self._call("submit", lambda c: self._submit_order(c, entry))
        except (ValueError, TypeError, OverflowError) as exc:
            return self._reject(order, f"refused by nanobook: {clean_message(str(exc))}", entries)
        except BrokerError as exc:
            if not _not_sent(exc):
                raise type(exc)(
                    f"{exc.message} (order {coid!r} may have reached IBKR)",
                    hint=self._unconfirmed_hint(coid, entry),
                ) from exc
            del entries[coid]
            self._save(entries)
            raise
        entry.broker_order_id = int(broker_id)
        self._save(entries)
        return self._state(coid, entry, entries)

    def _submit_order(self, client: IbkrClient, entry: _Entry) -> int:
        order = entry.request
        limit = None
        if order.order_type == "limit" and order.limit_price is not None:
            limit = limit_cents(order.limit_price, order.side)
        return client.submit_order(
            order.symbol,
            order.side,
            round(order.quantity),
            order_type=order.order_type,
            limit_price_cents=limit,
            client_order_id=entry.order_ref,
        )

    def _state(self, coid: str, entry: _Entry, entries: dict[str, _Entry]) -> OrderState:
        """The order's state: stored if final, else asked from IB (and stored if changed)."""
        if entry.broker_order_id is None:
            return entry.state or self._unconfirmed_state(coid, entry)
        if entry.state is not None and not entry.state.is_open:
            return entry.state
        broker_id = entry.broker_order_id
        data = self._call("order", lambda c: c.order_status(broker_id))
        status, filled, avg, reason = map_status(data, cancel_requested=entry.cancel_requested)
        state = OrderState(
            client_order_id=coid,
            broker_order_id=str(broker_id),
            symbol=entry.request.symbol,
            side=entry.request.side,
            quantity=entry.request.quantity,
            filled_quantity=filled,
            avg_fill_price=avg,
            status=status,
            reason=reason,
        )
        return self._store(entry, state, entries)

    def _store(self, entry: _Entry, state: OrderState, entries: dict[str, _Entry]) -> OrderState:
        if state != entry.state:
            entry.state = state
            self._save(entries)
        return state

    def _unconfirmed_state(self, coid: str, entry: _Entry) -> OrderState:
        return OrderState(
            client_order_id=coid,
            broker_order_id="",
            symbol=entry.request.symbol,
            side=entry.request.side,
            quantity=entry.request.quantity,
            filled_quantity=0.0,
            avg_fill_price=None,
            status="new",
            reason=UNCONFIRMED,
        )

    def _open_states(self, entries: dict[str, _Entry]) -> list[OrderState]:
        states = [self._state(coid, entry, entries) for coid, entry in list(entries.items())]
        return [s for s in states if s.is_open]

    def _short_reason(self, order: OrderRequest, entries: dict[str, _Entry]) -> str:
        """Why a sell would go short (`""` if it would not, and for buys)."""
        if order.side != "sell":
            return ""
        held = {p.symbol: p.quantity for p in self.positions()}.get(order.symbol, 0.0)
        pending = sum(
            s.remaining
            for s in self._open_states(entries)
            if s.symbol == order.symbol and s.side == "sell"
        )
        available = held - pending
        if order.quantity > available + 1e-9:
            return (
                f"cannot sell {order.quantity:g} {order.symbol}: only {max(available, 0.0):g} "
                "held (short selling is not supported)"
            )
        return ""

    def _cancel(self, coid: str, entry: _Entry, entries: dict[str, _Entry]) -> OrderState:
        state = self._state(coid, entry, entries)
        if not state.is_open:
            return state
        broker_id = entry.broker_order_id
        if broker_id is None:
            raise BrokerError(
                f"cannot cancel unconfirmed order {coid!r}",
                hint=self._unconfirmed_hint(coid, entry),
            )
        if entry.client_id != self.client_id:
            raise BrokerError(
                f"order {coid!r} was placed by IB API client {entry.client_id}; this session is "
                f"client {self.client_id}, and IB lets only the placing client cancel",
                hint="reconnect with that client id, or cancel it in TWS",
            )
        try:
            self._call("cancel", lambda c: c.cancel_order(broker_id))
        except BrokerError as exc:
            if isinstance(exc, BrokerDisconnected) or "cancel rejected" not in exc.message:
                raise
            after = self._state(coid, entry, entries)  # a fill may have won the race
            if after.is_open:
                raise
            return after
        entry.cancel_requested = True
        self._save(entries)
        state = self._state(coid, entry, entries)
        if state.is_open and state.reason == STATUS_UNAVAILABLE:
            state = replace(state, status="canceled", reason=CANCELED_UNCONFIRMED)
            state = self._store(entry, state, entries)
        return state

    def _unconfirmed_hint(self, coid: str, entry: _Entry) -> str:
        return (
            f"look in TWS for an order with orderRef {entry.order_ref!r}; once it is settled, "
            f"remove the entry {coid!r} from {self.path} to use the id again"
        )

    # -- quotes --------------------------------------------------------------------------------

    def _quote(self, symbol: str) -> float | None:
        def run(client: IbkrClient) -> dict[str, Any] | None:
            try:
                return client.quote(symbol)
            except ValueError:
                return None  # a symbol nanobook cannot represent has no price
            except RuntimeError as exc:
                if _NO_PRICE in str(exc):
                    return None
                raise

        data = self._call("quotes", run)
        return None if data is None else quote_price(data)

    # -- calls ---------------------------------------------------------------------------------

    def _require(self, method: str) -> IbkrClient:
        if not self._connected or self._client is None:
            raise BrokerDisconnected(f"IBKR is not connected ({method})")
        return self._client

    def _call(self, method: str, run: Callable[[IbkrClient], T]) -> T:
        client = self._require(method)
        try:
            return run(client)
        except RuntimeError as exc:
            raise self._translate(method, exc) from exc

    def _translate(self, method: str, exc: RuntimeError) -> BrokerError:
        message = clean_message(str(exc))
        if message.lower().startswith(_DISCONNECTED):
            self._connected = False
            return BrokerDisconnected(
                f"IBKR connection lost during {method}: {message}",
                hint="check TWS / IB Gateway, then connect again",
            )
        return BrokerError(f"IBKR {method} failed: {message}")

    # -- persistence ---------------------------------------------------------------------------

    def _load(self) -> dict[str, _Entry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BrokerError(f"cannot read IBKR order map {self.path}: {exc}") from exc
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            return {coid: _entry_from_json(raw) for coid, raw in data["orders"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BrokerError(f"IBKR order map {self.path} is corrupt: {exc}") from exc

    def _save(self, entries: dict[str, _Entry]) -> None:
        data = {
            "version": FORMAT_VERSION,
            "orders": {coid: _entry_to_json(e) for coid, e in entries.items()},
        }
        write_text_atomic(self.path, json.dumps(data, indent=2) + "\n", mode=0o600)


def _not_sent(exc: BrokerError) -> bool:
    """Whether nanobook's error says the order never left this process."""
    text = exc.message.lower()
    return any(marker in text for marker in _NOT_SENT)


def _entry_to_json(entry: _Entry) -> dict[str, Any]:
    return {
        "request": asdict(entry.request),
        "order_ref": entry.order_ref,
        "client_id": entry.client_id,
        "broker_order_id": entry.broker_order_id,
        "state": None if entry.state is None else asdict(entry.state),
        "cancel_requested": entry.cancel_requested,
    }


def _entry_from_json(raw: Mapping[str, Any]) -> _Entry:
    broker_id = raw["broker_order_id"]
    return _Entry(
        request=OrderRequest(**raw["request"]),
        order_ref=str(raw["order_ref"]),
        client_id=int(raw["client_id"]),
        broker_order_id=None if broker_id is None else int(broker_id),
        state=None if raw["state"] is None else OrderState(**raw["state"]),
        cancel_requested=bool(raw.get("cancel_requested", False)),
    )


# -- settings ------------------------------------------------------------------------------------


def from_settings(
    section: IbkrSettings, environ: Mapping[str, str], state_path: Path
) -> IbkrAdapter:
    """Build a disconnected adapter from the strategy's `[broker]` section and the environment.

    `QTC_IBKR_HOST`, `QTC_IBKR_PORT` and `QTC_IBKR_CLIENT_ID` override the section's `host`,
    `port` and `client_id`.

    Args:
        section: The `[broker]` section (`kind = "ibkr"`).
        environ: Environment variables.
        state_path: The order-map file.

    Raises:
        UserError: An override is malformed, or the client id does not fit IB's 32 bits.
    """
    host = _env_host(environ.get(ENV_HOST), section.host)
    port = _env_int(environ.get(ENV_PORT), section.port, ENV_PORT, 1, 65535, "a port, e.g. 7497")
    client_id = _env_int(
        environ.get(ENV_CLIENT_ID),
        section.client_id,
        ENV_CLIENT_ID,
        0,
        MAX_CLIENT_ID,
        f"a whole number from 0 to {MAX_CLIENT_ID}, e.g. 1",
    )
    if client_id > MAX_CLIENT_ID:
        raise UserError(
            f"[broker] client_id {client_id} is too large",
            hint=f"IB API client ids go from 0 to {MAX_CLIENT_ID}",
        )
    return IbkrAdapter(
        state_path,
        host=host,
        port=port,
        client_id=client_id,
        account_id=section.account or "ibkr",
    )


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _env_host(value: str | None, default: str) -> str:
    if value is None:
        return default
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        raise UserError(
            f"{ENV_HOST}={_shown(value)} is not a host name",
            hint=f"set {ENV_HOST} to a host name or IP address, e.g. 127.0.0.1",
        )
    return value


def _env_int(value: str | None, default: int, name: str, low: int, high: int, expected: str) -> int:
    if value is None:
        return default
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise UserError(
            f"{name}={_shown(value)} is not valid",
            hint=f"set {name} to {expected} (from {low} to {high})",
        )
    return int(text)
