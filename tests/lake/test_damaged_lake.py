"""A damaged lake is one clear error naming the dataset and file, never a polars traceback.

Each test damages a copy of the small demo lake (60 symbols, 6 years, seed 11) the way a
crash, a full disk or a stray command would: truncated, emptied, overwritten with JSON,
garbled in the middle, replaced by another dataset's file, or deleted.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import Result

from qtc.errors import QtcError, UserError
from qtc.lake import Lake, check_lake, ingest_prices
from qtc.lake.guard import LakeDamagedError
from qtc.lake.hashing import file_sha256
from qtc.lake.read import reader

BACKTEST = ["backtest", "strategies/momentum_us.toml", "--set", "data.start=2007-01-02"]
BACKTEST += ["--set", "data.end=2010-12-30"]


def copy_lake(small_demo: Lake, tmp_path: Path) -> Path:
    """A private copy of the small demo lake."""
    lake = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake)
    return lake


def truncate(path: Path) -> None:
    """Keep the first half of a file (a write cut short)."""
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def garble_middle(path: Path) -> None:
    """Zero the middle third of a file, keeping its header and footer intact."""
    raw = path.read_bytes()
    third = len(raw) // 3
    path.write_bytes(raw[:third] + bytes(third) + raw[2 * third :])


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "empty": lambda p: p.write_bytes(b""),
    "json": lambda p: p.write_text(json.dumps({"not": "parquet"})),
    "deleted": lambda p: p.unlink(),
}

READERS: dict[str, Callable[[Lake], Any]] = {
    "prices": lambda lake: lake.prices(start="2008-01-02", end="2008-03-31"),
    "membership": lambda lake: lake.membership_asof("sp500"),
    "fundamentals": lambda lake: lake.fundamentals_asof(),
    "rates": lambda lake: lake.rates(),
    "macro": lambda lake: lake.macro(),
    "benchmarks": lambda lake: lake.benchmark("SPY"),
    "symbols": lambda lake: lake.symbols(),
}
"""One public read of each dataset."""


@pytest.mark.parametrize("dataset", ["prices", "membership"])
@pytest.mark.parametrize("fmt", ["human", "json"])
def test_backtest_on_a_truncated_dataset_is_a_clean_error(
    qtc: Callable[..., Result], small_demo: Lake, tmp_path: Path, dataset: str, fmt: str
) -> None:
    lake = copy_lake(small_demo, tmp_path)
    truncate(lake / f"{dataset}.parquet")
    extra = ["--format", "json"] if fmt == "json" else []
    result = qtc(*BACKTEST, "--lake", str(lake), "--out", str(tmp_path / "runs"), *extra)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    named = f"lake dataset '{dataset}' is damaged: {lake / dataset}.parquet cannot be read"
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["ok"] is False
        assert data["error"].startswith(named)
        assert "qtc data ingest" in data["hint"] and "qtc data check" in data["hint"]
    else:
        assert named in result.stderr
        assert "qtc data check --lake" in result.stderr
        assert result.stdout == ""
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("run.json"))


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("dataset", sorted(READERS))
def test_every_read_of_a_damaged_dataset_names_it(
    small_demo: Lake, tmp_path: Path, dataset: str, damage: str
) -> None:
    lake_dir = copy_lake(small_demo, tmp_path)
    file = lake_dir / f"{dataset}.parquet"
    DAMAGE[damage](file)
    with pytest.raises(LakeDamagedError) as err:
        READERS[dataset](Lake(lake_dir))
    problem = "is missing" if damage == "deleted" else "cannot be read"
    assert err.value.message.startswith(f"lake dataset '{dataset}' is damaged: {file} {problem}")
    assert "\n" not in err.value.message
    assert (err.value.dataset, err.value.file) == (dataset, file)
    assert isinstance(err.value, QtcError) and not isinstance(err.value, UserError)


@pytest.mark.parametrize("dataset", ["prices", "membership", "fundamentals"])
def test_a_garbled_file_fails_its_hash_on_first_use(
    small_demo: Lake, tmp_path: Path, dataset: str
) -> None:
    lake_dir = copy_lake(small_demo, tmp_path)
    file = lake_dir / f"{dataset}.parquet"
    raw = file.read_bytes()
    file.write_bytes(raw[:64] + bytes(16) + raw[80:])  # in the first page: the footer is intact
    with pytest.raises(LakeDamagedError, match=f"'{dataset}' is damaged: .* does not match"):
        Lake(lake_dir).read(dataset)


def test_a_garbled_large_file_fails_when_decoded(
    small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "HASHED_ON_OPEN", 0)  # as for the real 57 MB prices file
    lake_dir = copy_lake(small_demo, tmp_path)
    garble_middle(lake_dir / "prices.parquet")
    lake = Lake(lake_dir)
    lake.file("prices")  # not hashed on open: the footer and columns are fine
    with pytest.raises(LakeDamagedError, match=r"'prices' is damaged: .* cannot be read \("):
        lake.prices()
    with pytest.raises(LakeDamagedError, match="'prices' is damaged"):
        lake.bar_matrices(["close"])  # the cache is never built from a damaged file
    assert not (lake_dir / ".cache").exists()


def test_a_file_with_other_columns_is_a_schema_error(small_demo: Lake, tmp_path: Path) -> None:
    lake_dir = copy_lake(small_demo, tmp_path)
    shutil.copyfile(lake_dir / "rates.parquet", lake_dir / "membership.parquet")
    with pytest.raises(LakeDamagedError) as err:
        Lake(lake_dir).membership_asof("sp500")
    assert "has columns (date:date, rf:float64), the catalog lists (index:string," in str(err.value)


ALL_COLUMNS = "SELECT count(*), avg(open), avg(high), avg(low), avg(close), avg(adj_close), "
ALL_COLUMNS += "avg(volume), min(symbol), min(date) FROM prices"


@pytest.mark.parametrize(
    ("sql", "garble"),
    [
        (ALL_COLUMNS, "64 bytes"),  # DuckDB names the file it failed on
        ("SELECT avg(adj_close) FROM prices", "a third"),  # whether it names it or not
    ],
)
@pytest.mark.parametrize("hashed", [True, False])
def test_a_query_over_a_damaged_file_names_it(
    small_demo: Lake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sql: str,
    garble: str,
    hashed: bool,
) -> None:
    if not hashed:
        monkeypatch.setattr(reader, "HASHED_ON_OPEN", 0)
    lake_dir = copy_lake(small_demo, tmp_path)
    file = lake_dir / "prices.parquet"
    if garble == "a third":
        garble_middle(file)
    else:
        raw = file.read_bytes()
        file.write_bytes(raw[: len(raw) // 2] + bytes(64) + raw[len(raw) // 2 + 64 :])
    with pytest.raises(LakeDamagedError, match=r"'prices' is damaged: .*prices\.parquet"):
        Lake(lake_dir).query(sql)
    if not hashed:  # a mistake in the SQL stays one, and does not hash the lake
        with pytest.raises(UserError, match="query failed: Binder Error") as err:
            Lake(lake_dir).query("SELECT nope FROM prices")
        assert not isinstance(err.value, LakeDamagedError)


def test_query_cli_on_a_truncated_file(
    qtc: Callable[..., Result], small_demo: Lake, tmp_path: Path
) -> None:
    lake = copy_lake(small_demo, tmp_path)
    truncate(lake / "prices.parquet")
    result = qtc(
        "data", "query", "SELECT count(*) FROM prices", "--lake", str(lake), "--format", "json"
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False and "lake dataset 'prices' is damaged" in data["error"]


def test_ingest_into_a_damaged_lake_names_the_dataset(
    small_demo: Lake, tmp_path: Path, hash_tree: Callable[[Path], dict[str, str]]
) -> None:
    lake_dir = copy_lake(small_demo, tmp_path)
    truncate(lake_dir / "prices.parquet")
    before = hash_tree(lake_dir)
    csv = tmp_path / "AAA.csv"
    csv.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2010-01-04,10,11,9,10,10,100\n")
    with pytest.raises(LakeDamagedError, match="'prices' is damaged"):
        ingest_prices(csv, lake_dir)
    assert hash_tree(lake_dir) == before


def test_check_reports_a_damaged_file_it_can_hash_but_not_read(
    small_demo: Lake, tmp_path: Path
) -> None:
    lake_dir = copy_lake(small_demo, tmp_path)
    truncate(lake_dir / "macro.parquet")
    catalog = json.loads((lake_dir / "catalog.json").read_text())
    catalog["datasets"]["macro"]["file_sha256"] = file_sha256(lake_dir / "macro.parquet")
    (lake_dir / "catalog.json").write_text(json.dumps(catalog))
    found = [(f.dataset, f.rule) for f in check_lake(lake_dir) if f.severity.value == "error"]
    assert found == [("macro", "unreadable_file")]


def test_an_intact_lake_reads_as_before(small_demo: Lake) -> None:
    expected = pl.read_parquet(small_demo.path / "membership.parquet")
    assert small_demo.read("membership").equals(expected)
