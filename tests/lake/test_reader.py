"""Point-in-time reads on a tiny hand-built lake whose answers are known exactly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qtc.errors import UserError
from qtc.lake.guard import LakeDamagedError
from qtc.lake.read.reader import Lake
from qtc.lake.schema import FUNDAMENTAL_FIELDS

D = dt.date.fromisoformat
Writer = Callable[[Path, dict[str, pl.DataFrame]], Path]


def _prices() -> pl.DataFrame:
    """AAA trades 4 days, BBB starts on day 2 and ends on day 3 (delisted)."""
    rows = [
        ("2020-01-02", "AAA", 10.0),
        ("2020-01-03", "AAA", 11.0),
        ("2020-01-06", "AAA", 12.0),
        ("2020-01-07", "AAA", 13.0),
        ("2020-01-03", "BBB", 20.0),
        ("2020-01-06", "BBB", 21.0),
    ]
    df = pl.DataFrame(rows, schema=["date", "symbol", "close"], orient="row")
    return df.with_columns(
        date=pl.col("date").str.to_date(),
        open="close",
        high=pl.col("close") + 1,
        low=pl.col("close") - 1,
        adj_close=pl.col("close") / 2,
        volume=pl.lit(100, pl.Int64),
    )


def _fundamentals() -> pl.DataFrame:
    """AAA: FY2018 published 2019-03-01; FY2019 on 2020-01-03; a late FY2018
    restatement on 2020-01-06 (must not replace FY2019); BBB: one row."""
    rows = [
        ("AAA", 2018, "2018-12-31", "2019-03-01", "simfin", 1.0),
        ("AAA", 2019, "2019-12-31", "2020-01-03", "simfin", 2.0),
        ("AAA", 2018, "2018-12-31", "2020-01-06", "nyse", 9.0),
        ("BBB", 2019, "2019-09-30", "2020-01-06", "nyse", 5.0),
        ("BBB", 2019, "2019-09-30", "2020-01-06", "simfin", 6.0),
    ]
    df = pl.DataFrame(
        rows,
        schema=["symbol", "fiscal_year", "period_end", "publish_date", "source", "revenue"],
        orient="row",
    )
    others = {f: pl.lit(None, pl.Float64) for f in FUNDAMENTAL_FIELDS if f != "revenue"}
    return df.with_columns(
        pl.col("period_end").str.to_date(),
        pl.col("publish_date").str.to_date(),
        lag_applied_days=pl.lit(0),
        **others,
    )


@pytest.fixture
def tiny(tmp_path: Path, tiny_lake_writer: Writer) -> Lake:
    """The tiny lake."""
    frames = {
        "prices": _prices(),
        "benchmarks": _prices().filter(pl.col("symbol") == "AAA").with_columns(
            symbol=pl.lit("SPY")
        ),
        "symbols": pl.DataFrame(
            {"symbol": ["AAA", "BBB"], "name": ["A", "B"], "sector": ["X", "Y"],
             "industry": ["x", "y"]}
        ),
        "membership": pl.DataFrame(
            {
                "index": ["idx"] * 3,
                "snapshot_date": [D("2020-01-03"), D("2020-01-03"), D("2020-01-06")],
                "symbol": ["AAA", "BBB", "AAA"],
            }
        ),
        "fundamentals": _fundamentals(),
        "rates": pl.DataFrame({"date": [D("2020-01-02"), D("2020-01-06")], "rf": [0.001, 0.002]}),
        "macro": pl.DataFrame(
            {"date": [D("2019-12-20"), D("2020-01-03")], "vix": [12.0, None], "y_10y": [0.02, 0.03]}
        ).with_columns(
            *(pl.lit(None, pl.Float64).alias(c) for c in
              ["y_1m", "y_3m", "y_6m", "y_1y", "y_2y", "y_3y", "y_5y", "y_7y", "y_20y", "y_30y"])
        ),
    }  # fmt: skip
    return Lake(tiny_lake_writer(tmp_path / "lake", frames))


def test_calendar_and_windows(tiny: Lake) -> None:
    assert tiny.calendar().tolist() == [
        D("2020-01-02"),
        D("2020-01-03"),
        D("2020-01-06"),
        D("2020-01-07"),
    ]
    assert tiny.calendar("2020-01-03", "2020-01-06").tolist() == [D("2020-01-03"), D("2020-01-06")]
    with pytest.raises(UserError, match="empty date window"):
        tiny.prices(start="2020-02-01", end="2020-01-01")
    with pytest.raises(UserError, match="not a date"):
        tiny.prices(start="yesterday")


def test_prices_long_projection_and_filters(tiny: Lake) -> None:
    got = tiny.prices(["BBB"], "2020-01-01", "2020-01-31", columns=["close"])
    assert got.columns == ["date", "symbol", "close"]
    assert got["close"].to_list() == [20.0, 21.0]
    assert tiny.prices().height == 6
    with pytest.raises(UserError, match="no column"):
        tiny.prices(columns=["vwap"])


def test_prices_wide(tiny: Lake) -> None:
    wide = tiny.prices(["BBB", "AAA"], columns=["close"], wide=True)
    assert wide.columns == ["date", "BBB", "AAA"]
    assert wide["BBB"].to_list() == [None, 20.0, 21.0, None]
    assert wide["AAA"].to_list() == [10.0, 11.0, 12.0, 13.0]
    vol = tiny.prices(columns=["volume"], wide=True)
    assert vol.schema["AAA"] == pl.Int64
    with pytest.raises(UserError, match="exactly one column"):
        tiny.prices(columns=["close", "open"], wide=True)


def test_adj_close_matrix(tiny: Lake) -> None:
    dates, symbols, m = tiny.adj_close_matrix()
    assert symbols == ["AAA", "BBB"]
    assert dates.dtype == np.dtype("datetime64[D]")
    assert m.dtype == np.float64
    assert m.shape == (4, 2)
    np.testing.assert_array_equal(m[:, 0], [5.0, 5.5, 6.0, 6.5])
    np.testing.assert_array_equal(np.isnan(m[:, 1]), [True, False, False, True])
    dates, symbols, m = tiny.adj_close_matrix(["ZZZ", "BBB"], "2020-01-03", "2020-01-06")
    assert symbols == ["ZZZ", "BBB"]
    assert np.isnan(m[:, 0]).all()
    assert m[:, 1].tolist() == [10.0, 10.5]


def test_last_dates_show_ending_histories(tiny: Lake) -> None:
    ends = dict(tiny.last_dates().select("symbol", "last_date").iter_rows())
    assert ends == {"AAA": D("2020-01-07"), "BBB": D("2020-01-06")}


def test_membership_asof(tiny: Lake) -> None:
    got = tiny.membership_asof("idx", ["2020-01-02", "2020-01-03", "2020-01-05", "2020-01-06"])
    by_date = {d: sorted(g["symbol"]) for (d,), g in got.group_by("date")}
    assert by_date == {
        D("2020-01-03"): ["AAA", "BBB"],
        D("2020-01-05"): ["AAA", "BBB"],
        D("2020-01-06"): ["AAA"],
    }
    with pytest.raises(UserError, match="no index 'sp400'"):
        tiny.membership_asof("sp400")


def test_fundamentals_asof_publish_date_rule(tiny: Lake) -> None:
    got = tiny.fundamentals_asof(
        ["AAA", "BBB"], ["2019-02-28", "2019-03-01", "2020-01-02", "2020-01-03", "2020-01-07"]
    )
    aaa = got.filter(pl.col("symbol") == "AAA")
    assert aaa["revenue"].to_list() == [None, 1.0, 1.0, 2.0, 2.0]
    assert aaa["fiscal_year"].to_list() == [None, 2018, 2018, 2019, 2019]
    bbb = got.filter(pl.col("symbol") == "BBB")
    assert bbb["revenue"].to_list() == [None, None, None, None, 6.0]
    assert bbb["source"].to_list()[-1] == "simfin"
    assert set(got.columns) >= {"date", "symbol", "publish_date", "period_end", *FUNDAMENTAL_FIELDS}
    only = tiny.fundamentals_asof(["AAA"], ["2020-01-07"], ["revenue"])
    assert only.columns[-1] == "revenue"
    with pytest.raises(UserError, match="no column"):
        tiny.fundamentals_asof(fields=["ebitda_margin"])


def test_rates_forward_fill_never_backward(tiny: Lake) -> None:
    got = tiny.rates(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06", "2020-01-20"])
    assert got["rf"].to_list() == [None, 0.001, 0.001, 0.002, None]
    assert tiny.rates(["2020-01-20"], max_stale_days=None)["rf"].to_list() == [0.002]
    assert tiny.rates().height == 4


def test_macro_per_column_staleness(tiny: Lake) -> None:
    got = tiny.macro(["2019-12-20", "2019-12-30", "2020-01-03", "2020-01-06"], ["vix", "y_10y"])
    assert got["y_10y"].to_list() == [0.02, 0.02, 0.03, 0.03]
    assert got["vix"].to_list() == [12.0, 12.0, None, None]


def test_dates_accept_many_forms(tiny: Lake) -> None:
    forms: list[object] = [
        ["2020-01-03"],
        [D("2020-01-03")],
        [dt.datetime(2020, 1, 3, 15, 30)],
        np.array(["2020-01-03"], dtype="datetime64[D]"),
        pl.Series(["2020-01-03"]),
        pl.Series([D("2020-01-03")]),
    ]
    for dates in forms:
        assert tiny.rates(dates)["date"].to_list() == [D("2020-01-03")]  # type: ignore[arg-type]


def test_benchmark_hashes_info(tiny: Lake) -> None:
    spy = tiny.benchmark("SPY", columns=["close"])
    assert spy.columns == ["date", "symbol", "close"]
    hashes = tiny.dataset_hashes()
    assert set(hashes) == set(tiny.datasets)
    assert all(len(h) == 64 for h in hashes.values())
    info = {row["dataset"]: row for row in tiny.info()}
    assert info["prices"]["rows"] == 6
    assert info["prices"]["max_date"] == "2020-01-07"


def test_query(tiny: Lake) -> None:
    got = tiny.query("SELECT symbol, max(close) AS hi FROM prices GROUP BY 1 ORDER BY 1")
    assert got.rows() == [("AAA", 13.0), ("BBB", 21.0)]
    empty = tiny.query("SELECT * FROM prices WHERE false")
    assert empty.height == 0
    assert "symbol" in empty.columns
    with pytest.raises(UserError, match="query failed"):
        tiny.query("SELECT nope FROM prices")


def test_missing_dataset_and_damaged_lake(tiny: Lake, tmp_path: Path) -> None:
    (tiny.path / "rates.parquet").unlink()
    with pytest.raises(
        LakeDamagedError, match=r"'rates' is damaged: .*rates\.parquet is missing"
    ) as err:
        tiny.rates()
    assert not isinstance(err.value, UserError)  # a run failure (exit 1), not bad input
    with pytest.raises(UserError, match="not a qtc lake"):
        Lake(tmp_path / "nothing")


def test_lake_without_a_dataset(tmp_path: Path, tiny_lake_writer: Writer) -> None:
    lake = Lake(tiny_lake_writer(tmp_path / "lk", {"prices": _prices()}))
    with pytest.raises(UserError, match="has no 'macro' dataset"):
        lake.macro()
