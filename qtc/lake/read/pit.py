"""Point-in-time joins: what was known on each date, never what came later.

* Membership: on date `d` the members are those of the last snapshot with
  `snapshot_date <= d`. Before an index's first snapshot there are no members
  (nothing is backfilled from later snapshots).
* Fundamentals: a row becomes visible on its `publish_date` (not the day
  before) and stays the latest until a newer one is published. A row that is
  published after a newer fiscal year of the same symbol (a late restatement
  of an old year) never becomes "the latest" and is skipped; when two rows of
  a symbol share a publish date, the higher fiscal year wins, then SimFin over
  NYSE (a real publish date over an assumed lag), then source name.
* Series (rates, macro): each column is forward-filled from its last known
  value on or before the date, never backward; a value older than
  `max_stale_days` calendar days becomes null (so a series that stopped, like
  the treasury file in 2017, does not silently repeat its last value forever).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

SOURCE_RANK: dict[str, int] = {"simfin": 2, "demo": 2, "nyse": 1}
"""Preference among fundamentals rows published on the same day (higher wins)."""


def members_asof(membership: pl.DataFrame, dates: pl.Series) -> pl.DataFrame:
    """Members of one index in force on each date.

    Args:
        membership: Rows `snapshot_date, symbol` of one index.
        dates: Sorted unique Date series named `date`.

    Returns:
        Frame `date, symbol` sorted by date then symbol.
    """
    snaps = membership.select("snapshot_date").unique().sort("snapshot_date")
    grid = pl.DataFrame({"date": dates}).join_asof(
        snaps, left_on="date", right_on="snapshot_date", strategy="backward", coalesce=False
    )
    members = grid.drop_nulls("snapshot_date").join(
        membership.select("snapshot_date", "symbol"), on="snapshot_date"
    )
    return members.select("date", "symbol").sort("date", "symbol")


def latest_rows(fundamentals: pl.DataFrame) -> pl.DataFrame:
    """Keep the fundamentals rows that can be a symbol's latest known fiscal year.

    Args:
        fundamentals: The `fundamentals` dataset (any order).

    Returns:
        Rows sorted by `symbol, publish_date`, unique per `(symbol, publish_date)`.
    """
    rank = pl.col("source").replace_strict(SOURCE_RANK, default=0, return_dtype=pl.Int8)
    ordered = fundamentals.drop_nulls("publish_date").sort(
        "symbol", "publish_date", "fiscal_year", rank, "source"
    )
    newest = pl.col("fiscal_year").cum_max().over("symbol")
    kept = ordered.filter(pl.col("fiscal_year") >= newest)
    return kept.unique(subset=["symbol", "publish_date"], keep="last", maintain_order=True)


def fundamentals_asof(
    fundamentals: pl.DataFrame,
    symbols: Sequence[str],
    dates: pl.Series,
    fields: Sequence[str],
) -> pl.DataFrame:
    """Latest published fundamentals of each symbol on each date.

    Args:
        fundamentals: The `fundamentals` dataset.
        symbols: Symbols of the grid.
        dates: Sorted unique Date series named `date`.
        fields: Value columns to return.

    Returns:
        Frame `date, symbol, fiscal_year, period_end, publish_date, source,
        *fields`, one row per (date, symbol); values null before the first
        publication.
    """
    meta = ["fiscal_year", "period_end", "publish_date", "source"]
    rows = latest_rows(fundamentals.filter(pl.col("symbol").is_in(list(symbols))))
    rows = rows.select("symbol", *meta, *fields).sort("publish_date")
    grid = pl.DataFrame({"date": dates}).join(
        pl.DataFrame({"symbol": list(dict.fromkeys(symbols))}, schema={"symbol": pl.String}),
        how="cross",
    )
    joined = grid.sort("date").join_asof(
        rows,
        left_on="date",
        right_on="publish_date",
        by="symbol",
        strategy="backward",
        coalesce=False,
        check_sortedness=False,
    )
    return joined.select("date", "symbol", *meta, *fields).sort("date", "symbol")


def align_series(
    table: pl.DataFrame,
    dates: pl.Series,
    columns: Sequence[str],
    max_stale_days: int | None,
) -> pl.DataFrame:
    """Align date-indexed series to dates by forward-filling each column.

    Args:
        table: Frame with `date` and the value columns.
        dates: Sorted unique Date series named `date`.
        columns: Value columns to align.
        max_stale_days: Calendar days a value may be carried forward; None = no limit.

    Returns:
        Frame `date, *columns` with one row per date.
    """
    clean = [pl.col(c).fill_nan(None) if table.schema[c].is_float() else pl.col(c) for c in columns]
    base = table.select("date", *clean).sort("date")
    asof = {
        f"__asof_{c}": pl.when(pl.col(c).is_not_null()).then(pl.col("date")).forward_fill()
        for c in columns
    }
    base = base.with_columns(**asof).with_columns(pl.col(c).forward_fill() for c in columns)
    out = pl.DataFrame({"date": dates}).join_asof(base, on="date", strategy="backward")
    if max_stale_days is not None:
        out = out.with_columns(
            pl.when((pl.col("date") - pl.col(f"__asof_{c}")).dt.total_days() <= max_stale_days)
            .then(pl.col(c))
            .alias(c)
            for c in columns
        )
    return out.select("date", *columns)
