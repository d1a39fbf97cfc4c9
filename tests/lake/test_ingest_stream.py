"""Streamed ingest of a sorted price source: same findings, hashes, facts and bytes as in memory.

The chunk and batch sizes are made tiny so that every boundary case (a symbol's runs split
over chunks, nulls carried over a chunk edge, rules whose results come in parts) is hit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qtc.lake.catalog import describe_frame
from qtc.lake.hashing import content_sha256
from qtc.lake.ingest import file_facts, source_index, stream
from qtc.lake.ingest.file_facts import content_sha256_of_file, describe_file
from qtc.lake.ingest.ingest import ingest_shared_dataset, validate_dataset
from qtc.lake.ingest.shared import SHARED_FILES
from qtc.lake.ingest.source_index import batch_ranges, index_source
from qtc.lake.ingest.stream import StreamedFrame, stream_or_frame
from qtc.lake.schema import SPECS, conform
from tests.lake.conftest import tree_hashes

PRICE_COLUMNS = ("date", "symbol", "open", "high", "low", "close", "adj_close", "volume")


@pytest.fixture(autouse=True)
def _tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks and batches of a few rows, so that a small frame crosses many boundaries."""
    monkeypatch.setattr(source_index, "INDEX_ROWS", 17)
    monkeypatch.setattr(stream, "BATCH_ROWS", 30)
    monkeypatch.setattr(file_facts, "HASH_ROWS", 13)


def messy_prices(seed: int = 5) -> pl.DataFrame:
    """A conformed price panel with something for every rule, null symbols and dates too."""
    rng = np.random.default_rng(seed)
    days = [dt.date(2021, 1, 4) + dt.timedelta(days=i) for i in range(60)]
    frames = []
    for k in range(9):
        n = 38 if k == 4 else int(rng.integers(5, 40))
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
        close[n // 2 :] *= 1.6 if k % 3 == 0 else 1.0  # extreme moves
        if k == 4:
            close[2:30] = close[2]  # stale run
        kept = sorted(rng.choice(len(days), n, replace=False))  # gaps
        frames.append(
            pl.DataFrame(
                {
                    "date": [days[i] for i in kept],
                    "symbol": f"S{k:02d}",
                    "open": close,
                    "high": close * 1.01,
                    "low": close * 0.99,
                    "close": close * (1.05 if k == 6 else 1.0),  # outside the range
                    "adj_close": close,
                    "volume": rng.integers(0, 3, n) * 1000,  # zero volumes
                }
            )
        )
    df = pl.concat(frames)
    row = pl.int_range(pl.len())
    df = df.with_columns(
        open=pl.when(row % 23 == 3).then(None).otherwise("open"),
        close=pl.when(row % 29 == 5).then(float("nan")).otherwise("close"),
        low=pl.when(row % 31 == 7).then(-1.0).otherwise("low"),
        high=pl.when(row % 37 == 2).then(0.5).otherwise("high"),
        volume=pl.when(row % 41 == 9).then(-5).otherwise("volume"),
        date=pl.when(row % 43 == 11).then(None).otherwise("date"),
    )
    extra = df.filter(row % 19 == 4)  # duplicates
    nameless = df.head(4).with_columns(symbol=pl.lit(None, pl.String))
    return conform(pl.concat([df, extra, nameless]), "prices")


def write_source(df: pl.DataFrame, tmp_path: Path, name: str = "src.parquet") -> Path:
    """Write a frame as a Parquet source file."""
    path = tmp_path / name
    df.write_parquet(path)
    return path


def streamed(path: Path, name: str = "prices") -> StreamedFrame | pl.DataFrame:
    """Open a source file as a price dataset."""
    return stream_or_frame(pl.scan_parquet(path).select(PRICE_COLUMNS), path, name)


@pytest.mark.parametrize("name", ["prices", "benchmarks"])
def test_streamed_findings_equal_whole_frame_findings(tmp_path: Path, name: str) -> None:
    df = messy_prices()
    frame = streamed(write_source(df, tmp_path), name)
    assert isinstance(frame, StreamedFrame)
    assert len(list(frame.batches())) > 5
    whole = validate_dataset(name, df)
    assert {f.rule for f in whole} >= {"duplicate", "null", "gap", "stale", "extreme_move"}
    assert validate_dataset(name, frame) == whole


def test_streamed_frame_holds_the_conformed_rows(tmp_path: Path) -> None:
    df = messy_prices()
    frame = streamed(write_source(df, tmp_path))
    assert isinstance(frame, StreamedFrame)
    assert frame.collect().equals(df)
    assert pl.concat(list(frame.batches())).equals(df)
    assert frame.index.rows == df.height
    assert len(frame.index.runs) == df["symbol"].n_unique()
    calendar = df.drop_nulls(["symbol", "date"])["date"].unique().sort().to_numpy()
    assert np.array_equal(frame.index.calendar, calendar)


def break_order(df: pl.DataFrame, at: int, case: str) -> pl.DataFrame:
    """Put one row of a sorted frame out of order."""
    above = df.row(at - 1, named=True)
    changes = {
        "symbol": {"symbol": "A"},
        "date": {"symbol": above["symbol"], "date": above["date"] - dt.timedelta(days=1)},
        "null_symbol": {"symbol": None},
    }[case]
    hit = pl.int_range(pl.len()) == at
    return df.with_columns(
        pl.when(hit).then(pl.lit(v, df.schema[c])).otherwise(pl.col(c)).alias(c)
        for c, v in changes.items()
    )


@pytest.mark.parametrize("at", [5, 17])  # inside the first chunk, first row of the second
@pytest.mark.parametrize("case", ["symbol", "date", "null_symbol"])
def test_a_source_out_of_order_is_conformed_in_memory(tmp_path: Path, case: str, at: int) -> None:
    base = messy_prices().drop_nulls(["symbol", "date"]).unique(["symbol", "date"]).head(40)
    broken = break_order(conform(base, "prices"), at, case)
    path = write_source(broken, tmp_path)
    assert index_source(pl.scan_parquet(path), path) is None
    frame = streamed(path)
    assert isinstance(frame, pl.DataFrame)
    assert frame.equals(conform(broken, "prices"))


def test_null_dates_before_dates_are_out_of_order(tmp_path: Path) -> None:
    df = messy_prices().filter(pl.col("symbol") == "S01").head(5)
    first_null = df.with_columns(
        date=pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise("date")
    )
    path = write_source(first_null, tmp_path)
    assert index_source(pl.scan_parquet(path), path) is None
    last_null = conform(first_null, "prices")
    path = write_source(last_null, tmp_path, "sorted.parquet")
    assert index_source(pl.scan_parquet(path), path) is not None


def test_batch_ranges_keep_symbols_whole() -> None:
    assert batch_ranges((3, 4, 5, 1), 6) == [(0, 7), (7, 6)]
    assert batch_ranges((3, 4, 5, 1), 100) == [(0, 13)]
    assert batch_ranges((10,), 3) == [(0, 10)]
    assert batch_ranges((), 3) == [(0, 0)]


def test_an_empty_source_streams(tmp_path: Path) -> None:
    path = write_source(messy_prices().head(0), tmp_path)
    frame = streamed(path)
    assert isinstance(frame, StreamedFrame)
    assert validate_dataset("prices", frame) == []
    assert frame.collect().height == 0


def all_dtypes() -> pl.DataFrame:
    """Every dtype the content hash covers, with nulls, NaN, -0.0, empty and non-ASCII text."""
    n = 37
    row = pl.int_range(n, eager=True)
    return pl.DataFrame(
        {
            "f": (row * 0.5 - 3).cast(pl.Float64),
            "g": (row * 1.25).cast(pl.Float32),
            "i": row.cast(pl.Int64) - 10,
            "j": row.cast(pl.Int32),
            "d": pl.date_range(dt.date(2020, 1, 1), dt.date(2020, 2, 6), eager=True),
            "b": row % 3 == 0,
            "s": pl.Series([["x", "", "é€", "longer text"][k % 4] for k in range(n)]),
        }
    ).with_columns(
        f=pl.when(row % 5 == 0).then(None).when(row % 7 == 0).then(float("nan")).otherwise("f"),
        g=pl.when(row == 3).then(-0.0).otherwise("g"),
        i=pl.when(row % 9 == 1).then(None).otherwise("i"),
        d=pl.when(row % 11 == 2).then(None).otherwise("d"),
        b=pl.when(row % 4 == 1).then(None).otherwise("b"),
        s=pl.when(row % 6 == 5).then(None).otherwise("s"),
    )


@pytest.mark.parametrize("rows", [1, 3, 8, 13, 37, 1 << 21])
def test_file_content_hash_equals_frame_content_hash(
    tmp_path: Path, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_facts, "HASH_ROWS", rows)
    df = all_dtypes()
    assert content_sha256_of_file(write_source(df, tmp_path)) == content_sha256(df)
    empty = df.head(0)
    assert content_sha256_of_file(write_source(empty, tmp_path, "e.parquet")) == content_sha256(
        empty
    )


def some_datasets() -> dict[str, pl.DataFrame]:
    """Frames of a dataset with symbols and dates, one without dates, one empty."""
    symbols = pl.DataFrame(
        {"symbol": ["A", "B", None], "name": ["a", "b", "c"], "sector": None, "industry": "i"},
        schema=dict(SPECS["symbols"].columns),
    )
    macro = pl.DataFrame(schema=dict(SPECS["macro"].columns))
    return {"prices": messy_prices(), "symbols": symbols, "macro": macro}


@pytest.mark.parametrize("name", ["prices", "symbols", "macro"])
def test_file_facts_equal_frame_facts(tmp_path: Path, name: str) -> None:
    df, ds = some_datasets()[name], SPECS[name]
    path = write_source(df, tmp_path)
    assert describe_file(path, ds) == describe_frame(df, ds)


def mini_shared(shared_data: Path, folder: Path, prices: pl.DataFrame) -> Path:
    """A shared-data folder with linked real files and a given prices file."""
    folder.mkdir()
    for name in SHARED_FILES.values():
        if name != "prices_daily.parquet":
            (folder / name).symlink_to(shared_data / name)
    prices.write_parquet(folder / "prices_daily.parquet", row_group_size=1000)
    return folder


def without_meta(lake: Path) -> dict[str, str]:
    """File hashes of a lake, without the volatile `catalog.meta.json`."""
    return {k: v for k, v in tree_hashes(lake).items() if k != "catalog.meta.json"}


@pytest.mark.slow
def test_streamed_ingest_writes_the_same_lake_as_in_memory(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_index, "INDEX_ROWS", 1000)
    monkeypatch.setattr(stream, "BATCH_ROWS", 2500)
    monkeypatch.setattr(file_facts, "HASH_ROWS", 1500)
    prices = pl.read_parquet(shared_data / "prices_daily.parquet").filter(
        pl.col("symbol").is_in(["AAPL", "KSU", "MSFT", "TSLA", "UA"])
    )
    src = mini_shared(shared_data, tmp_path / "sorted", prices)
    shuffled = mini_shared(
        shared_data, tmp_path / "shuffled", prices.sample(fraction=1, shuffle=True, seed=3)
    )
    streamed_report = ingest_shared_dataset(src, tmp_path / "streamed")
    memory_report = ingest_shared_dataset(shuffled, tmp_path / "memory")
    monkeypatch.setattr(stream, "index_source", lambda *args: None)
    forced_report = ingest_shared_dataset(src, tmp_path / "forced")
    assert streamed_report.findings == forced_report.findings
    assert streamed_report.findings  # KSU's spin-off, UA's share dividend, zero volumes
    assert streamed_report.hashes == forced_report.hashes
    assert without_meta(tmp_path / "streamed") == without_meta(tmp_path / "forced")
    lake_files = without_meta(tmp_path / "memory")
    assert lake_files["prices.parquet"] == without_meta(tmp_path / "streamed")["prices.parquet"]
    assert memory_report.hashes["prices"] == streamed_report.hashes["prices"]
    assert memory_report.findings == streamed_report.findings
