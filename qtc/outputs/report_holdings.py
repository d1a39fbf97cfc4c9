"""Holdings, contributors and detractors of a run, from weights.parquet and trades.parquet.

Split from `report_data` (which re-exports `Holding`). Conventions are in `report_data`'s
module docstring: a name's daily close is weight x equity / shares; contribution is the sum
over days of w_{t-1} * r_t; a name sold out completely uses the sale day's close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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


class _Holdings:
    """weights.parquet as dense (D, N) weight and share matrices (symbols sorted)."""

    def __init__(
        self,
        frame: Any,
        dates: np.ndarray,
        equity: F64,
        stops: list[dict[str, Any]] | None = None,
        sells: Any | None = None,
    ) -> None:
        import polars as pl

        self.equity = equity
        names = frame.group_by("symbol").agg(pl.col("sector").first()).sort("symbol")
        self.symbols = names["symbol"].to_numpy().astype(str)
        self.sectors = [
            s if s not in (None, "", "None") else "Unknown" for s in names["sector"].to_list()
        ]
        codes = frame.select(
            (pl.col("symbol").rank("dense") - 1).cast(pl.Int64).alias("col"),
            pl.col("date"),
        )
        cols = codes["col"].to_numpy()
        rows = np.searchsorted(dates, codes["date"].to_numpy().astype("datetime64[D]"))
        n = self.symbols.size
        self.weights = np.zeros((dates.size, n))
        self.shares = np.zeros((dates.size, n))
        if n:
            self.weights[rows, cols] = frame["weight"].to_numpy()
            self.shares[rows, cols] = frame["shares"].to_numpy()
        self.held = self.shares != 0
        self.gross: F64 = np.abs(self.weights).sum(axis=1)
        self.count: F64 = self.held.sum(axis=1).astype(np.float64)
        self.days_held = self.held.sum(axis=0)
        self.contribution = self._contribution()
        self._add_exits(dates, stops or [], sells)
        self.contribution_total = float(self.contribution.sum())
        totals = [(self._sector_avg(s), s) for s in sorted(set(self.sectors))]
        self.sector_names = [s for _, s in sorted(totals, key=lambda t: (-t[0], t[1]))]

    def _contribution(self) -> F64:
        """Σ_t w_{t-1} · r_t per symbol, r from p_t = w_t E_t / q_t (both days held)."""
        if self.symbols.size == 0:
            return np.zeros(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            price = np.where(self.held, self.weights * self.equity[:, None] / self.shares, np.nan)
            ret = price[1:] / price[:-1] - 1.0
        contrib = np.where(np.isfinite(ret), self.weights[:-1] * ret, 0.0)
        out: F64 = contrib.sum(axis=0)
        return out

    def _add_exits(self, dates: np.ndarray, stops: list[dict[str, Any]], sells: Any | None) -> None:
        """Add the exit day of names sold out completely: w_{t-1} · (exit / p_{t-1} - 1).

        The exit price is the stop's `exit_price` for a stop, else the price of the sale
        in trades.parquet (the close of the sale day).
        """
        done: set[tuple[int, int]] = set()
        for event in stops:
            if event.get("exit_price") is not None:
                self._add_exit(
                    dates,
                    str(event.get("symbol")),
                    str(event["date"]),
                    done,
                    float(event["exit_price"]),
                )
        if sells is None:
            return
        for day, symbol, price in sells.iter_rows():
            self._add_exit(dates, str(symbol), str(day), done, float(price))

    def _add_exit(
        self, dates: np.ndarray, symbol: str, day: str, done: set[tuple[int, int]], price: float
    ) -> None:
        """Add one exit-day move (once per day and name; only for a name sold out that day)."""
        col = int(np.searchsorted(self.symbols, symbol))
        row = int(np.searchsorted(dates, np.datetime64(day, "D")))
        if col >= self.symbols.size or self.symbols[col] != symbol or not 0 < row < dates.size:
            return
        if (row, col) in done or self.held[row, col] or not self.held[row - 1, col]:
            return
        prev = self.weights[row - 1, col] * self.equity[row - 1] / self.shares[row - 1, col]
        if math.isfinite(price) and price > 0 and prev > 0:
            self.contribution[col] += self.weights[row - 1, col] * (price / prev - 1.0)
            done.add((row, col))

    def _sector_avg(self, sector: str) -> float:
        """Average weight of a sector over all days."""
        cols = [i for i, s in enumerate(self.sectors) if s == sector]
        return float(self.weights[:, cols].sum(axis=1).mean()) if cols else 0.0

    def sector_weights(self, rows: npt.NDArray[np.intp]) -> F64:
        """(len(rows), K) weight per sector (in `sector_names` order) on `rows`."""
        out = np.zeros((rows.size, len(self.sector_names)))
        for k, sector in enumerate(self.sector_names):
            cols = np.array([i for i, s in enumerate(self.sectors) if s == sector], dtype=np.intp)
            out[:, k] = self.weights[np.ix_(rows, cols)].sum(axis=1)
        return out

    def _holding(self, i: int, weight: float, *, latest: bool = False) -> Holding:
        """A Holding row for column `i`."""
        shares = float(self.shares[-1, i]) if latest else 0.0
        return Holding(
            symbol=str(self.symbols[i]),
            sector=self.sectors[i],
            weight=weight,
            days_held=int(self.days_held[i]),
            contribution=float(self.contribution[i]),
            shares=shares,
            value=weight * float(self.equity[-1]) if latest else 0.0,
            held_weight=float(self.weights[:, i].sum()) / max(int(self.days_held[i]), 1),
        )

    def top_average(self, n: int = TOP_HOLDINGS) -> list[Holding]:
        """The `n` names with the highest average weight (ties: symbol)."""
        avg = self.weights.mean(axis=0)
        order = sorted(range(avg.size), key=lambda i: (-avg[i], str(self.symbols[i])))
        return [self._holding(i, float(avg[i])) for i in order[:n] if avg[i] > 0]

    def top_latest(self, n: int = TOP_HOLDINGS) -> list[Holding]:
        """The `n` largest positions on the last date."""
        if self.symbols.size == 0:
            return []
        last = self.weights[-1]
        order = sorted(range(last.size), key=lambda i: (-abs(last[i]), str(self.symbols[i])))
        return [self._holding(i, float(last[i]), latest=True) for i in order[:n] if last[i] != 0]

    def contributions(self, n: int = TOP_CONTRIBUTORS) -> tuple[list[Holding], list[Holding]]:
        """The `n` biggest positive and negative contributors."""
        c = self.contribution
        avg = self.weights.mean(axis=0)
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


# ---------------------------------------------------------------------------- events
