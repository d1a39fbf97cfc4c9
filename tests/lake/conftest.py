"""Shared fixtures of the lake tests: the real data lake, demo lakes, frame builders."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl
import pytest

from qtc.lake.demo.build import build_demo_lake
from qtc.lake.ingest.ingest import IngestReport
from qtc.lake.ingest.store import DatasetWrite, write_lake
from qtc.lake.read.reader import Lake
from qtc.lake.schema import conform

PriceRow = tuple[str, str, float, float, float, float, float, int]
"""(date, symbol, open, high, low, close, adj_close, volume)."""


@pytest.fixture(scope="session")
def real_lake(shared_ingest: tuple[Path, IngestReport]) -> Lake:
    """The real data lake, opened for reading."""
    return Lake(shared_ingest[0])


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A small synthetic demo lake (60 symbols, 6 years, seed 11)."""
    path = tmp_path_factory.mktemp("demo_small") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return Lake(path)


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, IngestReport]:
    """The full default demo lake (300 symbols, 2005-2023, seed 7), built once."""
    path = tmp_path_factory.mktemp("demo_full") / "lake"
    report = build_demo_lake(path)
    return Lake(path), report


@pytest.fixture
def price_frame() -> Callable[[Sequence[PriceRow]], pl.DataFrame]:
    """Build a `prices`-shaped frame from rows (not sorted, not conformed)."""

    def build(rows: Sequence[PriceRow]) -> pl.DataFrame:
        columns = ["date", "symbol", "open", "high", "low", "close", "adj_close", "volume"]
        df = pl.DataFrame([list(r) for r in rows], schema=columns, orient="row")
        return df.with_columns(pl.col("date").str.to_date())

    return build


def clean_series(
    symbol: str, start: str, closes: Sequence[float], volume: int = 1000
) -> list[PriceRow]:
    """Rows of a well-formed price series on consecutive weekdays.

    Args:
        symbol: Symbol.
        start: First date (a weekday, ISO).
        closes: Close prices (open = close, high/low +-1 %, adj_close = close).
        volume: Volume of every row.

    Returns:
        Price rows.
    """
    day = dt.date.fromisoformat(start)
    rows: list[PriceRow] = []
    for close in closes:
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        rows.append(
            (day.isoformat(), symbol, close, close * 1.01, close * 0.99, close, close, volume)
        )
        day += dt.timedelta(days=1)
    return rows


@pytest.fixture
def series() -> Callable[..., list[PriceRow]]:
    """The `clean_series` builder as a fixture."""
    return clean_series


def write_tiny_lake(path: Path, frames: dict[str, pl.DataFrame]) -> Path:
    """Write conformed frames into a lake (helper for read tests).

    Args:
        path: Lake folder.
        frames: Dataset name -> frame with the dataset's columns.

    Returns:
        The lake folder.
    """
    writes = {name: DatasetWrite(conform(df, name)) for name, df in frames.items()}
    write_lake(path, writes, operation="test")
    return path


@pytest.fixture
def tiny_lake_writer() -> Callable[[Path, dict[str, pl.DataFrame]], Path]:
    """The `write_tiny_lake` helper as a fixture."""
    return write_tiny_lake


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder (relative path -> digest).

    Args:
        folder: The folder.

    Returns:
        Mapping of relative paths to hex digests.
    """
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def hash_tree() -> Callable[[Path], dict[str, str]]:
    """The `tree_hashes` helper as a fixture."""
    return tree_hashes
