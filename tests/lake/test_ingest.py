"""Generic price ingest (CSV/Parquet, files and folders), merging, refusals and atomicity."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from qtc.errors import QtcError, UserError
from qtc.lake.ingest import store
from qtc.lake.ingest.ingest import ingest_prices, ingest_shared_dataset
from qtc.lake.ingest.price_files import normalize_header, read_prices
from qtc.lake.ingest.shared import SHARED_FILES
from qtc.lake.ingest.validate import LakeValidationError
from qtc.lake.read.reader import Lake

HashTree = Callable[[Path], dict[str, str]]

YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2020-01-02,74.06,75.15,73.80,75.09,73.25,135480400
2020-01-03,74.29,75.14,74.13,74.36,72.54,146322800
2020-01-06,73.45,74.99,73.19,74.95,73.11,118387200
2020-01-07,74.96,75.22,74.37,74.60,72.77,108872000
"""


def doubled(text: str) -> str:
    """The same Yahoo CSV with every price doubled (a different, valid symbol)."""
    lines = text.splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        day, *prices, volume = line.split(",")
        out.append(",".join([day, *(f"{2 * float(p):.2f}" for p in prices), volume]))
    return "\n".join(out) + "\n"


def yahoo_csv(folder: Path, symbol: str, text: str = YAHOO) -> Path:
    """Write a Yahoo-style one-symbol CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{symbol}.csv"
    path.write_text(text)
    return path


def test_folder_of_yahoo_csvs(tmp_path: Path) -> None:
    src = tmp_path / "downloads"
    yahoo_csv(src, "AAPL")
    yahoo_csv(src, "MSFT", doubled(YAHOO))
    (src / "README.txt").write_text("not a price file")
    report = ingest_prices(src, tmp_path / "lake")
    assert report.rows == {"prices": 8}
    lake = Lake(tmp_path / "lake")
    assert lake.datasets == ("prices",)
    aapl = lake.prices(["AAPL"])
    assert aapl["adj_close"].to_list() == [73.25, 72.54, 73.11, 72.77]
    assert aapl["volume"].dtype == pl.Int64
    assert aapl["date"][0] == dt.date(2020, 1, 2)
    assert lake.entry("prices").provenance["sources"][0]["folder"] == "downloads"


def test_headers_are_case_and_space_insensitive() -> None:
    assert normalize_header(" Adj Close ") == "adj_close"
    assert normalize_header("ADJ-CLOSE") == "adj_close"
    assert normalize_header("AdjClose") == "adj_close"
    assert normalize_header("Ticker") == "symbol"
    assert normalize_header("DATE") == "date"


def test_long_panel_csv_with_odd_headers_and_yfinance_dates(tmp_path: Path) -> None:
    text = (
        " DATE ,Ticker,OPEN,high,Low,CLOSE,adjclose,Volume\n"
        "2020-01-02 00:00:00-05:00,AAA,10,11,9,10.5,10.4,100\n"
        "2020-01-03 00:00:00-05:00,AAA,null,null,null,null,null,null\n"
        "2020-01-06 00:00:00-05:00,AAA,10.5,11,10,10.8,10.7,200.0\n"
        "2020-01-02 00:00:00-05:00,BBB,20,21,19,20.5,20.4,300\n"
    )
    path = tmp_path / "panel.csv"
    path.write_text(text)
    read = read_prices(path)
    assert read.dropped_rows == 1
    assert read.frame.height == 3
    assert sorted(read.frame["symbol"].unique()) == ["AAA", "BBB"]
    report = ingest_prices(path, tmp_path / "lake")
    assert "1 empty rows" in report.notes


def test_long_panel_parquet_and_us_dates(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {
            "Date": ["01/02/2020", "01/03/2020"],
            "Symbol": ["AAA", "AAA"],
            "Open": [1.0, 1.1],
            "High": [1.2, 1.2],
            "Low": [0.9, 1.0],
            "Close": [1.1, 1.15],
            "Adj Close": [1.1, 1.15],
            "Volume": [10, 20],
        }
    )
    df.write_parquet(tmp_path / "panel.parquet")
    ingest_prices(tmp_path / "panel.parquet", tmp_path / "lake")
    got = Lake(tmp_path / "lake").prices()
    assert got["date"].to_list() == [dt.date(2020, 1, 2), dt.date(2020, 1, 3)]


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    rows = [line.split(",") for line in YAHOO.splitlines()]
    text = "\n".join(",".join(r[:5] + r[6:]) for r in rows) + "\n"
    path = yahoo_csv(tmp_path / "src", "AAPL", text)
    with pytest.raises(UserError, match=r"AAPL\.csv: missing column\(s\) adj_close"):
        ingest_prices(path, tmp_path / "lake")


def test_ragged_csv_is_a_user_error(tmp_path: Path) -> None:
    path = yahoo_csv(tmp_path / "src", "AAPL", YAHOO + "2020-01-08,1,2,3,4,5,6,7,8\n")
    with pytest.raises(UserError, match=r"cannot read .*AAPL\.csv") as info:
        ingest_prices(path, tmp_path / "lake")
    assert "same number of fields" in info.value.hint


def test_bad_date_names_row_and_value(tmp_path: Path) -> None:
    path = yahoo_csv(tmp_path / "src", "AAPL", YAHOO.replace("2020-01-06", "6th Jan"))
    with pytest.raises(UserError, match=r"AAPL\.csv: row 3: cannot parse date '6th Jan'"):
        ingest_prices(path, tmp_path / "lake")


def test_bad_number_names_row_and_column(tmp_path: Path) -> None:
    path = yahoo_csv(tmp_path / "src", "AAPL", YAHOO.replace("74.36", "7x4"))
    with pytest.raises(UserError, match=r"row 2: close value '7x4' is not a number"):
        ingest_prices(path, tmp_path / "lake")


def test_fractional_volume_is_refused(tmp_path: Path) -> None:
    path = yahoo_csv(tmp_path / "src", "AAPL", YAHOO.replace("108872000", "1.5"))
    with pytest.raises(UserError, match=r"row 4: volume 1\.5 is not a whole number"):
        ingest_prices(path, tmp_path / "lake")


def test_missing_and_empty_sources(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        ingest_prices(tmp_path / "nope", tmp_path / "lake")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no price files"):
        ingest_prices(tmp_path / "empty", tmp_path / "lake")
    garbage = tmp_path / "bad.parquet"
    garbage.write_text("not parquet")
    with pytest.raises(UserError, match="cannot read"):
        ingest_prices(garbage, tmp_path / "lake")


def test_bad_arguments(tmp_path: Path) -> None:
    path = yahoo_csv(tmp_path / "src", "AAPL")
    with pytest.raises(UserError, match="cannot ingest price files into 'rates'"):
        ingest_prices(path, tmp_path / "lake", dataset="rates")
    with pytest.raises(UserError, match="unknown merge mode"):
        ingest_prices(path, tmp_path / "lake", mode="overwrite")  # type: ignore[arg-type]


def test_merge_modes(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    ingest_prices(yahoo_csv(tmp_path / "a", "AAPL"), lake_dir)
    ingest_prices(yahoo_csv(tmp_path / "a", "MSFT"), lake_dir)
    short = "\n".join(YAHOO.splitlines()[:2]) + "\n"
    ingest_prices(yahoo_csv(tmp_path / "b", "AAPL", short.replace("73.25", "99.0")), lake_dir)
    lake = Lake(lake_dir)
    assert lake.prices(["AAPL"])["adj_close"].to_list() == [99.0]
    assert lake.prices(["MSFT"]).height == 4

    ingest_prices(yahoo_csv(tmp_path / "a", "AAPL"), lake_dir)
    ingest_prices(
        yahoo_csv(tmp_path / "c", "AAPL", short.replace("73.25", "1.5")), lake_dir, mode="upsert"
    )
    assert Lake(lake_dir).prices(["AAPL"])["adj_close"].to_list() == [1.5, 72.54, 73.11, 72.77]

    with pytest.raises(LakeValidationError) as info:
        ingest_prices(yahoo_csv(tmp_path / "d", "AAPL", short), lake_dir, mode="append")
    assert {f.rule for f in info.value.findings if f.severity.value == "error"} == {"duplicate"}


def test_upsert_refuses_duplicates_inside_the_source(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    ingest_prices(yahoo_csv(tmp_path / "a", "AAPL"), lake_dir)
    doubled = YAHOO + YAHOO.splitlines()[1] + "\n"
    with pytest.raises(LakeValidationError, match="duplicate"):
        ingest_prices(yahoo_csv(tmp_path / "b", "AAPL", doubled), lake_dir, mode="upsert")


def test_ingest_into_benchmarks(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    ingest_prices(yahoo_csv(tmp_path / "a", "SPY"), lake_dir, dataset="benchmarks")
    assert Lake(lake_dir).benchmark("SPY").height == 4
    with pytest.raises(UserError, match="no benchmark 'QQQ'"):
        Lake(lake_dir).benchmark("QQQ")


def test_refused_ingest_leaves_lake_byte_identical(tmp_path: Path, hash_tree: HashTree) -> None:
    lake_dir = tmp_path / "lake"
    ingest_prices(yahoo_csv(tmp_path / "a", "AAPL"), lake_dir)
    ingest_prices(yahoo_csv(tmp_path / "a", "MSFT"), lake_dir)
    before = hash_tree(lake_dir)
    broken = YAHOO.replace("73.45,74.99,73.19", "73.45,-74.99,73.19")
    with pytest.raises(LakeValidationError) as info:
        ingest_prices(yahoo_csv(tmp_path / "b", "AAPL", broken), lake_dir)
    errors = [f for f in info.value.findings if f.severity.value == "error"]
    assert {(f.rule, f.symbol, f.date) for f in errors} >= {
        ("non_positive_price", "AAPL", dt.date(2020, 1, 6))
    }
    assert "nothing was written" in info.value.message
    assert hash_tree(lake_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "lake"]


def test_failed_write_leaves_lake_byte_identical(
    tmp_path: Path, hash_tree: HashTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_dir = tmp_path / "lake"
    ingest_prices(yahoo_csv(tmp_path / "a", "AAPL"), lake_dir)
    before = hash_tree(lake_dir)

    def boom(df: pl.DataFrame, path: Path) -> None:
        path.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(store, "write_parquet", boom)
    with pytest.raises(QtcError, match="disk full"):
        ingest_prices(yahoo_csv(tmp_path / "b", "MSFT"), lake_dir)
    assert hash_tree(lake_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "lake"]


def test_refuses_non_empty_folder_that_is_not_a_lake(tmp_path: Path) -> None:
    target = tmp_path / "home"
    target.mkdir()
    (target / "thesis.txt").write_text("precious")
    with pytest.raises(UserError, match="not empty and is not a qtc lake"):
        ingest_prices(yahoo_csv(tmp_path / "a", "AAPL"), target)
    assert (target / "thesis.txt").read_text() == "precious"


def test_price_ingest_keeps_other_datasets(
    small_demo: Lake, tmp_path: Path, hash_tree: HashTree
) -> None:
    lake_dir = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake_dir)
    before = hash_tree(lake_dir)
    report = ingest_prices(yahoo_csv(tmp_path / "a", "AAPL"), lake_dir)
    after = hash_tree(lake_dir)
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed == {"prices.parquet", "catalog.json", "catalog.meta.json"}
    lake = Lake(lake_dir)
    assert "AAPL" in lake.last_dates()["symbol"].to_list()
    assert lake.entry("prices").rows == small_demo.entry("prices").rows + 4
    assert report.hashes["prices"] != small_demo.dataset_hashes()["prices"]


def _mini_shared(shared_data: Path, folder: Path, prices: pl.DataFrame) -> Path:
    """A shared-data folder with linked real files and a given small prices file."""
    folder.mkdir()
    for name in SHARED_FILES.values():
        if name != "prices_daily.parquet":
            (folder / name).symlink_to(shared_data / name)
    prices.write_parquet(folder / "prices_daily.parquet")
    return folder


def test_refused_shared_ingest_leaves_lake_byte_identical(
    shared_data: Path, tmp_path: Path, hash_tree: HashTree
) -> None:
    src = pl.read_parquet(shared_data / "prices_daily.parquet").filter(
        pl.col("symbol").is_in(["AAPL", "KSU", "MSFT"])
    )
    good = _mini_shared(shared_data, tmp_path / "good", src)
    lake_dir = tmp_path / "lake"
    ingest_shared_dataset(good, lake_dir)
    before = hash_tree(lake_dir)
    day = dt.date(2015, 6, 1)
    corrupt = src.with_columns(
        high=pl.when((pl.col("symbol") == "MSFT") & (pl.col("date") == day))
        .then(pl.col("low") * 0.5)
        .otherwise(pl.col("high"))
    )
    bad = _mini_shared(shared_data, tmp_path / "bad", corrupt)
    with pytest.raises(LakeValidationError) as info:
        ingest_shared_dataset(bad, lake_dir)
    errors = [f for f in info.value.findings if f.severity.value == "error"]
    assert [(f.rule, f.symbol, f.date) for f in errors] == [("high_below_low", "MSFT", day)]
    assert hash_tree(lake_dir) == before


def test_shared_ingest_reports_missing_files(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    with pytest.raises(UserError, match="missing source file"):
        ingest_shared_dataset(tmp_path / "src", tmp_path / "lake")
    with pytest.raises(UserError, match="does not exist"):
        ingest_shared_dataset(tmp_path / "nowhere", tmp_path / "lake")
    assert not (tmp_path / "lake").exists()


def test_shared_ingest_reports_bad_columns(shared_data: Path, tmp_path: Path) -> None:
    prices = pl.read_parquet(shared_data / "prices_daily.parquet", n_rows=10).drop("adj_close")
    folder = _mini_shared(shared_data, tmp_path / "src", prices)
    with pytest.raises(UserError, match=r"prices_daily\.parquet: missing column\(s\) adj_close"):
        ingest_shared_dataset(folder, tmp_path / "lake")


def test_negative_lag_is_refused(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="lag must be >= 0"):
        ingest_shared_dataset(shared_data, tmp_path / "lake", fundamentals_lag_days=-1)


def test_lag_is_configurable(shared_data: Path, tmp_path: Path) -> None:
    prices = pl.read_parquet(shared_data / "prices_daily.parquet").filter(
        pl.col("symbol") == "AAPL"
    )
    folder = _mini_shared(shared_data, tmp_path / "src", prices)
    ingest_shared_dataset(folder, tmp_path / "lake", fundamentals_lag_days=60)
    lake = Lake(tmp_path / "lake")
    nyse = lake.read("fundamentals").filter(pl.col("source") == "nyse")
    assert (nyse["lag_applied_days"] == 60).all()
    assert lake.entry("fundamentals").params["fundamentals_lag_days"] == 60
