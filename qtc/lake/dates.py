"""Parsing of the dates callers pass to the lake (ISO strings, dates, numpy, polars)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TypeAlias

import numpy as np
import polars as pl

from qtc.errors import UserError

DateLike: TypeAlias = date | str | np.datetime64
"""A single date: `datetime.date` (or datetime), ISO string, or numpy datetime64."""

DatesLike: TypeAlias = Sequence[DateLike] | np.ndarray | pl.Series
"""Several dates: a sequence of `DateLike`, a datetime64 array or a polars series."""


def to_date(value: DateLike, what: str = "date") -> date:
    """Convert one date-like value to `datetime.date`.

    Args:
        value: The value.
        what: Name of the argument, for messages.

    Returns:
        The date.

    Raises:
        UserError: If the value is not a date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise UserError(f"{what}: {value!r} is not a date", hint="write dates as YYYY-MM-DD")


def optional_date(value: DateLike | None, what: str) -> date | None:
    """Convert an optional date-like value.

    Args:
        value: The value or None.
        what: Name of the argument, for messages.

    Returns:
        The date or None.
    """
    return None if value is None else to_date(value, what)


def check_window(start: date | None, end: date | None) -> None:
    """Refuse a window whose start is after its end.

    Args:
        start: First date or None.
        end: Last date or None.

    Raises:
        UserError: If start > end.
    """
    if start is not None and end is not None and start > end:
        raise UserError(f"empty date window: start {start} is after end {end}")


def to_date_series(dates: DatesLike, what: str = "dates") -> pl.Series:
    """Convert several date-like values into a sorted, unique polars Date series.

    Args:
        dates: The values.
        what: Name of the argument, for messages.

    Returns:
        Series named `date`, dtype Date, sorted ascending, without duplicates or nulls.

    Raises:
        UserError: If a value is not a date.
    """
    if isinstance(dates, pl.Series):
        series = _series_to_date(dates, what)
    elif isinstance(dates, np.ndarray) and np.issubdtype(dates.dtype, np.datetime64):
        series = pl.Series("date", dates.astype("datetime64[D]"))
    else:
        series = pl.Series("date", [to_date(v, what) for v in dates], dtype=pl.Date)
    return series.drop_nulls().unique().sort().alias("date")


def _series_to_date(series: pl.Series, what: str) -> pl.Series:
    """Convert a polars series of dates, datetimes or ISO strings to Date.

    Args:
        series: The series.
        what: Name of the argument, for messages.

    Returns:
        A Date series.

    Raises:
        UserError: If the series cannot be read as dates.
    """
    if series.dtype == pl.Date:
        return series
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date()
    if series.dtype == pl.String:
        parsed = series.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        bad = parsed.is_null() & series.is_not_null()
        if not bad.any():
            return parsed
        raise UserError(f"{what}: {series.filter(bad)[0]!r} is not a date (YYYY-MM-DD)")
    raise UserError(f"{what}: a series of dtype {series.dtype} is not dates")
