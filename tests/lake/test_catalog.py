"""Catalog files, content hashes, integrity checks and the package's import rules."""

from __future__ import annotations

import ast
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from qtc.errors import UserError
from qtc.lake.catalog import CATALOG_FILE, read_catalog
from qtc.lake.hashing import content_sha256
from qtc.lake.ingest.check import check_lake
from qtc.lake.ingest.store import write_parquet
from qtc.lake.read.reader import Lake

LAKE_SRC = Path(__file__).resolve().parents[2] / "qtc" / "lake"
Writer = Callable[[Path, dict[str, pl.DataFrame]], Path]


def _rates(values: list[float]) -> pl.DataFrame:
    """A small `rates` frame."""
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(len(values))]
    return pl.DataFrame({"date": days, "rf": values})


def test_content_hash_ignores_encoding_but_not_values(tmp_path: Path) -> None:
    df = _rates([0.1, 0.2, float("nan")])
    as_f32 = df.with_columns(pl.col("rf").cast(pl.Float32).cast(pl.Float64))
    assert content_sha256(df) != content_sha256(as_f32)
    write_parquet(df, tmp_path / "a.parquet")
    df.write_parquet(tmp_path / "b.parquet", compression="snappy", row_group_size=1)
    a, b = pl.read_parquet(tmp_path / "a.parquet"), pl.read_parquet(tmp_path / "b.parquet")
    assert content_sha256(a) == content_sha256(b) == content_sha256(df)
    assert content_sha256(df) != content_sha256(_rates([0.1, 0.2, 0.3]))
    assert content_sha256(df) != content_sha256(df.rename({"rf": "rate"}))
    nulls = pl.DataFrame({"s": ["a", None, ""]})
    assert content_sha256(nulls) != content_sha256(pl.DataFrame({"s": ["a", "", ""]}))
    assert content_sha256(pl.DataFrame({"s": ["ab", "c"]})) != content_sha256(
        pl.DataFrame({"s": ["a", "bc"]})
    )


def test_catalog_errors_are_user_errors(tmp_path: Path, tiny_lake_writer: Writer) -> None:
    lake = tiny_lake_writer(tmp_path / "lake", {"rates": _rates([0.1])})
    text = (lake / CATALOG_FILE).read_text()
    (lake / CATALOG_FILE).write_text("{not json")
    with pytest.raises(UserError, match="cannot read"):
        read_catalog(lake)
    data = json.loads(text)
    data["format_version"] = 99
    (lake / CATALOG_FILE).write_text(json.dumps(data))
    with pytest.raises(UserError, match="format version 99"):
        read_catalog(lake)
    (lake / CATALOG_FILE).write_text(json.dumps({"format": "other"}))
    with pytest.raises(UserError, match="not a qtc lake catalog"):
        read_catalog(lake)
    data["format_version"] = 1
    del data["datasets"]["rates"]["rows"]
    (lake / CATALOG_FILE).write_text(json.dumps(data))
    with pytest.raises(UserError, match="damaged"):
        read_catalog(lake)


def test_catalog_entry_contents(tmp_path: Path, tiny_lake_writer: Writer) -> None:
    lake = Lake(tiny_lake_writer(tmp_path / "lake", {"rates": _rates([0.1, 0.2])}))
    entry = lake.entry("rates")
    assert entry.columns == (("date", "date"), ("rf", "float64"))
    assert (entry.rows, entry.symbols) == (2, None)
    assert (entry.min_date, entry.max_date) == ("2020-01-01", "2020-01-02")
    assert entry.content_sha256 == content_sha256(lake.read("rates"))
    assert entry.file_bytes == (lake.path / "rates.parquet").stat().st_size
    meta = json.loads((lake.path / "catalog.meta.json").read_text())
    assert {"written_at", "qtc_version", "host", "datasets"} <= set(meta)


def test_check_lake_detects_tampering(tmp_path: Path, tiny_lake_writer: Writer) -> None:
    lake_dir = tiny_lake_writer(tmp_path / "lake", {"rates": _rates([0.1, 0.2])})
    assert check_lake(lake_dir) == []
    write_parquet(_rates([0.1, 0.2, 0.3]), lake_dir / "rates.parquet")
    found = check_lake(lake_dir)
    assert [(f.dataset, f.rule, f.severity.value) for f in found] == [
        ("rates", "file_hash_mismatch", "error")
    ]
    (lake_dir / "rates.parquet").unlink()
    assert [f.rule for f in check_lake(lake_dir)] == ["missing_file"]


def test_check_lake_schema_and_rows(tmp_path: Path, tiny_lake_writer: Writer) -> None:
    lake_dir = tiny_lake_writer(tmp_path / "lake", {"rates": _rates([0.1, 0.2])})
    catalog = json.loads((lake_dir / CATALOG_FILE).read_text())
    catalog["datasets"]["rates"]["rows"] = 3
    (lake_dir / CATALOG_FILE).write_text(json.dumps(catalog))
    assert [f.rule for f in check_lake(lake_dir)] == ["row_count_mismatch"]


def test_rewrite_of_same_content_is_byte_identical(
    tmp_path: Path, tiny_lake_writer: Writer, hash_tree: Callable[[Path], dict[str, str]]
) -> None:
    lake_dir = tiny_lake_writer(tmp_path / "lake", {"rates": _rates([0.1, 0.2])})
    before = hash_tree(lake_dir)
    tiny_lake_writer(lake_dir, {"rates": _rates([0.1, 0.2])})
    after = hash_tree(lake_dir)
    assert {k: v for k, v in after.items() if k != "catalog.meta.json"} == {
        k: v for k, v in before.items() if k != "catalog.meta.json"
    }


def test_package_import_is_light() -> None:
    code = (
        "import sys, qtc.lake\n"
        "heavy = {'polars', 'duckdb', 'numpy'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "import qtc.lake.resolve\n"
        "assert not {'polars', 'numpy'} & set(sys.modules)\n"
        "assert qtc.lake.Lake.__name__ == 'Lake'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lake_imports_only_errors_from_qtc() -> None:
    for path in LAKE_SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("qtc"):
                    assert name == "qtc.errors" or name.startswith("qtc.lake"), (path.name, name)
                assert not name.startswith("rich"), path.name
