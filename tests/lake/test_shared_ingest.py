"""The real data set ingested into a lake: counts, values and point-in-time reads vs the source."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qtc.lake.catalog import read_catalog
from qtc.lake.hashing import content_sha256
from qtc.lake.ingest.check import check_lake
from qtc.lake.ingest.ingest import IngestReport, ingest_shared_dataset
from qtc.lake.read.reader import Lake

pytestmark = pytest.mark.slow


def test_prices_match_source(real_lake: Lake, shared_data: Path) -> None:
    src = pl.read_parquet(shared_data / "prices_daily.parquet")
    entry = real_lake.entry("prices")
    assert entry.rows == src.height == 2_840_234
    assert entry.symbols == src["symbol"].n_unique() == 556
    assert (entry.min_date, entry.max_date) == (str(src["date"].min()), str(src["date"].max()))
    lake_prices = real_lake.read("prices")
    assert lake_prices.schema["adj_close"] == pl.Float64
    assert sorted(lake_prices["symbol"].unique()) == sorted(src["symbol"].unique())


def test_every_dataset_row_count_and_range(real_lake: Lake, shared_data: Path) -> None:
    bench = pl.read_parquet(shared_data / "benchmarks_daily.parquet")
    rates = pl.read_parquet(shared_data / "ff_factors_daily.parquet")
    symbols = pl.read_csv(shared_data / "symbols.csv", infer_schema=False)
    nyse = pl.read_parquet(shared_data / "fundamentals_nyse_annual.parquet")
    simfin = pl.read_parquet(shared_data / "fundamentals_simfin_annual.parquet")
    vix = pl.read_parquet(shared_data / "vix_daily.parquet")
    yields = pl.read_parquet(shared_data / "treasury_yields_daily.parquet")
    cat = real_lake.catalog.datasets
    assert cat["benchmarks"].rows == bench.height
    assert cat["benchmarks"].symbols == bench["symbol"].n_unique()
    assert cat["rates"].rows == rates.height
    assert cat["rates"].min_date == str(rates["date"].min())
    assert cat["symbols"].rows == symbols.height == 556
    assert cat["fundamentals"].rows == nyse.height + simfin.height
    macro_dates = pl.concat([vix["date"], yields["date"]]).unique()
    assert cat["macro"].rows == macro_dates.len()
    assert cat["macro"].max_date == str(macro_dates.max())


def test_aapl_adj_close_equals_source(real_lake: Lake, shared_data: Path) -> None:
    days = [dt.date(2000, 1, 3), dt.date(2008, 9, 15), dt.date(2020, 3, 16), dt.date(2023, 10, 18)]
    src = (
        pl.read_parquet(shared_data / "prices_daily.parquet")
        .filter((pl.col("symbol") == "AAPL") & pl.col("date").is_in(days))
        .sort("date")
    )
    got = real_lake.prices(["AAPL"], days[0], days[-1], columns=["adj_close"])
    got = got.filter(pl.col("date").is_in(days)).sort("date")
    expected = src["adj_close"].cast(pl.Float64).to_list()
    assert got["adj_close"].to_list() == expected
    dates, symbols, matrix = real_lake.adj_close_matrix(["AAPL"], days[0], days[-1])
    rows = np.searchsorted(dates, np.array(days, dtype="datetime64[D]"))
    assert symbols == ["AAPL"]
    assert matrix[rows, 0].tolist() == expected


def test_symbols_metadata(real_lake: Lake) -> None:
    aapl = real_lake.symbols().filter(pl.col("symbol") == "AAPL").row(0, named=True)
    assert aapl["sector"] == "Information Technology"
    assert aapl["industry"]


def _snapshot(shared_data: Path, day: dt.date) -> set[str]:
    """Symbols of the last commit of the last snapshot on or before a day (mapped tickers)."""
    src = pl.read_parquet(shared_data / "sp500_constituents_snapshots.parquet").with_row_index()
    snap = src.filter(pl.col("snapshot_date") <= day)["snapshot_date"].max()
    rows = src.filter(pl.col("snapshot_date") == snap)
    last_commit = rows.sort("index")["commit"][-1]
    renames = {"FB": "META", "ANTM": "ELV", "BLL": "BALL", "ABC": "COR", "COG": "CTRA"}
    renames |= {"RE": "EG", "FISV": "FI", "NLOK": "GEN", "VIAC": "PARA", "PKI": "RVTY"}
    renames |= {"MYL": "VTRS", "DISCA": "WBD", "WLTW": "WTW"}
    return {renames.get(s, s) for s in rows.filter(pl.col("commit") == last_commit)["symbol"]}


@pytest.mark.parametrize("day", ["2013-02-10", "2016-06-30", "2020-05-11", "2023-10-18"])
def test_membership_asof_equals_snapshot(real_lake: Lake, shared_data: Path, day: str) -> None:
    when = dt.date.fromisoformat(day)
    got = real_lake.membership_asof("sp500", [when])
    assert set(got["symbol"]) == _snapshot(shared_data, when)
    assert got["date"].unique().to_list() == [when]


def test_membership_before_first_snapshot_is_empty(real_lake: Lake) -> None:
    got = real_lake.membership_asof("sp500", ["2013-02-09", "2013-02-10"])
    assert got["date"].unique().to_list() == [dt.date(2013, 2, 10)]


def test_membership_maps_old_tickers(real_lake: Lake) -> None:
    members = real_lake.membership_asof("sp500", ["2016-06-30"])["symbol"].to_list()
    assert "META" in members
    assert "FB" not in members


def test_fundamentals_visible_on_publish_date_not_before(
    real_lake: Lake, shared_data: Path
) -> None:
    simfin = pl.read_parquet(shared_data / "fundamentals_simfin_annual.parquet")
    row = simfin.filter((pl.col("symbol") == "MSFT") & (pl.col("fiscal_year") == 2019)).row(
        0, named=True
    )
    publish = row["publish_date"]
    day_before = publish - dt.timedelta(days=1)
    got = real_lake.fundamentals_asof(["MSFT"], [day_before, publish], ["revenue", "net_income"])
    before, on = got.sort("date").iter_rows(named=True)
    assert on["fiscal_year"] == 2019
    assert on["publish_date"] == publish
    assert on["revenue"] == float(row["revenue"])
    assert on["net_income"] == float(row["net_income"])
    assert before["publish_date"] is None or before["publish_date"] < publish
    assert before["fiscal_year"] != 2019


def test_nyse_fundamentals_get_the_reporting_lag(real_lake: Lake) -> None:
    fund = real_lake.read("fundamentals").filter(pl.col("source") == "nyse")
    lag = (fund["publish_date"] - fund["period_end"]).dt.total_days()
    assert (lag == 90).all()
    assert (fund["lag_applied_days"] == 90).all()
    assert real_lake.entry("fundamentals").params["fundamentals_lag_days"] == 90


def test_fundamentals_normalization(real_lake: Lake, shared_data: Path) -> None:
    fund = real_lake.read("fundamentals")
    simfin = fund.filter(pl.col("source") == "simfin")
    assert (simfin["cost_of_revenue"].drop_nulls() >= 0).all()
    both = simfin.drop_nulls(["revenue", "cost_of_revenue", "gross_profit"])
    gap = (both["revenue"] - both["cost_of_revenue"] - both["gross_profit"]).abs()
    assert (gap <= 1e-6 * both["revenue"].abs() + 1.0).mean() > 0.95
    wmt = fund.filter((pl.col("symbol") == "WMT") & (pl.col("period_end") == dt.date(2016, 1, 31)))
    assert wmt["fiscal_year"].to_list() == [2015]
    assert "META" in fund.filter(pl.col("source") == "nyse")["symbol"].to_list()


def test_rates_and_macro_alignment(real_lake: Lake, shared_data: Path) -> None:
    ff = pl.read_parquet(shared_data / "ff_factors_daily.parquet")
    rf_jan2 = ff.filter(pl.col("date") == dt.date(2020, 1, 2))["rf"][0]
    rates = real_lake.rates(["2020-01-02", "2020-01-04", "2020-01-05"])
    assert rates["rf"].to_list() == [rf_jan2, rf_jan2, rf_jan2]
    calendar = real_lake.rates()
    assert calendar.height == len(real_lake.calendar())
    assert calendar["rf"].null_count() == 0
    macro = real_lake.macro(["2017-03-29", "2017-04-01", "2017-04-20"], ["vix", "y_10y"])
    yields = pl.read_parquet(shared_data / "treasury_yields_daily.parquet")
    last = yields.filter(pl.col("date") == dt.date(2017, 3, 29))["y_10year"][0]
    assert macro["y_10y"].to_list() == [last, last, None]
    assert macro["vix"].null_count() == 0
    unlimited = real_lake.macro(["2017-04-20"], ["y_10y"], max_stale_days=None)
    assert unlimited["y_10y"].to_list() == [last]


def test_rates_never_fill_backward(real_lake: Lake) -> None:
    early = real_lake.rates(["1900-01-02"])
    assert early["rf"].to_list() == [None]


def test_benchmark_and_last_dates(real_lake: Lake) -> None:
    spy = real_lake.benchmark("SPY", "2020-01-01", "2020-12-31")
    assert spy.height == 253
    assert spy["date"].is_sorted()
    last = real_lake.last_dates().filter(pl.col("symbol") == "KSU").row(0, named=True)
    assert last["last_date"] == dt.date(2020, 5, 22)


def test_known_spin_off_drops_are_warnings(shared_ingest: tuple[Path, IngestReport]) -> None:
    _, report = shared_ingest
    moves = {(f.symbol, f.date) for f in report.findings if f.rule == "extreme_move"}
    assert ("KSU", dt.date(2000, 7, 13)) in moves
    assert ("JCI", dt.date(2007, 7, 2)) in moves
    assert all(f.severity.value == "warning" for f in report.findings)
    counts = read_catalog(shared_ingest[0]).datasets["prices"].warnings
    in_prices = [f for f in report.findings if f.dataset == "prices"]
    assert counts["extreme_move"] == sum(f.rule == "extreme_move" for f in in_prices)
    assert counts["zero_volume"] == sum(f.rule == "zero_volume" for f in in_prices) > 0


def test_catalog_is_deterministic_and_meta_is_apart(
    shared_ingest: tuple[Path, IngestReport],
) -> None:
    lake_dir, _ = shared_ingest
    text = (lake_dir / "catalog.json").read_text()
    assert "written_at" not in text
    assert str(lake_dir) not in text
    meta = json.loads((lake_dir / "catalog.meta.json").read_text())
    assert meta["datasets"]["prices"]["source"].endswith("data")
    prov = json.loads(text)["datasets"]["prices"]["provenance"]["sources"][0]
    assert prov["file"] == "prices_daily.parquet"
    assert len(prov["sha256"]) == 64


def test_reingest_gives_identical_hashes_and_bytes(
    shared_ingest: tuple[Path, IngestReport],
    shared_data: Path,
    tmp_path: Path,
) -> None:
    lake_dir, report = shared_ingest
    again = ingest_shared_dataset(shared_data, tmp_path / "again")
    assert again.hashes == report.hashes
    assert (tmp_path / "again" / "catalog.json").read_bytes() == (
        lake_dir / "catalog.json"
    ).read_bytes()
    first, second = Lake(lake_dir), Lake(tmp_path / "again")
    assert first.dataset_hashes() == second.dataset_hashes()
    assert content_sha256(first.read("membership")) == first.dataset_hashes()["membership"]


def test_check_lake_on_real_data_has_no_errors(real_lake: Lake) -> None:
    findings = check_lake(real_lake)
    assert [f for f in findings if f.severity.value == "error"] == []
    assert {f.rule for f in findings} >= {"extreme_move", "zero_volume"}


def test_query_over_views(real_lake: Lake) -> None:
    out = real_lake.query(
        "SELECT symbol, count(*) AS n, min(date) AS first FROM prices "
        "WHERE symbol IN ('AAPL', 'KSU') GROUP BY symbol ORDER BY symbol"
    )
    assert out.columns == ["symbol", "n", "first"]
    assert out["symbol"].to_list() == ["AAPL", "KSU"]
    assert out["n"].to_list() == [5987, 5130]
    assert out.schema["first"] == pl.Date
    joined = real_lake.query(
        "SELECT count(DISTINCT m.snapshot_date) AS n FROM membership m "
        "JOIN symbols s USING (symbol) WHERE s.sector = 'Energy'"
    )
    assert joined["n"][0] > 100
