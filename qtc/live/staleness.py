"""Stale-data guard: never trade on a signal older than a few trading days.

The *age* of a signal is the number of weekdays after the signal date up to and including
the reference date: a Friday signal traded on Monday is 1 day old, a signal computed after
today's close is 0 days old. Exchange holidays are counted as trading days (qtc has no
exchange calendar), so the age can read one day high around a holiday.

The reference date is the date the orders go out:

* for brokers that reach a real market (`alpaca`, `ibkr`) it is always today's date, and a
  plan made for another date (`--as-of`) cannot send orders at all;
* for the simulated brokers (`paper`, `mock`: `Capabilities.simulated`) it is the plan's
  as-of date (which defaults to today), so a paper account can replay a past date on purpose.

A plan whose signal is older than `[rebalance] max_signal_age_days` (default 2) sends
nothing unless `--allow-stale` is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from qtc.errors import QtcError, UserError
from qtc.live.brokers.factory import capabilities


@dataclass(frozen=True, slots=True)
class SignalAge:
    """How old a plan's signal is when its orders would go out.

    Attributes:
        signal_date: The trading day whose close the targets were computed at.
        reference: The date the orders go out (see the module docstring).
        trading_days: Weekdays after `signal_date` up to and including `reference`.
        max_days: The most this strategy allows.
    """

    signal_date: dt.date
    reference: dt.date
    trading_days: int
    max_days: int

    @property
    def stale(self) -> bool:
        """Whether the signal is older than allowed."""
        return self.trading_days > self.max_days

    def describe(self) -> str:
        """One line for the user."""
        days = "day" if self.trading_days == 1 else "days"
        text = (
            f"signal {self.signal_date} is {self.trading_days} trading {days} before "
            f"{self.reference} (max {self.max_days})"
        )
        return text + ("; STALE: sending would be refused" if self.stale else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        out = asdict(self)
        out["signal_date"] = str(self.signal_date)
        out["reference"] = str(self.reference)
        out["stale"] = self.stale
        return out


def trading_days_between(start: dt.date, end: dt.date) -> int:
    """Weekdays in `(start, end]` (0 when `end <= start`)."""
    import numpy as np

    if end <= start:
        return 0
    day = np.timedelta64(1, "D")  # numpy dates go past 9999-12-31; datetime.date does not
    return int(np.busday_count(np.datetime64(start) + day, np.datetime64(end) + day))


def reference_date(kind: str, as_of: dt.date, today: dt.date) -> dt.date:
    """The date a plan's orders go out: today for real brokers, `as_of` for simulated ones."""
    return as_of if capabilities(kind).simulated else today


def signal_age(
    kind: str, signal_date: dt.date, as_of: dt.date, today: dt.date, max_days: int
) -> SignalAge:
    """The age of a signal for a broker kind (see the module docstring)."""
    reference = reference_date(kind, as_of, today)
    return SignalAge(signal_date, reference, trading_days_between(signal_date, reference), max_days)


def check_sendable_date(kind: str, as_of: dt.date, today: dt.date) -> None:
    """Refuse to send a real broker's orders for another date than today.

    Raises:
        UserError: `kind` reaches a market and `as_of` is not today.
    """
    if not capabilities(kind).simulated and as_of != today:
        raise UserError(
            f"the plan is for {as_of} but today is {today}: a {kind} account trades today "
            "only; nothing was sent",
            hint="use --dry-run to see what another date would plan, or drop --as-of",
        )


def check_fresh(age: SignalAge, *, allow_stale: bool) -> None:
    """Refuse a stale signal unless explicitly allowed.

    Raises:
        QtcError: The signal is older than `max_days` and `allow_stale` is false.
    """
    if age.stale and not allow_stale:
        raise QtcError(
            f"stale data: {age.describe().split(';')[0]}; nothing was sent",
            hint="update the lake (`qtc data ingest`), raise rebalance.max_signal_age_days, "
            "or pass --allow-stale to trade on it anyway",
        )
