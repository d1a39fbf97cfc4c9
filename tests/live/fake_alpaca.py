"""A stateful fake of the Alpaca REST endpoints `AlpacaBroker` uses, on a real local HTTP server.

`FakeAlpacaServer` runs a `pytest_httpserver.HTTPServer` and serves any number of fake accounts,
each selected by its API key id like the real service (one server, many accounts): a request
without the `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` headers gets 401, an unknown key or a
wrong secret 403 `{"message": "forbidden."}`. Each `FakeAccount` keeps its cash, positions,
orders and fills in a `qtc.live.brokers.mock.Ledger` and answers with the JSON shapes of
Alpaca's API, so the real `alpaca-py` client parses them:

* `GET /v2/account`, `GET /v2/positions`, `GET /v2/positions/{symbol}` (404 when none).
* `POST /v2/orders` (market or limit, day): 422 on a duplicate `client_order_id`; refusals as
  Alpaca words them (403 insufficient buying power / qty available / fractional not enabled,
  422 unknown asset or bad request). A marketable order fills at once at the fake's price
  (plus `slippage_bps`); a non-marketable limit order, or any order in a `rest()`-ed symbol,
  stays open (`new`) and is filled by `set_price` / `fill`.
* `GET /v2/orders` (status, limit, direction, symbols, side), `GET /v2/orders/{id}`,
  `GET /v2/orders:by_client_order_id`, `DELETE /v2/orders/{id}` (204; 422 once closed).
* `GET /v2/stocks/trades/latest?symbols=...` (unknown symbols left out).

Scripting: `rest(symbol)`, `fill(cid, qty)`, `set_price`, `force_status(cid, status)`,
`hide_once(cid)` (the next lookup by client id answers 404, as in a race), `fail_next(status,
body, method=)` (the account's next request, of that method, gets this answer), `cancel_delay`
(reads of an order that stay `pending_cancel` after a cancel).

`alpaca_factory` is the broker-contract factory: a fresh account on a shared server started on
first use and stopped at interpreter exit.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hmac
import itertools
import json
import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from qtc.live.brokers.alpaca import AlpacaBroker
from qtc.live.brokers.base import FRACTIONAL_NOT_SUPPORTED, Broker, OrderRequest, Position
from qtc.live.brokers.mock import Ledger

CASH = 100_000.0
PRICES = {"AAA": 100.0, "BBB": 50.0}
"""The contract's account (kept equal to `test_broker_contract.CASH` / `PRICES`)."""

CLOSED = frozenset({"filled", "canceled", "expired", "rejected", "done_for_day", "replaced"})
"""Alpaca statuses of orders that can no longer fill or be canceled."""

_LEDGER_TO_ALPACA = {
    "new": "new",
    "accepted": "new",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "canceled",
    "rejected": "rejected",
}

Params = dict[str, str]
Handler = Callable[["FakeAccount", Request, Params], Response]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def _num(value: float) -> str:
    """A number as Alpaca sends it: a decimal string."""
    return repr(float(value))


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, message: str, code: int | None = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["code"] = code
    return _json(status, body)


def _asset_id(symbol: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-alpaca/{symbol}"))


class FakeAccount:
    """One fake Alpaca account: credentials, a `Ledger`, prices and scripted behaviours."""

    def __init__(
        self,
        *,
        key_id: str,
        secret_key: str,
        account_number: str,
        cash: float = CASH,
        prices: dict[str, float] | None = None,
        fractional: bool = True,
        slippage_bps: float = 0.0,
    ) -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self.account_number = account_number
        self.uuid = uuid.uuid4()
        self.prices = dict(PRICES if prices is None else prices)
        self.ledger = Ledger(
            cash=cash,
            fractional=fractional,
            slippage_bps=slippage_bps,
            id_prefix="fake",
            clock=_now,
        )
        self.order_ids: dict[str, uuid.UUID] = {}
        self.created: dict[str, str] = {}
        self.resting: set[str] = set()
        self.forced: dict[str, str] = {}
        self.hidden: set[str] = set()
        self.failures: list[tuple[str | None, int, Any]] = []
        self.cancel_delay = 0
        self._cancel_reads: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []

    # -- scripting -------------------------------------------------------------------------------

    def rest(self, symbol: str) -> None:
        """Orders in `symbol` stay open (`new`) until `fill` is called."""
        self.resting.add(symbol)

    def set_price(self, symbol: str, price: float) -> None:
        """Change a price (open limit orders that become marketable fill on the next request)."""
        self.prices[symbol] = price

    def fill(self, client_order_id: str, quantity: float) -> None:
        """Fill part of an open order at the current price."""
        state = self.ledger.states[client_order_id]
        self.ledger.fill(client_order_id, quantity, self.prices[state.symbol])

    def force_status(self, client_order_id: str, status: str) -> None:
        """Report `status` (an Alpaca status) for the order from now on."""
        self.forced[client_order_id] = status

    def hide_once(self, client_order_id: str) -> None:
        """The next lookup of this client id answers 404 (a submit racing another one)."""
        self.hidden.add(client_order_id)

    def fail_next(self, status: int, body: Any, *, method: str | None = None) -> None:
        """The next authenticated request (of `method`, if given) gets this JSON answer."""
        self.failures.append((method, status, body))

    def take_failure(self, method: str) -> Response | None:
        """Pop and return the first scripted failure for a request of `method`."""
        for i, (wanted, status, body) in enumerate(self.failures):
            if wanted in (None, method):
                del self.failures[i]
                return _json(status, body)
        return None

    def posts(self) -> int:
        """How many `POST /v2/orders` this account received."""
        return sum(1 for method, path in self.requests if (method, path) == ("POST", "/v2/orders"))

    # -- state -----------------------------------------------------------------------------------

    def status(self, cid: str) -> str:
        """The Alpaca status of an order."""
        return self.forced.get(cid) or _LEDGER_TO_ALPACA[self.ledger.states[cid].status]

    def is_open(self, cid: str) -> bool:
        return self.status(cid) not in CLOSED

    def available(self, symbol: str) -> float:
        """Shares held minus those held for open sell orders (Alpaca's `qty_available`)."""
        held = self.ledger.positions.get(symbol)
        pending = sum(
            s.remaining
            for cid, s in self.ledger.states.items()
            if s.symbol == symbol and s.side == "sell" and self.is_open(cid)
        )
        return (held.quantity if held else 0.0) - pending

    def sweep(self) -> None:
        """Fill every open, non-resting order that is marketable at the current prices."""
        for cid in list(self.ledger.states):
            self._work(cid)

    def _work(self, cid: str) -> None:
        state = self.ledger.states[cid]
        quote = self.prices.get(state.symbol)
        if (
            self.is_open(cid)
            and cid not in self.forced
            and state.symbol not in self.resting
            and quote is not None
            and self.ledger.marketable(cid, quote)
        ):
            self.ledger.fill(cid, state.remaining, quote)

    # -- JSON ------------------------------------------------------------------------------------

    def account_json(self) -> dict[str, Any]:
        value = sum(
            p.quantity * self.prices.get(p.symbol, p.avg_price)
            for p in self.ledger.positions.values()
        )
        cash, equity = self.ledger.cash, self.ledger.cash + value
        return {
            "id": str(self.uuid),
            "account_number": self.account_number,
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "buying_power": _num(cash),
            "regt_buying_power": _num(cash),
            "daytrading_buying_power": "0",
            "non_marginable_buying_power": _num(cash),
            "options_buying_power": _num(cash),
            "cash": _num(cash),
            "accrued_fees": "0",
            "pending_transfer_in": "0",
            "pending_transfer_out": "0",
            "portfolio_value": _num(equity),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "created_at": "2024-01-02T15:00:00Z",
            "trade_suspended_by_user": False,
            "multiplier": "1",
            "shorting_enabled": False,
            "equity": _num(equity),
            "last_equity": _num(equity),
            "long_market_value": _num(value),
            "short_market_value": "0",
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
        }

    def position_json(self, position: Position) -> dict[str, Any]:
        qty, avg = position.quantity, position.avg_price
        price = self.prices.get(position.symbol, avg)
        return {
            "asset_id": _asset_id(position.symbol),
            "symbol": position.symbol,
            "exchange": "NASDAQ",
            "asset_class": "us_equity",
            "asset_marginable": True,
            "avg_entry_price": _num(avg),
            "qty": _num(qty),
            "qty_available": _num(self.available(position.symbol)),
            "side": "long" if qty > 0 else "short",
            "market_value": _num(qty * price),
            "cost_basis": _num(qty * avg),
            "unrealized_pl": _num(qty * (price - avg)),
            "unrealized_plpc": _num((price - avg) / avg if avg else 0.0),
            "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0",
            "current_price": _num(price),
            "lastday_price": _num(price),
            "change_today": "0",
        }

    def order_json(self, cid: str) -> dict[str, Any]:
        request, state = self.ledger.requests[cid], self.ledger.states[cid]
        status, now, created = self.status(cid), _now(), self.created[cid]
        limit = request.limit_price if request.order_type == "limit" else None
        intent = "buy_to_open" if request.side == "buy" else "sell_to_close"
        return {
            "id": str(self.order_ids[cid]),
            "client_order_id": cid,
            "created_at": created,
            "updated_at": now,
            "submitted_at": created,
            "filled_at": now if status == "filled" else None,
            "expired_at": now if status == "expired" else None,
            "canceled_at": now if status == "canceled" else None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": _asset_id(request.symbol),
            "symbol": request.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": _num(request.quantity),
            "filled_qty": _num(state.filled_quantity),
            "filled_avg_price": (
                _num(state.avg_fill_price) if state.avg_fill_price is not None else None
            ),
            "order_class": "simple",
            "order_type": request.order_type,
            "type": request.order_type,
            "side": request.side,
            "position_intent": intent,
            "time_in_force": "day",
            "limit_price": _num(limit) if limit is not None else None,
            "stop_price": None,
            "status": status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }

    # -- handlers ----------------------------------------------------------------------------

    def get_account(self, request: Request, params: Params) -> Response:
        return _json(200, self.account_json())

    def get_positions(self, request: Request, params: Params) -> Response:
        return _json(200, [self.position_json(p) for p in self.ledger.positions.values()])

    def get_position(self, request: Request, params: Params) -> Response:
        position = self.ledger.positions.get(params["symbol"])
        if position is None:
            return _error(404, "position does not exist", 40410000)
        return _json(200, self.position_json(position))

    def post_order(self, request: Request, params: Params) -> Response:
        body = request.get_json(silent=True) or {}
        cid = str(body.get("client_order_id") or uuid.uuid4())
        if cid in self.ledger.states:
            return _error(422, "client_order_id must be unique", 40010001)
        order = _order_request(cid, body)
        if isinstance(order, Response):
            return order
        quote = self.prices.get(order.symbol)
        if quote is None:
            return _error(422, f'asset "{order.symbol}" not found', 40010001)
        reason = self.ledger.check(order, quote)
        if reason:
            return self._refuse(order, reason)
        self.ledger.record(order, "accepted", quote=quote)
        self.order_ids[cid] = uuid.uuid4()
        self.created[cid] = _now()
        self._work(cid)
        return _json(200, self.order_json(cid))

    def _refuse(self, order: OrderRequest, reason: str) -> Response:
        if reason.startswith("insufficient cash"):
            return _error(403, "insufficient buying power", 40310000)
        if reason.startswith("cannot sell"):
            message = (
                f"insufficient qty available for order (requested: {order.quantity:g}, "
                f"available: {max(self.available(order.symbol), 0.0):g})"
            )
            return _error(403, message, 40310000)
        if reason == FRACTIONAL_NOT_SUPPORTED:
            return _error(403, "fractional trading is not enabled for this account", 40310000)
        return _error(422, reason, 40010001)

    def get_orders(self, request: Request, params: Params) -> Response:
        args = request.args
        wanted = args.get("status", "open")
        symbols = set(filter(None, args.get("symbols", "").split(",")))
        cids = [
            cid
            for cid in self.ledger.states
            if (wanted == "all" or (wanted == "open") == self.is_open(cid))
            and (not symbols or self.ledger.states[cid].symbol in symbols)
            and args.get("side") in (None, self.ledger.states[cid].side)
        ]
        if args.get("direction", "desc") == "desc":
            cids.reverse()
        limit = int(args.get("limit", 50))
        return _json(200, [self.order_json(cid) for cid in cids[:limit]])

    def get_order_by_client_id(self, request: Request, params: Params) -> Response:
        cid = request.args.get("client_order_id", "")
        if cid in self.hidden:
            self.hidden.discard(cid)
            return _error(404, "order not found", 40410000)
        return self._order_answer(cid)

    def get_order(self, request: Request, params: Params) -> Response:
        return self._order_answer(self._cid(params["order_id"]))

    def delete_order(self, request: Request, params: Params) -> Response:
        cid = self._cid(params["order_id"])
        if cid not in self.ledger.states:
            return _error(404, "order not found", 40410000)
        if not self.is_open(cid):
            return _error(422, f'order is already in "{self.status(cid)}" state', 42210000)
        if self.cancel_delay > 0:
            self.forced[cid] = "pending_cancel"
            self._cancel_reads[cid] = self.cancel_delay
        else:
            self._cancel(cid)
        return Response(status=204)

    def get_latest_trades(self, request: Request, params: Params) -> Response:
        symbols = [s for s in request.args.get("symbols", "").split(",") if s]
        trades = {
            s: {"t": _now(), "x": "V", "p": self.prices[s], "s": 100, "c": ["@"], "i": n, "z": "C"}
            for n, s in enumerate(symbols, start=1)
            if s in self.prices
        }
        return _json(200, {"trades": trades})

    def _order_answer(self, cid: str) -> Response:
        if cid not in self.ledger.states:
            return _error(404, "order not found", 40410000)
        if cid in self._cancel_reads:
            self._cancel_reads[cid] -= 1
            if self._cancel_reads[cid] < 0:
                del self._cancel_reads[cid]
                self._cancel(cid)
        return _json(200, self.order_json(cid))

    def _cancel(self, cid: str) -> None:
        self.forced.pop(cid, None)
        self.ledger.cancel(cid)

    def _cid(self, order_id: str) -> str:
        for cid, known in self.order_ids.items():
            if str(known) == order_id:
                return cid
        return ""


def _order_request(cid: str, body: dict[str, Any]) -> OrderRequest | Response:
    """Parse an order body the way Alpaca validates it, or return the 422 answer."""
    if body.get("time_in_force") != "day" or body.get("notional") is not None:
        return _error(422, "the fake Alpaca supports qty-based day orders only", 40010001)
    if body.get("type") not in ("market", "limit") or body.get("side") not in ("buy", "sell"):
        return _error(422, "invalid order type or side", 40010001)
    try:
        limit = body.get("limit_price")
        return OrderRequest(
            cid,
            str(body["symbol"]),
            body["side"],
            float(body["qty"]),
            order_type=body["type"],
            limit_price=float(limit) if limit is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return _error(422, "invalid order request", 40010001)


ROUTES: list[tuple[str, str | re.Pattern[str], Handler]] = [
    ("GET", "/v2/account", FakeAccount.get_account),
    ("GET", "/v2/positions", FakeAccount.get_positions),
    ("GET", re.compile(r"^/v2/positions/(?P<symbol>[^/]+)$"), FakeAccount.get_position),
    ("GET", "/v2/orders:by_client_order_id", FakeAccount.get_order_by_client_id),
    ("GET", "/v2/orders", FakeAccount.get_orders),
    ("POST", "/v2/orders", FakeAccount.post_order),
    ("GET", re.compile(r"^/v2/orders/(?P<order_id>[^/]+)$"), FakeAccount.get_order),
    ("DELETE", re.compile(r"^/v2/orders/(?P<order_id>[^/]+)$"), FakeAccount.delete_order),
    ("GET", "/v2/stocks/trades/latest", FakeAccount.get_latest_trades),
]
"""The endpoints served: (method, path or pattern, handler)."""


class FakeAlpacaServer:
    """A local HTTP server answering like Alpaca for every account added to it."""

    def __init__(self) -> None:
        self.http = HTTPServer(host="127.0.0.1")
        self.http.no_handler_status_code = 404
        self.accounts: dict[str, FakeAccount] = {}
        self._numbers = itertools.count(1)
        for method, uri, handler in ROUTES:
            self.http.expect_request(uri, method=method).respond_with_handler(
                self._serve(uri, handler)
            )

    def start(self) -> FakeAlpacaServer:
        self.http.start()
        return self

    def stop(self) -> None:
        if self.http.is_running():
            self.http.stop()

    @property
    def url(self) -> str:
        """The base URL to give `alpaca-py` (no trailing slash, no `/v2`)."""
        return self.http.url_for("/").rstrip("/")

    def add_account(self, **options: Any) -> FakeAccount:
        """Create an account with fresh credentials (`FakeAccount` options)."""
        n = next(self._numbers)
        account = FakeAccount(
            key_id=f"PKFAKE{n:04d}{secrets.token_hex(6).upper()}",
            secret_key=f"fake-secret-{secrets.token_urlsafe(24)}",
            account_number=f"PA{n:08d}",
            **options,
        )
        self.accounts[account.key_id] = account
        return account

    def broker(self, account: FakeAccount, **options: Any) -> AlpacaBroker:
        """A disconnected `AlpacaBroker` on `account`, pointed at this server."""
        return AlpacaBroker(
            account.key_id,
            account.secret_key,
            trading_url=self.url,
            data_url=self.url,
            **options,
        )

    def _serve(self, uri: str | re.Pattern[str], handler: Handler) -> Callable[[Request], Response]:
        def serve(request: Request) -> Response:
            key = request.headers.get("APCA-API-KEY-ID")
            secret = request.headers.get("APCA-API-SECRET-KEY")
            if not key or not secret:
                return _error(401, "request is not authorized", 40110000)
            account = self.accounts.get(key)
            if account is None or not hmac.compare_digest(account.secret_key, secret):
                return _error(403, "forbidden.")
            account.requests.append((request.method, request.path))
            failure = account.take_failure(request.method)
            if failure is not None:
                return failure
            account.sweep()
            match = uri.match(request.path) if isinstance(uri, re.Pattern) else None
            return handler(account, request, match.groupdict() if match else {})

        return serve


_SHARED: list[FakeAlpacaServer] = []


def shared_server() -> FakeAlpacaServer:
    """The server of the contract factory: started on first use, stopped at interpreter exit."""
    if not _SHARED:
        server = FakeAlpacaServer().start()
        atexit.register(server.stop)
        _SHARED.append(server)
    return _SHARED[0]


def alpaca_factory(
    tmp_path: Path,
    *,
    fractional: bool = True,
    commission_bps: float = 0.0,
    slippage_bps: float = 0.0,
) -> Broker:
    """The broker-contract factory: a disconnected `AlpacaBroker` on a fresh fake account."""
    if commission_bps:
        pytest.skip("Alpaca charges no commission on US equities")
    server = shared_server()
    account = server.add_account(fractional=fractional, slippage_bps=slippage_bps)
    return server.broker(account, fractional=fractional)
