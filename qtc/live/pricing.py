"""The prices live orders are sized and filled at.

A broker whose capabilities say `prices = "lake_closes"` (the simulated `paper` and `mock`)
is handed the lake's closes: on the signal date for a rebalance or a reconcile, the latest
close of each symbol for a kill (what a simulated account sells at). Every broker is then
asked for its quotes, and orders are sized at those.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qtc.errors import QtcError
from qtc.live.brokers.base import Broker
from qtc.live.brokers.factory import KINDS, capabilities

if TYPE_CHECKING:
    from qtc.lake.read.reader import Lake


def lake_closes(store: Lake, day: dt.date) -> dict[str, float]:
    """Every symbol's close on a date (the price orders are sized at), by symbol.

    One row of the lake's close matrix: memory-mapped from its matrix cache (checked against
    the `prices` file as every cached read is), or decoded from the file when there is no
    cache. A symbol without a close that day has no entry.
    """
    _, symbols, matrices = store.bar_matrices(("close",), start=day, end=day)
    closes = matrices["close"]
    if not len(closes):
        return {}
    return {s: float(c) for s, c in zip(symbols, closes[0], strict=True) if not math.isnan(c)}


def latest_closes(store: Lake) -> dict[str, float]:
    """Every symbol's latest close in the lake (what a simulated account sells at)."""
    frame = store.prices(columns=("close",)).drop_nulls("close")
    last = frame.sort("date").group_by("symbol").last()
    return dict(zip(last["symbol"].to_list(), last["close"].to_list(), strict=True))


def flatten_prices(kind: str, lake_path: Callable[[], Path]) -> dict[str, float]:
    """The prices a kill hands a broker: the latest closes if it is priced at the lake's.

    `lake_path` finds the lake; it is called only for such a broker.
    """
    if kind not in KINDS or capabilities(kind).prices != "lake_closes":
        return {}  # an unknown kind is refused where the broker is built
    from qtc.lake import Lake

    return latest_closes(Lake(lake_path()))


def broker_prices(broker: Broker, symbols: list[str], signal_date: dt.date) -> dict[str, float]:
    """The broker's price of every symbol orders may be sized at, or an error naming the missing.

    Raises:
        QtcError: A symbol has no price (nothing can be sized; nothing was sent).
    """
    prices: dict[str, float] = broker.quotes(symbols)
    missing = [s for s in symbols if s not in prices]
    if missing:
        lake = broker.capabilities.prices == "lake_closes"
        where = f" (the lake has no close on {signal_date})" if lake else ""
        raise QtcError(
            f"the {broker.name} broker has no price for: {', '.join(missing)}{where}",
            hint="without a price qtc cannot size orders; nothing was sent",
        )
    return {s: prices[s] for s in symbols}
