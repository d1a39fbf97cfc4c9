"""`FakeTws`: a fake TWS / IB Gateway on the loopback address, speaking the IB API wire protocol.

The real `ib_async` client connects to it over a real socket (as `alpaca-py` talks to the fake
Alpaca over HTTP). It implements what the `ibkr` adapter uses: the handshake and `startApi`
(with IB's "client id already in use", 326), `nextValidId`, `managedAccounts`, account updates
(values, portfolio, download end), positions, contract details, snapshot market data (live,
or delayed with the 10167 warning when `live_data` is off and the client asked for delayed
data; 354 when it did not), `placeOrder` ->
`openOrder` + `orderStatus` + `execDetails` + `commissionReport`, `cancelOrder` (202, or 161
once closed, 10147 when unknown), global cancel, open / all open / completed orders,
executions, current time, and IB's error messages (200 unknown contract, 201 rejected).

Every login may manage several accounts; each keeps its cash and positions in a
`qtc.live.brokers.mock.Ledger` (keyed by IB's perm id, so a duplicated order shows up as two).
Market orders fill at once at the fake's price; a limit order fills when marketable. Scripting:

    tws = FakeTws().start()
    account = tws.add_account(cash=100_000)
    tws.script("rest", "reject:not shortable", "partial:3", "delay:0.2")  # the next new orders
    tws.on_symbol("CCC", "partial:100")       # every new CCC order: 100 filled, the rest open
    tws.drop_on_place(2, "after")             # the 2nd placeOrder from now is processed, then
                                              # the line drops before any answer ("before":
                                              # it drops and the order never arrives)
    tws.drop_on_place(1, "after", stay_down=True)  # ... and TWS stays away until come_back()
    tws.go_down(); tws.come_back()            # connections refused (closed at once) meanwhile
    tws.fill(order_ref, shares)               # fill part of a resting order now

`placed` counts the orders that arrived; `orders(account)` and `by_ref(account)` list them.
A message the fake does not serve is kept in `unknown`, an exception in its own code in
`crashes` (the tests' fixtures require both empty).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import socket
import socketserver
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fake_tws_wire as wire
import pytest

from qtc.live.brokers.base import Broker, OrderRequest
from qtc.live.brokers.ibkr import IbkrAdapter, Timeouts
from qtc.live.brokers.mock import Ledger

CASH = 100_000.0
PRICES = {"AAA": 100.0, "BBB": 50.0}
"""The contract's account (kept equal to `test_broker_contract.CASH` / `PRICES`)."""

FAST = Timeouts(connect=5.0, request=10.0, ack=2.0, cancel=2.0, reconnect_interval=0.05)
"""Adapter timeouts for tests: a fake TWS answers at once."""

DONE = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})


@dataclass
class FakeOrder:
    """An order the fake TWS holds."""

    wire: wire.WireOrder
    key: str  # the ledger's id: the perm id as text

    @property
    def is_open(self) -> bool:
        return self.wire.status not in DONE


@dataclass
class FakeIbAccount:
    """One account of the login."""

    code: str
    ledger: Ledger

    def held(self) -> dict[str, float]:
        return {p.symbol: p.quantity for p in self.ledger.sorted_positions()}


class _Conn:
    """One API client connection."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # like TWS: no Nagle delay
        self.sock = sock
        self.client_id: int | None = None
        self.subscribed = ""
        self.md_type = 1
        self.muted = False
        self.closed = False
        self._send = threading.Lock()

    def send(self, fields: wire.Fields) -> None:
        if self.muted or self.closed:
            return
        with self._send, contextlib.suppress(OSError):
            self.sock.sendall(wire.frame(fields))

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


class FakeTws:
    """A scriptable fake TWS listening on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, *, prices: dict[str, float] | None = None) -> None:
        self.prices = dict(PRICES if prices is None else prices)
        self.accounts: dict[str, FakeIbAccount] = {}
        self.orders_all: list[FakeOrder] = []
        self.executions: list[wire.WireExecution] = []
        self.lock = threading.RLock()
        self.conns: set[_Conn] = set()
        self.live_data = True
        self.down = False
        self.placed = 0
        self.requests: list[tuple[int | None, int]] = []
        self.unknown: list[list[str]] = []
        self.crashes: list[str] = []
        self.connects = 0
        self._next_id = 1
        self._perm = itertools.count(900_000_001)
        self._exec = itertools.count(1)
        self._codes = itertools.count(1)
        self._outcomes: deque[str] = deque()
        self._symbol_outcomes: dict[str, str] = {}
        self._drops: list[tuple[int, str, bool]] = []
        self._server: socketserver.ThreadingTCPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeTws:
        tws = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                tws._serve(self.request)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.drop_all()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def add_account(
        self, *, cash: float = CASH, code: str | None = None, positions: Any = ()
    ) -> FakeIbAccount:
        """A new account of the login (`DU000000n` unless `code` is given)."""
        with self.lock:
            name = code or f"DU{next(self._codes):07d}"
            ledger = Ledger(cash=cash, positions=positions, fractional=False, id_prefix="ib")
            self.accounts[name] = account = FakeIbAccount(name, ledger)
            return account

    # -- scripting -------------------------------------------------------------------------------

    def script(self, *outcomes: str) -> None:
        """Outcomes of the next new orders: fill, rest, reject:TEXT, partial:N, delay:SECONDS."""
        with self.lock:
            self._outcomes.extend(outcomes)

    def on_symbol(self, symbol: str, outcome: str) -> None:
        """The outcome of every new order in `symbol` (after the scripted ones)."""
        with self.lock:
            self._symbol_outcomes[symbol] = outcome

    def drop_on_place(self, nth: int = 1, when: str = "after", *, stay_down: bool = False) -> None:
        """The `nth` placeOrder from now drops the line, `before` or `after` it is processed.

        With `stay_down`, TWS then refuses connections until `come_back`.
        """
        with self.lock:
            self._drops.append((self.placed + nth, when, stay_down))

    def drop_all(self) -> None:
        """Close every connection now (a network drop)."""
        with self.lock:
            conns = list(self.conns)
        for conn in conns:
            conn.close()

    def go_down(self) -> None:
        """Drop every connection and close new ones at once until `come_back`."""
        self.down = True
        self.drop_all()

    def come_back(self) -> None:
        self.down = False

    def set_price(self, symbol: str, price: float) -> None:
        """Move a price; open limit orders that become marketable fill."""
        with self.lock:
            self.prices[symbol] = price
            for order in self.orders_all:
                if order.is_open and order.wire.symbol == symbol:
                    self._work(order)

    def fill(self, order_ref: str, shares: float) -> None:
        """Fill part of the open order with this order reference at the current price."""
        with self.lock:
            order = next(o for o in self.orders_all if o.wire.order_ref == order_ref and o.is_open)
            self._fill(order, shares)

    # -- observation -----------------------------------------------------------------------------

    def orders(self, account: FakeIbAccount) -> list[FakeOrder]:
        with self.lock:
            return [o for o in self.orders_all if o.wire.account == account.code]

    def by_ref(self, account: FakeIbAccount) -> dict[str, list[FakeOrder]]:
        out: dict[str, list[FakeOrder]] = {}
        for order in self.orders(account):
            out.setdefault(order.wire.order_ref, []).append(order)
        return out

    def wait_idle(self, seconds: float = 2.0) -> None:
        """Wait until no connection is open (every client disconnected)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if not self.conns:
                    return
            time.sleep(0.01)

    # -- the protocol ----------------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        conn = _Conn(sock)
        if self.down:
            conn.close()
            return
        with self.lock:
            self.conns.add(conn)
            self.connects += 1
        try:
            self._handshake(conn)
            while not conn.closed:
                self._dispatch(conn, wire.read_message(sock))
        except (ConnectionError, OSError):
            pass
        except Exception:  # a bug in the fake: keep it for the test to see
            self.crashes.append(traceback.format_exc())
        finally:
            with self.lock:
                self.conns.discard(conn)
            conn.close()

    def _handshake(self, conn: _Conn) -> None:
        if wire.read_exact(conn.sock, 4) != b"API\0":
            raise ConnectionError("not an IB API client")
        wire.read_message(conn.sock)  # "v157..178"
        conn.sock.sendall(wire.handshake(time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime())))

    def _dispatch(self, conn: _Conn, fields: list[str]) -> None:
        msg = int(fields[0])
        if msg == wire.START_API:
            self._start_api(conn, int(fields[2]))
            return
        with self.lock:
            self.requests.append((conn.client_id, msg))
            handler = _HANDLERS.get(msg)
            if handler is None:
                self.unknown.append(fields)
                return
            handler(self, conn, fields)

    def _start_api(self, conn: _Conn, client_id: int) -> None:
        deadline = time.monotonic() + 0.3
        while self._client_in_use(conn, client_id) and time.monotonic() < deadline:
            time.sleep(0.01)  # a client that just closed its socket is still being torn down
        if self._client_in_use(conn, client_id):
            conn.send(wire.error(-1, 326, "Unable to connect as the client id is already in use. "
                                 "Retry with a unique client id."))  # fmt: skip
            conn.close()
            return
        with self.lock:
            conn.client_id = client_id
            conn.send(wire.managed_accounts(list(self.accounts)))
            conn.send(wire.next_valid_id(self._next_id))

    def _client_in_use(self, conn: _Conn, client_id: int) -> bool:
        with self.lock:
            return any(c is not conn and c.client_id == client_id for c in self.conns)

    # -- requests (called with the lock held) ----------------------------------------------------

    def _current_time(self, conn: _Conn, fields: list[str]) -> None:
        conn.send(wire.current_time(int(time.time())))

    def _req_ids(self, conn: _Conn, fields: list[str]) -> None:
        conn.send(wire.next_valid_id(self._next_id))

    def _managed(self, conn: _Conn, fields: list[str]) -> None:
        conn.send(wire.managed_accounts(list(self.accounts)))

    def _ignore(self, conn: _Conn, fields: list[str]) -> None:
        return

    def _market_data_type(self, conn: _Conn, fields: list[str]) -> None:
        conn.md_type = int(fields[2])

    def _positions(self, conn: _Conn, fields: list[str]) -> None:
        for account in self.accounts.values():
            for p in account.ledger.sorted_positions():
                conn.send(wire.position(account.code, p.symbol, p.quantity, p.avg_price))
        conn.send([wire.POSITION_END, 1])

    def _account_updates(self, conn: _Conn, fields: list[str]) -> None:
        code = fields[3] or (next(iter(self.accounts)) if len(self.accounts) == 1 else "")
        if fields[2] != "1" or code not in self.accounts:
            conn.subscribed = ""
            return
        conn.subscribed = code
        self._send_account(conn, self.accounts[code])
        conn.send([wire.ACCT_UPDATE_TIME, 1, time.strftime("%H:%M")])
        conn.send([wire.ACCT_DOWNLOAD_END, 1, code])

    def _send_account(self, conn: _Conn, account: FakeIbAccount) -> None:
        ledger = account.ledger
        value = 0.0
        for p in ledger.sorted_positions():
            price = self.prices.get(p.symbol, p.avg_price)
            value += p.quantity * price
            conn.send(wire.portfolio_value(account.code, p.symbol, p.quantity, price, p.avg_price))
        cash, code = ledger.cash, account.code
        for key, val, currency in (
            ("AccountCode", code, ""),
            ("AccountType", "INDIVIDUAL", ""),
            ("Currency", "USD", "USD"),
            ("CashBalance", f"{cash:.2f}", "BASE"),
            ("TotalCashValue", f"{cash:.2f}", "BASE"),
            ("TotalCashValue", f"{cash:.2f}", "USD"),
            ("NetLiquidation", f"{cash + value:.2f}", "USD"),
            ("BuyingPower", f"{cash:.2f}", "USD"),
        ):
            conn.send(wire.account_value(key, val, currency, code))

    def _contract_details(self, conn: _Conn, fields: list[str]) -> None:
        req_id, symbol, sec_type = wire.parse_contract_request(fields)
        if symbol not in self.prices or sec_type not in ("STK", ""):
            conn.send(wire.error(req_id, 200, "No security definition has been found for the "
                                 "request"))  # fmt: skip
            return
        conn.send(wire.contract_details(req_id, symbol))
        conn.send([wire.CONTRACT_DATA_END, 1, req_id])

    def _market_data(self, conn: _Conn, fields: list[str]) -> None:
        req_id, symbol, _snapshot = wire.parse_market_data_request(fields)
        price = self.prices.get(symbol)
        if price is None:
            conn.send(wire.error(req_id, 200, "No security definition has been found for the "
                                 "request"))  # fmt: skip
            return
        if self.live_data:
            conn.send([wire.MARKET_DATA_TYPE, 1, req_id, 1])
            ticks = (1, 2, 4)
        elif conn.md_type in (3, 4):
            conn.send(wire.error(req_id, 10167, "Requested market data is not subscribed. "
                                 "Displaying delayed market data."))  # fmt: skip
            conn.send([wire.MARKET_DATA_TYPE, 1, req_id, conn.md_type])
            ticks = (66, 67, 68)
        else:
            conn.send(wire.error(req_id, 354, "Requested market data is not subscribed."))
            return
        bid, ask, last = ticks
        conn.send(wire.tick_price(req_id, bid, round(price - 0.01, 2)))
        conn.send(wire.tick_price(req_id, ask, round(price + 0.01, 2)))
        conn.send(wire.tick_price(req_id, last, price))
        conn.send([wire.TICK_SNAPSHOT_END, 1, req_id])

    def _open_orders(self, conn: _Conn, fields: list[str]) -> None:
        self._send_open(conn, [o for o in self.orders_all if o.wire.client_id == conn.client_id])

    def _all_open_orders(self, conn: _Conn, fields: list[str]) -> None:
        self._send_open(conn, self.orders_all)

    def _send_open(self, conn: _Conn, orders: list[FakeOrder]) -> None:
        for order in orders:
            if order.is_open:
                conn.send(wire.open_order(order.wire))
                conn.send(wire.order_status(order.wire))
        conn.send([wire.OPEN_ORDER_END, 1])

    def _completed_orders(self, conn: _Conn, fields: list[str]) -> None:
        stamp = time.strftime("%Y%m%d %H:%M:%S", time.gmtime())
        for order in self.orders_all:
            if not order.is_open:
                conn.send(wire.completed_order(order.wire, stamp))
        conn.send([wire.COMPLETED_ORDERS_END])

    def _executions(self, conn: _Conn, fields: list[str]) -> None:
        req_id, client_id, account = int(fields[2]), int(fields[3] or 0), fields[4]
        for e in self.executions:
            if (client_id in (0, e.order.client_id)) and account in ("", e.order.account):
                conn.send(wire.exec_details(req_id, e))
                conn.send(wire.commission_report(e.exec_id))
        conn.send([wire.EXECUTION_DATA_END, 1, req_id])

    def _global_cancel(self, conn: _Conn, fields: list[str]) -> None:
        for order in self.orders_all:
            if order.is_open:
                self._cancel(order)

    def _cancel_order(self, conn: _Conn, fields: list[str]) -> None:
        order_id = int(fields[2])
        order = next(
            (o for o in self.orders_all
             if o.wire.order_id == order_id and o.wire.client_id == conn.client_id),
            None,
        )  # fmt: skip
        if order is None:
            conn.send(wire.error(order_id, 10147, f"OrderId {order_id} that needs to be "
                                 "cancelled is not found."))  # fmt: skip
        elif not order.is_open:
            conn.send(wire.error(order_id, 161, "Cancel attempted when order is not in a "
                                 "cancellable state."))  # fmt: skip
        else:
            self._cancel(order)

    # -- orders ----------------------------------------------------------------------------------

    def _place_order(self, conn: _Conn, fields: list[str]) -> None:
        self.placed += 1
        drop, down = next(
            ((w, d) for nth, w, d in self._drops if nth == self.placed), (None, False)
        )
        if down:
            self.down = True
        if drop == "before":
            conn.close()
            return
        if drop == "after":
            conn.muted = True
        try:
            self._accept(conn, wire.parse_place_order(fields))
        finally:
            if drop == "after":
                conn.close()

    def _accept(self, conn: _Conn, placed: wire.PlacedOrder) -> None:
        client_id = conn.client_id or 0
        if any(
            o.wire.order_id == placed.order_id and o.wire.client_id == client_id
            for o in self.orders_all
        ):
            conn.send(wire.error(placed.order_id, 103, "Duplicate order id"))
            return
        self._next_id = max(self._next_id, placed.order_id + 1)
        code = placed.account or (next(iter(self.accounts)) if len(self.accounts) == 1 else "")
        order = self._new_order(client_id, code, placed)
        self.orders_all.append(order)
        account = self.accounts.get(code)
        outcome = self._outcome(placed.symbol)
        reason = self._reject_reason(order, account, outcome)
        if reason:
            self._reject(order, reason)
            return
        assert account is not None
        account.ledger.record(self._request(order), "accepted", quote=self.prices[placed.symbol])
        order.wire.status = "Submitted"
        self._notify(order, wire.open_order(order.wire), wire.order_status(order.wire))
        self._start(order, outcome)

    def _new_order(self, client_id: int, code: str, placed: wire.PlacedOrder) -> FakeOrder:
        perm = next(self._perm)
        order_type = "limit" if placed.order_type == "LMT" else "market"
        return FakeOrder(
            wire.WireOrder(
                order_id=placed.order_id, client_id=client_id, perm_id=perm, account=code,
                symbol=placed.symbol, action=placed.action, quantity=placed.quantity,
                order_type=placed.order_type,
                limit_price=placed.limit_price if order_type == "limit" else None,
                tif=placed.tif, order_ref=placed.order_ref, status="PreSubmitted",
            ),
            str(perm),
        )  # fmt: skip

    def _outcome(self, symbol: str) -> str:
        if self._outcomes:
            return self._outcomes.popleft()
        return self._symbol_outcomes.get(symbol, "fill")

    def _reject_reason(self, order: FakeOrder, account: FakeIbAccount | None, outcome: str) -> str:
        if account is None:
            return f"account {order.wire.account!r} is not managed by this login"
        if order.wire.symbol not in self.prices:
            return "No security definition has been found for the request"
        if outcome.startswith("reject:"):
            return outcome.split(":", 1)[1]
        problem = account.ledger.check(self._request(order), self.prices[order.wire.symbol])
        return problem

    def _request(self, order: FakeOrder) -> OrderRequest:
        w = order.wire
        return OrderRequest(
            order.key,
            w.symbol,
            "buy" if w.action == "BUY" else "sell",
            w.quantity,
            order_type="limit" if w.order_type == "LMT" else "market",
            limit_price=w.limit_price,
        )

    def _reject(self, order: FakeOrder, reason: str) -> None:
        order.wire.status = "Inactive"
        self._notify(
            order,
            wire.error(order.wire.order_id, 201, f"Order rejected - reason:{reason}"),
            wire.order_status(order.wire),
        )

    def _start(self, order: FakeOrder, outcome: str) -> None:
        kind, _, arg = outcome.partition(":")
        if kind == "rest":
            return
        if kind == "partial":
            self._fill(order, float(arg))
        elif kind == "delay":
            timer = threading.Timer(float(arg), self._later, args=(order,))
            timer.daemon = True
            timer.start()
        else:
            self._work(order)

    def _later(self, order: FakeOrder) -> None:
        with self.lock:
            if order.is_open:
                self._work(order)

    def _work(self, order: FakeOrder) -> None:
        account = self.accounts[order.wire.account]
        quote = self.prices[order.wire.symbol]
        if account.ledger.marketable(order.key, quote):
            self._fill(order, order.wire.quantity - order.wire.filled)

    def _fill(self, order: FakeOrder, shares: float) -> None:
        account = self.accounts[order.wire.account]
        before = account.ledger.states[order.key].filled_quantity
        state = account.ledger.fill(order.key, shares, self.prices[order.wire.symbol])
        done = state.filled_quantity - before
        if done <= 0:
            return
        price = account.ledger.fills[-1].price
        w = order.wire
        w.filled, w.avg_price, w.last_price = (
            state.filled_quantity,
            state.avg_fill_price or 0,
            price,
        )
        w.status = "Filled" if state.status == "filled" else "Submitted"
        execution = wire.WireExecution(
            f"0000f00d.{next(self._exec):08x}.01.01", w, done, price, w.filled, w.avg_price,
            int(time.time()),
        )  # fmt: skip
        self.executions.append(execution)
        self._notify(
            order,
            wire.exec_details(-1, execution),
            wire.commission_report(execution.exec_id),
            wire.order_status(w),
        )
        self._push_account(account)

    def _cancel(self, order: FakeOrder) -> None:
        self.accounts[order.wire.account].ledger.cancel(order.key)
        order.wire.status = "Cancelled"
        self._notify(
            order,
            wire.order_status(order.wire),
            wire.error(order.wire.order_id, 202, "Order Canceled - reason:"),
        )

    def _notify(self, order: FakeOrder, *messages: wire.Fields) -> None:
        """Send order messages to the connection of the client that placed the order."""
        for conn in list(self.conns):
            if conn.client_id == order.wire.client_id:
                for message in messages:
                    conn.send(message)

    def _push_account(self, account: FakeIbAccount) -> None:
        for conn in list(self.conns):
            if conn.subscribed == account.code:
                self._send_account(conn, account)


_HANDLERS: dict[int, Any] = {
    wire.REQ_CURRENT_TIME: FakeTws._current_time,
    wire.REQ_IDS: FakeTws._req_ids,
    wire.REQ_MANAGED_ACCTS: FakeTws._managed,
    wire.REQ_AUTO_OPEN_ORDERS: FakeTws._ignore,
    wire.CANCEL_MKT_DATA: FakeTws._ignore,
    wire.REQ_MARKET_DATA_TYPE: FakeTws._market_data_type,
    wire.REQ_POSITIONS: FakeTws._positions,
    wire.REQ_ACCOUNT_UPDATES: FakeTws._account_updates,
    wire.REQ_CONTRACT_DATA: FakeTws._contract_details,
    wire.REQ_MKT_DATA: FakeTws._market_data,
    wire.REQ_OPEN_ORDERS: FakeTws._open_orders,
    wire.REQ_ALL_OPEN_ORDERS: FakeTws._all_open_orders,
    wire.REQ_COMPLETED_ORDERS: FakeTws._completed_orders,
    wire.REQ_EXECUTIONS: FakeTws._executions,
    wire.REQ_GLOBAL_CANCEL: FakeTws._global_cancel,
    wire.CANCEL_ORDER: FakeTws._cancel_order,
    wire.PLACE_ORDER: FakeTws._place_order,
}
"""Message id -> handler (anything else is recorded in `FakeTws.unknown` and not answered)."""


# -- the broker contract's factory ----------------------------------------------------------------

_SHARED: list[FakeTws] = []
_CLIENT_IDS = itertools.count(101)


def shared_tws() -> FakeTws:
    """The fake TWS of the contract factory: started on first use, stopped at exit."""
    if not _SHARED:
        tws = FakeTws().start()
        atexit.register(tws.stop)
        _SHARED.append(tws)
    return _SHARED[0]


def adapter(
    tws: FakeTws,
    account: FakeIbAccount,
    folder: Path,
    *,
    cls: type[IbkrAdapter] = IbkrAdapter,
    **options: Any,
) -> IbkrAdapter:
    """A disconnected adapter (of class `cls`) on `account` of `tws`."""
    options.setdefault("client_id", next(_CLIENT_IDS))
    options.setdefault("timeouts", FAST)
    return cls(folder, host=tws.host, port=tws.port, account=account.code, **options)


def ibkr_factory(
    tmp_path: Path,
    *,
    fractional: bool | None = None,
    commission_bps: float = 0.0,
    slippage_bps: float = 0.0,
) -> Broker:
    """The contract factory: the real `ib_async` client on a fresh account of the shared fake.

    IBKR trades whole shares here, so `fractional=True` is skipped, as are costs (IB charges
    its own commissions; the fake charges none).
    """
    if fractional:
        pytest.skip("qtc trades whole shares at IBKR")
    if commission_bps or slippage_bps:
        pytest.skip("the fake TWS does not model commission or slippage")
    tws = shared_tws()
    return adapter(tws, tws.add_account(cash=CASH), tmp_path / "ibkr")
