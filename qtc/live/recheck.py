"""The checks an order plan passes again right before anything is sent.

A plan is data on disk between `--dry-run` and `--apply`; its signature proves qtc wrote it,
and these checks prove it still fits the account (the same checks run on a plan made in the
same process, after the confirmation):

1. the account's positions are the plan's snapshot, and its cash has not shrunk;
2. the orders are rebuilt from the plan's targets, the current positions, the plan's cash
   and prices and its order rules, and must equal the plan's orders (symbol, side,
   quantity, price);
3. the risk checks are re-run against the strategy's `[risk]` stored in the plan, the
   account as it is now, the broker's current prices and the equity peak qtc recorded;
4. then `enforce` refuses a FAIL, a stale signal (unless allowed) and a real broker's plan
   for another day than today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qtc.errors import QtcError
from qtc.live.brokers.base import Account, Broker, Position
from qtc.live.history import history_path, peak_equity
from qtc.live.orderplan import OrderPlan, RiskRecord, positions_moved
from qtc.live.orders import PlannedOrder
from qtc.live.risk import RiskReport, check_orders
from qtc.live.staleness import SignalAge, check_fresh, check_sendable_date, signal_age

QTY_TOLERANCE = 1e-9
"""Rebuilt quantities within this many shares of the plan's are equal."""


@dataclass(frozen=True)
class Recheck:
    """The plan re-checked against the account now.

    Attributes:
        age: How old the signal is when the orders would go out.
        risk: The risk checks re-run now.
        peak_equity: The account's recorded equity peak (None without history).
    """

    age: SignalAge
    risk: RiskReport
    peak_equity: float | None

    def risk_document(self) -> dict[str, Any]:
        """The re-run checks in the order plan's `risk` shape."""
        return RiskRecord.of(self.risk, self.peak_equity).model_dump(mode="json")


def recheck(plan: OrderPlan, broker: Broker, *, state: Path, today: dt.date) -> Recheck:
    """Re-check a plan against the connected broker's account (steps 1-3).

    Raises:
        QtcError: Positions or cash moved, or the rebuilt orders differ (nothing was sent).
    """
    account, positions = broker.account(), broker.positions()
    _refuse_moved(plan, positions, account)
    orders = plan.planned_orders()
    _refuse_different(orders, _rebuilt(plan, positions))
    prices = _current_prices(plan, broker, orders, positions)
    repriced = [_at(o, prices.get(o.symbol, o.price)) for o in orders]
    kind = plan.broker.kind
    peak = peak_equity(history_path(state, kind, account.account_id))
    risk = check_orders(repriced, account, positions, prices, plan.risk_limits, peak_equity=peak)
    max_days = plan.signal_age.max_days
    return Recheck(signal_age(kind, plan.signal_date, plan.as_of, today, max_days), risk, peak)


def enforce(plan: OrderPlan, checked: Recheck, *, today: dt.date, allow_stale: bool) -> None:
    """Refuse to send a plan that failed its re-check (step 4).

    Raises:
        UserError: A real broker's plan made for another day than today.
        QtcError: A risk FAIL, or a stale signal without `allow_stale`.
    """
    check_sendable_date(plan.broker.kind, plan.as_of, today)
    check_fresh(checked.age, allow_stale=allow_stale)
    if checked.risk.failed:
        failed = [
            f"{r.symbol} {r.side}: {c.name}: {c.detail}"
            for r in checked.risk.per_order
            for c in r.checks
            if c.status == "FAIL"
        ] + [f"batch: {c.name}: {c.detail}" for c in checked.risk.batch if c.status == "FAIL"]
        raise _refusal(
            "the order plan fails its risk checks against the account now",
            failed,
            3,
            hint="see the risk column; make a new plan with `--dry-run`",
        )


NEW_PLAN = "make a new plan: `qtc rebalance FILE --broker B --dry-run`"


def _refusal(what: str, items: list[str], shown: int, hint: str = NEW_PLAN) -> QtcError:
    """`what (first items; ...); nothing was sent`."""
    listed = "; ".join(items[:shown]) + ("; ..." if len(items) > shown else "")
    return QtcError(f"{what} ({listed}); nothing was sent", hint=hint)


def _refuse_moved(plan: OrderPlan, positions: list[Position], account: Account) -> None:
    moved = positions_moved(plan, positions, account)
    if moved:
        raise _refusal("positions have moved since the order plan was made", moved, 5)


def _rebuilt(plan: OrderPlan, positions: list[Position]) -> list[PlannedOrder]:
    """The orders the plan's targets, rules and prices give for these positions."""
    snapshot = plan.account.to_account()
    return plan.order_rules.orders(plan.targets, positions, snapshot, plan.prices)


def _refuse_different(planned: list[PlannedOrder], rebuilt: list[PlannedOrder]) -> None:
    """Refuse unless the plan's orders are exactly the rebuilt ones."""
    key = [(o.symbol, o.side) for o in planned]
    differences = []
    if key != [(o.symbol, o.side) for o in rebuilt]:
        differences.append(
            f"orders {len(planned)} planned vs {len(rebuilt)} from the targets"
            if len(planned) != len(rebuilt)
            else "the orders' symbols or sides differ from the targets'"
        )
    else:
        differences = [
            f"{a.symbol} {a.side} {a.quantity:g} @ {a.price:g} (the targets give "
            f"{b.quantity:g} @ {b.price:g})"
            for a, b in zip(planned, rebuilt, strict=True)
            if abs(a.quantity - b.quantity) > QTY_TOLERANCE or a.price != b.price
        ]
    if differences:
        raise _refusal("the order plan's orders are not the ones its targets give", differences, 3)


def _current_prices(
    plan: OrderPlan,
    broker: Broker,
    orders: list[PlannedOrder],
    positions: list[Position],
) -> dict[str, float]:
    """The broker's prices now, falling back to the plan's where it quotes none."""
    symbols = sorted({o.symbol for o in orders} | {p.symbol for p in positions})
    prices = {s: float(p) for s, p in plan.prices.items()}
    prices.update({s: float(p) for s, p in broker.quotes(symbols).items() if p > 0})
    return prices


def _at(order: PlannedOrder, price: float) -> PlannedOrder:
    """The order priced at `price`."""
    return replace(order, price=price, notional=order.quantity * price)
