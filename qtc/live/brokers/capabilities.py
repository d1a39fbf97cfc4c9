"""What a broker can do, declared once on each adapter class.

qtc's rules ask a broker's capabilities, never its kind name: whether it reaches a market
(staleness, replaying a past date), where its prices come from (what a rebalance or a kill
prices orders at) and where its account lives (whether it must already exist).
`qtc.live.brokers.factory.capabilities(kind)` reads them from the class, so a plan's stored
broker kind answers without connecting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PriceSource = Literal["lake_closes", "broker_quotes"]
"""`lake_closes`: qtc hands the broker the lake's closes; `broker_quotes`: its own market data."""

Persistence = Literal["memory", "disk", "remote"]
"""Where the account lives: this process, a file in qtc's state folder, or the broker."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """A broker adapter's fixed properties.

    Attributes:
        fractional: Whether it can trade fractional shares at all (an instance may still be
            configured whole-share: `Broker.supports_fractional`).
        prices: Where the prices it quotes and fills at come from: the lake's closes (on the
            signal date for a rebalance, the latest for a kill) or the broker's quotes.
        persistence: Where the account lives (`disk`: it must exist before it is read).
        simulated: Whether it reaches no market: its plans may be for a past date (a replay)
            and their signal's age is counted up to that date, not today.
    """

    fractional: bool
    prices: PriceSource
    persistence: Persistence
    simulated: bool
