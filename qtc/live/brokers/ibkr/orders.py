"""The account's orders at IB: finding one by its `orderRef`, its qtc state, the journal's part.

The session (`ib_async`'s state) knows the orders open or completed when it connected and every
update TWS pushes since. TWS pushes an order's changes to the API client that placed it only,
so another client's open order is asked for again; an order the journal names that the session
does not know is looked up in full (all clients' open orders, the day's completed orders)
before qtc concludes that it never arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from qtc.live.brokers.base import BrokerError, OrderState
from qtc.live.brokers.ibkr.connection import Connection
from qtc.live.brokers.ibkr.journal import Entry, Journal
from qtc.live.brokers.ibkr.status import order_state

if TYPE_CHECKING:
    from ib_async import IB, Fill, Trade


class OrderBook:
    """The orders of one account at IB, as one API client sees them."""

    def __init__(
        self,
        conn: Connection,
        journal: Journal,
        client_id: int,
        today: Callable[[], str],
    ) -> None:
        """Create the book; `account_code` is set once connected.

        Args:
            conn: The connection to TWS.
            journal: The account's order journal.
            client_id: This session's API client id.
            today: Today's local date, ISO.
        """
        self.conn = conn
        self.journal = journal
        self.client_id = client_id
        self.account_code = ""
        self._today = today

    # -- finding ---------------------------------------------------------------------------------

    def find(self, ref: str, entry: Entry | None) -> Trade | None:
        """The account's order at IB with this `orderRef`, brought up to date."""
        trade = self._known(ref)
        if trade is None and entry is not None and (entry.state is None or entry.state.is_open):
            trade = self._refreshed(ref)
        return trade

    def _known(self, ref: str) -> Trade | None:
        """The order as the session knows it: final if closed; else after a round trip."""

        def look(ib: IB) -> Trade | None:
            found = [t for t in ib.trades() if t.order.orderRef == ref and self.in_account(t)]
            return best(found)

        trade = self.conn.call("order", look)
        if trade is None or trade.isDone():
            return trade
        if not self.ours(trade):
            return self._refreshed(ref) or trade
        self.conn.call("order", lambda ib: ib.reqCurrentTime())
        return trade

    def _refreshed(self, ref: str) -> Trade | None:
        """The order as IB reports it now, among every client's (open, or completed today)."""

        def look(ib: IB) -> Trade | None:
            for trade in ib.reqAllOpenOrders():
                if trade.order.orderRef == ref and self.in_account(trade):
                    return trade
            ib.reqExecutions()
            done = [t for t in ib.reqCompletedOrders(False) if t.order.orderRef == ref]
            return best([t for t in done if self.in_account(t)])

        return self.conn.call("order", look)

    def forgotten(self, client_order_id: str, entry: Entry | None) -> OrderState | None:
        """What to say of an order IB does not report: `None` if it never arrived.

        Raises:
            BrokerError: The journal says qtc sent it and IB acknowledged it (or it was sent
                on an earlier day) and its last known state was open: TWS forgot it.
        """
        if entry is None:
            return None
        if entry.state is not None and not entry.state.is_open:
            return entry.state
        if entry.perm_id == 0 and entry.sent_on == self._today():
            return None  # sent today and never acknowledged: it did not reach IB
        raise BrokerError(
            f"IBKR no longer reports order {client_order_id!r} (orderRef {entry.order_ref!r}, "
            f"sent {entry.sent_on}); TWS and IB Gateway forget orders when they restart, and "
            "qtc will not guess whether it filled",
            hint=f"check the account's trades in TWS or the statement; once settled, remove the "
            f"entry {client_order_id!r} from {self.journal.path}",
        )

    def open_trades(self, method: str) -> list[Trade]:
        """Every open order of the account, any client's, oldest first."""
        trades = self.conn.call(method, lambda ib: ib.reqAllOpenOrders())
        return [t for t in _sorted(trades) if self.in_account(t) and not t.isDone()]

    def final(self, trades: list[Trade]) -> list[OrderState]:
        """The states of other clients' orders once closed (IB pushes this client none)."""
        if not trades:
            return []
        perms = {t.order.permId for t in trades}

        def closed(ib: IB) -> bool:
            return not any(t.order.permId in perms for t in ib.reqAllOpenOrders())

        deadline = time.monotonic() + self.conn.timeouts.cancel
        while not self.conn.call("cancel_all", closed) and time.monotonic() < deadline:
            self.conn.wait(0.05)

        def completed(ib: IB) -> list[Trade]:
            ib.reqExecutions()
            return [t for t in ib.reqCompletedOrders(False) if t.order.permId in perms]

        done = {t.order.permId: t for t in self.conn.call("cancel_all", completed)}
        return [self.state_of(done.get(t.order.permId, t)) for t in trades]

    # -- states ----------------------------------------------------------------------------------

    def state(self, trade: Trade, client_order_id: str, entry: Entry | None) -> OrderState:
        """The order's qtc state; the journal learns IB's perm id and the final state."""
        quantity = entry.request.quantity if entry else None
        state = self._map(trade, client_order_id, quantity)
        if entry is not None:
            self._record(entry, trade, state)
        return state

    def state_of(self, trade: Trade) -> OrderState:
        """The state of a listed order, named by the journal (else by its `orderRef`)."""
        ref = trade.order.orderRef
        coid = self.journal.by_ref(ref) if ref else None
        if coid is None:
            return self._map(trade, ref or f"ibkr-{trade.order.permId}", None)
        return self.state(trade, coid, self.journal.get(coid))

    def _map(self, trade: Trade, client_order_id: str, quantity: float | None) -> OrderState:
        error = self.conn.errors.get(trade.order.orderId) if self.ours(trade) else None
        return order_state(
            trade,
            self._fills(trade),
            client_order_id=client_order_id,
            quantity=quantity,
            error=error,
        )

    def _record(self, entry: Entry, trade: Trade, state: OrderState) -> None:
        perm = int(trade.order.permId or trade.orderStatus.permId or 0)
        changed = False
        if perm and entry.perm_id != perm:
            entry.perm_id, changed = perm, True
        if not state.is_open and entry.state != state:
            entry.state, changed = state, True
        if changed:
            self.journal.put(entry)

    def _fills(self, trade: Trade) -> list[Fill]:
        perm = trade.order.permId or trade.orderStatus.permId
        if not perm:
            return list(trade.fills)
        every = self.conn.call("order", lambda ib: ib.fills())
        return [f for f in every if f.execution.permId == perm]

    # -- waiting ---------------------------------------------------------------------------------

    def wait(self, done: Callable[[], bool], seconds: float) -> None:
        """Let IB's messages in until `done()` or `seconds` pass."""
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            self.conn.wait(0.02)

    def settle(self, trades: list[Trade]) -> None:
        """Wait (up to `Timeouts.cancel`) until IB reports every one of `trades` closed."""
        if not trades:
            return
        self.conn.call("cancel", lambda ib: ib.reqCurrentTime())
        self.wait(lambda: all(t.isDone() for t in trades), self.conn.timeouts.cancel)

    # -- whose -----------------------------------------------------------------------------------

    def in_account(self, trade: Trade) -> bool:
        """Whether the order is for this account."""
        return bool(trade.order.account == self.account_code)

    def ours(self, trade: Trade) -> bool:
        """Whether this API client placed the order (only it can cancel it)."""
        return bool(trade.order.clientId == self.client_id)


def best(trades: list[Trade]) -> Trade | None:
    """The order a reference names: an open one first, else the latest (highest perm id)."""
    if not trades:
        return None
    return max(trades, key=lambda t: (not t.isDone(), t.order.permId or 0))


def _sorted(trades: list[Trade]) -> list[Trade]:
    return sorted(trades, key=lambda t: (t.order.permId or 0, t.order.orderId))
