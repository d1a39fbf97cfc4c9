"""`AlpacaBroker`: the broker protocol over Alpaca's REST API, through the official `alpaca-py`.

Every call goes through `alpaca-py`'s `TradingClient` (account, positions, orders) and
`StockHistoricalDataClient` (latest trades as quotes). The paper-trading endpoint is the default;
`trading_url` / `data_url` point the clients elsewhere (a fake server in tests, a proxy).

Orders are day orders, market or limit, with fractional quantities unless `fractional=False`.

Idempotency (see `base`): `submit` first looks the client order id up at Alpaca
(`GET /v2/orders:by_client_order_id`). A known id returns that order's state (or raises
`BrokerError` when the symbol, side, quantity, type or limit differ); only an unknown id is
sent. Alpaca answers 422 to a duplicate client order id (a concurrent submit between the lookup
and the send): the adapter then reads the existing order and treats it like a known id.

Refusals are states, not exceptions. An order Alpaca refuses when it is sent (HTTP 403 or 422
with an Alpaca error code: insufficient buying power, fractional trading not enabled, unknown
asset, ...) comes back with status `"rejected"` and Alpaca's message as `reason`; so does an
order the adapter refuses before sending it (non-positive quantity, fractional quantity on a
whole-share broker, limit order without a limit price, a sell of more shares than are available:
qtc never opens shorts, even on a margin account that could). Alpaca keeps no record of either,
so the adapter remembers them for the life of the object: `order` and `submit` of that id then
return the same rejected state (a new process asks Alpaca again, which is safe: nothing was sent).

Status mapping (Alpaca -> `base.OrderStatus`):

==========================================================  =========================
Alpaca status                                               qtc status
==========================================================  =========================
`new`                                                       `new`
`accepted`, `pending_new`, `accepted_for_bidding`,          `accepted`
`pending_review`, `held`, `stopped`, `suspended`,
`pending_cancel`, `pending_replace` (still may fill)
any of the above once part of the order filled              `partially_filled`
`partially_filled`                                          `partially_filled`
`filled`                                                    `filled`
`canceled`, `expired`, `done_for_day`, `replaced`           `canceled`
`calculated` (closed for the day)                           `filled` if fully filled,
                                                            else `canceled`
`rejected`                                                  `rejected`
==========================================================  =========================

Errors: connection failures and timeouts (`requests` errors, which are `OSError`s) and HTTP
5xx answers raise `BrokerDisconnected` and mark the broker disconnected (the outcome of the call
is unknown; `connect()` again and ask). 401, and 403 without an Alpaca error code (Alpaca's
`{"message": "forbidden."}`), are refused credentials: `AlpacaAuthError`. Any other error answer
is an `AlpacaAPIError` (a `BrokerError`) carrying the HTTP status.

Secrets: the key id and secret never appear in a message, hint or `repr` made here: every text
taken from an error is scrubbed of both (replaced by `"<redacted>"`), the original exception is
not chained (`raise ... from None`, raised outside the `except` block), and `repr` shows only
the endpoints and the connection state. Nothing is logged.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from qtc.errors import UserError
from qtc.live.brokers.base import (
    EPS,
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

if TYPE_CHECKING:
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.trading.client import TradingClient
    from alpaca.trading.models import Order

    from qtc.manifest.broker import AlpacaBroker as AlpacaSection

T = TypeVar("T")

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
"""Alpaca's paper-trading endpoint (the default)."""

LIVE_TRADING_URL = "https://api.alpaca.markets"
"""Alpaca's live-trading endpoint (`paper=False`)."""

DATA_URL = "https://data.alpaca.markets"
"""Alpaca's market-data endpoint (paper and live keys both work there)."""

TRADING_URL_ENV = "QTC_ALPACA_TRADING_URL"
"""Environment variable overriding the trading endpoint (tests, proxies)."""

DATA_URL_ENV = "QTC_ALPACA_DATA_URL"
"""Environment variable overriding the market-data endpoint (tests, proxies)."""

REDACTED = "<redacted>"
"""What a secret is replaced with in any text the adapter builds."""

QUOTE_BATCH = 100
"""Symbols per latest-trade request."""

OPEN_ORDERS_LIMIT = 500
"""Alpaca's maximum page of orders; qtc never has more open orders than this."""

_WORKING: dict[str, OrderStatus] = {
    "new": "new",
    "accepted": "accepted",
    "pending_new": "accepted",
    "accepted_for_bidding": "accepted",
    "pending_review": "accepted",
    "held": "accepted",
    "stopped": "accepted",
    "suspended": "accepted",
    "pending_cancel": "accepted",
    "pending_replace": "accepted",
    "partially_filled": "partially_filled",
}
_CLOSED: dict[str, OrderStatus] = {
    "filled": "filled",
    "canceled": "canceled",
    "expired": "canceled",
    "done_for_day": "canceled",
    "replaced": "canceled",
    "rejected": "rejected",
}


class AlpacaAPIError(BrokerError):
    """Alpaca answered with an HTTP error.

    Attributes:
        status: HTTP status code (`None` when unknown).
        code: Alpaca's error code from the body (`None` when absent).
        detail: Alpaca's error message, scrubbed of secrets.
    """

    def __init__(
        self, message: str, *, status: int | None, code: int | None, detail: str, hint: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.detail = detail


class AlpacaAuthError(AlpacaAPIError):
    """Alpaca refused the credentials (401, or 403 without an Alpaca error code)."""


# -- status mapping ------------------------------------------------------------------------------


def map_status(alpaca_status: str, filled: float, quantity: float) -> OrderStatus:
    """Map an Alpaca order status onto `base.OrderStatus` (table in the module docstring).

    Args:
        alpaca_status: Alpaca's status (`"pending_new"`, `"done_for_day"`, ...).
        filled: Shares filled so far.
        quantity: Shares ordered.

    Returns:
        The qtc status; an unknown Alpaca status counts as a working order.
    """
    if alpaca_status in _CLOSED:
        return _CLOSED[alpaca_status]
    if alpaca_status == "calculated":
        return "filled" if filled >= quantity - EPS else "canceled"
    if filled > EPS:
        return "partially_filled"
    return _WORKING.get(alpaca_status, "accepted")


def order_state(order: Order) -> OrderState:
    """Convert an `alpaca-py` order into an `OrderState` (an empty `reason`)."""
    quantity = _number(order.qty)
    filled = _number(order.filled_qty)
    price = _number(order.filled_avg_price) if order.filled_avg_price is not None else None
    return OrderState(
        client_order_id=order.client_order_id,
        broker_order_id=str(order.id),
        symbol=order.symbol or "",
        side=_side(_value(order.side)),
        quantity=quantity,
        filled_quantity=filled,
        avg_fill_price=price if filled > EPS else None,
        status=map_status(_value(order.status), filled, quantity),
    )


def _number(value: str | float | None) -> float:
    return float(value) if value is not None and value != "" else 0.0


def _value(enum_or_str: object) -> str:
    """Return an enum's value (or the string itself)."""
    return str(getattr(enum_or_str, "value", enum_or_str))


def _side(value: str) -> Side:
    if value == "buy":
        return "buy"
    if value == "sell":
        return "sell"
    raise BrokerError(f"Alpaca returned an order with side {value!r}; qtc expects buy or sell")


# -- secrets -------------------------------------------------------------------------------------


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every occurrence of each non-empty secret in `text` with `"<redacted>"`."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _error_body(error: Exception) -> tuple[int | None, str]:
    """Return Alpaca's error code and message from an `APIError` body (JSON or plain text)."""
    text = str(error)
    try:
        body = json.loads(text)
    except ValueError:
        return None, text.strip()[:500]
    if not isinstance(body, dict):
        return None, text.strip()[:500]
    code = body.get("code")
    message = str(body.get("message", text)).strip()
    return (code if isinstance(code, int) else None), message


# -- the adapter ---------------------------------------------------------------------------------


class AlpacaBroker:
    """An Alpaca account (paper by default) behind the `Broker` protocol.

    Attributes:
        name: `"alpaca"`.
        capabilities: A real market (paper or live endpoint), Alpaca's quotes.
        supports_fractional: Whether fractional quantities are sent (Alpaca supports them for
            most US equities; `False` rejects them locally with `FRACTIONAL_NOT_SUPPORTED`).
        paper: Whether the paper-trading endpoint is used (when no `trading_url` is given).
        trading_url: The trading endpoint in use.
        data_url: The market-data endpoint in use.
    """

    name = "alpaca"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fractional=True, prices="broker_quotes", persistence="remote", simulated=False
    )

    def __init__(
        self,
        key_id: str,
        secret_key: str,
        *,
        paper: bool = True,
        trading_url: str | None = None,
        data_url: str | None = None,
        fractional: bool = True,
        account_id: str | None = None,
        timeout: float = 30.0,
        cancel_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a disconnected broker; `connect()` checks the credentials.

        Args:
            key_id: Alpaca API key id.
            secret_key: Alpaca API secret.
            paper: Use the paper-trading endpoint (ignored when `trading_url` is given).
            trading_url: Trading endpoint override (e.g. a fake server), without `/v2`.
            data_url: Market-data endpoint override, without `/v2`.
            fractional: Whether fractional quantities may be sent.
            account_id: If given, `connect()` refuses credentials of another account number.
            timeout: Seconds before an HTTP request counts as a lost connection.
            cancel_wait: Seconds `cancel` waits for Alpaca to confirm a cancel.
            sleep: Sleep function (tests replace it).

        Raises:
            UserError: The key id or the secret is empty.
        """
        if not key_id or not secret_key:
            raise UserError("the Alpaca API key id and secret must not be empty")
        self._secrets = (key_id, secret_key)
        self.paper = paper
        default = PAPER_TRADING_URL if paper else LIVE_TRADING_URL
        self.trading_url = (trading_url or default).rstrip("/")
        self.data_url = (data_url or DATA_URL).rstrip("/")
        self.supports_fractional = fractional
        self._expected_account = account_id
        self._timeout = timeout
        self._cancel_wait = cancel_wait
        self._sleep = sleep
        self._trading: TradingClient | None = None
        self._data: StockHistoricalDataClient | None = None
        self._rejected: dict[str, tuple[OrderRequest, OrderState]] = {}

    def __repr__(self) -> str:
        """Describe the broker without its credentials."""
        return (
            f"AlpacaBroker(paper={self.paper}, trading_url={self.trading_url!r}, "
            f"data_url={self.data_url!r}, connected={self.connected})"
        )

    @property
    def connected(self) -> bool:
        """Whether the session is open."""
        return self._trading is not None

    # -- Broker protocol ---------------------------------------------------------------------

    def connect(self) -> None:
        """Create the clients and check the credentials with an account request (idempotent).

        Raises:
            BrokerDisconnected: Alpaca cannot be reached.
            AlpacaAuthError: Alpaca refused the credentials.
            BrokerError: The account is not the expected `account_id`.
        """
        if self.connected:
            return
        trading, data = make_clients(
            *self._secrets,
            paper=self.paper,
            trading_url=self.trading_url,
            data_url=self.data_url,
            timeout=self._timeout,
        )
        from alpaca.trading.models import TradeAccount

        number = _expect(self._request("connect", trading.get_account), TradeAccount).account_number
        if self._expected_account and number != self._expected_account:
            raise BrokerError(
                f"the Alpaca credentials belong to account {number}, not {self._expected_account}",
                hint="check which keys are exported, or the expected account id",
            )
        self._trading, self._data = trading, data

    def disconnect(self) -> None:
        """Close the session (idempotent); later calls raise `BrokerDisconnected`."""
        for client in (self._trading, self._data):
            session = getattr(client, "_session", None)
            if session is not None:
                session.close()
        self._trading = None
        self._data = None

    def account(self) -> Account:
        """Return cash, equity and the account number."""
        trading = self._session("account")
        from alpaca.trading.models import TradeAccount

        raw = _expect(self._request("account", trading.get_account), TradeAccount)
        cash = _number(raw.cash)
        equity = _number(raw.equity) if raw.equity is not None else cash
        return Account(
            account_id=raw.account_number,
            cash=cash,
            equity=equity,
            currency=raw.currency or "USD",
        )

    def positions(self) -> list[Position]:
        """Return the holdings sorted by symbol.

        Raises:
            BrokerError: The account holds a short position (qtc manages long-only accounts).
        """
        trading = self._session("positions")
        raw = _expect(self._request("positions", trading.get_all_positions), list)
        out = []
        for item in raw:
            quantity = _number(item.qty)
            if quantity < 0 or _value(item.side) == "short":
                raise BrokerError(
                    f"the Alpaca account holds a short position in {item.symbol} "
                    f"({quantity:g} shares); qtc manages long-only accounts",
                    hint="close the short position before running qtc on this account",
                )
            if quantity > EPS:
                out.append(Position(item.symbol, quantity, _number(item.avg_entry_price)))
        return sorted(out, key=lambda p: p.symbol)

    def quotes(self, symbols: list[str]) -> dict[str, float]:
        """Return the latest trade price of each symbol; symbols without one are left out."""
        self._session("quotes")
        wanted = list(dict.fromkeys(symbols))
        prices: dict[str, float] = {}
        for start in range(0, len(wanted), QUOTE_BATCH):
            prices.update(self._latest_trades(wanted[start : start + QUOTE_BATCH]))
        return {s: prices[s] for s in wanted if s in prices}

    def submit(self, order: OrderRequest) -> OrderState:
        """Send an order, or return the known order with the same client order id.

        Raises:
            BrokerError: The client order id was used for a different order, or Alpaca failed.
            BrokerDisconnected: Alpaca could not be reached (the order may have been sent).
        """
        self._session("submit")
        remembered = self._remembered(order)
        if remembered is not None:
            return remembered
        found = self._lookup(order.client_order_id)
        if found is not None:
            return _same_order(order, found)
        reason = self._refusal(order)
        if reason:
            return self._reject(order, reason)
        return self._place(order)

    def order(self, client_order_id: str) -> OrderState | None:
        """Return the order's state, or `None` if neither Alpaca nor this object knows the id."""
        self._session("order")
        if client_order_id in self._rejected:
            return self._rejected[client_order_id][1]
        found = self._lookup(client_order_id)
        return order_state(found) if found is not None else None

    def open_orders(self) -> list[OrderState]:
        """Return the orders that may still fill, oldest first."""
        self._session("open_orders")
        states = [order_state(o) for o in self._open_alpaca_orders()]
        return [s for s in states if s.is_open]

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order and wait (up to `cancel_wait`) for Alpaca to confirm it.

        A closed order's state is returned unchanged.

        Raises:
            BrokerError: The id is unknown.
        """
        self._session("cancel")
        if client_order_id in self._rejected:
            return self._rejected[client_order_id][1]
        found = self._lookup(client_order_id)
        if found is None:
            raise BrokerError(f"unknown order {client_order_id!r}")
        return self._cancel_found(found)

    def cancel_all(self) -> list[OrderState]:
        """Cancel every open order and return their new states."""
        self._session("cancel_all")
        found = [o for o in self._open_alpaca_orders() if order_state(o).is_open]
        return [self._cancel_found(o) for o in found]

    # -- internals: orders ---------------------------------------------------------------------

    def _remembered(self, order: OrderRequest) -> OrderState | None:
        """Return the remembered rejected state of this id (checking it is the same order)."""
        known = self._rejected.get(order.client_order_id)
        if known is None:
            return None
        request, state = known
        if request != order:
            raise _reused(order.client_order_id, request.side, request.quantity, request.symbol)
        return state

    def _lookup(self, client_order_id: str) -> Order | None:
        """Return Alpaca's order with this client id, or `None` when Alpaca answers 404."""
        trading = self._session("order")
        from alpaca.trading.models import Order

        try:
            raw = self._request("order", lambda: trading.get_order_by_client_id(client_order_id))
        except AlpacaAPIError as exc:
            if exc.status == 404:
                return None
            raise
        return _expect(raw, Order)

    def _refusal(self, order: OrderRequest) -> str:
        """Return why the adapter refuses to send the order, or `""`."""
        qty = order.quantity
        problem = request_problem(order, fractional=self.supports_fractional)
        if problem:
            return problem
        if order.side == "sell":
            available = self._available_to_sell(order.symbol)
            if qty > available + EPS:
                return (
                    f"cannot sell {qty:g} {order.symbol}: only {max(available, 0.0):g} "
                    "available (short selling is not supported)"
                )
        return ""

    def _available_to_sell(self, symbol: str) -> float:
        """Shares of `symbol` held and not already committed to open sell orders."""
        trading = self._session("submit")
        from alpaca.trading.models import Position as AlpacaPosition

        try:
            raw = self._request("submit", lambda: trading.get_open_position(symbol))
        except AlpacaAPIError as exc:
            if exc.status == 404:
                return 0.0
            raise
        position = _expect(raw, AlpacaPosition)
        if _value(position.side) == "short":
            return 0.0
        available = position.qty_available
        return _number(available if available is not None else position.qty)

    def _reject(self, order: OrderRequest, reason: str) -> OrderState:
        """Record and return a rejected state for an order Alpaca has no record of."""
        state = OrderState.rejected(order, reason)
        self._rejected[order.client_order_id] = (order, state)
        return state

    def _place(self, order: OrderRequest) -> OrderState:
        """Send a new order; Alpaca's refusal becomes a rejected state, a duplicate a lookup."""
        trading = self._session("submit")
        from alpaca.trading.models import Order

        request = _alpaca_request(order)
        try:
            placed = self._request("submit", lambda: trading.submit_order(request))
        except AlpacaAuthError:
            raise
        except AlpacaAPIError as exc:
            if exc.status == 422:
                found = self._lookup(order.client_order_id)
                if found is not None:
                    return _same_order(order, found)
            if exc.status in (403, 422):
                return self._reject(order, f"Alpaca refused the order: {exc.detail}")
            raise
        return order_state(_expect(placed, Order))

    def _open_alpaca_orders(self) -> list[Order]:
        trading = self._session("open_orders")
        from alpaca.common.enums import Sort
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        query = GetOrdersRequest(
            status=QueryOrderStatus.OPEN,
            limit=OPEN_ORDERS_LIMIT,
            direction=Sort.ASC,
            nested=False,
        )
        return _expect(self._request("open_orders", lambda: trading.get_orders(query)), list)

    def _cancel_found(self, found: Order) -> OrderState:
        """Cancel an order Alpaca knows (if open) and return its settled state."""
        state = order_state(found)
        if not state.is_open:
            return state
        trading = self._session("cancel")
        try:
            self._request("cancel", lambda: trading.cancel_order_by_id(found.id))
        except AlpacaAPIError as exc:
            if exc.status != 422:  # 422: no longer cancelable (it filled meanwhile)
                raise
        return self._settle(found)

    def _settle(self, found: Order) -> OrderState:
        """Re-read a canceled order until Alpaca reports it closed (or `cancel_wait` passes)."""
        trading = self._session("cancel")
        from alpaca.trading.models import Order

        deadline = time.monotonic() + self._cancel_wait
        while True:
            raw = self._request("cancel", lambda: trading.get_order_by_id(found.id))
            state = order_state(_expect(raw, Order))
            if not state.is_open or time.monotonic() >= deadline:
                return state
            self._sleep(0.2)

    def _latest_trades(self, symbols: list[str]) -> dict[str, float]:
        if not symbols:
            return {}
        data = self._data
        if data is None:
            raise BrokerDisconnected("Alpaca broker is not connected (quotes)")
        from alpaca.data.requests import StockLatestTradeRequest

        request = StockLatestTradeRequest(symbol_or_symbols=symbols)
        trades = _expect(
            self._request("quotes", lambda: data.get_stock_latest_trade(request)), dict
        )
        prices = {s: float(t.price) for s, t in trades.items()}
        return {s: p for s, p in prices.items() if math.isfinite(p) and p > 0}

    # -- internals: transport --------------------------------------------------------------------

    def _session(self, method: str) -> TradingClient:
        """Return the trading client, or raise `BrokerDisconnected` when not connected."""
        if self._trading is None:
            raise BrokerDisconnected(f"Alpaca broker is not connected ({method})")
        return self._trading

    def _request(self, method: str, call: Callable[[], T]) -> T:
        """Run one `alpaca-py` call, translating its failures into qtc's broker errors."""
        from alpaca.common.exceptions import APIError

        error: BrokerError
        try:
            return call()
        except APIError as exc:
            error = self._api_failure(method, exc)
        except OSError as exc:  # requests' ConnectionError, Timeout, ... are OSErrors
            error = self._transport_failure(method, exc)
        except ValueError as exc:  # pydantic could not parse the answer
            error = BrokerError(
                f"Alpaca {method}: unexpected answer ({self._scrub(str(exc))[:300]})"
            )
        raise error from None

    def _api_failure(self, method: str, exc: Exception) -> BrokerError:
        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else None
        code, message = _error_body(exc)
        detail = self._scrub(message)
        where = f"Alpaca {method} failed (HTTP {status}): {detail}"
        if status is not None and status >= 500:
            self.disconnect()
            return BrokerDisconnected(f"Alpaca is unavailable: {where}")
        if status == 401 or (status == 403 and code is None):
            return AlpacaAuthError(
                f"Alpaca refused the request (credentials or permissions): {where}",
                status=status,
                code=code,
                detail=detail,
                hint="check the exported Alpaca key id and secret (paper keys for paper = true)",
            )
        return AlpacaAPIError(where, status=status, code=code, detail=detail)

    def _transport_failure(self, method: str, exc: OSError) -> BrokerDisconnected:
        self.disconnect()
        text = self._scrub(f"{type(exc).__name__}: {exc}")
        return BrokerDisconnected(f"cannot reach Alpaca during {method}: {text}")

    def _scrub(self, text: str) -> str:
        return redact(text, self._secrets)


# -- helpers -------------------------------------------------------------------------------------


def make_clients(
    key_id: str,
    secret_key: str,
    *,
    paper: bool = True,
    trading_url: str | None = None,
    data_url: str | None = None,
    timeout: float = 30.0,
) -> tuple[TradingClient, StockHistoricalDataClient]:
    """Build the `alpaca-py` trading and market-data clients (no request is made).

    Args:
        key_id: Alpaca API key id.
        secret_key: Alpaca API secret.
        paper: Use the paper-trading endpoint when `trading_url` is not given.
        trading_url: Trading endpoint override.
        data_url: Market-data endpoint override.
        timeout: Seconds before a request times out (`alpaca-py` sets none).

    Returns:
        The trading client and the stock market-data client.
    """
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.trading.client import TradingClient

    trading = TradingClient(key_id, secret_key, paper=paper, url_override=trading_url)
    data = StockHistoricalDataClient(key_id, secret_key, url_override=data_url)
    for client in (trading, data):
        _set_timeout(client, timeout)
    return trading, data


def _set_timeout(client: object, seconds: float) -> None:
    """Give every request of an `alpaca-py` client a timeout (its `requests` session has none)."""
    session = getattr(client, "_session", None)
    if session is not None:
        session.request = functools.partial(session.request, timeout=seconds)


def _alpaca_request(order: OrderRequest) -> Any:
    """Build the `alpaca-py` order request: market or limit, day, with the client order id."""
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

    fields: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": round(order.quantity, 9),
        "side": OrderSide.BUY if order.side == "buy" else OrderSide.SELL,
        "time_in_force": TimeInForce.DAY,
        "client_order_id": order.client_order_id,
    }
    if order.order_type == "limit":
        return LimitOrderRequest(limit_price=order.limit_price, **fields)
    return MarketOrderRequest(**fields)


Spec = tuple[str, str, float, str, float | None]


def _spec(order: OrderRequest) -> Spec:
    limit = order.limit_price if order.order_type == "limit" else None
    return (order.symbol, order.side, order.quantity, order.order_type, limit)


def _alpaca_spec(found: Order) -> Spec:
    kind = _value(found.order_type or found.type)
    limit = _number(found.limit_price) if kind == "limit" else None
    return (found.symbol or "", _value(found.side), _number(found.qty), kind, limit)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-6)


def _same_order(order: OrderRequest, found: Order) -> OrderState:
    """Return the known order's state, or raise if the id was used for a different order."""
    mine, theirs = _spec(order), _alpaca_spec(found)
    same = (
        mine[0] == theirs[0]
        and mine[1] == theirs[1]
        and mine[3] == theirs[3]
        and _close(mine[2], theirs[2])
        and _close(mine[4], theirs[4])
    )
    if not same:
        raise _reused(order.client_order_id, theirs[1], theirs[2], theirs[0])
    return order_state(found)


def _reused(client_order_id: str, side: str, quantity: float, symbol: str) -> BrokerError:
    return BrokerError(
        f"client order id {client_order_id!r} was already used for a different order "
        f"({side} {quantity:g} {symbol})"
    )


def _expect(value: object, kind: type[T]) -> T:
    """Return `value` if it has the expected type (`alpaca-py` may return raw data)."""
    if not isinstance(value, kind):
        raise BrokerError(f"unexpected answer from Alpaca: {type(value).__name__}")
    return value


def from_settings(section: AlpacaSection, environ: Mapping[str, str]) -> AlpacaBroker:
    """Build the broker from the `[broker]` section and the environment.

    The key id and secret come from the variables the section names; `QTC_ALPACA_TRADING_URL`
    and `QTC_ALPACA_DATA_URL` (optional) override the endpoints.

    Args:
        section: The strategy's `[broker]` section with `kind = "alpaca"`.
        environ: The environment (usually `os.environ`).

    Raises:
        UserError: A credential variable is missing or empty (the message names the variable,
            never a value).
    """
    key_id = _credential(environ, section.key_id_env, "API key id")
    secret = _credential(environ, section.secret_key_env, "API secret")
    return AlpacaBroker(
        key_id,
        secret,
        paper=section.paper,
        trading_url=environ.get(TRADING_URL_ENV) or None,
        data_url=environ.get(DATA_URL_ENV) or None,
    )


def _credential(environ: Mapping[str, str], variable: str, what: str) -> str:
    value = environ.get(variable, "").strip()
    if not value:
        raise UserError(
            f"the Alpaca {what} is missing: environment variable {variable} is not set",
            hint=f"export {variable}=... (the {what} from your Alpaca dashboard; "
            "paper-trading keys while paper = true)",
        )
    return value
