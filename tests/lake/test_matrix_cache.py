"""The derived price-matrix cache equals the Parquet read, and follows the data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qtc.lake import Lake
from qtc.lake.matrix_cache import CACHE_DIR


def uncached(lake: Lake, cols: tuple[str, ...], symbols: list[str] | None, start: str, end: str):  # type: ignore[no-untyped-def]
    long = lake._bars("prices", symbols, start, end, cols).collect()
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
