"""Read user price files (CSV or Parquet) into a long `prices`-shaped frame.

Accepted inputs:

* a long panel file with columns `date, symbol, open, high, low, close,
  adj_close, volume`;
* a one-symbol file without a `symbol` column (the symbol is the file stem:
  `AAPL.csv` -> `AAPL`), e.g. a Yahoo download `Date,Open,High,Low,Close,Adj
  Close,Volume`;
* a folder of such files (`*.csv`, `*.csv.gz`, `*.parquet`, `*.pq`; not
  recursive), concatenated.

Headers are matched case- and space-insensitively: `Adj Close`, `adj_close`,
`ADJ-CLOSE` and `AdjClose` are the same column; `Ticker` means `symbol`.
Dates may be `YYYY-MM-DD` (optionally followed by a time, as yfinance writes),
`MM/DD/YYYY` or `YYYYMMDD`. Empty cells and `null`/`NaN`/`NA` are missing values.
Rows whose price and volume fields are all missing (Yahoo's placeholder rows
for non-trading days) are dropped and counted. Every problem is a `UserError`
naming the file, the column and the row (1-based data row; the CSV line is row
+ 1 because of the header).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from qtc.errors import UserError
from qtc.lake.schema import BAR_COLUMNS

SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet", ".pq")
"""File name endings read as price files."""

ALIASES: dict[str, str] = {
    "adjclose": "adj_close",
    "adjusted_close": "adj_close",
    "adj_close_price": "adj_close",
    "close_price": "close",
    "ticker": "symbol",
    "datetime": "date",
    "timestamp": "date",
    "vol": "volume",
}
"""Normalized header -> canonical column, beyond plain normalization."""

NULL_STRINGS: tuple[str, ...] = ("", "null", "NULL", "nan", "NaN", "NA", "N/A", "n/a", "None")
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d")
REQUIRED: tuple[str, ...] = ("date", *BAR_COLUMNS)


@dataclass(frozen=True, slots=True)
class PriceSource:
    """Prices read from one path (a file or a folder).

    Attributes:
        frame: Long frame `date, symbol, open, high, low, close, adj_close, volume`.
        files: The files read, in order.
        dropped_rows: Placeholder rows dropped because every value was missing.
    """

    frame: pl.DataFrame
    files: tuple[Path, ...]
    dropped_rows: int


def price_files(path: Path) -> list[Path]:
    """List the price files of a path: itself, or the matching files of a folder.

    Args:
        path: A file or a folder.

    Returns:
        Files sorted by name.

    Raises:
        UserError: If the path is missing or a folder holds no price files.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError(f"{path} does not exist", hint="give a CSV/Parquet file or a folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))
    if not files:
        raise UserError(
            f"{path} holds no price files ({', '.join('*' + s for s in SUFFIXES)})",
            hint="one file per symbol named like AAPL.csv, or one long panel file",
        )
    return files


def read_prices(path: Path) -> PriceSource:
    """Read a price file or a folder of price files.

    Args:
        path: File or folder.

    Returns:
        The prices and what was read.

    Raises:
        UserError: For any problem with the files (named with file, column, row).
    """
    files = price_files(path)
    frames = [read_price_file(f) for f in files]
    frame = pl.concat([f for f, _ in frames]) if frames else pl.DataFrame()
    return PriceSource(frame, tuple(files), sum(n for _, n in frames))


def read_price_file(path: Path) -> tuple[pl.DataFrame, int]:
    """Read one price file into the long price shape.

    Args:
        path: A CSV or Parquet file.

    Returns:
        The frame and the number of all-missing rows dropped.

    Raises:
        UserError: If the file cannot be read, lacks a column, or has a bad value.
    """
    raw = _read_raw(path)
    df = raw.rename(_header_map(raw.columns, path))
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)}; found: {', '.join(raw.columns)}",
            hint="expected date, open, high, low, close, adj_close, volume "
            "(Yahoo headers like 'Adj Close' are fine; symbol comes from the file name "
            "when there is no symbol column)",
        )
    if "symbol" not in df.columns:
        df = df.with_columns(symbol=pl.lit(_stem(path)))
    values = {c: _to_float(df, c, path) for c in BAR_COLUMNS}
    df = df.select(
        date=_to_date(df, path),
        symbol=pl.col("symbol").cast(pl.String).str.strip_chars(),
        **values,
    )
    empty = pl.all_horizontal(pl.col(c).is_null() for c in BAR_COLUMNS)
    kept = df.filter(~empty)
    kept = kept.with_columns(volume=_to_volume(kept, path))
    return kept.select("date", "symbol", *BAR_COLUMNS), df.height - kept.height


def _read_raw(path: Path) -> pl.DataFrame:
    """Read a file as is (CSV: every column as text).

    Args:
        path: The file.

    Returns:
        The raw frame.

    Raises:
        UserError: If the file cannot be parsed.
    """
    try:
        if path.name.endswith((".parquet", ".pq")):
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False, null_values=list(NULL_STRINGS))
    except (pl.exceptions.PolarsError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"cannot read {path}: {first_line}",
            hint="a CSV needs a header row and the same number of fields on every row; "
            "a Parquet file must be valid Parquet",
        ) from exc


def normalize_header(name: str) -> str:
    """Normalize a column header (`Adj Close` -> `adj_close`, `Ticker` -> `symbol`).

    Args:
        name: Header as written.

    Returns:
        The canonical name, or the normalized header if it has no alias.
    """
    norm = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return ALIASES.get(norm, norm)


def _header_map(columns: list[str], path: Path) -> dict[str, str]:
    """Map raw headers to normalized ones, refusing two headers for one column.

    Args:
        columns: Raw headers.
        path: The file (for messages).

    Returns:
        Raw header -> normalized header.

    Raises:
        UserError: If two headers normalize to the same name.
    """
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for col in columns:
        norm = normalize_header(col)
        if norm in seen:
            raise UserError(f"{path}: columns {seen[norm]!r} and {col!r} both mean {norm!r}")
        seen[norm] = col
        mapping[col] = norm
    return mapping


def _stem(path: Path) -> str:
    """Symbol of a one-symbol file: its name without the price-file suffix.

    Args:
        path: The file.

    Returns:
        The symbol.
    """
    name = path.name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _first_true(mask: pl.Series) -> int:
    """Return the 0-based index of the first true value of a mask.

    Args:
        mask: Boolean mask with at least one true value.

    Returns:
        Index of the first true value.
    """
    return int(mask.arg_true()[0])


def _to_date(df: pl.DataFrame, path: Path) -> pl.Series:
    """Parse the `date` column into dates.

    Args:
        df: Frame with a normalized `date` column.
        path: The file (for messages).

    Returns:
        A Date series.

    Raises:
        UserError: Naming the first row whose date cannot be parsed.
    """
    col = df["date"]
    if col.dtype == pl.Date:
        return col
    if isinstance(col.dtype, pl.Datetime):
        return col.dt.date()
    text = col.cast(pl.String).str.strip_chars()
    best: pl.Series | None = None
    for fmt in DATE_FORMATS:
        head = text.str.slice(0, 10) if fmt == "%Y-%m-%d" else text
        parsed = head.str.to_date(fmt, strict=False)
        if best is None or parsed.null_count() < best.null_count():
            best = parsed
    assert best is not None
    bad = best.is_null() & text.is_not_null()
    if bad.any():
        i = _first_true(bad)
        raise UserError(
            f"{path}: row {i + 1}: cannot parse date {text[i]!r} in column 'date'",
            hint="write dates as YYYY-MM-DD",
        )
    return best.alias("date")


def _to_float(df: pl.DataFrame, column: str, path: Path) -> pl.Series:
    """Parse a numeric column into float64.

    Args:
        df: Frame with normalized columns.
        column: Column name.
        path: The file (for messages).

    Returns:
        A Float64 series (nulls where the file has missing values).

    Raises:
        UserError: Naming the first row whose value is not a number.
    """
    col = df[column]
    if col.dtype.is_numeric():
        return col.cast(pl.Float64)
    text = col.cast(pl.String).str.strip_chars().str.replace_all(",", "", literal=True)
    values = text.cast(pl.Float64, strict=False)
    bad = values.is_null() & text.is_not_null() & ~text.is_in(list(NULL_STRINGS))
    if bad.any():
        i = _first_true(bad)
        raise UserError(
            f"{path}: row {i + 1}: {column} value {text[i]!r} is not a number",
            hint="numbers use '.' as decimal point; leave missing values empty",
        )
    return values.alias(column)


def _to_volume(df: pl.DataFrame, path: Path) -> pl.Series:
    """Turn the float volume column into int64 (rounded), refusing fractions.

    Args:
        df: Frame with a Float64 `volume` column.
        path: The file (for messages).

    Returns:
        An Int64 series.

    Raises:
        UserError: If a volume has a fractional part or does not fit int64.
    """
    vol = df["volume"]
    finite = vol.is_not_null() & vol.is_finite()
    frac = finite & ((vol - vol.round(0)).abs() > 1e-6)
    if frac.any():
        i = _first_true(frac)
        raise UserError(f"{path}: row {i + 1}: volume {vol[i]} is not a whole number")
    return vol.round(0).cast(pl.Int64, strict=False).alias("volume")
