"""Hashes of lake datasets: the file bytes and a stable content hash.

Two digests are kept per dataset (both lowercase hex sha256):

* `file_sha256` - of the Parquet file's bytes. Parquet is written with fixed
  settings, so the same content and library versions give the same bytes, but a
  new polars version may encode differently.
* `content_sha256` - of a canonical serialization of the frame that depends only
  on the column names, dtypes and values, never on the Parquet encoder. This is
  the dataset's fingerprint for run provenance: re-ingesting identical content
  gives the identical hash.

Canonical serialization (version `qtc-content-v1`): a header line, the JSON list
of `[column, dtype]`, the row count as little-endian uint64, then per column
the packed null mask followed by the values with nulls replaced by a zero value:
floats as little-endian float64 (every NaN as the one canonical quiet NaN),
integers as little-endian int64, dates as little-endian int32 days since
1970-01-01, booleans as uint8, strings as little-endian uint32 UTF-8 byte
lengths followed by the concatenated UTF-8 bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl

from qtc.errors import QtcError
from qtc.lake.schema import dtype_name

CONTENT_HASH_VERSION = "qtc-content-v1"
_CHUNK = 1 << 20


class _Hasher(Protocol):
    """The part of a hashlib object used here."""

    def update(self, data: bytes, /) -> None:
        """Feed bytes into the digest."""


def file_sha256(path: Path) -> str:
    """Return the sha256 of a file's bytes.

    Args:
        path: File to hash.

    Returns:
        Lowercase hex digest.
    """
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_sha256(df: pl.DataFrame) -> str:
    """Return the stable content hash of a frame (see the module docstring).

    Args:
        df: The frame, already in canonical dataset shape.

    Returns:
        Lowercase hex digest.
    """
    digest = hashlib.sha256()
    digest.update(f"{CONTENT_HASH_VERSION}\n".encode())
    header = [[name, dtype_name(dtype)] for name, dtype in df.schema.items()]
    digest.update(json.dumps(header, separators=(",", ":")).encode())
    digest.update(np.uint64(df.height).astype("<u8").tobytes())
    for series in df.get_columns():
        _hash_series(digest, series)
    return digest.hexdigest()


def _hash_series(digest: _Hasher, series: pl.Series) -> None:
    """Feed one column's null mask and values into a digest.

    Args:
        digest: A hashlib sha256 object.
        series: The column.

    Raises:
        QtcError: For a dtype the canonical serialization does not cover.
    """
    digest.update(np.packbits(series.is_null().to_numpy()).tobytes())
    dtype = series.dtype
    if dtype.is_float():
        values = series.cast(pl.Float64).fill_null(0.0).to_numpy().astype("<f8")
        values[np.isnan(values)] = np.nan
        digest.update(values.tobytes())
    elif dtype.is_integer():
        digest.update(series.cast(pl.Int64).fill_null(0).to_numpy().astype("<i8").tobytes())
    elif dtype == pl.Date:
        digest.update(series.cast(pl.Int32).fill_null(0).to_numpy().astype("<i4").tobytes())
    elif dtype == pl.Boolean:
        digest.update(series.fill_null(False).to_numpy().astype("u1").tobytes())
    elif dtype == pl.String:
        _hash_strings(digest, series.fill_null(""))
    else:
        raise QtcError(f"cannot hash column {series.name!r} of dtype {dtype}")


def _hash_strings(digest: _Hasher, series: pl.Series) -> None:
    """Feed a string column (no nulls) into a digest as lengths then bytes.

    Args:
        digest: A hashlib sha256 object.
        series: String column without nulls.
    """
    lengths = series.str.len_bytes().to_numpy().astype("<u4")
    digest.update(lengths.tobytes())
    joined = series.str.join("").item() if series.len() else ""
    digest.update(str(joined).encode("utf-8"))
