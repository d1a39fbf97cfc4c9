"""`qtc data ...` end to end through the CLI, on the real data set and a small demo lake.

Human and JSON outputs are snapshot-tested with the temporary lake path masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import Result

from qtc.lake import Lake
from tests.lake.conftest import tree_hashes


def masked(text: str, lake: Path) -> str:
    """Replace the temporary lake path (volatile) with a placeholder."""
    return text.replace(str(lake), "<lake>")


@pytest.mark.slow
def test_ingest_shared_data_from_cli(
    qtc: Callable[..., Result], shared_data: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    result = qtc("data", "ingest", str(shared_data), "--lake", str(lake), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    prices = pl.read_parquet(shared_data / "prices_daily.parquet")
    assert report["rows"]["prices"] == prices.height == 2_840_234
    assert report["warnings"]["prices"]["extreme_move"] > 0
    human = qtc("data", "info", "--lake", str(lake))
    assert human.exit_code == 0
    assert "2,840,234" in human.stdout and "2023-10-18" in human.stdout


def test_info_and_check_on_demo(
    qtc: Callable[..., Result], small_demo: Lake, snapshot: object
) -> None:
    lake = small_demo.path
    info = qtc("data", "info", "--lake", str(lake))
    assert info.exit_code == 0, info.output
    assert masked(info.stdout, lake) == snapshot
    as_json = qtc("data", "info", "--lake", str(lake), "--format", "json")
    data = json.loads(as_json.stdout)
    assert {d["dataset"] for d in data["datasets"]} >= {"prices", "membership", "fundamentals"}
    assert {d["dataset"]: d["content_sha256"] for d in data["datasets"]} == snapshot
    check = qtc("data", "check", "--lake", str(lake), "--format", "json")
    assert check.exit_code == 0
    assert all(f["severity"] == "warning" for f in json.loads(check.stdout)["findings"])


def test_query(qtc: Callable[..., Result], small_demo: Lake, snapshot: object) -> None:
    lake = str(small_demo.path)
    sql = "SELECT count(DISTINCT symbol) AS n, min(date) AS first FROM prices"
    result = qtc("data", "query", sql, "--lake", lake, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["columns"] == ["n", "first"]
    (row,) = data["rows"]
    assert row["n"] == 60
    assert (data["total_rows"], data["shown_rows"], data["truncated"]) == (1, 1, False)
    human = qtc("data", "query", sql, "--lake", lake)
    assert human.stdout == snapshot


def test_bad_sql_is_a_user_error(qtc: Callable[..., Result], small_demo: Lake) -> None:
    result = qtc("data", "query", "SELECT nope FROM prices", "--lake", str(small_demo.path))
    assert result.exit_code == 2
    assert "nope" in result.stderr and "Traceback" not in result.output


def test_missing_lake_is_a_user_error(qtc: Callable[..., Result], tmp_path: Path) -> None:
    result = qtc("data", "info", "--lake", str(tmp_path / "nothing"))
    assert result.exit_code == 2
    assert "not a qtc lake" in result.stderr


def test_refused_ingest_changes_nothing(
    qtc: Callable[..., Result], small_demo: Lake, tmp_path: Path
) -> None:
    import shutil

    lake = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake)
    before = tree_hashes(lake)
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,10,9,11,10,10,100\n")
    result = qtc("data", "ingest", str(bad), "--lake", str(lake))
    assert result.exit_code == 2, result.output
    assert "high_below_low" in result.stderr or "high < low" in result.stderr
    assert tree_hashes(lake) == before


def test_demo_lake_used_when_none_given(
    qtc: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QTC_LAKE", raising=False)
    monkeypatch.chdir(tmp_path)
    result = qtc("data", "info", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC demo market" in result.stderr
    assert json.loads(result.stdout)["lake"].startswith(str(tmp_path / "cache"))


def test_check_limit_cannot_be_negative(qtc: Callable[..., Result], small_demo: Lake) -> None:
    result = qtc("data", "check", "--lake", str(small_demo.path), "--limit", "-1")
    assert result.exit_code == 2
    assert "--limit" in result.stderr
