"""IB's view of an order (an `ib_async` `Trade` and its executions) as a qtc `OrderState`.

Status mapping (IB's status text -> `base.OrderStatus`):

==============================================  ==================================
IB status                                       qtc status
==============================================  ==================================
`PendingSubmit`, `ApiPending`                   `new`
`PreSubmitted`, `Submitted`, `PendingCancel`,   `accepted` (`partially_filled` once
`ValidationError`, `ApiUpdate`                  shares filled)
`Filled`                                        `filled`
`Cancelled`, `ApiCancelled`                     `canceled`; `rejected` when IB's error
                                                201 (order rejected) came with it and
                                                nothing filled
`Inactive`                                      `rejected`
==============================================  ==================================

Filled shares are the largest of what `orderStatus` says, what the executions add up to, and
(for an order completed before this session) the completed order's `filledQuantity`; the
average price is `orderStatus`'s, else the executions' volume-weighted price.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from qtc.live.brokers.base import OrderState, OrderStatus, Side

if TYPE_CHECKING:
    from ib_async import Fill, Trade

OPEN: dict[str, OrderStatus] = {
    "PendingSubmit": "new",
    "ApiPending": "new",
    "PreSubmitted": "accepted",
    "Submitted": "accepted",
    "PendingCancel": "accepted",
    "ValidationError": "accepted",
    "ApiUpdate": "accepted",
}
DONE: dict[str, OrderStatus] = {
    "Filled": "filled",
    "Cancelled": "canceled",
    "ApiCancelled": "canceled",
    "Inactive": "rejected",
}

REJECTED = 201
"""IB's error code for an order it refused ("Order rejected - reason: ...")."""

REJECTED_BY_IBKR = "rejected by IBKR"
MAX_MESSAGE = 300
"""Longest IB error text kept in a reason or an exception message."""

_UNSET = 1e300
"""`ib_async` marks unset numbers with `sys.float_info.max`."""


def clean_message(text: str) -> str:
    """IB's text on one line, at most `MAX_MESSAGE` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 3] + "..."


def side_of(action: str) -> Side:
    """IB's order action as a qtc side (IB's `SSHORT` is a sell)."""
    return "buy" if action.upper() == "BUY" else "sell"


def map_status(ib_status: str, *, filled: float, rejected: bool) -> OrderStatus:
    """Map IB's status text (table in the module docstring).

    Args:
        ib_status: IB's status (`"Submitted"`, `"Cancelled"`, ...).
        filled: Shares filled so far.
        rejected: Whether IB reported error 201 (order rejected) for the order.
    """
    if ib_status in DONE:
        status = DONE[ib_status]
        if status == "canceled" and rejected and filled <= 0:
            return "rejected"
        return status
    if filled > 0:
        return "partially_filled"
    return OPEN.get(ib_status, "accepted")


def filled_shares(trade: Trade, fills: Iterable[Fill]) -> float:
    """Shares filled: the largest of the status, the executions and a completed order's count."""
    counted = sum((float(f.execution.shares) for f in fills), 0.0)
    reported = float(trade.orderStatus.filled or 0.0)
    completed = float(trade.order.filledQuantity or 0.0)
    if not math.isfinite(completed) or completed >= _UNSET:
        completed = 0.0
    return max(counted, reported, completed)


def average_price(trade: Trade, fills: list[Fill], filled: float) -> float | None:
    """The average fill price, or `None` before the first fill (or when IB gave none)."""
    if filled <= 0:
        return None
    reported = float(trade.orderStatus.avgFillPrice or 0.0)
    if math.isfinite(reported) and 0 < reported < _UNSET:
        return reported
    shares = sum(float(f.execution.shares) for f in fills)
    if shares <= 0:
        return None
    return sum(float(f.execution.shares) * float(f.execution.price) for f in fills) / shares


def order_state(
    trade: Trade,
    fills: list[Fill],
    *,
    client_order_id: str,
    quantity: float | None = None,
    error: tuple[int, str] | None = None,
) -> OrderState:
    """The qtc state of an IB order.

    Args:
        trade: The order at IB.
        fills: Its executions (matched by perm id).
        client_order_id: qtc's id for it.
        quantity: Shares qtc asked for (default: IB's total quantity).
        error: The last error IB reported for the order (code, text), if any.
    """
    filled = filled_shares(trade, fills)
    rejected = error is not None and error[0] == REJECTED
    status = map_status(trade.orderStatus.status, filled=filled, rejected=rejected)
    reason = ""
    if status == "rejected":
        reason = clean_message(error[1]) if error else REJECTED_BY_IBKR
    perm = int(trade.order.permId or trade.orderStatus.permId or 0)
    return OrderState(
        client_order_id=client_order_id,
        broker_order_id=str(perm) if perm else "",
        symbol=trade.contract.symbol,
        side=side_of(trade.order.action),
        quantity=float(trade.order.totalQuantity) if quantity is None else quantity,
        filled_quantity=filled,
        avg_fill_price=average_price(trade, fills, filled),
        status=status,
        reason=reason,
    )
