"""Pre-trade risk checks: nanobook's `RiskEngine` on every order and the batch, plus drawdown.

The engine is configured from the strategy's `[risk]`:

| `[risk]`           | `RiskEngine`                                                        |
|--------------------|---------------------------------------------------------------------|
| `max_position_pct` | `max_position_pct`                                                  |
| `max_leverage`     | `max_leverage`                                                      |
| `allow_short`      | `allow_short`                                                       |
| `max_short_pct`    | `max_short_pct`                                                     |
| `max_order_value`  | `max_order_value_cents` (FAIL) and `max_trade_usd` (WARN); unset =  |
|                    | no limit (huge values)                                              |
| `max_drawdown_pct` | passed, but nanobook never checks it: qtc checks it here itself     |

nanobook works in integer cents and whole shares: prices and equity are rounded to cents, and
share quantities (orders *and* holdings) are rounded **up** to whole shares for the check, so a
fractional order is checked as at least as large as it is, and selling a whole fractional
holding (0.3 of 0.3) is still not a short (1 of 1).

Status mapping: each nanobook check's `"PASS"`/`"WARN"`/`"FAIL"` is kept as is; an order's
status is its worst check, the report's status the worst of every order and batch check.
Two qtc adjustments:

* A sell that does not go short but leaves a position still above `max_position_pct` is
  *reducing* an oversized position; its "Max position" FAIL becomes a WARN.
* Drawdown: when `peak_equity` is given, `max_drawdown_pct` is set and
  `account.equity < peak_equity * (1 - max_drawdown_pct)`, every buy gets a FAIL
  ("drawdown breach blocks new buys"); sells are allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from qtc.live.brokers.base import Account, Position, Side
from qtc.live.orders import PlannedOrder
from qtc.manifest.risk import RiskSection

Status = Literal["PASS", "WARN", "FAIL"]

RANK: dict[str, int] = {"PASS": 0, "WARN": 1, "FAIL": 2}
"""Severity of each status (the worst one wins)."""

NO_LIMIT_CENTS = 2**62
"""`max_order_value_cents` / `max_batch_value_cents` when `[risk]` sets no limit."""

NO_LIMIT_USD = 1e18
"""`max_trade_usd` when `[risk]` sets no limit (nanobook refuses infinity)."""

EPS = 1e-9
"""Share quantities within this of a whole number are not rounded up past it."""

DRAWDOWN = "Drawdown"
"""Name of qtc's own drawdown check."""


@dataclass(frozen=True, slots=True)
class RiskCheck:
    """One check's outcome.

    Attributes:
        name: Check name (nanobook's, e.g. "Max position", or qtc's "Drawdown").
        status: `"PASS"`, `"WARN"` or `"FAIL"`.
        detail: Human-readable reason.
    """

    name: str
    status: Status
    detail: str


@dataclass(frozen=True, slots=True)
class OrderRisk:
    """The checks of one order.

    Attributes:
        symbol: Ticker.
        side: `"buy"` or `"sell"`.
        status: The worst status of `checks`.
        checks: Every check run on the order.
    """

    symbol: str
    side: Side
    status: Status
    checks: tuple[RiskCheck, ...]


@dataclass(frozen=True, slots=True)
class RiskReport:
    """The outcome of checking an order plan.

    Attributes:
        status: The worst status of every order and batch check; any FAIL means nothing
            may be sent.
        per_order: One entry per order, in the plan's order.
        batch: The checks of the whole batch (and qtc's drawdown check when it applies).
    """

    status: Status
    per_order: tuple[OrderRisk, ...]
    batch: tuple[RiskCheck, ...]

    @property
    def failed(self) -> bool:
        """Whether anything failed (then nothing is sent)."""
        return self.status == "FAIL"


QTY_SCALE = 1000
"""nanobook's risk checks take integer quantities: qtc passes milli-shares, with equity and
value limits scaled by the same factor, so every ratio (position %, leverage) is exact to
0.001 share for fractional orders, and exact for whole shares."""


LEVERAGE_TOLERANCE = 0.001
"""Added to `max_leverage`: nanobook measures leverage at integer-cent prices, so a fully
invested account (cash a few dollars) can read a hair above 1.00x. 0.1% of equity is below
the cash qtc keeps back for costs, so a real breach still fails."""


def whole_shares(quantity: float) -> int:
    """Round a share quantity up to whole shares (exact wholes stay)."""
    return max(math.ceil(quantity - EPS), 0)


def scaled(quantity: float) -> int:
    """A share quantity in milli-shares for nanobook's checks."""
    return round(quantity * QTY_SCALE)


def cents(value: float) -> int:
    """A dollar amount in integer cents."""
    return round(value * 100)


def engine_config(risk: RiskSection) -> dict[str, object]:
    """The `RiskEngine` keyword arguments for a strategy's `[risk]`."""
    limit = risk.max_order_value
    return {
        "max_position_pct": risk.max_position_pct,
        "max_leverage": risk.max_leverage + LEVERAGE_TOLERANCE,
        "max_drawdown_pct": risk.max_drawdown_pct if risk.max_drawdown_pct is not None else 0.2,
        "allow_short": risk.allow_short,
        "max_short_pct": risk.max_short_pct,
        "max_trade_usd": NO_LIMIT_USD if limit is None else float(limit) * QTY_SCALE,
        "max_order_value_cents": NO_LIMIT_CENTS if limit is None else cents(limit) * QTY_SCALE,
        "max_batch_value_cents": NO_LIMIT_CENTS,
    }


def drawdown_breached(account: Account, risk: RiskSection, peak_equity: float | None) -> bool:
    """Whether the account is below its allowed drawdown from `peak_equity`."""
    limit = risk.max_drawdown_pct
    if peak_equity is None or limit is None:
        return False
    return account.equity < peak_equity * (1 - limit)


def check_orders(
    orders: Sequence[PlannedOrder],
    account: Account,
    positions: Sequence[Position],
    prices: Mapping[str, float],
    risk: RiskSection,
    *,
    peak_equity: float | None,
) -> RiskReport:
    """Check every order and the whole batch against the strategy's `[risk]`.

    Args:
        orders: The order plan.
        account: Cash and equity (equity is the base of every percentage).
        positions: Holdings before the orders.
        prices: Symbol -> price of every holding (orders carry their own price).
        risk: The strategy's `[risk]`.
        peak_equity: The account's equity peak from qtc's history, or None (no drawdown check).

    Returns:
        The report; `report.failed` means nothing may be sent.
    """
    import nanobook

    engine = nanobook.RiskEngine(**engine_config(risk))
    equity = cents(account.equity) * QTY_SCALE
    held = {p.symbol: p.quantity for p in positions}
    book = [(sym, scaled(q)) for sym, q in sorted(held.items())]
    breach = drawdown_breached(account, risk, peak_equity)
    dd_detail = _drawdown_detail(account, risk, peak_equity)
    per_order = []
    for o in orders:
        raw = engine.check_order(o.symbol, o.side, scaled(o.quantity), cents(o.price), equity, book)
        checks = [_in_dollars(_check(c), o.quantity * o.price, risk.max_order_value) for c in raw]
        if o.side == "sell" and o.quantity <= held.get(o.symbol, 0.0) + EPS:
            checks = [_reducing(c) for c in checks]
        if breach and o.side == "buy":
            checks.append(
                RiskCheck(DRAWDOWN, "FAIL", f"drawdown breach blocks new buys: {dd_detail}")
            )
        per_order.append(OrderRisk(o.symbol, o.side, _worst(checks), tuple(checks)))
    notional = {o.symbol: o.quantity * o.price for o in orders}
    batch = [
        _batch_in_dollars(_check(c), notional, risk.max_order_value)
        for c in engine.check_batch(
            [(o.symbol, o.side, scaled(o.quantity), cents(o.price)) for o in orders],
            equity,
            book,
            _post_trade_weights(orders, held, prices, account.equity),
        )
    ]
    if breach:
        buys = any(o.side == "buy" for o in orders)
        status: Status = "FAIL" if buys else "WARN"
        what = "new buys blocked" if buys else "sells only"
        batch.append(RiskCheck(DRAWDOWN, status, f"drawdown breach ({what}): {dd_detail}"))
    elif dd_detail:
        batch.append(RiskCheck(DRAWDOWN, "PASS", dd_detail))
    every = [c for r in per_order for c in r.checks] + batch
    return RiskReport(_worst(every), tuple(per_order), tuple(batch))


def _check(raw: Mapping[str, str]) -> RiskCheck:
    """A nanobook check dict as a RiskCheck (unknown statuses count as FAIL)."""
    status = str(raw.get("status", "")).upper()
    mapped: Status = "PASS" if status == "PASS" else "WARN" if status == "WARN" else "FAIL"
    return RiskCheck(str(raw.get("name", "")), mapped, str(raw.get("detail", "")))


VALUE_CHECKS = frozenset({"Max order value", "Order size", "Max trade size"})
"""nanobook checks whose detail is in its scaled integer units (milli-shares x cents)."""


def _in_dollars(check: RiskCheck, notional: float, limit: float | None) -> RiskCheck:
    """An order-value check's detail in dollars against `risk.max_order_value`."""
    if check.name not in VALUE_CHECKS:
        return check
    if limit is None:
        detail = f"order value ${notional:,.2f} (no risk.max_order_value)"
    else:
        op = ">" if check.status != "PASS" else "<="
        detail = f"order value ${notional:,.2f} {op} ${limit:,.2f} risk.max_order_value"
    return RiskCheck(check.name, check.status, detail)


def _batch_in_dollars(
    check: RiskCheck, notional: Mapping[str, float], limit: float | None
) -> RiskCheck:
    """A batch value check (`"SYM: ..."`) in dollars; other checks unchanged."""
    symbol, sep, _ = check.detail.partition(":")
    if check.name not in VALUE_CHECKS or not sep or symbol not in notional:
        return check
    dollars = _in_dollars(check, notional[symbol], limit)
    return RiskCheck(check.name, check.status, f"{symbol}: {dollars.detail}")


def _reducing(check: RiskCheck) -> RiskCheck:
    """A non-shorting sell's "Max position" FAIL is a WARN: it reduces the position."""
    if check.name == "Max position" and check.status == "FAIL":
        return RiskCheck(check.name, "WARN", f"sell reduces an oversized position: {check.detail}")
    return check


def _worst(checks: Sequence[RiskCheck]) -> Status:
    """The most severe status (PASS when there are no checks)."""
    worst: Status = "PASS"
    for c in checks:
        if RANK[c.status] > RANK[worst]:
            worst = c.status
    return worst


def _post_trade_weights(
    orders: Sequence[PlannedOrder],
    held: Mapping[str, float],
    prices: Mapping[str, float],
    equity: float,
) -> list[tuple[str, float]]:
    """Weights after every order fills at its price (holdings at `prices`), by symbol."""
    after = dict(held)
    price = {s: float(p) for s, p in prices.items()}
    for o in orders:
        sign = 1.0 if o.side == "buy" else -1.0
        after[o.symbol] = after.get(o.symbol, 0.0) + sign * o.quantity
        price[o.symbol] = o.price
    return [
        (s, q * price.get(s, 0.0) / equity if equity > 0 else 0.0)
        for s, q in sorted(after.items())
        if abs(q) > EPS
    ]


def _drawdown_detail(account: Account, risk: RiskSection, peak_equity: float | None) -> str:
    """The drawdown figures, or "" when the check does not apply."""
    limit = risk.max_drawdown_pct
    if peak_equity is None or limit is None or peak_equity <= 0:
        return ""
    dd = 1 - account.equity / peak_equity
    return (
        f"equity {account.equity:,.2f} is {dd:.1%} below the peak {peak_equity:,.2f} "
        f"(limit {limit:.1%})"
    )
