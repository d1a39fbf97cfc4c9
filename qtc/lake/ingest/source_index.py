"""One pass over a price source's `symbol` and `date` columns, a chunk at a time.

It finds out whether the rows are already in the order of the `prices` and `benchmarks`
datasets (by symbol, then date, nulls last; equal keys stay as they are, as `schema.conform`'s
stable sort leaves them), how many rows each symbol has, and the trading calendar (the
dates of the rows that have a symbol and a date). Only one chunk of the two columns is in
memory at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from qtc.errors import UserError

INDEX_ROWS = 1 << 21
"""Rows of `symbol` and `date` read per chunk."""


@dataclass(frozen=True, slots=True)
class SourceIndex:
    """What one pass over a source in dataset order found.

    Attributes:
        rows: Row count.
        runs: Rows of each symbol, in file order (rows without a symbol last).
        calendar: Sorted unique dates of the rows that have a symbol and a date.
    """

    rows: int
    runs: tuple[int, ...]
    calendar: NDArray[np.datetime64]


def collect(plan: pl.LazyFrame, source: Path) -> pl.DataFrame:
    """Run a lazy query over a source file, reporting read errors as user errors.

    Args:
        plan: The query.
        source: The file it reads, for the message.

    Returns:
        The result.

    Raises:
        UserError: If the file cannot be read or a column cannot be cast.
    """
    try:
        return plan.collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UserError(f"cannot read {source}: {exc}") from exc


def index_source(plan: pl.LazyFrame, source: Path) -> SourceIndex | None:
    """Index a source whose plan has `symbol` and `date` columns.

    Args:
        plan: Lazy scan of the source, columns cast to the dataset's dtypes.
        source: The file, for messages.

    Returns:
        The index, or None when the rows are not in dataset order.

    Raises:
        UserError: If the file cannot be read.
    """
    total = int(collect(plan.select(pl.len()), source).item())
    runs: list[int] = []
    dates: list[NDArray[np.datetime64]] = []
    last: pl.DataFrame | None = None
    for start in range(0, total, INDEX_ROWS):
        chunk = collect(plan.select("symbol", "date").slice(start, INDEX_ROWS), source)
        joined = chunk if last is None else pl.concat([last, chunk])
        if joined.select(_out_of_order().any()).item():
            return None
        _add_runs(runs, chunk, last)
        dates.append(_dated(chunk))
        last = chunk.tail(1)
    calendar = np.unique(np.concatenate(dates)) if dates else np.array([], "datetime64[D]")
    return SourceIndex(total, tuple(runs), calendar)


def batch_ranges(runs: tuple[int, ...], rows: int) -> list[tuple[int, int]]:
    """Group whole symbols into row ranges of at least `rows` rows (the last may be shorter).

    Args:
        runs: Rows per symbol, in file order.
        rows: Target rows per range.

    Returns:
        `(start, length)` per range; one empty range when there are no rows.
    """
    ranges: list[tuple[int, int]] = []
    start = length = 0
    for n in runs:
        length += n
        if length >= rows:
            ranges.append((start, length))
            start, length = start + length, 0
    if length or not ranges:
        ranges.append((start, length))
    return ranges


def _out_of_order() -> pl.Expr:
    """True on a row (other than the first) that sorts before the row above it."""
    symbol, day = pl.col("symbol"), pl.col("date")
    above_symbol, above_day = symbol.shift(1), day.shift(1)
    symbol_back = (symbol < above_symbol).fill_null(False) | (
        above_symbol.is_null() & symbol.is_not_null()
    )
    same_symbol = (symbol == above_symbol).fill_null(False) | (
        symbol.is_null() & above_symbol.is_null()
    )
    day_back = (day < above_day).fill_null(False) | (above_day.is_null() & day.is_not_null())
    not_first = pl.int_range(pl.len()) > 0
    return not_first & (symbol_back | (same_symbol & day_back))


def _add_runs(runs: list[int], chunk: pl.DataFrame, last: pl.DataFrame | None) -> None:
    """Append a chunk's symbol run lengths, extending the previous chunk's last run.

    Args:
        runs: Run lengths so far (extended in place).
        chunk: The chunk's `symbol` column (and others).
        last: The previous chunk's last row, if any.
    """
    encoded = chunk.select(pl.col("symbol").rle()).unnest("symbol")
    lengths = [int(n) for n in encoded["len"]]
    if runs and last is not None and lengths and last["symbol"][0] == encoded["value"][0]:
        runs[-1] += lengths.pop(0)
    runs.extend(lengths)


def _dated(chunk: pl.DataFrame) -> NDArray[np.datetime64]:
    """Unique dates of a chunk's rows that have a symbol and a date.

    Args:
        chunk: `symbol` and `date` columns.

    Returns:
        The dates (datetime64[D]).
    """
    rows = chunk.filter(pl.col("symbol").is_not_null() & pl.col("date").is_not_null())
    return np.asarray(rows["date"].unique().to_numpy(), dtype="datetime64[D]")
