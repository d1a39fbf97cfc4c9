"""Fundamental factors (value, quality, growth, size) and their point-in-time source.

A `FundamentalsSource` answers "what did the latest annual report say, as
known on date t" for a dates x symbols grid. Field names are the lake's
`FUNDAMENTAL_FIELDS`; a name ending in `__prev` (`revenue__prev`) asks for
the same line item of the previous fiscal year, as known on the same date.

`LakeFundamentals` implements it over the lake's `fundamentals` dataset with
the lake's own point-in-time rules (`qtc.lake.read.pit.latest_rows`: a report is
visible from its visibility date on, a late restatement of an older fiscal
year never replaces a newer year, same-day ties go to the higher fiscal year
then the preferred source). The visibility date is `publish_date + lag_days`
(`point_in_time = "publish_date"`) or `period_end + lag_days`
(`"period_end"`, lookahead-prone: the report was not public at period end).

Market capitalisation is `shares_outstanding x close` with the raw
(split-adjusted, not dividend-adjusted) `Panel.close` of date t. Caveat of
the real data set: NYSE-sourced rows (fiscal years up to 2016) carry shares
as reported, not on the price's split basis, so market caps of names that
split later are off by the split ratio.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import polars as pl

from qtc.errors import QtcError
from qtc.lake.read.pit import SOURCE_RANK, latest_rows
from qtc.lake.schema import FUNDAMENTAL_FIELDS
from qtc.manifest.factors import GrowthFactor, QualityFactor, SizeFactor, ValueFactor
from qtc.pipeline.panel import Panel

if TYPE_CHECKING:
    from qtc.lake.read.reader import Lake

PREV_SUFFIX = "__prev"
"""Field-name suffix for the previous fiscal year's value (`revenue__prev`)."""

POINTS_IN_TIME = ("publish_date", "period_end")


class FundamentalsSource(Protocol):
    """Something that provides point-in-time fundamentals on a dates x symbols grid."""

    def asof(
        self, dates: np.ndarray, symbols: list[str], fields: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """Latest known values on each date.

        Args:
            dates: Sorted `datetime64[D]` dates, shape (T,).
            symbols: Column symbols, length N.
            fields: Canonical fields, optionally with the `__prev` suffix.

        Returns:
            Field -> (T, N) float64, the value known on each date (NaN if none).
        """
        ...


def prev(field: str) -> str:
    """Name of the previous fiscal year's value of a field (`revenue` -> `revenue__prev`)."""
    return field + PREV_SUFFIX


class LakeFundamentals:
    """Point-in-time fundamentals from a `fundamentals`-shaped frame.

    The frame is loaded and indexed on first use; the row lookup for a
    (dates, symbols) grid is computed once and reused for every field.

    `field__prev` is the previous fiscal year (fiscal_year - 1) of the report
    that is latest on the date, taken from the rows visible no later than that
    report: the same source if available, else the most recently visible one
    (then the preferred source). NaN if no such row was visible.
    """

    def __init__(self, load: Callable[[], pl.DataFrame], point_in_time: str, lag_days: int) -> None:
        """Create a source.

        Args:
            load: Returns the `fundamentals` dataset (called once, on first use).
            point_in_time: `publish_date` or `period_end`.
            lag_days: Calendar days added to that date before a report counts as known.

        Raises:
            QtcError: For an unknown point-in-time rule or a negative lag.
        """
        if point_in_time not in POINTS_IN_TIME:
            raise QtcError(f"unknown point_in_time {point_in_time!r}; known: {POINTS_IN_TIME}")
        if lag_days < 0:
            raise QtcError(f"lag_days must be >= 0, got {lag_days}")
        self.point_in_time = point_in_time
        self.lag_days = lag_days
        self._load = load
        self._rows: _Rows | None = None
        self._grid_key: tuple[bytes, tuple[str, ...]] | None = None
        self._grid: np.ndarray | None = None

    def asof(
        self, dates: np.ndarray, symbols: list[str], fields: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """Latest known values on each date (see the class docstring).

        Args:
            dates: Sorted `datetime64[D]` dates, shape (T,).
            symbols: Column symbols, length N.
            fields: Canonical fields, optionally with the `__prev` suffix.

        Returns:
            Field -> (T, N) float64 (NaN where nothing was known yet).

        Raises:
            QtcError: For an unknown field.
        """
        for name in fields:
            if name.removesuffix(PREV_SUFFIX) not in FUNDAMENTAL_FIELDS:
                raise QtcError(f"unknown fundamentals field {name!r}")
        rows = self._indexed()
        grid = self._lookup(rows, np.asarray(dates, dtype="datetime64[D]"), symbols)
        return {name: rows.values(name)[grid] for name in fields}

    def _indexed(self) -> _Rows:
        """Load and index the rows once."""
        if self._rows is None:
            self._rows = _Rows(visible_rows(self._load(), self.point_in_time, self.lag_days))
        return self._rows

    def _lookup(self, rows: _Rows, dates: np.ndarray, symbols: list[str]) -> np.ndarray:
        """Row index of the latest visible report per (date, symbol), -1 if none (cached)."""
        key = (dates.tobytes(), tuple(symbols))
        if self._grid is None or self._grid_key != key:
            self._grid = rows.lookup(dates, symbols)
            self._grid_key = key
        return self._grid


def lake_fundamentals(lake: Lake, point_in_time: str, lag_days: int) -> FundamentalsSource:
    """A point-in-time fundamentals source over a lake's `fundamentals` dataset.

    Args:
        lake: The lake (its `fundamentals` is read on first use).
        point_in_time: `publish_date` (visible from publish_date + lag_days) or
            `period_end` (visible from period_end + lag_days).
        lag_days: Extra calendar days before a report counts as known.

    Returns:
        The source.
    """
    return LakeFundamentals(lambda: lake.read("fundamentals"), point_in_time, lag_days)


def visible_rows(table: pl.DataFrame, point_in_time: str, lag_days: int) -> pl.DataFrame:
    """The rows that can be a symbol's latest report, with their visibility date.

    Args:
        table: The `fundamentals` dataset.
        point_in_time: `publish_date` or `period_end`.
        lag_days: Calendar days added to that date.

    Returns:
        Frame `symbol, fiscal_year, source, publish_date` (= the visibility
        date), the fields and their `__prev` values, sorted by symbol then
        visibility date, one row per (symbol, visibility date).
    """
    fields = list(FUNDAMENTAL_FIELDS)
    base = table.select(
        "symbol",
        "fiscal_year",
        "source",
        (pl.col(point_in_time) + pl.duration(days=lag_days)).alias("visible"),
        *fields,
    ).drop_nulls("visible")
    base = base.with_row_index("_row")
    earlier = base.select(
        "symbol",
        (pl.col("fiscal_year") + 1).alias("fiscal_year"),
        pl.col("source").alias("_prev_source"),
        pl.col("visible").alias("_prev_visible"),
        *(pl.col(f).alias(prev(f)) for f in fields),
    )
    rank = pl.col("_prev_source").replace_strict(SOURCE_RANK, default=0, return_dtype=pl.Int8)
    best = (
        base.select("_row", "symbol", "fiscal_year", "source", "visible")
        .join(earlier, on=["symbol", "fiscal_year"], how="inner")
        .filter(pl.col("_prev_visible") <= pl.col("visible"))
        .sort("_row", pl.col("_prev_source") == pl.col("source"), "_prev_visible", rank)
        .unique(subset="_row", keep="last", maintain_order=True)
        .select("_row", *(prev(f) for f in fields))
    )
    joined = base.join(best, on="_row", how="left").drop("_row")
    return latest_rows(joined.rename({"visible": "publish_date"}))


class _Rows:
    """Visible rows as numpy arrays, for vectorized as-of lookups."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame
        symbols = frame["symbol"].to_list()
        self._code = {s: i for i, s in enumerate(dict.fromkeys(symbols))}
        self.codes = np.array([self._code[s] for s in symbols], dtype=np.int64)
        self.days = frame["publish_date"].to_physical().to_numpy().astype(np.int64)
        edges = np.flatnonzero(np.diff(self.codes)) + 1
        starts = np.concatenate([[0], edges]).tolist() if len(self.codes) else []
        ends = [*starts[1:], len(self.codes)]
        self._bounds = list(zip(starts, ends, strict=True))
        self._values: dict[str, np.ndarray] = {}

    def values(self, name: str) -> np.ndarray:
        """A field's values with a trailing NaN, so index -1 reads NaN."""
        if name not in self._values:
            column = self._frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
            self._values[name] = np.append(column, np.nan)
        return self._values[name]

    def lookup(self, dates: np.ndarray, symbols: list[str]) -> np.ndarray:
        """Row of the latest report visible on or before each date, per symbol.

        Args:
            dates: `datetime64[D]` dates (T,).
            symbols: Column symbols (N).

        Returns:
            int64 (T, N), -1 where no report was visible yet.
        """
        days = dates.astype(np.int64)
        grid = np.full((len(days), len(symbols)), -1, dtype=np.int64)
        for col, symbol in enumerate(symbols):
            code = self._code.get(symbol)
            if code is None:
                continue
            lo, hi = self._bounds[code]
            found = np.searchsorted(self.days[lo:hi], days, side="right") - 1
            grid[:, col] = np.where(found >= 0, found + lo, -1)
        return grid


# -- factors -------------------------------------------------------------------------------------

_VALUE_FIELD = {
    "earnings_yield": "net_income",
    "book_to_price": "total_equity",
    "sales_to_price": "revenue",
}


def value(spec: ValueFactor, panel: Panel, source: FundamentalsSource) -> np.ndarray:
    """A fundamental over market capitalisation (a fraction, e.g. 0.05 = 5 % yield).

    earnings_yield = net_income / cap, book_to_price = total_equity / cap,
    sales_to_price = revenue / cap, with cap = shares_outstanding x close on
    date t (currency units cancel). NaN without a positive cap.

    Args:
        spec: The factor.
        panel: The market panel.
        source: Point-in-time fundamentals.

    Returns:
        (T, N) float64.
    """
    field = _VALUE_FIELD[spec.metric]
    data = _asof(source, panel, [field, "shares_outstanding"])
    out: np.ndarray = data[field] / _market_cap(data["shares_outstanding"], panel)
    return out


def quality(spec: QualityFactor, panel: Panel, source: FundamentalsSource) -> np.ndarray:
    """Profitability ratio of the latest report (a fraction per fiscal year).

    roe = net_income / total_equity (NaN if equity <= 0); gross_profitability
    = gross_profit / total_assets; roa = net_income / total_assets (NaN if
    assets <= 0).

    Args:
        spec: The factor.
        panel: The market panel.
        source: Point-in-time fundamentals.

    Returns:
        (T, N) float64.
    """
    top, bottom = {
        "roe": ("net_income", "total_equity"),
        "gross_profitability": ("gross_profit", "total_assets"),
        "roa": ("net_income", "total_assets"),
    }[spec.metric]
    data = _asof(source, panel, [top, bottom])
    return _ratio(data[top], data[bottom])


def growth(spec: GrowthFactor, panel: Panel, source: FundamentalsSource) -> np.ndarray:
    """Year-over-year growth of the latest report (a fraction, 0.10 = +10 %).

    revenue_growth = revenue / previous fiscal year's revenue - 1,
    earnings_growth = the same for net_income; both as known on date t; NaN
    when the previous year's value is unknown or <= 0.

    Args:
        spec: The factor.
        panel: The market panel.
        source: Point-in-time fundamentals.

    Returns:
        (T, N) float64.
    """
    field = "revenue" if spec.metric == "revenue_growth" else "net_income"
    data = _asof(source, panel, [field, prev(field)])
    return _ratio(data[field], data[prev(field)]) - 1.0


def size(spec: SizeFactor, panel: Panel, source: FundamentalsSource) -> np.ndarray:
    """Natural log of market capitalisation (currency units), shares_outstanding x close.

    Args:
        spec: The factor.
        panel: The market panel.
        source: Point-in-time fundamentals.

    Returns:
        (T, N) float64; NaN without a positive cap.
    """
    del spec
    cap = _market_cap(_asof(source, panel, ["shares_outstanding"])["shares_outstanding"], panel)
    out: np.ndarray = np.log(cap)
    return out


def _asof(source: FundamentalsSource, panel: Panel, fields: list[str]) -> dict[str, np.ndarray]:
    """Ask a source for fields on the panel's grid and check the shapes."""
    data = source.asof(panel.dates, list(panel.symbols), fields)
    for name in fields:
        if name not in data or np.shape(data[name]) != panel.shape:
            raise QtcError(f"fundamentals source returned no {panel.shape} array for {name!r}")
    return {name: np.asarray(data[name], dtype=np.float64) for name in fields}


def _market_cap(shares: np.ndarray, panel: Panel) -> np.ndarray:
    """Market cap = shares x close, NaN unless both are positive."""
    cap: np.ndarray = shares * panel.close
    with np.errstate(invalid="ignore"):
        cap[~((shares > 0) & (panel.close > 0))] = np.nan
    return cap


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Return top / bottom, NaN where bottom is not positive."""
    out = np.full(top.shape, np.nan)
    with np.errstate(invalid="ignore"):
        positive = bottom > 0
    np.divide(top, bottom, out=out, where=positive)
    return out
