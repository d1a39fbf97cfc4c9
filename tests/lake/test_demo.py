"""The SYNTHETIC demo market: determinism, validity and stylized facts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qtc.errors import UserError
from qtc.lake.demo.build import build_demo_lake
from qtc.lake.demo.market import trading_calendar
from qtc.lake.ingest.check import check_lake
from qtc.lake.ingest.ingest import IngestReport
from qtc.lake.read.reader import Lake
from qtc.lake.schema import DATASETS

HashTree = Callable[[Path], dict[str, str]]


def _data_files(hashes: dict[str, str]) -> dict[str, str]:
    """Hashes of everything but the volatile metadata."""
    return {k: v for k, v in hashes.items() if k != "catalog.meta.json"}


def test_same_seed_gives_byte_identical_files(
    small_demo: Lake, tmp_path: Path, hash_tree: HashTree
) -> None:
    again = tmp_path / "again"
    build_demo_lake(again, seed=11, n_symbols=60, years=6)
    first = _data_files(hash_tree(small_demo.path))
    assert first == _data_files(hash_tree(again))
    assert set(first) == {f"{n}.parquet" for n in small_demo.datasets} | {"catalog.json"}


def test_different_seed_differs(small_demo: Lake, tmp_path: Path) -> None:
    other = Lake(build_demo_lake(tmp_path / "other", seed=12, n_symbols=60, years=6).lake)
    for name in ("prices", "fundamentals", "membership", "benchmarks"):
        assert other.dataset_hashes()[name] != small_demo.dataset_hashes()[name]


def test_small_demo_shape(small_demo: Lake) -> None:
    assert set(small_demo.datasets) == set(DATASETS)
    assert small_demo.entry("prices").symbols == 60
    assert small_demo.entry("prices").min_date == "2005-01-03"
    assert small_demo.entry("prices").max_date == "2010-12-31"
    assert small_demo.entry("symbols").rows == 60


def test_demo_is_labelled_synthetic(small_demo: Lake) -> None:
    for entry in small_demo.catalog.datasets.values():
        assert entry.provenance["synthetic"] is True
        assert entry.provenance["seed"] == 11
    text = (small_demo.path / "catalog.json").read_text()
    assert "SYNTHETIC" in text
    assert "written_at" not in json.loads(text)


def test_demo_passes_every_check(small_demo: Lake) -> None:
    assert [f for f in check_lake(small_demo) if f.severity.value == "error"] == []


def test_bad_parameters(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="at least 10 symbols"):
        build_demo_lake(tmp_path / "x", n_symbols=3)
    with pytest.raises(UserError, match="at least 2 years"):
        build_demo_lake(tmp_path / "x", years=1)


def test_calendar_has_weekdays_without_fixed_holidays() -> None:
    cal = trading_calendar(dt.date(2019, 1, 1), dt.date(2019, 12, 31)).tolist()
    assert all(d.weekday() < 5 for d in cal)
    for holiday in ("2019-01-01", "2019-07-04", "2019-12-25", "2019-11-28", "2019-09-02"):
        assert dt.date.fromisoformat(holiday) not in cal
    assert 248 <= len(cal) <= 253


# -- the full default build, once -------------------------------------------------------------


@pytest.mark.slow
def test_full_build_is_sized(full_demo: tuple[Lake, IngestReport]) -> None:
    """The default build's shape (its speed is `benchmarks/bench_lake.py`'s, not a test's)."""
    lake, report = full_demo
    assert report.seconds > 0
    assert lake.entry("prices").symbols == 300
    assert lake.entry("prices").min_date == "2005-01-03"
    assert lake.entry("prices").max_date == "2023-12-29"
    assert len(set(lake.symbols()["sector"])) == 11
    assert all(len(s) <= 5 for s in lake.symbols()["symbol"])


@pytest.mark.slow
def test_prices_positive_and_ohlc_consistent(full_demo: tuple[Lake, IngestReport]) -> None:
    prices = full_demo[0].read("prices")
    assert (
        prices.select(pl.min_horizontal("open", "high", "low", "close", "adj_close").min()).item()
        > 0
    )
    bad = prices.filter(
        (pl.col("low") > pl.min_horizontal("open", "close"))
        | (pl.col("high") < pl.max_horizontal("open", "close"))
    )
    assert bad.height == 0
    assert (prices["volume"] > 0).all()


def _annual_returns(lake: Lake) -> np.ndarray:
    """Year-end to year-end adj_close returns, (years - 1, symbols), NaN when not listed."""
    dates, _, m = lake.adj_close_matrix()
    years = dates.astype("datetime64[Y]")
    ends = np.flatnonzero(np.concatenate((years[1:] != years[:-1], [True])))
    prices = m[ends]
    returns: np.ndarray = prices[1:] / prices[:-1] - 1.0
    return returns


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation over pairs where both are finite."""
    ok = np.isfinite(a) & np.isfinite(b)
    ra = np.argsort(np.argsort(a[ok]))
    rb = np.argsort(np.argsort(b[ok]))
    return float(np.corrcoef(ra, rb)[0, 1])


@pytest.mark.slow
def test_cross_sectional_dispersion(full_demo: tuple[Lake, IngestReport]) -> None:
    annual = _annual_returns(full_demo[0])
    dispersion = np.nanstd(annual, axis=1)
    assert np.median(dispersion) > 0.2
    assert (dispersion > 0.1).all()


@pytest.mark.slow
def test_momentum_persistence(full_demo: tuple[Lake, IngestReport]) -> None:
    annual = _annual_returns(full_demo[0])
    corr = [_spearman(annual[i], annual[i + 1]) for i in range(len(annual) - 1)]
    assert np.mean(corr) > 0.04
    assert np.mean(np.array(corr) > 0) > 0.6


@pytest.mark.slow
def test_fat_tails_and_volatility_clustering(full_demo: tuple[Lake, IngestReport]) -> None:
    _, _, m = full_demo[0].adj_close_matrix()
    r = np.log(m[1:] / m[:-1])
    pooled = r[np.isfinite(r)]
    kurtosis = ((pooled - pooled.mean()) ** 4).mean() / pooled.var() ** 2
    assert kurtosis > 3.0
    spy = full_demo[0].benchmark("SPY")["adj_close"].to_numpy()
    sr = np.diff(np.log(spy))
    a = np.abs(sr - sr.mean())
    assert np.corrcoef(a[1:], a[:-1])[0, 1] > 0.1


@pytest.mark.slow
def test_benchmark_and_market_plausible(full_demo: tuple[Lake, IngestReport]) -> None:
    lake = full_demo[0]
    spy = lake.benchmark("SPY")
    assert spy.height == len(lake.calendar())
    adj = spy["adj_close"].to_numpy()
    years = len(adj) / 252
    cagr = (adj[-1] / adj[0]) ** (1 / years) - 1
    vol = np.diff(np.log(adj)).std() * np.sqrt(252)
    assert -0.05 < cagr < 0.25
    assert 0.08 < vol < 0.35
    assert spy["adj_close"][-1] == spy["close"][-1]


@pytest.mark.slow
def test_listings_delistings_and_membership(full_demo: tuple[Lake, IngestReport]) -> None:
    lake = full_demo[0]
    spans = lake.last_dates()
    first, last = spans["first_date"], spans["last_date"]
    assert (first > first.min()).sum() > 20
    assert (last < last.max()).sum() > 10
    members = lake.read("membership")
    snaps = members.group_by("snapshot_date").agg(pl.col("symbol")).sort("snapshot_date")
    assert snaps.height == 76
    assert all(len(s) == 200 for s in snaps["symbol"])
    changes = [
        len(set(a) ^ set(b)) for a, b in zip(snaps["symbol"][:-1], snaps["symbol"][1:], strict=True)
    ]
    assert sum(c > 0 for c in changes) > 30


@pytest.mark.slow
def test_fundamentals_consistent(full_demo: tuple[Lake, IngestReport]) -> None:
    fund = full_demo[0].read("fundamentals")
    lag = (fund["publish_date"] - fund["period_end"]).dt.total_days()
    assert lag.min() >= 60
    assert lag.max() <= 90
    assert (fund["gross_profit"] <= fund["revenue"]).all()
    assert (fund["total_assets"] >= fund["total_equity"]).all()
    assert (fund["source"] == "demo").all()
    assert fund["publish_date"].max() <= full_demo[0].calendar()[-1]


@pytest.mark.slow
def test_rates_and_macro_cover_the_calendar(full_demo: tuple[Lake, IngestReport]) -> None:
    lake = full_demo[0]
    rates = lake.rates()
    macro = lake.macro()
    assert rates["rf"].null_count() == 0
    assert macro.null_count().sum_horizontal().item() == 0
    assert rates["rf"].min() >= 0
    assert rates["rf"].max() < 0.001
    vix = macro["vix"].to_numpy()
    assert vix.min() >= 9
    assert vix.max() <= 85
