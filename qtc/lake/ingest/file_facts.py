"""Catalog facts of a written dataset file, read back one column at a time.

`content_sha256_of_file` gives the same digest as `qtc.lake.hashing.content_sha256` of the
file's frame (the `qtc-content-v1` serialization described there: per column the null mask,
then the values; strings as all lengths, then all bytes), and `describe_file` the same
facts as `qtc.lake.catalog.describe_frame`, without holding the frame in memory. Each
column is read once, in chunks: the null mask is fed as it comes, the value bytes are kept
until the mask is complete (at most 8 bytes a row for numbers; lengths and text for strings).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from qtc.errors import QtcError
from qtc.lake.hashing import CONTENT_HASH_VERSION
from qtc.lake.schema import DatasetSpec, dtype_name

HASH_ROWS = 1 << 21
"""Rows of one column read per chunk."""

HASHABLE = (pl.Date, pl.Boolean, pl.String)
"""Dtypes the canonical serialization covers, besides floats and integers."""


class _Hasher(Protocol):
    """The part of a hashlib object used here."""

    def update(self, data: bytes, /) -> None:
        """Feed bytes into the digest."""


def describe_file(path: Path, ds: DatasetSpec) -> dict[str, Any]:
    """Compute the descriptive catalog facts of a dataset file.

    Args:
        path: The Parquet file.
        ds: Its dataset spec.

    Returns:
        Mapping with `columns`, `rows`, `symbols`, `min_date`, `max_date`.
    """
    scan = pl.scan_parquet(path)
    schema = scan.collect_schema()
    facts: list[pl.Expr] = [pl.len().alias("rows")]
    if "symbol" in schema:
        facts.append(pl.col("symbol").n_unique().alias("symbols"))
    if ds.date_column is not None:
        day = pl.col(ds.date_column)
        facts += [day.min().alias("min_date"), day.max().alias("max_date")]
    found = scan.select(facts).collect(engine="streaming").row(0, named=True)
    return {
        "columns": tuple((name, dtype_name(dtype)) for name, dtype in schema.items()),
        "rows": int(found["rows"]),
        "symbols": int(found["symbols"]) if "symbols" in found else None,
        "min_date": _text(found.get("min_date")),
        "max_date": _text(found.get("max_date")),
    }


def content_sha256_of_file(path: Path) -> str:
    """Return the content hash of a dataset file (see the module docstring).

    Args:
        path: The Parquet file.

    Returns:
        Lowercase hex digest.

    Raises:
        QtcError: For a dtype the canonical serialization does not cover.
    """
    scan = pl.scan_parquet(path)
    schema = scan.collect_schema()
    height = int(scan.select(pl.len()).collect().item())
    digest = hashlib.sha256()
    digest.update(f"{CONTENT_HASH_VERSION}\n".encode())
    header = [[name, dtype_name(dtype)] for name, dtype in schema.items()]
    digest.update(json.dumps(header, separators=(",", ":")).encode())
    digest.update(np.uint64(height).astype("<u8").tobytes())
    for name, dtype in schema.items():
        _hash_column(digest, _column_chunks(scan, name, height), dtype)
    return digest.hexdigest()


def _text(day: object) -> str | None:
    """A date as `YYYY-MM-DD` text, None kept."""
    return None if day is None else str(day)


def _column_chunks(scan: pl.LazyFrame, column: str, height: int) -> Iterator[pl.Series]:
    """Read one column in chunks of `HASH_ROWS` rows.

    Args:
        scan: Lazy scan of the file.
        column: Column name.
        height: Row count.

    Yields:
        The column's chunks, in order.
    """
    for start in range(0, height, HASH_ROWS):
        yield scan.select(column).slice(start, HASH_ROWS).collect().to_series()


def _hash_column(digest: _Hasher, chunks: Iterator[pl.Series], dtype: pl.DataType) -> None:
    """Feed one column's null mask, then its values, into a digest.

    Args:
        digest: A hashlib sha256 object.
        chunks: The column's chunks, in order.
        dtype: The column's dtype.

    Raises:
        QtcError: For a dtype the canonical serialization does not cover.
    """
    if not (dtype.is_float() or dtype.is_integer() or dtype in HASHABLE):
        raise QtcError(f"cannot hash a column of dtype {dtype}")
    carry: NDArray[np.bool_] = np.zeros(0, dtype=bool)
    values: list[bytes] = []
    texts: list[bytes] = []
    for chunk in chunks:
        packed, carry = _pack_bits(carry, chunk.is_null().to_numpy())
        digest.update(packed)
        if dtype == pl.String:
            filled = chunk.fill_null("")
            values.append(filled.str.len_bytes().to_numpy().astype("<u4").tobytes())
            texts.append(str(filled.str.join("").item() if chunk.len() else "").encode())
        else:
            values.append(_value_bytes(chunk))
    digest.update(np.packbits(carry).tobytes())
    for part in (*values, *texts):
        digest.update(part)


def _pack_bits(
    carry: NDArray[np.bool_], bits: NDArray[np.bool_]
) -> tuple[bytes, NDArray[np.bool_]]:
    """Pack whole bytes of a mask, carrying the last few bits so chunks of any length join up.

    Args:
        carry: Bits left over from the previous chunk (fewer than 8).
        bits: This chunk's bits.

    Returns:
        The packed whole bytes and the new carry.
    """
    joined = np.concatenate([carry, bits])
    whole = len(joined) - len(joined) % 8
    return np.packbits(joined[:whole]).tobytes(), joined[whole:]


def _value_bytes(series: pl.Series) -> bytes:
    """The canonical bytes of a chunk's values (nulls as zero), for any dtype but string.

    Args:
        series: One chunk of a float, integer, date or boolean column.

    Returns:
        The bytes.
    """
    dtype = series.dtype
    if dtype.is_float():
        values = series.cast(pl.Float64).fill_null(0.0).to_numpy().astype("<f8")
        values[np.isnan(values)] = np.nan
        return values.tobytes()
    if dtype.is_integer():
        return series.cast(pl.Int64).fill_null(0).to_numpy().astype("<i8").tobytes()
    if dtype == pl.Date:
        return series.cast(pl.Int32).fill_null(0).to_numpy().astype("<i4").tobytes()
    return series.fill_null(False).to_numpy().astype("u1").tobytes()
