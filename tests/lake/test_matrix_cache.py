"""The derived price-matrix cache equals the Parquet read, and follows the data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qtc.lake import Lake
from qtc.lake.guard import LakeDamagedError
from qtc.lake.ingest.store import write_parquet
from qtc.lake.read import reader
from qtc.lake.read.matrix_cache import CACHE_DIR


def uncached(lake: Lake, cols: tuple[str, ...], symbols: list[str] | None, start: str, end: str):  # type: ignore[no-untyped-def]
    long = lake.bars("prices", symbols, start, end, cols)
    out = {c: lake._matrix(long, c, symbols, start, end)[2] for c in cols}
    dates, names, _ = lake._matrix(long, cols[0], symbols, start, end)
    return dates, names, out


@pytest.mark.parametrize("symbols", [None, "some"])
def test_cache_equals_parquet_read(small_demo: Lake, tmp_path: Path, symbols: str | None) -> None:
    lake_dir = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake_dir)
    lake = Lake(lake_dir)
    names = None if symbols is None else [*lake.symbols()["symbol"].to_list()[:5], "NOPE"]
    cols = ("adj_close", "close")
    first = lake.bar_matrices(cols, names, "2006-03-01", "2008-06-30")  # builds the cache
    assert any((lake_dir / CACHE_DIR).iterdir())
    second = Lake(lake_dir).bar_matrices(cols, names, "2006-03-01", "2008-06-30")  # reads it
    dates, ref_names, ref = uncached(lake, cols, names, "2006-03-01", "2008-06-30")
    for got in (first, second):
        np.testing.assert_array_equal(got[0], dates)
        present = [n in got[1] for n in ref_names]
        assert all(present)
        for c in cols:
            cols_idx = [got[1].index(n) for n in ref_names]
            np.testing.assert_array_equal(got[2][c][:, cols_idx], ref[c])


def test_cache_follows_a_reingest(small_demo: Lake, tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake_dir)
    Lake(lake_dir).bar_matrices(("adj_close",))
    old = sorted(p.name for p in (lake_dir / CACHE_DIR).iterdir())
    from qtc.lake import build_demo_lake

    build_demo_lake(lake_dir, seed=12, n_symbols=60, years=6)  # different content
    lake = Lake(lake_dir)
    _, names, m = lake.bar_matrices(("adj_close",))
    assert sorted(p.name for p in (lake_dir / CACHE_DIR).iterdir()) != old
    _, ref_names, ref = uncached(lake, ("adj_close",), None, None, None)  # type: ignore[arg-type]
    np.testing.assert_array_equal(
        m["adj_close"][:, [names.index(n) for n in ref_names]], ref["adj_close"]
    )


def test_unwritable_cache_falls_back_to_parquet(small_demo: Lake, tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake_dir)
    (lake_dir / CACHE_DIR).write_text("not a folder")  # the cache cannot be created
    lake = Lake(lake_dir)
    dates, names, m = lake.bar_matrices(("adj_close",), None, "2006-01-02", "2006-12-29")
    ref_dates, ref_names, ref = uncached(lake, ("adj_close",), None, "2006-01-02", "2006-12-29")
    np.testing.assert_array_equal(dates, ref_dates)
    assert names == ref_names
    np.testing.assert_array_equal(m["adj_close"], ref["adj_close"])


def built_copy(small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lake copy with its adj_close/close cache built; prices is not hashed on open.

    `HASHED_ON_OPEN = 0` makes the small demo prices file behave like the real 57 MB one,
    which is hashed only when the cache is (re)built from it.
    """
    monkeypatch.setattr(reader, "HASHED_ON_OPEN", 0)
    lake_dir = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake_dir)
    shutil.rmtree(lake_dir / CACHE_DIR, ignore_errors=True)
    Lake(lake_dir).bar_matrices(("adj_close", "close"))
    return lake_dir


def no_bars(*args: object) -> None:
    """Stands in for `Lake.bars` where prices must not be decoded."""
    raise AssertionError("prices decoded although the cache is intact")


def cache_folder(lake_dir: Path) -> Path:
    (folder,) = (lake_dir / CACHE_DIR).iterdir()
    return folder


def test_an_intact_cache_is_served_without_decoding_prices(
    small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_dir = built_copy(small_demo, tmp_path, monkeypatch)
    reference = uncached(Lake(lake_dir), ("adj_close",), None, "2007-01-02", "2007-12-31")
    monkeypatch.setattr(Lake, "bars", no_bars)
    dates, names, got = Lake(lake_dir).bar_matrices(
        ("adj_close",), None, "2007-01-02", "2007-12-31"
    )
    np.testing.assert_array_equal(dates, reference[0])
    picked = got["adj_close"][:, [names.index(n) for n in reference[1]]]
    np.testing.assert_array_equal(picked, reference[2]["adj_close"])


def test_a_replaced_prices_file_is_an_error_not_the_cached_matrix(
    small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_dir = built_copy(small_demo, tmp_path, monkeypatch)
    prices = lake_dir / "prices.parquet"
    other = pl.read_parquet(prices).with_columns(pl.col("adj_close") * 2)
    write_parquet(other, prices)  # valid Parquet, same columns, other content; same catalog
    with pytest.raises(LakeDamagedError, match=r"'prices' is damaged: .* does not match the cat"):
        Lake(lake_dir).bar_matrices(("adj_close",))


def test_a_truncated_prices_file_is_an_error_not_the_cached_matrix(
    small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_dir = built_copy(small_demo, tmp_path, monkeypatch)
    prices = lake_dir / "prices.parquet"
    prices.write_bytes(prices.read_bytes()[:1000])
    with pytest.raises(LakeDamagedError, match=r"'prices' is damaged: .* cannot be read"):
        Lake(lake_dir).bar_matrices(("adj_close",))


def garble_tail(path: Path) -> None:
    """Overwrite the last 16 bytes and append 8: the header (shape, dtype) still loads."""
    raw = path.read_bytes()
    path.write_bytes(raw[:-16] + b"\x7f" * 16 + bytes(8))


CACHE_DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "json": lambda p: p.write_text("[1, 2]"),
    "garbled": garble_tail,
    "deleted": lambda p: p.unlink(),
}


@pytest.mark.parametrize("damage", sorted(CACHE_DAMAGE))
@pytest.mark.parametrize("file", ["adj_close.npy", "dates.npy", "symbols.json", "manifest.json"])
def test_a_damaged_cache_file_is_rebuilt(
    small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, damage: str
) -> None:
    lake_dir = built_copy(small_demo, tmp_path, monkeypatch)
    CACHE_DAMAGE[damage](cache_folder(lake_dir) / file)
    window = ("2006-03-01", "2009-06-30")
    lake = Lake(lake_dir)
    dates, names, got = lake.bar_matrices(("adj_close", "close"), None, *window)
    ref_dates, ref_names, ref = uncached(lake, ("adj_close", "close"), None, *window)
    np.testing.assert_array_equal(dates, ref_dates)
    for col in ("adj_close", "close"):
        np.testing.assert_array_equal(got[col][:, [names.index(n) for n in ref_names]], ref[col])
    monkeypatch.setattr(Lake, "bars", no_bars)  # the repaired cache now serves alone
    again = Lake(lake_dir).bar_matrices(("adj_close", "close"), None, *window)
    for col in ("adj_close", "close"):
        np.testing.assert_array_equal(again[2][col], got[col])


def scanned_calendar(lake_dir: Path) -> np.ndarray:
    """The distinct dates of prices.parquet, read independently of qtc."""
    dates = pl.read_parquet(lake_dir / "prices.parquet", columns=["date"])["date"].unique()
    return np.sort(dates.to_numpy().astype("datetime64[D]"))


def test_the_calendar_comes_from_an_intact_cache_without_a_scan(
    small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_dir = built_copy(small_demo, tmp_path, monkeypatch)
    expected = scanned_calendar(lake_dir)
    lake = Lake(lake_dir)
    monkeypatch.setattr(Lake, "scan", no_bars)  # a scan of prices would fail the test
    np.testing.assert_array_equal(lake.calendar(), expected)
    np.testing.assert_array_equal(
        lake.calendar("2007-01-02", "2007-01-31"),
        expected[
            (expected >= np.datetime64("2007-01-02")) & (expected <= np.datetime64("2007-01-31"))
        ],
    )


def test_the_calendar_is_scanned_when_the_prices_file_changed_since_the_cache(
    small_demo: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_dir = built_copy(small_demo, tmp_path, monkeypatch)
    prices = lake_dir / "prices.parquet"
    shorter = pl.read_parquet(prices).filter(pl.col("date") < pl.date(2008, 1, 1))
    write_parquet(shorter, prices)  # another stamp: the cache no longer describes the file
    np.testing.assert_array_equal(Lake(lake_dir).calendar(), scanned_calendar(lake_dir))
