"""Dense calendar x symbol matrices of `prices`: scattering long frames, and the cached panel.

`scatter` turns a long frame (sorted by symbol, as the file is) into one float64 matrix per
column on a calendar, NaN where a symbol has no row. `cached_window` serves a window of the
full panel from the lake's matrix cache (`qtc.lake.read.matrix_cache`), building the cache from
the Parquet file on first use: a cache is used only while its index is the lake's calendar,
and a rebuild from scratch first checks the file's sha256 against the catalog, so a damaged
`prices` file is a `LakeDamagedError`, never a matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from qtc.lake.read.matrix_cache import MatrixCache

if TYPE_CHECKING:
    from qtc.lake.dates import DateLike
    from qtc.lake.read.reader import Lake

Panel = tuple[np.ndarray, list[str], dict[str, np.ndarray]]
"""`(calendar dates, symbols, {column: (dates, symbols) float64 matrix})`."""


def scatter(
    dates: np.ndarray, long: pl.DataFrame, columns: Sequence[str], symbols: Sequence[str] | None
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Scatter columns of a long frame (sorted by symbol) into calendar x symbol matrices.

    Args:
        dates: The calendar (sorted `datetime64[D]`); every row's date must be in it.
        long: Frame `date, symbol, *columns`, sorted by symbol.
        columns: Value columns.
        symbols: Requested symbols (column order) or None (sorted, present ones).

    Returns:
        `(symbols, {column: float64 matrix with NaN where missing})`.
    """
    runs = long["symbol"].rle()
    present = runs.struct.field("value").to_list()
    names = list(dict.fromkeys(symbols)) if symbols is not None else sorted(set(present))
    position = {s: i for i, s in enumerate(names)}
    run_cols = np.array([position[s] for s in present], dtype=np.int64)
    cols = np.repeat(run_cols, runs.struct.field("len").to_numpy())
    rows = _day_rows(dates, long["date"].to_physical().to_numpy())
    out: dict[str, np.ndarray] = {}
    for col in columns:
        matrix = np.full((len(dates), len(names)), np.nan)
        matrix[rows, cols] = long[col].cast(pl.Float64).fill_null(np.nan).to_numpy()
        out[col] = matrix
    return names, out


def cached_window(
    lake: Lake,
    columns: Sequence[str],
    symbols: Sequence[str] | None,
    start: DateLike | None,
    end: DateLike | None,
    *,
    priced_by: str | None = None,
    views: bool = False,
) -> Panel | None:
    """A window of the cached full panel (built on first use).

    Args:
        lake: The lake.
        columns: Price columns.
        symbols: Symbols (column order; unknown ones are all NaN) or None = every symbol.
        start: First date or None.
        end: Last date or None.
        priced_by: With `symbols` None, keep only the symbols with a finite value of this
            column (one of `columns`) in the window.
        views: Matrices may be read-only views of the memory-mapped cache (no copy when
            no symbol is dropped); otherwise they are fresh writeable arrays.

    Returns:
        The window, or None when the lake has no prices or the cache cannot be written.
    """
    cache = lake.matrix_cache()
    if cache is None:
        return None
    panel = _full_panel(lake, cache, columns)
    if panel is None:
        return None
    window = lake.calendar(start, end)
    lo = int(np.searchsorted(panel[0], window[0])) if len(window) else 0
    rows = slice(lo, lo + len(window))
    keep = None
    if symbols is None and priced_by is not None:
        keep = cache.priced(priced_by, rows, panel[2][priced_by])
    return _window(panel, window, rows, columns, _Pick(symbols, keep, views))


def priced_columns(matrix: np.ndarray) -> np.ndarray:
    """Which columns of a (dates, symbols) matrix have a finite value, (symbols,) bool."""
    keep: np.ndarray = np.isfinite(matrix).any(axis=0)
    return keep


def _full_panel(lake: Lake, cache: MatrixCache, columns: Sequence[str]) -> Panel | None:
    """All dates x all symbols matrices: cached ones, else built from Parquet and cached."""
    index = cache.index()
    if index is not None and np.array_equal(index[0], lake.calendar()):
        dates, names = index
        found: dict[str, np.ndarray] = {}
        for col in columns:
            matrix = cache.column(col, (len(dates), len(names)))
            if matrix is not None:
                found[col] = matrix
        missing = [c for c in columns if c not in found]
        if not missing:
            return dates, names, found
        built_names, built = _build(lake, dates, missing)
        if built_names == names and cache.store(dates, names, built, fresh=False):
            return dates, names, {**found, **built}
    lake.verify_bytes("prices")
    dates = lake.calendar()
    names, built = _build(lake, dates, columns)
    if not cache.store(dates, names, built, fresh=True):
        return None
    return dates, names, built


def _build(
    lake: Lake, dates: np.ndarray, columns: Sequence[str]
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Full-panel matrices of some columns, decoded from the Parquet file."""
    return scatter(dates, lake.bars("prices", None, None, None, columns), columns, None)


@dataclass(frozen=True)
class _Pick:
    """Which symbols a window keeps and whether it may share memory with the cache.

    Attributes:
        symbols: Requested symbols (column order) or None = every symbol.
        keep: With `symbols` None, the symbols kept (None = all).
        views: Return read-only views when no symbol is dropped.
    """

    symbols: Sequence[str] | None
    keep: np.ndarray | None
    views: bool


def _window(
    panel: Panel, window: np.ndarray, rows: slice, columns: Sequence[str], pick: _Pick
) -> Panel:
    """Cut a date window and a symbol selection out of full-panel matrices."""
    _, all_names, full = panel
    names, where = _symbols(all_names, pick)
    out: dict[str, np.ndarray] = {}
    for col in columns:
        block = full[col][rows].view(np.ndarray)
        if where is None and pick.views:
            block.flags.writeable = False
            out[col] = block
        elif where is None:
            out[col] = np.array(block)
        elif pick.symbols is None:
            out[col] = block.take(where, axis=1)
        else:
            out[col] = np.where(where >= 0, block[:, np.maximum(where, 0)], np.nan)
    return window, names, out


def _symbols(all_names: list[str], pick: _Pick) -> tuple[list[str], np.ndarray | None]:
    """The window's symbols and their columns in the full panel (None = all, in order)."""
    if pick.symbols is not None:
        names = list(dict.fromkeys(pick.symbols))
        position = {s: j for j, s in enumerate(all_names)}
        return names, np.array([position.get(s, -1) for s in names], dtype=np.int64)
    if pick.keep is None or bool(pick.keep.all()):
        return all_names, None
    where = np.flatnonzero(pick.keep)
    return [all_names[j] for j in where], where


def _day_rows(dates: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Row of each day (epoch days) in a sorted calendar, by a lookup table (no search)."""
    cal = dates.astype("datetime64[D]").astype(np.int64)
    if cal.size == 0:
        return np.zeros(day.shape, dtype=np.int64)
    table = np.zeros(int(cal[-1] - cal[0]) + 1, dtype=np.int64)
    table[cal - cal[0]] = np.arange(cal.size)
    rows: np.ndarray = table[np.clip(day.astype(np.int64) - cal[0], 0, table.size - 1)]
    return rows
