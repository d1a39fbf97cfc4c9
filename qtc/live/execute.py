"""Execute an order plan against a broker, logging every step ahead of time (DESIGN §8).

The executor follows the plan's orders exactly (same symbols, sides and quantities; buys may
only shrink to fit the cash actually available after the sells):

1. On a resume, every order the audit log knows is first asked from the broker, whose state
   wins: an order whose intent was logged but which the broker never received is sent again
   (same client order id); one the broker has is never sent twice.
2. Sells are submitted. When the cash on hand does not cover the buys, their fills are awaited
   (polling with a timeout) before any buy is sent.
3. Buys not yet sent are scaled down pro rata to the cash available (minus the cost buffer) and
   submitted.
4. Every order is polled until it is closed or the timeout passes; what is still open then is
   canceled (a partial fill keeps what filled).
5. Positions are reconciled against the targets and the residual is reported.

Before every broker call that changes something (`submit`, `cancel`) an *intent* record is
appended and fsynced; the *result* follows the call. Fills are logged as the broker reports
them. A dropped connection is retried (`Timing.reconnects`); when the broker stays away the run
stops with `ExecutionInterrupted`, and `qtc rebalance --resume` finishes it later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from qtc.errors import QtcError
from qtc.live import audit
from qtc.live.brokers.base import (
    Account,
    Broker,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderState,
    Position,
    Side,
)
from qtc.live.orders import PlannedOrder, fit_cash
from qtc.live.rules import OrderRules

if TYPE_CHECKING:
    from qtc.live.orderplan import OrderPlan

EPS = 1e-9
"""Share tolerance when comparing filled quantities."""

FILL_STATUSES = frozenset({"partially_filled", "filled"})
"""Statuses the audit log derives from `fill` records."""

T = TypeVar("T")


class ExecutionInterrupted(BrokerError):  # noqa: N818 - a state, not a fault of the caller
    """The broker could not be reached; the run can be finished with `--resume`."""


@dataclass(frozen=True)
class Timing:
    """How long to wait for fills and how to retry a lost connection.

    Attributes:
        timeout: Seconds to wait for a group of orders to close before canceling the rest.
        poll: Seconds between two status polls.
        reconnects: Reconnection attempts after a dropped connection.
        sleep: Sleeps a number of seconds (tests pass a fake clock's).
        monotonic: Returns a monotonic time in seconds.
    """

    timeout: float = 60.0
    poll: float = 1.0
    reconnects: int = 3
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True, slots=True)
class PlanOrder:
    """One order as the executor sends it.

    Attributes:
        symbol: Ticker.
        side: `"buy"` or `"sell"`.
        quantity: Shares planned.
        price: The price the plan sized it at.
    """

    symbol: str
    side: Side
    quantity: float
    price: float


@dataclass(frozen=True)
class ExecutionPlan:
    """What the executor runs: a plan's orders under its rules, named by its hash.

    Attributes:
        sha256: The plan's hash (the client order ids and the audit log derive from it).
        orders: The orders, sells first.
        prices: Symbol -> the price the plan sized at (the residual is valued at it).
        targets: Symbol -> target weight (the residual is measured against it).
        rules: The rules the buys are fitted to the cash left after the sells with.
    """

    sha256: str
    orders: Sequence[PlanOrder]
    prices: Mapping[str, float]
    targets: Mapping[str, float]
    rules: OrderRules

    @classmethod
    def of(cls, plan: OrderPlan) -> ExecutionPlan:
        """The execution of an order plan."""
        return cls(
            plan.sha256,
            [PlanOrder(o.symbol, o.side, float(o.quantity), float(o.price)) for o in plan.orders],
            plan.prices,
            plan.targets,
            plan.order_rules,
        )


def client_order_id(plan_sha256: str, index: int) -> str:
    """The client order id of the plan's `index`-th order (0-based, sells first).

    Derived from the order-plan hash, so the same plan always sends the same ids and a
    re-submission after a crash is recognized by the broker.
    """
    return f"qtc-{plan_sha256[:20]}-{index:03d}"


@dataclass
class Row:
    """One planned order and what became of it.

    Attributes:
        client_order_id: Its id at the broker.
        symbol: Ticker.
        side: `"buy"` or `"sell"`.
        planned: Quantity in the order plan.
        price: Price the plan sized it at.
        quantity: Quantity to send (or sent): the planned one, or less after a cash fit.
        state: The broker's last answer about the order (None before it was sent).
        skipped: Why the order was not sent (empty when it was or will be).
        logged_filled: Shares filled according to the audit log.
        logged_notional: Sum of fill quantity x price according to the audit log.
    """

    client_order_id: str
    symbol: str
    side: Side
    planned: float
    price: float
    quantity: float
    state: OrderState | None = None
    skipped: str = ""
    logged_filled: float = 0.0
    logged_notional: float = 0.0

    @property
    def sent(self) -> bool:
        """Whether the broker has (or refused) the order."""
        return self.state is not None

    @property
    def is_open(self) -> bool:
        """Whether the order may still fill."""
        return self.state is not None and self.state.is_open

    def outcome(self) -> dict[str, Any]:
        """The order's line in the execution report."""
        state = self.state
        return {
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "planned": self.planned,
            "quantity": self.quantity if not self.skipped else 0.0,
            "filled": state.filled_quantity if state else 0.0,
            "avg_price": state.avg_fill_price if state else None,
            "status": state.status if state else "skipped",
            "reason": (state.reason if state else self.skipped) or "",
        }


@dataclass
class ExecutionReport:
    """What an execution did.

    Attributes:
        orders: One outcome per planned order (see `Row.outcome`).
        residual: Per symbol: target weight, weight held after the run, and the difference.
        account: Cash and equity after the run.
        complete: Whether every order reached a final state (filled, canceled, rejected,
            skipped).
    """

    orders: list[dict[str, Any]]
    residual: list[dict[str, Any]]
    account: Account
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "orders": self.orders,
            "residual": self.residual,
            "account": asdict(self.account),
            "complete": self.complete,
        }


class Executor:
    """Runs one order plan on one broker, writing the audit log ahead of every step."""

    def __init__(
        self,
        broker: Broker,
        log: audit.AuditLog,
        plan: ExecutionPlan,
        *,
        timing: Timing | None = None,
        known: Mapping[str, audit.OrderState] | None = None,
    ) -> None:
        """Prepare a run.

        Args:
            broker: A connected broker.
            log: The open audit log (its plan hash is the plan's `sha256`).
            plan: The orders, their rules and the plan's hash.
            timing: Timeouts, polling and reconnection (defaults: 60 s, 1 s, 3 tries).
            known: On a resume, the log's replayed orders (`audit.replay`).
        """
        self.broker = broker
        self.log = log
        self.plan = plan
        self.timing = timing or Timing()
        self.known = dict(known or {})
        self.fractional = plan.rules.fractional
        self.min_order_value = plan.rules.min_order_value
        self.cash_buffer_bps = plan.rules.cash_buffer_bps
        self.rows = [
            Row(client_order_id(plan.sha256, i), o.symbol, o.side, o.quantity, o.price, o.quantity)
            for i, o in enumerate(plan.orders)
        ]

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> ExecutionReport:
        """Execute (or finish) the plan and reconcile.

        Raises:
            ExecutionInterrupted: The broker stayed unreachable; resume later.
            QtcError: The log and the broker disagree in a way qtc cannot settle alone.
        """
        self.log.append("run.start", {"orders": len(self.rows), "resume": bool(self.known)})
        try:
            return self._run()
        except BrokerError as exc:
            if isinstance(exc, ExecutionInterrupted):
                raise
            self.log.append("run.interrupted", {"error": str(exc)})
            raise ExecutionInterrupted(
                f"broker error: {exc}; stopped (the audit log records what may be pending)",
                hint="run the same command with --resume once the problem is fixed",
            ) from exc

    def _run(self) -> ExecutionReport:
        self._recover()
        sells = [r for r in self.rows if r.side == "sell"]
        buys = [r for r in self.rows if r.side == "buy"]
        self._submit_all(sells)
        if buys:
            if self._cash_needed(buys):
                self._wait(sells)
            self._fit_buys(buys)
            self._submit_all(buys)
        self._wait(self.rows)
        report = self._reconcile()
        self.log.append("run.end", {"complete": report.complete})
        return report

    # -- resume ----------------------------------------------------------------------------------

    def _recover(self) -> None:
        """Settle every order the log knows with the broker's own state (the broker wins)."""
        for row in self.rows:
            logged = self.known.get(row.client_order_id)
            if logged is None:
                continue
            row.logged_filled = float(logged.filled_quantity)
            row.logged_notional = float(logged.fill_notional)
            if logged.quantity is not None:
                row.quantity = float(logged.quantity)
            state = self._call("order", partial(self.broker.order, row.client_order_id))
            if state is None:
                self._recover_missing(row, logged)
                continue
            if logged.pending == "submit":
                self._log_result(row, state, recovered=True)
                self._observe(row, state)
            else:
                self._observe(row, state, logged_status=logged.status)
            if logged.pending == "cancel" and state.is_open:
                self._cancel(row)

    def _recover_missing(self, row: Row, logged: audit.OrderState) -> None:
        """An order the log knows and the broker does not."""
        if logged.pending == "submit":
            # The intent was logged but the order never reached the broker: send it again.
            self.log.append(
                "recover", {"client_order_id": row.client_order_id, "outcome": "not at broker"}
            )
            return
        if logged.status == "rejected":
            row.state = _synthetic(row, "rejected", logged)
            return
        raise QtcError(
            f"the audit log says order {row.client_order_id} ({row.side} {row.symbol}) is "
            f"{logged.status!r}, but the broker does not know it; nothing more was sent",
            hint="check the account at the broker before resuming or trading again",
        )

    # -- submit ----------------------------------------------------------------------------------

    def _submit_all(self, rows: list[Row]) -> None:
        for row in rows:
            if not row.sent and not row.skipped:
                self._submit(row)

    def _submit(self, row: Row) -> None:
        """Log the intent, send the order (once), log the broker's answer."""
        request = OrderRequest(row.client_order_id, row.symbol, row.side, row.quantity)
        self.log.append(
            "intent.submit",
            {
                "client_order_id": row.client_order_id,
                "symbol": row.symbol,
                "side": row.side,
                "quantity": row.quantity,
            },
        )
        state = self._send(request)
        self._log_result(row, state, recovered=False)
        self._observe(row, state)

    def _send(self, request: OrderRequest) -> OrderState:
        """Submit; after a dropped connection ask the broker before submitting again."""
        try:
            return self.broker.submit(request)
        except BrokerDisconnected as exc:
            self._reconnect("submit", exc)
        known = self._call("order", lambda: self.broker.order(request.client_order_id))
        if known is not None:
            return known
        return self._call("submit", lambda: self.broker.submit(request))

    def _log_result(self, row: Row, state: OrderState, *, recovered: bool) -> None:
        payload: dict[str, Any] = {
            "client_order_id": row.client_order_id,
            "status": state.status,
            "broker_order_id": state.broker_order_id,
        }
        if state.reason:
            payload["reason"] = state.reason
        if recovered:
            payload["recovered"] = True
        self.log.append("result.submit", payload)

    # -- cash ------------------------------------------------------------------------------------

    def _cash_needed(self, buys: list[Row]) -> bool:
        """Whether the buys need the sells' proceeds (so the sells must fill first)."""
        pending = [r for r in buys if not r.sent and not r.skipped]
        need = sum(r.quantity * r.price for r in pending) * (1 + self.cash_buffer_bps / 10_000)
        account = self._call("account", self.broker.account)
        return need > account.cash + EPS

    def _fit_buys(self, buys: list[Row]) -> None:
        """Shrink the unsent buys pro rata to the cash actually available now."""
        pending = [r for r in buys if not r.sent and not r.skipped]
        if not pending:
            return
        account = self._call("account", self.broker.account)
        reserved = sum(r.state.remaining * r.price for r in buys if r.state and r.state.is_open)
        budget = (account.cash - reserved) / (1 + self.cash_buffer_bps / 10_000)
        orders = [
            PlannedOrder(r.symbol, "buy", r.quantity, r.price, r.quantity * r.price, 0.0, 0.0)
            for r in pending
        ]
        fitted = {
            o.symbol: o.quantity
            for o in fit_cash(
                orders,
                budget,
                fractional=self.fractional,
                min_order_value=self.min_order_value,
            )
        }
        for row in pending:
            quantity = fitted.get(row.symbol, 0.0)
            if quantity >= row.quantity - EPS:
                continue
            event = {"client_order_id": row.client_order_id, "symbol": row.symbol}
            if quantity <= 0:
                row.skipped = "not enough cash after the sells"
                self.log.append("order.skipped", event | {"reason": row.skipped})
            else:
                self.log.append(
                    "order.resized", event | {"planned": row.quantity, "quantity": quantity}
                )
                row.quantity = quantity

    # -- waiting ---------------------------------------------------------------------------------

    def _wait(self, rows: list[Row]) -> None:
        """Poll open orders until they close or the timeout passes; then cancel the rest."""
        deadline = self.timing.monotonic() + self.timing.timeout
        while True:
            still_open = [r for r in rows if r.is_open]
            if still_open:
                self._poll(still_open)
            still_open = [r for r in rows if r.is_open]
            if not still_open:
                return
            if self.timing.monotonic() >= deadline:
                for row in still_open:
                    self._cancel(row)
                return
            self.timing.sleep(self.timing.poll)

    def _poll(self, rows: list[Row]) -> None:
        """One status round: the broker's open orders in one call, then each order that closed."""
        listed = {s.client_order_id: s for s in self._call("open_orders", self.broker.open_orders)}
        for row in rows:
            state = listed.get(row.client_order_id)
            if state is None:  # closed since the last round: its final state, once
                state = self._call("order", partial(self.broker.order, row.client_order_id))
            if state is not None:
                self._observe(row, state)

    def _cancel(self, row: Row) -> None:
        """Cancel what is left of an order (intent logged first)."""
        self.log.append("intent.cancel", {"client_order_id": row.client_order_id})
        state = self._call("cancel", lambda: self.broker.cancel(row.client_order_id))
        self._record_fills(row, state)
        row.state = state
        self.log.append(
            "result.cancel", {"client_order_id": row.client_order_id, "status": state.status}
        )

    def _observe(self, row: Row, state: OrderState, *, logged_status: str | None = None) -> None:
        """Log the new fills and any status the broker changed on its own.

        Fills imply `partially_filled` / `filled` in the log; other changes (an order the
        broker canceled, expired or rejected after accepting it) get an `order.status` record.
        """
        self._record_fills(row, state)
        before = row.state.status if row.state else logged_status
        row.state = state
        changed = before is not None and state.status != before
        if changed and state.status not in FILL_STATUSES:
            self.log.append(
                "order.status", {"client_order_id": row.client_order_id, "status": state.status}
            )

    def _record_fills(self, row: Row, state: OrderState) -> None:
        delta = state.filled_quantity - row.logged_filled
        if delta <= EPS:
            return
        if state.avg_fill_price is not None:
            notional = state.avg_fill_price * state.filled_quantity - row.logged_notional
            price = notional / delta
        else:
            price = row.price
        self.log.append(
            "fill", {"client_order_id": row.client_order_id, "quantity": delta, "price": price}
        )
        row.logged_filled += delta
        row.logged_notional += delta * price

    # -- reconcile -------------------------------------------------------------------------------

    def _reconcile(self) -> ExecutionReport:
        """Compare holdings with the targets; log and return the report."""
        account = self._call("account", self.broker.account)
        positions = self._call("positions", self.broker.positions)
        residual = residual_weights(self.plan.prices, self.plan.targets, account, positions)
        orders = [r.outcome() for r in self.rows]
        complete = not any(r.is_open for r in self.rows) and all(
            r.sent or r.skipped for r in self.rows
        )
        self.log.append(
            "reconcile",
            {"cash": account.cash, "equity": account.equity, "residual": residual},
        )
        return ExecutionReport(orders, residual, account, complete)

    # -- connection ------------------------------------------------------------------------------

    def _call(self, method: str, fn: Callable[[], T]) -> T:
        """Run a read or an idempotent broker call, reconnecting after a dropped line."""
        for _attempt in range(self.timing.reconnects + 1):
            try:
                return fn()
            except BrokerDisconnected as exc:
                self._reconnect(method, exc)
        raise ExecutionInterrupted(
            "the broker connection keeps dropping; stopped",
            hint="run the same command with --resume once the broker is reachable",
        )

    def _reconnect(self, method: str, exc: BrokerDisconnected) -> None:
        """Log the drop and reconnect, or stop the run (the log says what is pending)."""
        self.log.append("broker.disconnected", {"during": method, "error": str(exc)})
        for _attempt in range(self.timing.reconnects):
            self.timing.sleep(self.timing.poll)
            try:
                self.broker.connect()
            except BrokerDisconnected:
                continue
            self.log.append("broker.reconnected", {"during": method})
            return
        raise ExecutionInterrupted(
            f"lost the broker connection during {method} and could not reconnect; "
            "the audit log records what may be pending",
            hint="run the same command with --resume once the broker is reachable",
        )


def _synthetic(row: Row, status: Any, logged: audit.OrderState) -> OrderState:
    """A broker-style state for an order the broker no longer reports (a logged reject)."""
    return OrderState(
        client_order_id=row.client_order_id,
        broker_order_id=logged.broker_order_id or "",
        symbol=row.symbol,
        side=row.side,
        quantity=row.quantity,
        filled_quantity=0.0,
        avg_fill_price=None,
        status=status,
        reason="rejected (from the audit log)",
    )


def residual_weights(
    prices: Mapping[str, float],
    targets: Mapping[str, float],
    account: Account,
    positions: list[Position],
) -> list[dict[str, Any]]:
    """Target vs held weight per symbol, at the given prices, largest gap first.

    Symbols without a price are valued at their average price.
    """
    held = {p.symbol: p.quantity * prices.get(p.symbol, p.avg_price) for p in positions}
    equity = account.cash + sum(held.values())
    rows: list[dict[str, Any]] = []
    for symbol in sorted(set(targets) | set(held)):
        weight = held.get(symbol, 0.0) / equity if equity > 0 else 0.0
        target = float(targets.get(symbol, 0.0))
        rows.append(
            {
                "symbol": symbol,
                "target_weight": target,
                "weight": weight,
                "diff": weight - target,
            }
        )
    rows.sort(key=lambda r: (-abs(r["diff"]), r["symbol"]))
    return rows
