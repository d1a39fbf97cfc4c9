"""Ctrl-C in the streamed ingest of the shared data set leaves the lake unchanged, no staging.

The streamed path reads the prices source a batch of whole symbols at a time (validation,
before the staging folder exists), sinks it into the staging folder, then hashes the written
file a column chunk at a time. An interrupt is injected in each of these stages.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import Result

from qtc.lake.ingest import file_facts, source_index, store, stream
from qtc.lake.ingest.ingest import ingest_shared_dataset
from qtc.lake.ingest.shared import SHARED_FILES
from tests.lake.conftest import tree_hashes

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _ctrl_c_raises() -> None:
    """Ctrl-C raises KeyboardInterrupt even when pytest was started with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several chunks and batches for a few symbols."""
    monkeypatch.setattr(source_index, "INDEX_ROWS", 1500)
    monkeypatch.setattr(stream, "BATCH_ROWS", 2000)
    monkeypatch.setattr(file_facts, "HASH_ROWS", 1000)


def shared_with(shared_data: Path, folder: Path, symbols: list[str]) -> Path:
    """A shared-data folder with linked real files and the prices of a few symbols."""
    folder.mkdir()
    for name in SHARED_FILES.values():
        if name != "prices_daily.parquet":
            (folder / name).symlink_to(shared_data / name)
    prices = pl.read_parquet(shared_data / "prices_daily.parquet")
    prices.filter(pl.col("symbol").is_in(symbols)).write_parquet(folder / "prices_daily.parquet")
    return folder


@pytest.fixture
def lake(shared_data: Path, tmp_path: Path) -> Path:
    """A lake ingested (streamed) from two symbols of the shared data."""
    lake = tmp_path / "lake"
    ingest_shared_dataset(shared_with(shared_data, tmp_path / "old", ["AAPL", "KSU"]), lake)
    return lake


@pytest.fixture
def new_source(shared_data: Path, tmp_path: Path) -> Path:
    """A shared-data folder with other symbols: ingesting it would change the lake."""
    return shared_with(shared_data, tmp_path / "new", ["MSFT", "TSLA", "UA"])


def staging_folders(lake: Path) -> list[str]:
    """Names next to the lake that look like qtc staging folders of it."""
    return sorted(p.name for p in lake.parent.iterdir() if p.name.startswith(f".{lake.name}.tmp-"))


def test_ctrl_c_in_a_validation_batch(
    lake: Path, new_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_hashes(lake)
    real_collect, seen = stream.collect, []

    def second_batch_interrupted(plan: pl.LazyFrame, source: Path) -> pl.DataFrame:
        seen.append(staging_folders(lake))
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real_collect(plan, source)

    monkeypatch.setattr(stream, "collect", second_batch_interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_shared_dataset(new_source, lake)
    assert seen == [[], []]
    assert staging_folders(lake) == []
    assert tree_hashes(lake) == before


def test_ctrl_c_while_hashing_the_streamed_file_from_the_cli(
    qtc: Callable[..., Result], lake: Path, new_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_hashes(lake)
    real_chunks, seen = file_facts._column_chunks, []

    def interrupted_after_one_chunk(*args: Any) -> Iterator[pl.Series]:
        yield next(real_chunks(*args))
        seen.append([(lake.parent / n / "prices.parquet").is_file() for n in staging_folders(lake)])
        raise KeyboardInterrupt

    monkeypatch.setattr(file_facts, "_column_chunks", interrupted_after_one_chunk)
    result = qtc("data", "ingest", str(new_source), "--lake", str(lake))
    assert result.exit_code == 130, result.output
    assert seen == [[True]]  # the sunk prices file was in the staging folder
    assert "Traceback" not in result.output
    assert staging_folders(lake) == []
    assert tree_hashes(lake) == before


def test_ctrl_c_during_the_sink_lands_after_it(
    lake: Path, new_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_hashes(lake)
    real_sink, finished = store.sink_parquet, []

    def sink_hit_by_sigint(plan: pl.LazyFrame, path: Path) -> None:
        signal.raise_signal(signal.SIGINT)
        real_sink(plan, path)
        finished.append(path.stat().st_size)

    monkeypatch.setattr(store, "sink_parquet", sink_hit_by_sigint)
    with pytest.raises(KeyboardInterrupt):
        ingest_shared_dataset(new_source, lake)
    assert len(finished) == 1 and finished[0] > 0
    assert staging_folders(lake) == []
    assert tree_hashes(lake) == before
