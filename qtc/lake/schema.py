"""Dataset schemas of a lake: column names, dtypes, sort order and keys.

Every dataset is one Parquet file `<lake>/<name>.parquet` whose columns, dtypes
and row order are fixed here, so that the same content always gives the same
bytes and the same content hash. `conform` is the only way frames enter a lake.

Datasets (schema version 1):

* `prices`, `benchmarks`: `date, symbol, open, high, low, close, adj_close,
  volume`; prices are float64 (cast from float32 sources), volume int64.
  Sorted by `symbol, date`; key `(symbol, date)`.
* `symbols`: `symbol, name, sector, industry`. Key `symbol`.
* `membership`: `index, snapshot_date, symbol`: one row per member of each
  index snapshot. Key `(index, snapshot_date, symbol)`.
* `fundamentals`: `symbol, fiscal_year, period_end, publish_date,
  lag_applied_days, source` then the canonical fields in `FUNDAMENTAL_FIELDS`
  (float64, currency units except `shares_outstanding` in shares and `eps` in
  currency per share). Key `(symbol, fiscal_year, source)`.
* `rates`: `date, rf` with `rf` the risk-free return per day as a decimal.
* `macro`: `date, vix` then treasury yields `y_1m ... y_30y` as decimals.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from qtc.errors import QtcError

SCHEMA_VERSION = 1

PRICE_FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close")
"""Price columns of `prices` and `benchmarks` (float64)."""

BAR_COLUMNS: tuple[str, ...] = (*PRICE_FIELDS, "volume")
"""Value columns of `prices` and `benchmarks`, in file order."""

FUNDAMENTAL_FIELDS: tuple[str, ...] = (
    "revenue",
    "cost_of_revenue",
    "gross_profit",
    "operating_income",
    "net_income",
    "total_assets",
    "total_liabilities",
    "total_equity",
    "long_term_debt",
    "operating_cash_flow",
    "shares_outstanding",
    "eps",
)
"""Canonical fundamentals fields; every source maps onto these names."""

YIELD_COLUMNS: tuple[str, ...] = (
    "y_1m",
    "y_3m",
    "y_6m",
    "y_1y",
    "y_2y",
    "y_3y",
    "y_5y",
    "y_7y",
    "y_10y",
    "y_20y",
    "y_30y",
)
"""Treasury constant-maturity yields in `macro`, decimal (0.05 = 5 %)."""

MACRO_COLUMNS: tuple[str, ...] = ("vix", *YIELD_COLUMNS)
"""Value columns of `macro`."""


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """The fixed shape of one dataset.

    Attributes:
        name: Dataset name, also the Parquet file stem.
        columns: `(name, dtype)` pairs in file order.
        sort_by: Row order in the file.
        key: Columns that identify a row (no duplicates allowed).
        date_column: Column used for the catalog's date range, if any.
        description: One line for `qtc data info`.
    """

    name: str
    columns: tuple[tuple[str, pl.DataType], ...]
    sort_by: tuple[str, ...]
    key: tuple[str, ...]
    date_column: str | None
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in file order."""
        return tuple(name for name, _ in self.columns)

    @property
    def file_name(self) -> str:
        """File name of the dataset inside the lake folder."""
        return f"{self.name}.parquet"


def _bars(name: str, description: str) -> DatasetSpec:
    """Build the spec shared by `prices` and `benchmarks`.

    Args:
        name: Dataset name.
        description: One-line description.

    Returns:
        The dataset spec.
    """
    columns: list[tuple[str, pl.DataType]] = [("date", pl.Date()), ("symbol", pl.String())]
    columns += [(c, pl.Float64()) for c in PRICE_FIELDS]
    columns.append(("volume", pl.Int64()))
    return DatasetSpec(
        name=name,
        columns=tuple(columns),
        sort_by=("symbol", "date"),
        key=("symbol", "date"),
        date_column="date",
        description=description,
    )


def _fundamentals() -> DatasetSpec:
    """Build the `fundamentals` spec.

    Returns:
        The dataset spec.
    """
    columns: list[tuple[str, pl.DataType]] = [
        ("symbol", pl.String()),
        ("fiscal_year", pl.Int32()),
        ("period_end", pl.Date()),
        ("publish_date", pl.Date()),
        ("lag_applied_days", pl.Int32()),
        ("source", pl.String()),
    ]
    columns += [(f, pl.Float64()) for f in FUNDAMENTAL_FIELDS]
    return DatasetSpec(
        name="fundamentals",
        columns=tuple(columns),
        sort_by=("symbol", "publish_date", "fiscal_year", "source"),
        key=("symbol", "fiscal_year", "source"),
        date_column="publish_date",
        description="annual fundamentals, point in time on publish_date",
    )


SPECS: dict[str, DatasetSpec] = {
    "prices": _bars("prices", "daily OHLC, adj_close (total return) and volume per symbol"),
    "symbols": DatasetSpec(
        name="symbols",
        columns=(
            ("symbol", pl.String()),
            ("name", pl.String()),
            ("sector", pl.String()),
            ("industry", pl.String()),
        ),
        sort_by=("symbol",),
        key=("symbol",),
        date_column=None,
        description="symbol metadata: name, sector, industry",
    ),
    "membership": DatasetSpec(
        name="membership",
        columns=(("index", pl.String()), ("snapshot_date", pl.Date()), ("symbol", pl.String())),
        sort_by=("index", "snapshot_date", "symbol"),
        key=("index", "snapshot_date", "symbol"),
        date_column="snapshot_date",
        description="index membership snapshots (in force from snapshot_date)",
    ),
    "fundamentals": _fundamentals(),
    "benchmarks": _bars("benchmarks", "benchmark ETFs and indices, same columns as prices"),
    "rates": DatasetSpec(
        name="rates",
        columns=(("date", pl.Date()), ("rf", pl.Float64())),
        sort_by=("date",),
        key=("date",),
        date_column="date",
        description="risk-free return per day (decimal)",
    ),
    "macro": DatasetSpec(
        name="macro",
        columns=(("date", pl.Date()), *((c, pl.Float64()) for c in MACRO_COLUMNS)),
        sort_by=("date",),
        key=("date",),
        date_column="date",
        description="VIX close and treasury yields (decimal)",
    ),
}
"""All datasets a lake can hold, in catalog order."""

DATASETS: tuple[str, ...] = tuple(SPECS)


def spec(name: str) -> DatasetSpec:
    """Return the spec of a dataset.

    Args:
        name: Dataset name.

    Returns:
        The dataset spec.

    Raises:
        QtcError: If the name is not a known dataset (a programming error).
    """
    try:
        return SPECS[name]
    except KeyError:
        raise QtcError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def conform(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """Select, cast and sort a frame into the canonical shape of a dataset.

    Args:
        df: Frame holding at least the dataset's columns (extra ones are dropped).
        name: Dataset name.

    Returns:
        A frame with exactly the dataset's columns, dtypes and row order.

    Raises:
        QtcError: If a column is missing or cannot be cast (the readers that
            build frames from user files check this earlier, in user terms).
    """
    ds = spec(name)
    missing = [c for c in ds.column_names if c not in df.columns]
    if missing:
        raise QtcError(f"dataset {name!r} is missing column(s): {', '.join(missing)}")
    try:
        out = df.select(pl.col(c).cast(dtype) for c, dtype in ds.columns)
    except pl.exceptions.PolarsError as exc:
        raise QtcError(f"dataset {name!r}: cannot cast columns: {exc}") from exc
    return out.sort(list(ds.sort_by), nulls_last=True, maintain_order=True)


def dtype_name(dtype: pl.DataType) -> str:
    """Return a stable, library-independent name for a column dtype.

    Args:
        dtype: A polars dtype.

    Returns:
        One of `date`, `string`, `float64`, `float32`, `int64`, `int32`, `bool`,
        or the polars name for anything else.
    """
    names: dict[type[pl.DataType], str] = {
        pl.Date: "date",
        pl.String: "string",
        pl.Float64: "float64",
        pl.Float32: "float32",
        pl.Int64: "int64",
        pl.Int32: "int32",
        pl.Boolean: "bool",
    }
    return names.get(type(dtype), str(dtype))
