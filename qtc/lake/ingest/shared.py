"""Readers that turn the files of the shared real data set into lake datasets.

The shared data folder (see its README.md) holds Yahoo prices, benchmark ETFs
and indices, symbol metadata, S&P 500 membership snapshots, two fundamentals
sources, Fama-French factors, VIX and treasury yields. Each reader returns one
conformed dataset frame and notes for the catalog's provenance; `prices`, the one large
file, is streamed instead when it is in dataset order (`qtc.lake.ingest.stream`).

Normalizations (all recorded as provenance notes):

* **prices / benchmarks**: float32 prices are cast to float64 (the values are
  the float32 values exactly); volume int64. Benchmark fields the source lacks
  stay null (`^GSPC`, `^IXIC` have no adj_close; MTUM/QUAL/SIZE/USMV/VLUE only
  adj_close); the `kind`/`source` columns go to provenance.
* **symbols**: `gics_sector` -> `sector`, `gics_sub_industry` -> `industry`.
* **membership**: index `sp500`; `snapshot_date` is the git commit date of the
  constituents list (not the index effective date). When several commits share
  a date, the last commit in file order (the latest) is used. Old tickers are
  mapped to the current tickers used by `prices` (`TICKER_RENAMES`, e.g. FB ->
  META), so point-in-time members join to price history.
* **fundamentals** (one row per symbol, fiscal year and source):
  - `fiscal_year` follows SimFin's convention for both sources: the calendar
    year of `period_end`, minus one when the period ends in January-March
    (so Walmart's year ending 2016-01-31 is fiscal 2015). NYSE's own
    `for_year` is not used (it is null for 173 rows and wrong for IPG FY2015).
  - NYSE (Kaggle, FY2012-2016) has no publish date: `publish_date =
    period_end + fundamentals_lag_days` (default 90) and `lag_applied_days`
    records the lag. Its `eps` and `shares_outstanding` are as reported, NOT
    split-adjusted (AAPL FY2013 EPS 40.03); tickers are mapped like membership.
  - SimFin (FY2016-2021) has a real `publish_date` (`lag_applied_days` 0);
    `period_end` = its `report_date`. SimFin reports expenses as negative
    numbers: `cost_of_revenue` is negated so that it is a positive expense
    and `gross_profit = revenue - cost_of_revenue` holds in both sources.
    `shares_outstanding` = `shares_basic` (split-adjusted as of the vintage);
    `eps` = `net_income_common / shares_basic` (derived, basic).
  - Other canonical fields keep their natural signs in both sources: revenue,
    assets, liabilities, debt positive; gross profit, operating income, net
    income, equity and operating cash flow signed (negative = loss/outflow).
* **rates**: `rf` from the Fama-French daily file, already a decimal return per
  day (the 1-month T-bill return).
* **macro**: VIX close as `vix` (index points) and treasury CMT yields renamed
  `y_1month` -> `y_1m` ... `y_30year` -> `y_30y` (decimals), outer-joined on date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from qtc.errors import UserError
from qtc.lake.hashing import file_sha256
from qtc.lake.ingest.stream import StreamedFrame, stream_or_frame
from qtc.lake.schema import BAR_COLUMNS, FUNDAMENTAL_FIELDS, YIELD_COLUMNS, conform

SHARED_FILES: dict[str, str] = {
    "prices": "prices_daily.parquet",
    "benchmarks": "benchmarks_daily.parquet",
    "symbols": "symbols.csv",
    "membership": "sp500_constituents_snapshots.parquet",
    "fundamentals_nyse": "fundamentals_nyse_annual.parquet",
    "fundamentals_simfin": "fundamentals_simfin_annual.parquet",
    "rates": "ff_factors_daily.parquet",
    "vix": "vix_daily.parquet",
    "yields": "treasury_yields_daily.parquet",
}
"""Role -> file name inside the shared data folder."""

TICKER_RENAMES: dict[str, str] = {
    "BLL": "BALL",
    "ABC": "COR",
    "COG": "CTRA",
    "RE": "EG",
    "ANTM": "ELV",
    "FISV": "FI",
    "NLOK": "GEN",
    "FB": "META",
    "VIAC": "PARA",
    "PKI": "RVTY",
    "MYL": "VTRS",
    "DISCA": "WBD",
    "WLTW": "WTW",
}
"""Old ticker -> current ticker, as listed in the shared data README."""

NYSE_FIELDS: dict[str, str] = {
    "revenue": "total_revenue",
    "cost_of_revenue": "cost_of_revenue",
    "gross_profit": "gross_profit",
    "operating_income": "operating_income",
    "net_income": "net_income",
    "total_assets": "total_assets",
    "total_liabilities": "total_liabilities",
    "total_equity": "total_equity",
    "long_term_debt": "long_term_debt",
    "operating_cash_flow": "net_cash_flow_operating",
    "shares_outstanding": "estimated_shares_outstanding",
    "eps": "earnings_per_share",
}
"""Canonical field -> NYSE (Kaggle) column."""

SIMFIN_COLUMNS: dict[str, str] = {
    "revenue": "revenue",
    "cost_of_revenue": "cost_of_revenue",
    "gross_profit": "gross_profit",
    "operating_income": "operating_income_loss",
    "net_income": "net_income",
    "total_assets": "total_assets",
    "total_liabilities": "total_liabilities",
    "total_equity": "total_equity",
    "long_term_debt": "long_term_debt",
    "operating_cash_flow": "net_cash_from_operating_activities",
    "shares_outstanding": "shares_basic",
}
"""Canonical field -> SimFin column (eps is derived, cost_of_revenue negated)."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """One dataset read from the shared folder.

    Attributes:
        frame: The conformed dataset frame, or a source streamed in canonical order.
        sources: Source files used (paths).
        notes: Normalizations applied, for the catalog provenance.
        params: Parameters that shaped the content.
    """

    frame: pl.DataFrame | StreamedFrame
    sources: tuple[Path, ...]
    notes: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def provenance(self) -> dict[str, Any]:
        """Return the catalog provenance: source file names, sizes, hashes, notes."""
        files = [
            {"file": p.name, "bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for p in self.sources
        ]
        return {"sources": files, "notes": list(self.notes)}


def read_table(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    """Read a Parquet or CSV source file and check that it has the needed columns.

    Args:
        path: The file.
        columns: Columns that must be present (others are dropped).

    Returns:
        The frame with just those columns.

    Raises:
        UserError: If the file is missing, unreadable, or lacks a column.
    """
    _require_file(path)
    try:
        if path.suffix == ".csv":
            df = pl.read_csv(path, infer_schema=False)
        else:
            df = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    _require_columns(path, columns, df.columns)
    return df.select(columns)


def scan_table(path: Path, columns: tuple[str, ...]) -> pl.LazyFrame:
    """Scan a Parquet source file lazily and check that it has the needed columns.

    Args:
        path: The file.
        columns: Columns that must be present (others are dropped).

    Returns:
        A lazy scan of just those columns.

    Raises:
        UserError: If the file is missing, unreadable, or lacks a column.
    """
    _require_file(path)
    try:
        found = pl.scan_parquet(path).collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    _require_columns(path, columns, found)
    return pl.scan_parquet(path).select(columns)


def _require_file(path: Path) -> None:
    """Raise a user error when a source file is missing.

    Args:
        path: The file.

    Raises:
        UserError: If it is not a file.
    """
    if not path.is_file():
        raise UserError(
            f"missing source file {path}", hint="point the ingest at the shared data folder"
        )


def _require_columns(path: Path, columns: tuple[str, ...], found: list[str]) -> None:
    """Raise a user error when a source file lacks a needed column.

    Args:
        path: The file.
        columns: Needed columns.
        found: The file's columns.

    Raises:
        UserError: If a column is missing.
    """
    missing = [c for c in columns if c not in found]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)}; found: {', '.join(found)}",
            hint="the file does not match the shared data README",
        )


def _rename_tickers(expr: pl.Expr) -> pl.Expr:
    """Map old tickers to current ones and class-share dots to dashes.

    Args:
        expr: Symbol expression.

    Returns:
        The mapped expression.
    """
    return expr.str.replace_all(".", "-", literal=True).replace(TICKER_RENAMES)


def _fiscal_year(period_end: pl.Expr) -> pl.Expr:
    """Fiscal year by SimFin's convention (Jan-Mar period ends belong to the prior year).

    Args:
        period_end: Date expression.

    Returns:
        Int32 expression.
    """
    year = period_end.dt.year().cast(pl.Int32)
    return (year - (period_end.dt.month() <= 3).cast(pl.Int32)).alias("fiscal_year")


def load_prices(src: Path) -> Loaded:
    """Read `prices_daily.parquet` into the `prices` dataset.

    Args:
        src: Shared data folder.

    Returns:
        The loaded dataset: streamed from the file when it is sorted by symbol and date
        (as the shared data README says), else conformed in memory.
    """
    path = src / SHARED_FILES["prices"]
    scan = scan_table(path, ("date", "symbol", *BAR_COLUMNS))
    note = "float32 open/high/low/close/adj_close cast to float64"
    return Loaded(stream_or_frame(scan, path, "prices"), (path,), (note,))


def load_benchmarks(src: Path) -> Loaded:
    """Read `benchmarks_daily.parquet` into the `benchmarks` dataset.

    Args:
        src: Shared data folder.

    Returns:
        The loaded dataset.
    """
    path = src / SHARED_FILES["benchmarks"]
    df = read_table(path, ("date", "symbol", *BAR_COLUMNS, "kind", "source"))
    kinds = df.group_by("symbol").agg(pl.col("kind").first()).sort("symbol")
    notes = [f"{s}: {k}" for s, k in kinds.iter_rows()]
    notes.append("fields missing in the source stay null (indices have no adj_close)")
    notes += [f"row source: {s}" for s in sorted(df["source"].drop_nulls().unique())]
    return Loaded(conform(df, "benchmarks"), (path,), tuple(notes))


def load_symbols(src: Path) -> Loaded:
    """Read `symbols.csv` into the `symbols` dataset.

    Args:
        src: Shared data folder.

    Returns:
        The loaded dataset.
    """
    path = src / SHARED_FILES["symbols"]
    df = read_table(path, ("symbol", "name", "gics_sector", "gics_sub_industry"))
    df = df.rename({"gics_sector": "sector", "gics_sub_industry": "industry"})
    note = "gics_sector -> sector, gics_sub_industry -> industry (current-ish GICS)"
    return Loaded(conform(df, "symbols"), (path,), (note,))


def load_membership(src: Path) -> Loaded:
    """Read the S&P 500 snapshots into the `membership` dataset (index `sp500`).

    Args:
        src: Shared data folder.

    Returns:
        The loaded dataset.
    """
    path = src / SHARED_FILES["membership"]
    df = read_table(path, ("snapshot_date", "commit", "symbol")).with_row_index("row")
    last_commit = df.group_by("snapshot_date").agg(pl.col("commit").sort_by("row").last())
    df = df.join(last_commit, on=["snapshot_date", "commit"], how="semi")
    df = df.select(
        index=pl.lit("sp500"),
        snapshot_date="snapshot_date",
        symbol=_rename_tickers(pl.col("symbol")),
    ).unique()
    notes = (
        "snapshot_date is the git commit date of the constituents list, not the effective date",
        "several commits on one date: the last one in file order is used",
        "old tickers mapped to current: "
        + " ".join(f"{a}->{b}" for a, b in sorted(TICKER_RENAMES.items())),
    )
    return Loaded(conform(df, "membership"), (path,), notes)


def load_fundamentals(src: Path, lag_days: int) -> Loaded:
    """Read both fundamentals sources into the `fundamentals` dataset.

    Args:
        src: Shared data folder.
        lag_days: Reporting lag added to NYSE period ends to get a publish date.

    Returns:
        The loaded dataset.

    Raises:
        UserError: If the lag is negative.
    """
    if lag_days < 0:
        raise UserError(f"fundamentals lag must be >= 0 days, got {lag_days}")
    nyse_path = src / SHARED_FILES["fundamentals_nyse"]
    simfin_path = src / SHARED_FILES["fundamentals_simfin"]
    frame = pl.concat([_nyse(nyse_path, lag_days), _simfin(simfin_path)])
    notes = (
        "fiscal_year: year of period_end, minus 1 for Jan-Mar period ends (SimFin convention)",
        f"nyse: no publish date; publish_date = period_end + {lag_days} days (lag_applied_days)",
        "nyse: eps and shares_outstanding as reported, NOT split-adjusted",
        "nyse: tickers mapped to current (FB->META, ...)",
        "simfin: cost_of_revenue negated (SimFin reports expenses as negative numbers)",
        "simfin: shares_outstanding = shares_basic; eps = net_income_common / shares_basic",
    )
    params = {"fundamentals_lag_days": lag_days, "fields": list(FUNDAMENTAL_FIELDS)}
    return Loaded(conform(frame, "fundamentals"), (nyse_path, simfin_path), notes, params)


def _nyse(path: Path, lag_days: int) -> pl.DataFrame:
    """Map the NYSE (Kaggle) fundamentals onto the canonical columns.

    Args:
        path: `fundamentals_nyse_annual.parquet`.
        lag_days: Reporting lag in days.

    Returns:
        Canonical (unsorted) frame.
    """
    df = read_table(path, ("symbol", "period_ending", *NYSE_FIELDS.values()))
    end = pl.col("period_ending")
    return df.select(
        symbol=_rename_tickers(pl.col("symbol")),
        fiscal_year=_fiscal_year(end),
        period_end=end,
        publish_date=end + pl.duration(days=lag_days),
        lag_applied_days=pl.lit(lag_days, pl.Int32),
        source=pl.lit("nyse"),
        **{f: pl.col(c).cast(pl.Float64) for f, c in NYSE_FIELDS.items()},
    )


def _simfin(path: Path) -> pl.DataFrame:
    """Map the SimFin fundamentals onto the canonical columns.

    Args:
        path: `fundamentals_simfin_annual.parquet`.

    Returns:
        Canonical (unsorted) frame.
    """
    cols = ("symbol", "report_date", "publish_date", "net_income_common")
    df = read_table(path, (*cols, *SIMFIN_COLUMNS.values()))
    values = {f: pl.col(c).cast(pl.Float64) for f, c in SIMFIN_COLUMNS.items()}
    values["cost_of_revenue"] = -pl.col("cost_of_revenue").cast(pl.Float64)
    shares = pl.col("shares_basic").cast(pl.Float64)
    eps = pl.when(shares > 0).then(pl.col("net_income_common").cast(pl.Float64) / shares)
    return df.select(
        symbol="symbol",
        fiscal_year=_fiscal_year(pl.col("report_date")),
        period_end="report_date",
        publish_date="publish_date",
        lag_applied_days=pl.lit(0, pl.Int32),
        source=pl.lit("simfin"),
        **values,
        eps=eps,
    )


def load_rates(src: Path) -> Loaded:
    """Read the Fama-French `rf` column into the `rates` dataset.

    Args:
        src: Shared data folder.

    Returns:
        The loaded dataset.
    """
    path = src / SHARED_FILES["rates"]
    df = read_table(path, ("date", "rf")).filter(pl.col("rf").is_not_null())
    note = "rf: Fama-French daily 1-month T-bill return, decimal per day"
    return Loaded(conform(df, "rates"), (path,), (note,))


def load_macro(src: Path) -> Loaded:
    """Join VIX closes and treasury yields into the `macro` dataset.

    Args:
        src: Shared data folder.

    Returns:
        The loaded dataset.
    """
    vix_path = src / SHARED_FILES["vix"]
    yields_path = src / SHARED_FILES["yields"]
    vix = read_table(vix_path, ("date", "close")).rename({"close": "vix"})
    source_cols = {y: _yield_source_name(y) for y in YIELD_COLUMNS}
    yields = read_table(yields_path, ("date", *source_cols.values()))
    yields = yields.rename({v: k for k, v in source_cols.items()})
    df = vix.join(yields, on="date", how="full", coalesce=True)
    notes = (
        "vix: CBOE VIX close (index points)",
        "y_*: US Treasury constant-maturity yields, decimal; outer-joined with vix on date",
    )
    return Loaded(conform(df, "macro"), (vix_path, yields_path), notes)


def _yield_source_name(column: str) -> str:
    """Return the source column of a yield column (`y_3m` -> `y_3month`, `y_2y` -> `y_2year`).

    Args:
        column: Canonical yield column.

    Returns:
        The column name in the treasury file.
    """
    tenor = column.removeprefix("y_")
    unit = {"m": "month", "y": "year"}[tenor[-1]]
    return f"y_{tenor[:-1]}{unit}"


def load_shared(src: Path, *, fundamentals_lag_days: int) -> dict[str, Loaded]:
    """Read every dataset from the shared data folder.

    Args:
        src: Shared data folder.
        fundamentals_lag_days: Reporting lag for fundamentals without a publish date.

    Returns:
        Dataset name -> loaded dataset.

    Raises:
        UserError: If the folder or a file is missing or malformed.
    """
    if not src.is_dir():
        raise UserError(f"shared data folder {src} does not exist or is not a folder")
    return {
        "prices": load_prices(src),
        "symbols": load_symbols(src),
        "membership": load_membership(src),
        "fundamentals": load_fundamentals(src, fundamentals_lag_days),
        "benchmarks": load_benchmarks(src),
        "rates": load_rates(src),
        "macro": load_macro(src),
    }
