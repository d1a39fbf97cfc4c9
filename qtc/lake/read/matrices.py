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
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from qtc.lake.read.matrix_cache import MatrixCache, source_stamp

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
) -> Panel | None:
    """A window of the cached full panel (built on first use).

    Args:
        lake: The lake.
        columns: Price columns.
        symbols: Symbols (column order; unknown ones are all NaN) or None = every symbol.
        start: First date or None.
        end: Last date or None.

    Returns:
        The window, or None when the lake has no prices or the cache cannot be written.
    """
    entry = lake.catalog.datasets.get("prices")
    if entry is None:
        return None
    stamp = source_stamp(lake.file("prices"), entry.file_sha256)
    panel = _full_panel(lake, MatrixCache(lake.path, entry.content_sha256, stamp), columns)
    if panel is None:
        return None
    return _window(panel, lake.calendar(start, end), columns, symbols)


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


def _window(
    panel: Panel, window: np.ndarray, columns: Sequence[str], symbols: Sequence[str] | None
) -> Panel:
    """Cut a date window and a symbol selection out of full-panel matrices."""
    all_dates, all_names, full = panel
    lo = int(np.searchsorted(all_dates, window[0])) if len(window) else 0
    hi = lo + len(window)
    if symbols is None:
        names, pick = all_names, None
    else:
        names = list(dict.fromkeys(symbols))
        where = {s: j for j, s in enumerate(all_names)}
        pick = np.array([where.get(s, -1) for s in names], dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for col in columns:
        block = np.array(full[col][lo:hi])
        if pick is not None:
            block = np.where(pick >= 0, block[:, np.maximum(pick, 0)], np.nan)
        out[col] = block
    return window, names, out


def _day_rows(dates: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Row of each day (epoch days) in a sorted calendar, by a lookup table (no search)."""
    cal = dates.astype("datetime64[D]").astype(np.int64)
    if cal.size == 0:
        return np.zeros(day.shape, dtype=np.int64)
    table = np.zeros(int(cal[-1] - cal[0]) + 1, dtype=np.int64)
    table[cal - cal[0]] = np.arange(cal.size)
    rows: np.ndarray = table[np.clip(day.astype(np.int64) - cal[0], 0, table.size - 1)]
    return rows
