"""Stocks and prices at IBKR: qualified contracts, snapshot quotes, order prices.

Symbols are IB's (`BRK B`, not `BRK.B`) US stocks routed through SMART in the account's
currency. A contract is qualified once per connection (IB's contract id); a symbol IB does not
know has no price and cannot be ordered.

Quotes are snapshots in market data type 4 ("delayed frozen"): live prices where the login has
a market data subscription, 15-minute delayed ones where it has not, and the last known ones
outside trading hours. The price is the last trade, else the bid/ask midpoint, else the close.
Requests go in batches of `BATCH` (IB limits simultaneous market data lines).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from qtc.live.brokers.base import Side

if TYPE_CHECKING:
    from ib_async import IB, Contract, Ticker

DELAYED_FROZEN = 4
"""IB's market data type: live if subscribed, else delayed; frozen outside trading hours."""

BATCH = 40
"""Symbols per snapshot round (IB allows about 100 market data lines at once)."""


class Contracts:
    """Qualified stock contracts of one connection."""

    def __init__(self, currency: str) -> None:
        """Start empty; `currency` is the stocks' trading currency."""
        self.currency = currency
        self._known: dict[str, Contract] = {}
        self._unknown: set[str] = set()

    def clear(self) -> None:
        """Forget everything (a new connection)."""
        self._known.clear()
        self._unknown.clear()

    def remember(self, contract: Contract) -> None:
        """Keep a contract IB sent (e.g. with a position), routed through SMART."""
        if contract.conId and contract.symbol not in self._known:
            contract.exchange = "SMART"
            self._known[contract.symbol] = contract

    def get(self, ib: IB, symbols: list[str]) -> dict[str, Contract]:
        """Qualified contracts of `symbols` (those IB does not know are left out)."""
        from ib_async import Contract, Stock

        missing = [
            s
            for s in dict.fromkeys(symbols)
            if s and s not in self._known and s not in self._unknown
        ]
        if missing:
            found = ib.qualifyContracts(*(Stock(s, "SMART", self.currency) for s in missing))
            for contract in found:
                if isinstance(contract, Contract) and contract.conId:
                    self.remember(contract)
            self._unknown.update(s for s in missing if s not in self._known)
        return {s: self._known[s] for s in symbols if s in self._known}


def snapshot(ib: IB, contracts: list[Contract]) -> dict[str, float]:
    """The price of each contract (those without one are left out), in batches."""
    prices: dict[str, float] = {}
    for start in range(0, len(contracts), BATCH):
        for ticker in ib.reqTickers(*contracts[start : start + BATCH]):
            price = ticker_price(ticker)
            if price is not None:
                prices[ticker.contract.symbol if ticker.contract else ""] = price
    return prices


def ticker_price(ticker: Ticker) -> float | None:
    """Last trade, else the bid/ask midpoint, else the close; `None` without any."""
    last, bid, ask, close = (_num(v) for v in (ticker.last, ticker.bid, ticker.ask, ticker.close))
    if last:
        return last
    if bid and ask:
        return (bid + ask) / 2.0
    return close or None


def _num(value: object) -> float:
    """A positive finite price, else 0 (IB sends -1 and `ib_async` nan for none)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


def limit_price(price: float, side: Side) -> float:
    """A limit price on IB's tick grid, rounded in the trader's favour (buys down, sells up).

    Cents from $1, hundredths of a cent below.
    """
    scale = 100 if price >= 1.0 else 10_000
    raw = price * scale
    ticks = math.floor(raw + 1e-6) if side == "buy" else math.ceil(raw - 1e-6)
    return ticks / scale
