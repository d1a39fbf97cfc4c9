"""Reading a lake: the point-in-time panel API used by the backtest pipeline.

`Lake(path)` opens a lake folder (its `catalog.json`) and reads datasets with
lazy polars scans (predicate pushdown on symbol and date, projection of the
requested columns only). Long frames are `date, symbol, ...`; wide frames and
matrices are aligned to the lake's trading calendar (the distinct dates of
`prices`) within the requested window. See `qtc.lake.read.pit` for the
point-in-time rules of membership, fundamentals and series.

Every read goes through `file` (the file exists, has the catalog's columns and, up to
`HASHED_ON_OPEN` bytes, the catalog's sha256) and `collect`/`read` (a decode error
becomes `LakeDamagedError`, see `qtc.lake.guard`), so a damaged lake is one clear error
naming the dataset and file. Price matrices come from `qtc.lake.read.matrices` (scatter, and
the cached full panel).

A symbol's history ends on its last row: `last_dates()` reports each symbol's
first and last date, and matrices hold NaN after the last date, so the
pipeline can liquidate a position at the last price.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Sequence
from datetime import date
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from qtc.errors import UserError
from qtc.lake.catalog import Catalog, DatasetEntry, read_catalog
from qtc.lake.dates import DateLike, DatesLike, check_window, optional_date, to_date_series
from qtc.lake.guard import damaged, first_line, reading, verify_bytes, verify_file
from qtc.lake.read.matrices import cached_window, priced_columns, scatter
from qtc.lake.read.matrix_cache import MatrixCache, source_stamp
from qtc.lake.read.pit import align_series, fundamentals_asof, members_asof
from qtc.lake.schema import BAR_COLUMNS, FUNDAMENTAL_FIELDS, MACRO_COLUMNS, spec

HASHED_ON_OPEN = 16 * 2**20
"""Dataset files up to this size are checked against their catalog sha256 on first use."""

KEPT_READS = 64
"""How many small reads (`Lake._kept`) a `Lake` keeps before it forgets them all."""


class Lake:
    """A lake folder opened for reading.

    Attributes:
        path: The lake folder.
        catalog: Its catalog.
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        """Open a lake.

        Args:
            path: The lake folder.

        Raises:
            UserError: If the folder is not a readable lake.
        """
        self.path = Path(path).expanduser()
        self.catalog: Catalog = read_catalog(self.path)
        self._calendar: np.ndarray | None = None
        self._last_dates: pl.DataFrame | None = None
        self._benchmark_symbols: list[str] | None = None
        self._verified: set[str] = set()
        self._bytes_verified: set[str] = set()
        self._matrix_cache: MatrixCache | None = None
        self._reads: dict[tuple[str, Hashable], tuple[tuple[int, int], Any]] = {}

    def __repr__(self) -> str:
        """Return `Lake('/path', datasets=[...])`."""
        return f"Lake({str(self.path)!r}, datasets={list(self.catalog.datasets)})"

    # -- datasets ---------------------------------------------------------------------------

    @property
    def datasets(self) -> tuple[str, ...]:
        """Names of the datasets in the lake."""
        return tuple(self.catalog.datasets)

    def has(self, name: str) -> bool:
        """Return whether the lake holds a dataset.

        Args:
            name: Dataset name.

        Returns:
            True if present.
        """
        return name in self.catalog.datasets

    def entry(self, name: str) -> DatasetEntry:
        """Return the catalog entry of a dataset.

        Args:
            name: Dataset name.

        Returns:
            The entry.

        Raises:
            UserError: If the lake has no such dataset.
        """
        try:
            return self.catalog.datasets[name]
        except KeyError:
            raise UserError(
                f"lake {self.path} has no {name!r} dataset (it has: {', '.join(self.datasets)})",
                hint="ingest it with `qtc data ingest`, or use the demo lake",
            ) from None

    def file(self, name: str) -> Path:
        """Return the Parquet file of a dataset, checked against the catalog.

        Once per dataset and `Lake`: the file must exist and have the catalog's columns
        (read from its footer), and a file up to `HASHED_ON_OPEN` bytes must have the
        catalog's sha256 (a few milliseconds). The large `prices` file is hashed when the
        matrix cache is built from it instead.

        Args:
            name: Dataset name.

        Returns:
            The file path.

        Raises:
            UserError: If the lake has no such dataset.
            LakeDamagedError: If the file is missing, unreadable, has other columns or
                (when hashed) other bytes than the catalog says.
        """
        entry = self.entry(name)
        if name not in self._verified:
            verify_file(self.path, entry)
            if entry.file_bytes <= HASHED_ON_OPEN:
                self.verify_bytes(name)
            self._verified.add(name)
        return self.path / entry.file

    def scan(self, name: str) -> pl.LazyFrame:
        """Return a lazy scan of a dataset; collect it with `collect`.

        Args:
            name: Dataset name.

        Returns:
            The lazy frame (decode errors surface when it is collected).
        """
        return pl.scan_parquet(self.file(name))

    def collect(self, name: str, frame: pl.LazyFrame) -> pl.DataFrame:
        """Collect a lazy frame built on `scan(name)`.

        Args:
            name: Dataset the frame reads.
            frame: The lazy frame.

        Returns:
            The collected frame.

        Raises:
            LakeDamagedError: If the dataset file cannot be decoded.
        """
        with reading(self.path, self.entry(name)):
            return frame.collect()

    def read(self, name: str) -> pl.DataFrame:
        """Read a whole dataset.

        Args:
            name: Dataset name.

        Returns:
            The frame.

        Raises:
            LakeDamagedError: If the dataset file is missing or cannot be decoded.
        """
        path = self.file(name)
        with reading(self.path, self.entry(name)):
            return pl.read_parquet(path)

    def verify_bytes(self, name: str) -> None:
        """Check (once per `Lake`) that a dataset file's sha256 is the catalog's.

        Args:
            name: Dataset name.

        Raises:
            LakeDamagedError: If the file's bytes differ from the catalog.
        """
        if name not in self._bytes_verified:
            verify_bytes(self.path, self.entry(name))
            self._bytes_verified.add(name)

    def _kept(self, name: str, key: Hashable, read: Callable[[], Any]) -> Any:
        """What `read` returns from dataset `name`, kept under `key` while its file is unchanged.

        A warm session (a `Lake` kept open across backtests) reads the small tables (symbols,
        rates, one benchmark, macro, membership) once; a file whose size or mtime changed
        since is read again. Callers get polars frames, which are immutable (hand out a
        `clone()` if one could be changed in place).

        Args:
            name: Dataset the value is read from.
            key: What distinguishes reads of that dataset (window, columns, ...).
            read: Reads the value.

        Returns:
            The value.
        """
        try:
            stat = os.stat(self.file(name))
        except OSError:
            return read()  # a vanished file: the read itself says so
        stamp = (stat.st_size, stat.st_mtime_ns)
        held = self._reads.get((name, key))
        if held is not None and held[0] == stamp:
            return held[1]
        value = read()
        if len(self._reads) >= KEPT_READS:
            self._reads.clear()
        self._reads[(name, key)] = (stamp, value)
        return value

    def dataset_hashes(self) -> dict[str, str]:
        """Return each dataset's stable content sha256 (for run provenance)."""
        return {name: e.content_sha256 for name, e in self.catalog.datasets.items()}

    def info(self) -> list[dict[str, Any]]:
        """Return one JSON-ready row per dataset for `qtc data info`."""
        return [
            {
                "dataset": e.name,
                "rows": e.rows,
                "symbols": e.symbols,
                "min_date": e.min_date,
                "max_date": e.max_date,
                "columns": [n for n, _ in e.columns],
                "file_bytes": e.file_bytes,
                "content_sha256": e.content_sha256,
                "warnings": e.warnings,
                "params": e.params,
                "description": e.description,
            }
            for e in self.catalog.datasets.values()
        ]

    # -- prices ---------------------------------------------------------------------------------

    def calendar(self, start: DateLike | None = None, end: DateLike | None = None) -> np.ndarray:
        """Return the trading calendar: distinct dates of `prices` within a window.

        Args:
            start: First date (inclusive) or None.
            end: Last date (inclusive) or None.

        Returns:
            Sorted `datetime64[D]` array.
        """
        if self._calendar is None:
            self._calendar = self._cached_calendar()
        if self._calendar is None:
            unique = self.scan("prices").select(pl.col("date").unique())
            dates = self.collect("prices", unique)["date"]
            self._calendar = np.sort(dates.to_numpy().astype("datetime64[D]"))
        lo, hi = _window(start, end)
        cal = self._calendar
        first = 0 if lo is None else int(np.searchsorted(cal, np.datetime64(lo, "D")))
        last = (
            len(cal) if hi is None else int(np.searchsorted(cal, np.datetime64(hi, "D"), "right"))
        )
        return cal[first:last]

    def _cached_calendar(self) -> np.ndarray | None:
        """The calendar from the matrix cache's dates, when the cache was built from this file.

        The cache's manifest names the prices file's catalog sha256, size and mtime; its
        dates are the file's distinct dates when it was built (the same trust the cached
        matrices get). None when there is no valid cache: the file is scanned instead.
        """
        try:
            cache = self.matrix_cache()
        except OSError:
            return None
        index = None if cache is None else cache.index()
        return None if index is None else index[0]

    def prices(
        self,
        symbols: Sequence[str] | None = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
        columns: Sequence[str] = BAR_COLUMNS,
        wide: bool = False,
    ) -> pl.DataFrame:
        """Read prices for a symbol set and date window.

        Args:
            symbols: Symbols to read; None = all.
            start: First date (inclusive) or None.
            end: Last date (inclusive) or None.
            columns: Value columns among open/high/low/close/adj_close/volume.
            wide: Return one column per symbol (needs exactly one value column),
                one row per calendar date in the window, nulls where missing.

        Returns:
            Long frame `date, symbol, *columns` sorted by symbol then date, or a
            wide frame `date, <symbol>...`.

        Raises:
            UserError: For unknown columns, a bad window, or wide with several columns.
        """
        cols = _check_columns(columns, BAR_COLUMNS, "prices")
        long = self.bars("prices", symbols, start, end, cols)
        if not wide:
            return long
        if len(cols) != 1:
            raise UserError(f"wide prices need exactly one column, got {', '.join(cols)}")
        dates, names, matrix = self._matrix(long, cols[0], symbols, start, end)
        return _wide_frame(dates, names, matrix, long.schema[cols[0]])

    def adj_close_matrix(
        self,
        symbols: Sequence[str] | None = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Read adj_close as a dense float64 matrix aligned to the trading calendar.

        Args:
            symbols: Symbols (columns, in this order; unknown ones are all NaN);
                None = every symbol, sorted.
            start: First date (inclusive) or None.
            end: Last date (inclusive) or None.

        Returns:
            `(dates, symbols, values)`: `datetime64[D]` calendar dates in the
            window, the column symbols, and a `(len(dates), len(symbols))`
            float64 array with NaN where a symbol has no row.
        """
        long = self.bars("prices", symbols, start, end, ("adj_close",))
        return self._matrix(long, "adj_close", symbols, start, end)

    def bar_matrices(
        self,
        columns: Sequence[str],
        symbols: Sequence[str] | None = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
        *,
        priced_by: str | None = None,
        views: bool = False,
    ) -> tuple[np.ndarray, list[str], dict[str, np.ndarray]]:
        """Read several price columns as dense float64 matrices on one calendar.

        Args:
            columns: Value columns among open/high/low/close/adj_close/volume.
            symbols: Symbols (column order) or None = every symbol, sorted.
            start: First date (inclusive) or None.
            end: Last date (inclusive) or None.
            priced_by: With `symbols` None, keep only the symbols with a finite value of
                this column (one of `columns`) in the window.
            views: The matrices may be read-only views of the memory-mapped matrix cache
                (no copy unless symbols are dropped); by default they are writeable copies.

        Returns:
            `(dates, symbols, {column: (len(dates), len(symbols)) float64 array})`,
            NaN where a symbol has no row.
        """
        cols = _check_columns(columns, BAR_COLUMNS, "prices")
        if priced_by is not None and priced_by not in cols:
            raise UserError(f"priced_by {priced_by!r} is not one of the columns read")
        cached = cached_window(self, cols, symbols, start, end, priced_by=priced_by, views=views)
        if cached is not None:
            return cached
        dates = self.calendar(start, end)
        names, out = scatter(dates, self.bars("prices", symbols, start, end, cols), cols, symbols)
        if symbols is None and priced_by is not None:
            keep = priced_columns(out[priced_by])
            names = [s for s, k in zip(names, keep, strict=True) if k]
            out = {c: v[:, keep] for c, v in out.items()}
        return dates, names, out

    def matrix_cache(self) -> MatrixCache | None:
        """The matrix cache of the current `prices` file (kept while the file is unchanged).

        Returns:
            The cache (its files may not exist yet), or None when the lake has no prices.

        Raises:
            LakeDamagedError: If the prices file is missing or has other columns.
        """
        entry = self.catalog.datasets.get("prices")
        if entry is None:
            return None
        stamp = source_stamp(self.file("prices"), entry.file_sha256)
        held = self._matrix_cache
        if held is None or held.source != stamp or held.content_sha256 != entry.content_sha256:
            held = MatrixCache(self.path, entry.content_sha256, stamp)
            self._matrix_cache = held
        return held

    def benchmark(
        self,
        symbol: str = "SPY",
        start: DateLike | None = None,
        end: DateLike | None = None,
        columns: Sequence[str] = BAR_COLUMNS,
    ) -> pl.DataFrame:
        """Read one benchmark series.

        Args:
            symbol: Benchmark symbol (`SPY`, `^GSPC`, ...).
            start: First date (inclusive) or None.
            end: Last date (inclusive) or None.
            columns: Value columns.

        Returns:
            Frame `date, symbol, *columns` sorted by date.

        Raises:
            UserError: If the lake has no such benchmark.
        """
        cols = _check_columns(columns, BAR_COLUMNS, "benchmarks")
        known = self.benchmark_symbols()
        if symbol not in known:
            raise UserError(f"no benchmark {symbol!r} in the lake; available: {', '.join(known)}")
        lo, hi = _window(start, end)
        whole: pl.DataFrame = self._kept(
            "benchmarks",
            (symbol, *cols),
            lambda: self.bars("benchmarks", [symbol], None, None, cols),
        )
        within = _in_window(lo, hi)
        return whole.filter(*within) if within else whole.clone()

    def benchmark_symbols(self) -> list[str]:
        """The symbols of the `benchmarks` dataset, sorted (read once per `Lake`)."""
        if self._benchmark_symbols is None:
            listed = self.scan("benchmarks").select(pl.col("symbol").unique())
            self._benchmark_symbols = sorted(self.collect("benchmarks", listed)["symbol"])
        return self._benchmark_symbols

    def last_dates(self) -> pl.DataFrame:
        """Return each symbol's first and last date in `prices` and its row count.

        Returns:
            Frame `symbol, first_date, last_date, rows` sorted by symbol.
        """
        if self._last_dates is None:
            spans = (
                self.scan("prices")
                .group_by("symbol")
                .agg(first_date=pl.col("date").min(), last_date=pl.col("date").max(), rows=pl.len())
            )
            self._last_dates = self.collect("prices", spans.sort("symbol"))
        return self._last_dates

    def symbols(self) -> pl.DataFrame:
        """Return the `symbols` dataset (`symbol, name, sector, industry`).

        A lake without one (prices ingested from a user's own file) has no names or sectors:
        an empty table with the dataset's columns, so runs see every sector as unknown.
        """
        if "symbols" not in self.datasets:
            return pl.DataFrame(schema=dict(spec("symbols").columns))
        table: pl.DataFrame = self._kept("symbols", None, lambda: self.read("symbols"))
        return table.clone()

    # -- point in time ------------------------------------------------------------------------

    def membership_asof(self, index: str = "sp500", dates: DatesLike | None = None) -> pl.DataFrame:
        """Return the members of an index in force on each date.

        Args:
            index: Index name (`sp500`).
            dates: Dates; None = the trading calendar.

        Returns:
            Frame `date, symbol` (no rows for dates before the first snapshot).

        Raises:
            UserError: If the lake has no such index.
        """
        table: pl.DataFrame = self._kept("membership", None, lambda: self.read("membership"))
        rows = table.filter(pl.col("index") == index)
        if rows.is_empty():
            known = table["index"].unique().sort()
            raise UserError(f"no index {index!r} in the lake; available: {', '.join(known)}")
        return members_asof(rows, self._dates(dates))

    def fundamentals_asof(
        self,
        symbols: Sequence[str] | None = None,
        dates: DatesLike | None = None,
        fields: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Return the latest published fundamentals of each symbol on each date.

        Args:
            symbols: Symbols; None = every symbol in `fundamentals`.
            dates: Dates; None = the trading calendar.
            fields: Canonical fields; None = all of `FUNDAMENTAL_FIELDS`.

        Returns:
            Frame `date, symbol, fiscal_year, period_end, publish_date, source,
            *fields`; a row is visible from its publish date on.
        """
        chosen = _check_columns(fields or FUNDAMENTAL_FIELDS, FUNDAMENTAL_FIELDS, "fundamentals")
        table = self.read("fundamentals")
        names = list(symbols) if symbols is not None else table["symbol"].unique().sort().to_list()
        return fundamentals_asof(table, names, self._dates(dates), chosen)

    def rates(
        self, dates: DatesLike | None = None, *, max_stale_days: int | None = 10
    ) -> pl.DataFrame:
        """Return the daily risk-free return aligned to dates.

        Args:
            dates: Dates; None = the trading calendar.
            max_stale_days: Calendar days a value may be carried forward; None = no limit.

        Returns:
            Frame `date, rf` (rf as a decimal return per day).
        """
        days = self._dates(dates)
        aligned: pl.DataFrame = self._kept(
            "rates",
            (days.to_numpy().tobytes(), max_stale_days),
            lambda: align_series(self.read("rates"), days, ["rf"], max_stale_days),
        )
        return aligned.clone()

    def macro(
        self,
        dates: DatesLike | None = None,
        columns: Sequence[str] | None = None,
        *,
        max_stale_days: int | None = 10,
    ) -> pl.DataFrame:
        """Return VIX and treasury yields aligned to dates.

        Args:
            dates: Dates; None = the trading calendar.
            columns: Columns among `vix, y_1m ... y_30y`; None = all.
            max_stale_days: Calendar days a value may be carried forward; None = no limit.

        Returns:
            Frame `date, *columns`.
        """
        cols = _check_columns(columns or MACRO_COLUMNS, MACRO_COLUMNS, "macro")
        days = self._dates(dates)
        aligned: pl.DataFrame = self._kept(
            "macro",
            (days.to_numpy().tobytes(), max_stale_days, *cols),
            lambda: align_series(self.read("macro"), days, cols, max_stale_days),
        )
        return aligned.clone()

    # -- SQL ------------------------------------------------------------------------------------

    def query(self, sql: str) -> pl.DataFrame:
        """Run read-only SQL over DuckDB views named after each dataset.

        Args:
            sql: A query, e.g. `SELECT symbol, count(*) FROM prices GROUP BY 1`.

        Returns:
            The result as a polars frame.

        Raises:
            UserError: If the query is not read-only (see `qtc.lake.read.readonly`) or DuckDB
                rejects it.
            LakeDamagedError: If a dataset file is missing or cannot be read.
        """
        from qtc.lake.read.sql import QueryError, run_query  # duckdb: only when SQL runs

        views = {name: self.file(name) for name in self.datasets}
        try:
            return run_query(views, sql)
        except QueryError as exc:
            if exc.view is not None:
                problem = f"cannot be read ({first_line(exc.cause)})"
                raise damaged(self.path, self.entry(exc.view), problem) from exc
            if not exc.in_the_sql:  # DuckDB may fail reading a file without naming it
                for name in self.datasets:
                    self.verify_bytes(name)
            raise

    # -- helpers --------------------------------------------------------------------------------

    def _dates(self, dates: DatesLike | None) -> pl.Series:
        """Return the requested dates as a sorted Date series (default: the calendar).

        Args:
            dates: Dates or None.

        Returns:
            Sorted unique Date series named `date`.
        """
        if dates is None:
            return pl.Series("date", self.calendar())
        return to_date_series(dates)

    def bars(
        self,
        name: str,
        symbols: Sequence[str] | None,
        start: DateLike | None,
        end: DateLike | None,
        columns: Sequence[str],
    ) -> pl.DataFrame:
        """Read `prices` or `benchmarks` filtered and projected (pushed down into the scan).

        Args:
            name: Dataset name.
            symbols: Symbols or None.
            start: First date or None.
            end: Last date or None.
            columns: Value columns.

        Returns:
            Frame `date, symbol, *columns` in file order (by symbol, then date).
        """
        lo, hi = _window(start, end)
        lf = self.scan(name).select("date", "symbol", *columns)
        if symbols is not None:
            lf = lf.filter(pl.col("symbol").is_in(list(symbols)))
        for within in _in_window(lo, hi):
            lf = lf.filter(within)
        return self.collect(name, lf)

    def _matrix(
        self,
        long: pl.DataFrame,
        column: str,
        symbols: Sequence[str] | None,
        start: DateLike | None,
        end: DateLike | None,
    ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Scatter a long frame (sorted by symbol) into a calendar x symbol matrix.

        Args:
            long: Frame `date, symbol, column`, sorted by symbol.
            column: Value column.
            symbols: Requested symbols (column order) or None (sorted, present ones).
            start: First date or None.
            end: Last date or None.

        Returns:
            `(dates, symbols, float64 matrix with NaN where missing)`.
        """
        dates = self.calendar(start, end)
        names, out = scatter(dates, long, [column], symbols)
        return dates, names, out[column]


def _window(start: DateLike | None, end: DateLike | None) -> tuple[date | None, date | None]:
    """Parse and check a date window.

    Args:
        start: First date or None.
        end: Last date or None.

    Returns:
        `(start, end)` as dates (or None).
    """
    lo, hi = optional_date(start, "start"), optional_date(end, "end")
    check_window(lo, hi)
    return lo, hi


def _in_window(lo: date | None, hi: date | None) -> list[pl.Expr]:
    """The filters on `date` that keep a window (none for an open one)."""
    filters = [] if lo is None else [pl.col("date") >= lo]
    return filters if hi is None else [*filters, pl.col("date") <= hi]


def _check_columns(columns: Sequence[str], allowed: Sequence[str], dataset: str) -> list[str]:
    """Refuse unknown columns.

    Args:
        columns: Requested columns.
        allowed: Known columns.
        dataset: Dataset name, for messages.

    Returns:
        The requested columns as a list (duplicates removed).

    Raises:
        UserError: If a column is unknown or none is requested.
    """
    if isinstance(columns, str):
        columns = [columns]
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise UserError(
            f"{dataset} has no column(s) {', '.join(unknown)}; available: {', '.join(allowed)}"
        )
    if not columns:
        raise UserError(f"no {dataset} columns requested")
    return list(dict.fromkeys(columns))


def _wide_frame(
    dates: np.ndarray, names: list[str], matrix: np.ndarray, dtype: pl.DataType
) -> pl.DataFrame:
    """Build a wide polars frame `date, <symbol>...` with nulls where missing.

    Args:
        dates: Calendar dates.
        names: Column symbols.
        matrix: Values (NaN where missing).
        dtype: Dtype of the value column (int volume is restored).

    Returns:
        The wide frame.
    """
    data = {name: matrix[:, i] for i, name in enumerate(names)}
    wide = pl.DataFrame({"date": dates, **data}).with_columns(pl.col(names).fill_nan(None))
    return wide.with_columns(pl.col(names).cast(dtype)) if names else wide
