"""`qtc data query` is read-only, and says when it cuts the output.

Every statement that could write a file, change the database, its settings or load code
is refused with a user error naming the statement kind; afterwards the lake is
byte-identical and no file appeared anywhere under the test's folder.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import Result

from qtc.errors import UserError
from qtc.lake import Lake
from tests.lake.conftest import tree_hashes

FORBIDDEN: dict[str, str] = {
    "COPY (SELECT 1 AS x) TO '{lake}/prices.parquet' (FORMAT parquet)": "COPY",
    "COPY (SELECT 1 AS x) TO '{lake}/prices.parquet' (FORMAT parquet, USE_TMP_FILE false)": "COPY",
    "COPY prices TO '{tmp}/out.csv'": "COPY",
    "ATTACH '{tmp}/x.db' AS x": "ATTACH",
    "DETACH memory": "DETACH",
    "CREATE TABLE t AS SELECT 1 AS a": "CREATE",
    "INSERT INTO prices SELECT * FROM prices": "INSERT",
    "UPDATE prices SET close = 0": "UPDATE",
    "DELETE FROM prices": "DELETE",
    "DROP VIEW prices": "DROP",
    "ALTER VIEW prices RENAME TO p": "ALTER",
    "INSTALL httpfs": "INSTALL",
    "LOAD httpfs": "LOAD",
    "SET enable_external_access = true": "SET",
    "RESET threads": "RESET",
    "PRAGMA enable_profiling": "PRAGMA",
    "EXPORT DATABASE '{tmp}/export'": "EXPORT",
    "IMPORT DATABASE '{tmp}/export'": "IMPORT",
    "CALL pragma_version()": "CALL",
    "SELECT count(*) FROM prices; COPY (SELECT 1) TO '{tmp}/after.parquet'": "COPY",
    "SELECT 1; DROP VIEW prices": "DROP",
    "/* comment */ COPY (SELECT 1) TO '{tmp}/c.csv'": "COPY",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{tmp}/e.csv' (USE_TMP_FILE false)": "EXPLAIN COPY",
    "UPDATE EXTENSIONS": "UPDATE",
}


def files_under(folder: Path) -> set[str]:
    """Every path (files and folders) under a folder."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def lake_copy(small_demo: Lake, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake)
    return lake


@pytest.mark.parametrize("fmt", ["human", "json"])
@pytest.mark.parametrize("sql", sorted(FORBIDDEN))
def test_writing_statements_are_refused(
    qtc: Callable[..., Result], lake_copy: Path, tmp_path: Path, sql: str, fmt: str
) -> None:
    text = sql.format(lake=lake_copy, tmp=tmp_path)
    before_lake, before_all = tree_hashes(lake_copy), files_under(tmp_path)
    extra = ["--format", "json"] if fmt == "json" else []
    result = qtc("data", "query", text, "--lake", str(lake_copy), *extra)
    assert result.exit_code == 2, result.output
    expected = f"{FORBIDDEN[sql]} statements are not allowed: queries are read-only"
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["ok"] is False and data["error"] == expected
    else:
        assert f"error: {expected}" in result.stderr
    assert "Traceback" not in result.output
    assert tree_hashes(lake_copy) == before_lake
    assert files_under(tmp_path) == before_all


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('{tmp}/secret.csv')",
        "SELECT * FROM glob('{tmp}/*')",
        "SELECT * FROM read_text('{tmp}/secret.csv')",
    ],
)
def test_selects_cannot_reach_files_outside_the_lake(
    lake_copy: Path, tmp_path: Path, sql: str
) -> None:
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match="query refused: Permission Error"):
        Lake(lake_copy).query(sql.format(tmp=tmp_path))


@pytest.mark.parametrize(
    ("sql", "rows"),
    [
        ("SELECT count(*) AS n FROM prices", 1),
        ("WITH s AS (SELECT DISTINCT symbol FROM prices) SELECT count(*) FROM s", 1),
        ("FROM rates LIMIT 3", 3),
        ("DESCRIBE prices", 8),
        ("SUMMARIZE rates", 2),
        ("SELECT 1 AS a; SELECT 2 AS a, 3 AS b", 1),
        ("EXPLAIN SELECT count(*) FROM prices", 1),
        ("EXPLAIN ANALYZE SELECT count(*) FROM prices", 1),
        (
            "SELECT symbol, count(*) FROM prices JOIN symbols USING (symbol) GROUP BY ALL",
            60,
        ),
    ],
)
def test_read_only_statements_run(lake_copy: Path, sql: str, rows: int) -> None:
    before = tree_hashes(lake_copy)
    assert Lake(lake_copy).query(sql).height == rows
    assert tree_hashes(lake_copy) == before


def test_empty_query_is_a_user_error(qtc: Callable[..., Result], lake_copy: Path) -> None:
    result = qtc("data", "query", " ; ", "--lake", str(lake_copy))
    assert result.exit_code == 2
    assert "the query is empty" in result.stderr


def test_output_cut_to_the_limit_says_so(qtc: Callable[..., Result], lake_copy: Path) -> None:
    total = pl.read_parquet(lake_copy / "rates.parquet").height
    assert total > 7
    sql = "SELECT date, rf FROM rates ORDER BY date"
    human = qtc("data", "query", sql, "--lake", str(lake_copy), "--limit", "7")
    assert human.exit_code == 0, human.output
    assert f"note: showing 7 of {total:,} rows; use --limit N to show more" in human.stderr
    first_dates = pl.read_parquet(lake_copy / "rates.parquet")["date"].sort().head(7)
    body = [line for line in human.stdout.splitlines() if line[:5].strip().isdigit()]
    assert [line.split()[0] for line in body] == [str(d) for d in first_dates]
    as_json = qtc(
        "data", "query", sql, "--lake", str(lake_copy), "--limit", "7", "--format", "json"
    )
    data = json.loads(as_json.stdout)
    assert (data["total_rows"], data["shown_rows"], data["truncated"]) == (total, 7, True)
    assert [row["date"] for row in data["rows"]] == [str(d) for d in first_dates]


def test_output_within_the_limit_is_not_flagged(
    qtc: Callable[..., Result], lake_copy: Path
) -> None:
    sql = "SELECT DISTINCT sector FROM symbols"
    sectors = pl.read_parquet(lake_copy / "symbols.parquet")["sector"].n_unique()
    result = qtc("data", "query", sql, "--lake", str(lake_copy), "--format", "json")
    data = json.loads(result.stdout)
    assert (data["total_rows"], data["shown_rows"], data["truncated"]) == (sectors, sectors, False)
    human = qtc("data", "query", sql, "--lake", str(lake_copy), "--limit", str(sectors))
    assert "showing" not in human.stderr


@pytest.mark.parametrize("limit", ["0", "-3", "x"])
def test_limit_must_be_a_positive_number(
    qtc: Callable[..., Result], lake_copy: Path, limit: str
) -> None:
    result = qtc("data", "query", "SELECT 1", "--lake", str(lake_copy), "--limit", limit)
    assert result.exit_code == 2
    assert "--limit" in result.stderr and "Traceback" not in result.output
