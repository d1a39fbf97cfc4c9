"""Holdings, exposure, contributors and detractors of a run, read from its artifact.

Split from `report_data` (which re-exports `Holding`). Everything here is read, not
computed: `holdings.parquet` (per name: days held, average weights, contribution),
`exposure.parquet` (per day: gross weight, names held), `sectors.parquet` (per day and
sector: weight) and the last date of `weights.parquet` (the book at the last close). How
those figures are computed when the run is written is in `qtc.outputs.holdings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from qtc.errors import UserError

F64 = npt.NDArray[np.float64]
TOP_HOLDINGS = 10
TOP_CONTRIBUTORS = 10


@dataclass(frozen=True)
class Holding:
    """One name in a holdings or contributions table."""

    symbol: str
    sector: str
    weight: float
    days_held: int
    contribution: float
    shares: float = 0.0
    value: float = 0.0
    held_weight: float = 0.0


class Holdings:
    """The report's view of what a run held.

    Args:
        summary: holdings.parquet (one row per name, sorted by symbol).
        exposure: exposure.parquet (one row per day).
        sectors: sectors.parquet (one row per day and sector).
        book: weights.parquet's rows on the run's last date.
        dates: The run's dates, (D,), `datetime64[D]`.
        equity: End-of-day equity, (D,).

    Raises:
        UserError: If exposure.parquet or sectors.parquet do not have one row per day of
            the run (and sector).
    """

    def __init__(
        self, summary: Any, exposure: Any, sectors: Any, book: Any, dates: np.ndarray, equity: F64
    ) -> None:
        self.equity = equity
        self.symbols = summary["symbol"].to_numpy().astype(str)
        self.sectors = [str(s) for s in summary["sector"].to_list()]
        self.days_held = summary["days_held"].to_numpy()
        self.average = summary["average_weight"].to_numpy().astype(np.float64)
        self.held_weight = summary["held_weight"].to_numpy().astype(np.float64)
        self.contribution: F64 = summary["contribution"].to_numpy().astype(np.float64)
        self.contribution_total = float(self.contribution.sum())
        _check_days(exposure, dates, "exposure.parquet")
        self.gross: F64 = exposure["gross"].to_numpy().astype(np.float64)
        self.count: F64 = exposure["names"].to_numpy().astype(np.float64)
        names, weight = _by_sector(sectors, dates)
        means = [float(np.ascontiguousarray(weight[:, k]).mean()) for k in range(len(names))]
        ranked = sorted(zip(means, names, range(len(names)), strict=True), key=_by_weight)
        self.sector_names = [s for _, s, _ in ranked]
        self._sector_cols = np.array([k for _, _, k in ranked], dtype=np.intp)
        self._sector_daily = weight
        self.last_weight, self.last_shares = self._last_book(book)

    def _last_book(self, book: Any) -> tuple[F64, F64]:
        """Weight and shares per name on the last date (0 when not held)."""
        weight, shares = np.zeros(self.symbols.size), np.zeros(self.symbols.size)
        where = {str(s): i for i, s in enumerate(self.symbols)}
        for symbol, w, q in book.select("symbol", "weight", "shares").iter_rows():
            if symbol not in where:
                raise UserError(f"weights.parquet names {symbol}, which holdings.parquet lacks")
            weight[where[symbol]], shares[where[symbol]] = w, q
        return weight, shares

    def sector_weights(self, rows: npt.NDArray[np.intp]) -> F64:
        """(len(rows), K) weight per sector (in `sector_names` order) on `rows`."""
        out: F64 = self._sector_daily[np.ix_(rows, self._sector_cols)]
        return out

    def _holding(self, i: int, weight: float, *, latest: bool = False) -> Holding:
        """A Holding row for name `i`."""
        return Holding(
            symbol=str(self.symbols[i]),
            sector=self.sectors[i],
            weight=weight,
            days_held=int(self.days_held[i]),
            contribution=float(self.contribution[i]),
            shares=float(self.last_shares[i]) if latest else 0.0,
            value=weight * float(self.equity[-1]) if latest else 0.0,
            held_weight=float(self.held_weight[i]),
        )

    def top_average(self, n: int = TOP_HOLDINGS) -> list[Holding]:
        """The `n` names with the highest average weight (ties: symbol)."""
        avg = self.average
        order = sorted(range(avg.size), key=lambda i: (-avg[i], str(self.symbols[i])))
        return [self._holding(i, float(avg[i])) for i in order[:n] if avg[i] > 0]

    def top_latest(self, n: int = TOP_HOLDINGS) -> list[Holding]:
        """The `n` largest positions on the last date."""
        last = self.last_weight
        order = sorted(range(last.size), key=lambda i: (-abs(last[i]), str(self.symbols[i])))
        return [self._holding(i, float(last[i]), latest=True) for i in order[:n] if last[i] != 0]

    def contributions(self, n: int = TOP_CONTRIBUTORS) -> tuple[list[Holding], list[Holding]]:
        """The `n` biggest positive and negative contributors."""
        c, avg = self.contribution, self.average
        up = sorted(
            (i for i in range(c.size) if c[i] > 0), key=lambda i: (-c[i], str(self.symbols[i]))
        )
        down = sorted(
            (i for i in range(c.size) if c[i] < 0), key=lambda i: (c[i], str(self.symbols[i]))
        )
        return (
            [self._holding(i, float(avg[i])) for i in up[:n]],
            [self._holding(i, float(avg[i])) for i in down[:n]],
        )


def _by_weight(item: tuple[float, str, int]) -> tuple[float, str]:
    """Sort key of sectors: highest average weight first, then by name."""
    return (-item[0], item[1])


def _check_days(frame: Any, dates: np.ndarray, name: str) -> None:
    """Refuse a per-day table whose dates are not the run's.

    Raises:
        UserError: If they differ.
    """
    if not np.array_equal(frame["date"].to_numpy().astype("datetime64[D]"), dates):
        raise UserError(
            f"{name} does not have one row per day of equity.parquet",
            hint="re-run the backtest (`qtc backtest FILE --force`)",
        )


def _by_sector(sectors: Any, dates: np.ndarray) -> tuple[list[str], F64]:
    """sectors.parquet as (sector names sorted, (D, K) weights).

    Raises:
        UserError: If the rows are not one per day of the run and sector, in that order.
    """
    names = sorted({str(s) for s in sectors["sector"].unique().to_list()})
    k = len(names)
    if k == 0:
        return [], np.zeros((dates.size, 0))
    days = sectors["date"].to_numpy().astype("datetime64[D]")
    found = sectors["sector"].to_numpy().astype(str)
    if days.size != dates.size * k or not (
        np.array_equal(days.reshape(-1, k)[:, 0], dates)
        and np.array_equal(found.reshape(-1, k), np.broadcast_to(names, (dates.size, k)))
    ):
        raise UserError(
            "sectors.parquet does not have one row per day of equity.parquet and sector",
            hint="re-run the backtest (`qtc backtest FILE --force`)",
        )
    weight: F64 = sectors["weight"].to_numpy().astype(np.float64).reshape(dates.size, k)
    return names, weight
