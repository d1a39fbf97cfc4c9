"""Reading a lake's dataset files: every failure becomes one clear `LakeDamagedError`.

A dataset file can be missing although the catalog lists it, truncated, garbled, or
replaced by a file with other columns. Callers never see polars', DuckDB's or the OS's
exceptions for that:

* `verify_file` checks that the file exists and that its columns and dtypes (read from the
  Parquet footer, a few kilobytes) are the ones the catalog lists;
* `reading` wraps the decoding itself (a `collect`, a `read_parquet`) and turns a read
  error into `LakeDamagedError`;
* `verify_bytes` compares the file's sha256 with the catalog (used before a derived cache
  is built from the file, so a cache is never made from damaged bytes).

`LakeDamagedError` is a `QtcError` (exit 1): it names the lake, the dataset and the file,
and its hint says how to repair the lake (re-ingest, then `qtc data check`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from polars.exceptions import PanicException

from qtc.errors import QtcError
from qtc.lake.catalog import DatasetEntry, read_meta
from qtc.lake.hashing import file_sha256
from qtc.lake.schema import dtype_name

READ_ERRORS: tuple[type[BaseException], ...] = (pl.exceptions.PolarsError, PanicException, OSError)
"""What polars and the OS raise for a missing, truncated or garbled Parquet file."""


class LakeDamagedError(QtcError):
    """A lake dataset file is missing, unreadable or not what the catalog says.

    Attributes:
        dataset: The dataset name.
        file: The dataset file.
    """

    def __init__(self, message: str, *, hint: str, dataset: str, file: Path) -> None:
        """Create the error (use `damaged` to build one)."""
        super().__init__(message, hint=hint)
        self.dataset = dataset
        self.file = file


def damaged(lake_dir: Path, entry: DatasetEntry, problem: str) -> LakeDamagedError:
    """Build the error for a damaged dataset file.

    Args:
        lake_dir: The lake folder.
        entry: The dataset's catalog entry.
        problem: What is wrong with the file (`is missing`, `cannot be read: ...`).

    Returns:
        The error, with a one-line message and a repair hint.
    """
    path = lake_dir / entry.file
    return LakeDamagedError(
        f"lake dataset {entry.name!r} is damaged: {path} {problem}",
        hint=_repair_hint(lake_dir, entry),
        dataset=entry.name,
        file=path,
    )


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text (its type name if it has none)."""
    for text in str(exc).splitlines():
        if text.strip():
            return text.strip()
    return type(exc).__name__


@contextmanager
def reading(lake_dir: Path, entry: DatasetEntry) -> Iterator[None]:
    """Turn a read failure of a dataset file inside the block into `LakeDamagedError`.

    Args:
        lake_dir: The lake folder.
        entry: The catalog entry of the dataset being read.

    Yields:
        Nothing; wrap the code that decodes the file.

    Raises:
        LakeDamagedError: If the block raised a polars, Rust-panic or OS error.
    """
    try:
        yield
    except FileNotFoundError as exc:
        raise damaged(lake_dir, entry, "is missing") from exc
    except READ_ERRORS as exc:
        raise damaged(lake_dir, entry, f"cannot be read ({first_line(exc)})") from exc


def verify_file(lake_dir: Path, entry: DatasetEntry) -> Path:
    """Check that a dataset file exists and has the catalog's columns and dtypes.

    Args:
        lake_dir: The lake folder.
        entry: The dataset's catalog entry.

    Returns:
        The file path.

    Raises:
        LakeDamagedError: If the file is missing, unreadable or has other columns.
    """
    path = lake_dir / entry.file
    if not path.is_file():
        raise damaged(lake_dir, entry, "is missing")
    with reading(lake_dir, entry):
        schema = pl.read_parquet_schema(path)
    actual = tuple((name, dtype_name(dtype)) for name, dtype in schema.items())
    if actual != entry.columns:
        got = ", ".join(f"{n}:{d}" for n, d in actual) or "none"
        want = ", ".join(f"{n}:{d}" for n, d in entry.columns)
        raise damaged(lake_dir, entry, f"has columns ({got}), the catalog lists ({want})")
    return path


def verify_bytes(lake_dir: Path, entry: DatasetEntry) -> None:
    """Check that a dataset file's sha256 is the one recorded in the catalog.

    Args:
        lake_dir: The lake folder.
        entry: The dataset's catalog entry.

    Raises:
        LakeDamagedError: If the file is missing, unreadable or its bytes changed.
    """
    with reading(lake_dir, entry):
        actual = file_sha256(lake_dir / entry.file)
    if actual != entry.file_sha256:
        raise damaged(
            lake_dir,
            entry,
            f"does not match the catalog (sha256 {actual[:12]}, catalog {entry.file_sha256[:12]})",
        )


def _repair_hint(lake_dir: Path, entry: DatasetEntry) -> str:
    """What to run to repair a damaged dataset: re-ingest (or rebuild) it, then check the lake."""
    check = f"then run `qtc data check --lake {lake_dir}`"
    if entry.provenance.get("synthetic"):
        seed = entry.provenance.get("seed", 7)
        return (
            f"rebuild the synthetic demo market (`qtc data demo --seed {seed}` rebuilds the "
            f"cached one) or re-ingest (`qtc data ingest SOURCE --lake {lake_dir}`), {check}"
        )
    source = _source(lake_dir, entry.name)
    return f"re-ingest the data (`qtc data ingest {source} --lake {lake_dir}`), {check}"


def _source(lake_dir: Path, name: str) -> str:
    """The source folder or file a dataset was last ingested from (`SOURCE` if unknown)."""
    datasets = read_meta(lake_dir).get("datasets")
    item = datasets.get(name) if isinstance(datasets, dict) else None
    source = item.get("source") if isinstance(item, dict) else None
    return str(source) if source else "SOURCE"
