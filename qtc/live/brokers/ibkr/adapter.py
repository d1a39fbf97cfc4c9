"""`IbkrAdapter`: Interactive Brokers (TWS / IB Gateway) behind `base.Broker`, on `ib_async`.

See the package docstring for what it guarantees; the pieces are `connection` (the socket,
pacing, timeouts), `market` (contracts and quotes), `status` (IB's order states as qtc's) and
`journal` (what qtc sent, on disk).
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import re
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from qtc.live.brokers.base import (
    EPS,
    Account,
    BrokerError,
    OrderRequest,
    OrderState,
    Position,
    request_problem,
)
from qtc.live.brokers.capabilities import Capabilities
from qtc.live.brokers.ibkr.connection import Connection, Timeouts, close_all
from qtc.live.brokers.ibkr.journal import Entry, Journal
from qtc.live.brokers.ibkr.market import DELAYED_FROZEN, Contracts, limit_price, snapshot
from qtc.live.brokers.ibkr.orders import OrderBook
from qtc.live.brokers.ibkr.settings import Endpoint

if TYPE_CHECKING:
    from ib_async import IB, AccountValue, Contract, Order, Trade

_SAFE_REF = re.compile(r"^[A-Za-z0-9_.-]{1,36}$")
_CLEANUP: list[bool] = []


def order_ref(client_order_id: str) -> str:
    """The `orderRef` IB gets for a client order id: itself if short and plain, else a hash."""
    if _SAFE_REF.match(client_order_id):
        return client_order_id
    return "qtc-" + hashlib.sha256(client_order_id.encode("utf-8")).hexdigest()[:32]


def disconnect_all() -> None:
    """Close every IBKR session of this process (run at exit; tests call it between commands)."""
    close_all()


class IbkrAdapter:
    """An IBKR account behind the `Broker` protocol.

    Attributes:
        name: `"ibkr"`.
        capabilities: A real market, IB's quotes, whole shares.
        supports_fractional: `False`.
        account_code: The account traded (known once connected).
    """

    name = "ibkr"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fractional=False, prices="broker_quotes", persistence="remote", simulated=False
    )
    supports_fractional = False

    def __init__(
        self,
        folder: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        account: str | None = None,
        currency: str = "USD",
        timeouts: Timeouts | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        """Create a disconnected adapter.

        Args:
            folder: Where the order journals live (`<state>/ibkr`).
            host: TWS / Gateway host.
            port: TWS / Gateway API port (7497: paper TWS).
            client_id: IB API client id (keep it stable: only that client can cancel).
            account: The account to trade; default: the login's only account.
            currency: The stocks' trading currency.
            timeouts: Waits and pacing (`connection.Timeouts`).
            today: Today's local date (the journal notes when an order was sent).
        """
        self.endpoint = Endpoint(host, port, client_id, account)
        self.account_code = ""
        self._conn = Connection(self.endpoint, timeouts or Timeouts())
        self._journal = Journal(folder)
        self._book = OrderBook(self._conn, self._journal, client_id, lambda: today().isoformat())
        self._contracts = Contracts(currency)
        self._currency = currency
        self._today = today
        self._managed: list[str] = []
        self._rejected: dict[str, tuple[OrderRequest, OrderState]] = {}
        weakref.finalize(self, self._conn.close)  # an adapter dropped unclosed closes its socket

    def __repr__(self) -> str:
        """Where it connects (nothing secret: IBKR has no API keys)."""
        where = self.endpoint
        return (
            f"IbkrAdapter({where.host}:{where.port}, client_id={where.client_id}, "
            f"connected={self._conn.connected})"
        )

    # -- session ---------------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, synchronise and choose the account (idempotent).

        Raises:
            BrokerDisconnected: TWS cannot be reached.
            BrokerError: The account is not the login's, or the login has several and none
                was chosen.
        """
        if self._conn.connected:
            return
        self._contracts.clear()
        self._conn.open()
        try:
            self._choose_account()
            self._conn.call("connect", _prepare)
        except BaseException:
            self._conn.close()
            raise
        if not _CLEANUP:
            atexit.register(disconnect_all)
            _CLEANUP.append(True)

    def disconnect(self) -> None:
        """Close the session (idempotent); later calls raise `BrokerDisconnected`."""
        self._conn.close()

    def _choose_account(self) -> None:
        managed = self._conn.call("connect", lambda ib: ib.managedAccounts())
        wanted = self.endpoint.account
        if wanted and wanted not in managed:
            raise BrokerError(
                f"this IBKR login does not manage account {wanted!r}",
                hint="check [broker] account (or --account) against the accounts in TWS",
            )
        if not wanted:
            if len(managed) != 1:
                raise BrokerError(
                    f"this IBKR login manages {len(managed)} accounts; qtc trades one",
                    hint="set [broker] account (or --account) to the account to trade",
                )
            wanted = managed[0]
        self._journal.bind(wanted)
        self.account_code, self._managed = wanted, list(managed)
        self._book.account_code = wanted

    # -- account ---------------------------------------------------------------------------------

    def account(self) -> Account:
        """Cash (`TotalCashValue`) and equity (`NetLiquidation`), freshly downloaded.

        The account-updates subscription is stopped and started again, which makes TWS send
        every value now (a running subscription updates some of them every 3 minutes only).
        """
        code = self.account_code

        def download(ib: IB) -> list[AccountValue]:
            ib.client.reqAccountUpdates(False, code)  # type: ignore[no-untyped-call]
            ib.reqAccountUpdates(code)
            return ib.accountValues(code)

        values = self._conn.call("account", download)
        equity = _value(values, "NetLiquidation", (self._currency, "BASE"))
        if equity is None:
            raise BrokerError("IBKR reported no net liquidation value for the account")
        cash = _value(values, "TotalCashValue", (equity[1], "BASE"))
        if cash is None:
            raise BrokerError("IBKR reported no cash value for the account")
        currency = equity[1] if equity[1] != "BASE" else self._currency
        return Account(account_id=code, cash=cash[0], equity=equity[0], currency=currency)

    def positions(self) -> list[Position]:
        """Stock holdings of the account, sorted by symbol (other instruments are left out).

        Raises:
            BrokerError: A short stock position (qtc manages long-only accounts), or one
                symbol held twice (e.g. in two currencies).
        """
        items = self._conn.call("positions", lambda ib: ib.reqPositions())
        out: dict[str, Position] = {}
        for item in items:
            contract = item.contract
            if item.account != self.account_code or contract.secType != "STK" or not item.position:
                continue
            symbol, quantity = contract.symbol, float(item.position)
            if quantity < 0:
                raise BrokerError(
                    f"the IBKR account holds a short position in {symbol} ({quantity:g} shares); "
                    "qtc manages long-only accounts",
                    hint="close the short position before running qtc on this account",
                )
            if symbol in out:
                raise BrokerError(
                    f"IBKR reports two positions in {symbol}; qtc cannot tell them apart"
                )
            out[symbol] = Position(symbol, quantity, float(item.avgCost))
            self._contracts.remember(contract)
        return [out[s] for s in sorted(out)]

    def quotes(self, symbols: list[str]) -> dict[str, float]:
        """Snapshot prices (live, else delayed); symbols without a price are left out."""

        def ask(ib: IB) -> dict[str, float]:
            contracts = self._contracts.get(ib, symbols)
            return snapshot(ib, list(contracts.values()))

        prices = self._conn.call("quotes", ask)
        return {s: prices[s] for s in dict.fromkeys(symbols) if s in prices}

    # -- orders ----------------------------------------------------------------------------------

    def submit(self, order: OrderRequest) -> OrderState:
        """Send an order, or return the order IB (or the journal) has under its client order id.

        Raises:
            BrokerError: The id was used for another order, or IB no longer reports an order
                qtc sent under it (see `order`).
            BrokerDisconnected: The line dropped (the order may have reached IB: ask `order`).
        """
        self._conn.require("submit")
        coid = order.client_order_id
        remembered = self._remembered(order)
        if remembered is not None:
            return remembered
        entry = self._journal.get(coid)
        if entry is not None and entry.request != order:
            raise _reused(coid, entry.request)
        trade = self._find(coid, entry)
        if trade is not None:
            return self._existing(order, trade, entry)
        forgotten = self._book.forgotten(coid, entry)
        if forgotten is not None:
            return forgotten
        return self._send(order)

    def order(self, client_order_id: str) -> OrderState | None:
        """The order's state at IB, or `None` if qtc never got it to IB.

        Raises:
            BrokerError: IB no longer reports an order qtc sent and saw acknowledged (or sent
                on an earlier day): TWS forgets orders when it restarts, and qtc will not
                guess what became of it.
        """
        self._conn.require("order")
        if client_order_id in self._rejected:
            return self._rejected[client_order_id][1]
        entry = self._journal.get(client_order_id)
        trade = self._find(client_order_id, entry)
        if trade is None:
            return self._book.forgotten(client_order_id, entry)
        return self._book.state(trade, client_order_id, entry)

    def open_orders(self) -> list[OrderState]:
        """The account's orders that may still fill (any API client's, and TWS's own)."""
        states = [self._book.state_of(t) for t in self._book.open_trades("open_orders")]
        return [s for s in states if s.is_open]

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order and wait for IB to confirm; a closed order is returned as is.

        Raises:
            BrokerError: The id is unknown, or the order was placed by another API client
                (IB lets only that client cancel it).
        """
        self._conn.require("cancel")
        if client_order_id in self._rejected:
            return self._rejected[client_order_id][1]
        entry = self._journal.get(client_order_id)
        trade = self._find(client_order_id, entry)
        if trade is None:
            forgotten = self._book.forgotten(client_order_id, entry)
            if forgotten is None:
                raise BrokerError(f"unknown order {client_order_id!r}")
            return forgotten
        state = self._book.state(trade, client_order_id, entry)
        if not state.is_open:
            return state
        if not self._book.ours(trade):
            raise BrokerError(
                f"order {client_order_id!r} was placed by IB API client {trade.order.clientId}; "
                f"this session is client {self.endpoint.client_id}, and IB lets only the placing "
                "client cancel",
                hint="reconnect with that client id, or cancel it in TWS",
            )
        self._cancel_one(trade)
        self._book.settle([trade])
        return self._book.state(trade, client_order_id, entry)

    def cancel_all(self) -> list[OrderState]:
        """Cancel every open order of the account and return their new states.

        Orders of this API client are canceled one by one; those of other clients (or placed
        in TWS) with IB's global cancel when the login manages this account only.

        Raises:
            BrokerError: Orders of other clients remain on a login with several accounts
                (raised after canceling this client's).
        """
        book = self._book
        open_trades = book.open_trades("cancel_all")
        ours = [t for t in open_trades if book.ours(t)]
        foreign = [t for t in open_trades if not book.ours(t)]
        for trade in ours:
            self._cancel_one(trade)
        if foreign and len(self._managed) > 1:
            book.settle(ours)
            raise BrokerError(
                f"{len(foreign)} open orders of the account were placed by other API clients "
                "or in TWS; qtc cannot cancel them on a login with several accounts",
                hint="cancel them in TWS",
            )
        if foreign:
            self._conn.call("cancel_all", _global_cancel)
        book.settle(ours)
        return [book.state_of(t) for t in ours] + book.final(foreign)

    def _cancel_one(self, trade: Trade) -> None:
        self._conn.call("cancel", lambda ib: ib.cancelOrder(trade.order))

    def _find(self, client_order_id: str, entry: Entry | None) -> Trade | None:
        """The account's order at IB under this client order id (see `orders.OrderBook`)."""
        ref = entry.order_ref if entry else order_ref(client_order_id)
        return self._book.find(ref, entry)

    # -- submit internals ------------------------------------------------------------------------

    def _remembered(self, order: OrderRequest) -> OrderState | None:
        known = self._rejected.get(order.client_order_id)
        if known is None:
            return None
        if known[0] != order:
            raise _reused(order.client_order_id, known[0])
        return known[1]

    def _existing(self, order: OrderRequest, trade: Trade, entry: Entry | None) -> OrderState:
        """The order IB has under this id, if it is the same order."""
        state = self._book.state(trade, order.client_order_id, entry)
        same = (
            state.symbol == order.symbol
            and state.side == order.side
            and abs(float(trade.order.totalQuantity) - order.quantity) <= EPS
        )
        if not same:
            raise _reused(order.client_order_id, None, state)
        return state

    def _send(self, order: OrderRequest) -> OrderState:
        """Refuse locally or place the order (the journal entry is written first)."""
        reason = _malformed(order)
        if reason:
            return self._reject(order, reason)
        contracts = self._conn.call("submit", lambda ib: self._contracts.get(ib, [order.symbol]))
        if order.symbol not in contracts:
            return self._reject(order, f"IBKR knows no stock {order.symbol!r} in {self._currency}")
        reason = self._short_reason(order)
        if reason:
            return self._reject(order, reason)
        return self._place(order, contracts[order.symbol])

    def _place(self, order: OrderRequest, contract: Contract) -> OrderState:
        ib_order = self._ib_order(order)
        ib_order.orderId = self._conn.call("submit", lambda ib: ib.client.getReqId())
        entry = Entry(
            request=order,
            order_ref=ib_order.orderRef,
            client_id=self.endpoint.client_id,
            order_id=ib_order.orderId,
            sent_on=self._today().isoformat(),
        )
        self._journal.put(entry)  # on disk before IB hears of the order
        trade = self._conn.call("submit", lambda ib: ib.placeOrder(contract, ib_order))
        self._acknowledged(trade)
        return self._book.state(trade, order.client_order_id, entry)

    def _ib_order(self, order: OrderRequest) -> Order:
        from ib_async import LimitOrder, MarketOrder

        action = "BUY" if order.side == "buy" else "SELL"
        quantity = float(round(order.quantity))
        common = {
            "tif": "DAY",
            "account": self.account_code,
            "orderRef": order_ref(order.client_order_id),
            "outsideRth": False,
        }
        if order.order_type == "limit" and order.limit_price is not None:
            price = limit_price(order.limit_price, order.side)
            return LimitOrder(action, quantity, price, **common)
        return MarketOrder(action, quantity, **common)

    def _acknowledged(self, trade: Trade) -> None:
        """Wait until IB has answered the new order (a round trip, then up to `Timeouts.ack`)."""
        self._conn.call("submit", lambda ib: ib.reqCurrentTime())
        acked = self._conn.timeouts.ack
        self._book.wait(lambda: trade.orderStatus.status != "PendingSubmit", acked)

    def _short_reason(self, order: OrderRequest) -> str:
        """Why a sell would go short (`""` if it would not, and for buys)."""
        if order.side != "sell":
            return ""
        held = {p.symbol: p.quantity for p in self.positions()}.get(order.symbol, 0.0)
        pending = sum(
            s.remaining for s in self.open_orders() if s.symbol == order.symbol and s.side == "sell"
        )
        available = held - pending
        if order.quantity > available + EPS:
            return (
                f"cannot sell {order.quantity:g} {order.symbol}: only {max(available, 0.0):g} "
                "held (short selling is not supported)"
            )
        return ""

    def _reject(self, order: OrderRequest, reason: str) -> OrderState:
        """A refusal before anything reached IB (remembered for this object's life)."""
        state = OrderState.rejected(order, reason)
        self._rejected[order.client_order_id] = (order, state)
        return state


def _global_cancel(ib: IB) -> None:
    """IB's global cancel: every open order of the login, whichever client placed it."""
    ib.reqGlobalCancel()  # type: ignore[no-untyped-call]  # ib_async leaves it unannotated


def _prepare(ib: IB) -> None:
    """After connecting: every client's open orders (not only this one's), delayed quotes."""
    ib.reqAllOpenOrders()
    ib.reqMarketDataType(DELAYED_FROZEN)


def _value(
    values: list[AccountValue], tag: str, currencies: tuple[str, ...]
) -> tuple[float, str] | None:
    """An account value as (number, currency), in the first of `currencies` it is reported in."""
    found = {v.currency: v.value for v in values if v.tag == tag}
    ordered = [c for c in currencies if c in found] + sorted(found)
    for currency in ordered:
        try:
            return float(found[currency]), currency
        except ValueError:
            continue
    return None


def _malformed(order: OrderRequest) -> str:
    """Why an order cannot go to IB at all (`""` if it may)."""
    problem = request_problem(order, fractional=False)
    if problem:
        return problem
    if not order.symbol.strip():
        return "the symbol is empty"
    if order.order_type == "limit" and limit_price(order.limit_price or 0.0, order.side) <= 0:
        return "a limit order needs a positive limit price"
    return ""


def _reused(coid: str, known: OrderRequest | None, state: OrderState | None = None) -> BrokerError:
    side, qty, symbol = (
        (known.side, known.quantity, known.symbol)
        if known
        else (state.side, state.quantity, state.symbol)
        if state
        else ("", 0.0, "")
    )
    return BrokerError(
        f"client order id {coid!r} was already used for a different order ({side} {qty:g} {symbol})"
    )
