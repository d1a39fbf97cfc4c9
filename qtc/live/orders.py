"""The order plan: from target weights and the account's holdings to orders.

Rules (DESIGN §8, issue 7):

* Weights are fractions of `account.equity` (the broker's figure); current weights are
  `quantity * price / equity` at the given prices.
* A symbol held but absent from the targets (or targeted at zero) is sold entirely, whatever
  the band and minimum order value (otherwise dust would be held forever).
* Otherwise a symbol is traded only when `|target - current| >= no_trade_band_bps / 10_000`
  and the order's notional is at least `min_order_value`.
* Quantities are truncated toward zero: to whole shares, or to micro-shares (1e-6) when
  `fractional`. A sell never exceeds the quantity held.
* Buys never spend more than the cash available after the sells: when they would, every buy
  is scaled down pro rata and re-truncated (and re-checked against `min_order_value`).
  `cash_buffer_bps` of the cash is kept back for commissions and slippage (the strategy's
  `commission_bps + slippage_bps`), so that fills a little above `prices` still fit.
* Sells come first, then buys; each group sorted by symbol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from qtc.errors import QtcError
from qtc.live.brokers.base import Account, Position, Side

MICRO = 1_000_000
"""Fractional quantities are truncated to micro-shares."""

EPS = 1e-9
"""Tolerance against float noise when truncating (9.9999999999 shares is 10)."""


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """One order of the plan.

    Attributes:
        symbol: Ticker.
        side: `"buy"` or `"sell"`.
        quantity: Shares, positive (whole unless fractional).
        price: The price the order was sized at.
        notional: `quantity * price`.
        current_weight: Weight held before the order.
        target_weight: Weight the strategy wants (0 for an exit).
    """

    symbol: str
    side: Side
    quantity: float
    price: float
    notional: float
    current_weight: float
    target_weight: float


def truncate(quantity: float, *, fractional: bool) -> float:
    """Truncate a non-negative share quantity toward zero (whole or micro-shares)."""
    if fractional:
        return math.floor(quantity * MICRO + EPS * MICRO) / MICRO
    return float(math.floor(quantity + EPS))


def plan_orders(
    targets: Mapping[str, float],
    positions: list[Position],
    account: Account,
    prices: Mapping[str, float],
    *,
    fractional: bool,
    no_trade_band_bps: float,
    min_order_value: float,
    cash_buffer_bps: float = 0.0,
) -> list[PlannedOrder]:
    """Compute the orders that move the account to the target weights.

    Args:
        targets: Symbol -> target weight (long only, fraction of equity).
        positions: Current holdings.
        account: Cash and equity.
        prices: Symbol -> price for every target and every holding.
        fractional: Whether the broker trades fractional shares.
        no_trade_band_bps: Skip a symbol whose weight is within this many bps of its target.
        min_order_value: Skip orders below this notional.
        cash_buffer_bps: Share of the cash (in bps) buys leave unspent for costs.

    Returns:
        Sells (by symbol), then buys (by symbol).

    Raises:
        QtcError: A target or holding has no positive price, a target is negative, or the
            account's equity is not positive.
    """
    if account.equity <= 0:
        raise QtcError(f"account equity is {account.equity}: nothing to size orders against")
    held = {p.symbol: p.quantity for p in positions if p.quantity > 0}
    band = no_trade_band_bps / 10_000
    sells: list[PlannedOrder] = []
    buys: list[PlannedOrder] = []
    for symbol in sorted(set(held) | {s for s, w in targets.items() if w != 0}):
        target = float(targets.get(symbol, 0.0))
        if target < 0:
            raise QtcError(f"target weight of {symbol} is negative ({target}): qtc is long only")
        price = _price(prices, symbol, "target" if target else "holding")
        quantity = held.get(symbol, 0.0)
        current = quantity * price / account.equity
        if target == 0:
            sells.append(
                PlannedOrder(symbol, "sell", quantity, price, quantity * price, current, 0)
            )
            continue
        if abs(target - current) < band:
            continue
        wanted = target * account.equity / price - quantity
        side: Side = "buy" if wanted > 0 else "sell"
        size = truncate(abs(wanted), fractional=fractional)
        if side == "sell":
            size = min(size, quantity)
        if size <= 0 or size * price < min_order_value:
            continue
        order = PlannedOrder(symbol, side, size, price, size * price, current, target)
        (buys if side == "buy" else sells).append(order)
    cash = account.cash + sum(o.notional for o in sells)
    budget = cash / (1 + cash_buffer_bps / 10_000)
    return sells + fit_cash(buys, budget, fractional=fractional, min_order_value=min_order_value)


def _price(prices: Mapping[str, float], symbol: str, what: str) -> float:
    """The positive price of a symbol, or an error naming it."""
    price = prices.get(symbol)
    if price is None or not math.isfinite(price) or price <= 0:
        raise QtcError(
            f"no price for {what} {symbol}" + ("" if price is None else f" (got {price})"),
            hint="check the broker's quotes or the lake's latest prices for this symbol",
        )
    return float(price)


def fit_cash(
    buys: list[PlannedOrder], cash: float, *, fractional: bool, min_order_value: float
) -> list[PlannedOrder]:
    """Scale buys down pro rata (re-truncated) so that they cost at most `cash`."""
    total = sum(o.notional for o in buys)
    if total <= cash:
        return buys
    scale = max(cash, 0.0) / total
    fitted = []
    for o in buys:
        size = truncate(o.quantity * scale, fractional=fractional)
        if size <= 0 or size * o.price < min_order_value:
            continue
        fitted.append(_resized(o, size))
    step = 1 / MICRO if fractional else 1.0
    while fitted and sum(o.notional for o in fitted) > cash:  # float noise of the truncation
        i = max(range(len(fitted)), key=lambda k: fitted[k].notional)
        smaller = fitted[i].quantity - step
        if smaller <= 0 or smaller * fitted[i].price < min_order_value:
            del fitted[i]
        else:
            fitted[i] = _resized(fitted[i], smaller)
    return fitted


def _resized(order: PlannedOrder, quantity: float) -> PlannedOrder:
    """The same order with another quantity (and notional)."""
    return PlannedOrder(
        order.symbol,
        order.side,
        quantity,
        order.price,
        quantity * order.price,
        order.current_weight,
        order.target_weight,
    )
