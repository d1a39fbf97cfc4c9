"""Ctrl-C during a lake write leaves the lake unchanged and no staging folder behind.

Interrupts are simulated where they would land in a real run: a `KeyboardInterrupt` from a
step inside the write (after the staging folder exists), and a real SIGINT (raised with
`signal.raise_signal`) while the staging folder is being removed or the files moved in.
Staging folders that a killed process could not remove are swept by the next write.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import Result

from qtc.lake import Lake, build_demo_lake, check_lake, ingest_prices
from qtc.lake.ingest import staging, store
from tests.lake.conftest import tree_hashes

NEW_SYMBOL = "ZZZZ"


def staging_folders(lake: Path) -> list[str]:
    """Names next to the lake that look like qtc staging folders of it."""
    return sorted(p.name for p in lake.parent.iterdir() if p.name.startswith(f".{lake.name}.tmp-"))


@pytest.fixture
def lake_copy(small_demo: Lake, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    shutil.copytree(small_demo.path, lake)
    return lake


@pytest.fixture
def price_csv(tmp_path: Path) -> Path:
    """A valid one-symbol Yahoo-style file for a symbol the demo lake does not have."""
    path = tmp_path / "src" / f"{NEW_SYMBOL}.csv"
    path.parent.mkdir()
    rows = [f"2010-01-{day:02d},10,11,9,10,10,100" for day in (4, 5, 6, 7, 8)]
    path.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(rows) + "\n")
    return path


def interrupt_after_staging(monkeypatch: pytest.MonkeyPatch, lake: Path) -> list[list[str]]:
    """Make the first dataset write raise KeyboardInterrupt; record the staging folders then."""
    seen: list[list[str]] = []

    def interrupted(*args: Any) -> Any:
        seen.append(staging_folders(lake))
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_write_dataset", interrupted)
    return seen


@pytest.fixture(autouse=True)
def _ctrl_c_raises() -> None:
    """Ctrl-C raises KeyboardInterrupt here even when pytest was started with SIGINT ignored
    (a background job of a non-interactive shell); tests/conftest.py restores the handler."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def test_ctrl_c_mid_ingest_from_the_cli(
    qtc: Callable[..., Result],
    lake_copy: Path,
    price_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = tree_hashes(lake_copy)
    seen = interrupt_after_staging(monkeypatch, lake_copy)
    result = qtc("data", "ingest", str(price_csv), "--lake", str(lake_copy))
    assert result.exit_code == 130, result.output
    assert len(seen) == 1 and len(seen[0]) == 1  # the staging folder existed when interrupted
    (line,) = result.stderr.strip().splitlines()
    assert "interrupted" in line
    assert "Traceback" not in result.output
    assert staging_folders(lake_copy) == []
    assert tree_hashes(lake_copy) == before


def test_ctrl_c_mid_demo_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = tmp_path / "demo"
    seen = interrupt_after_staging(monkeypatch, lake)
    with pytest.raises(KeyboardInterrupt):
        build_demo_lake(lake, seed=3, n_symbols=10, years=2)
    assert seen == [[seen[0][0]]]
    assert sorted(os.listdir(tmp_path)) == []  # neither the lake nor its staging folder


def test_a_second_ctrl_c_during_cleanup_still_cleans_up(
    lake_copy: Path, price_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_hashes(lake_copy)
    interrupt_after_staging(monkeypatch, lake_copy)
    real_rmtree = shutil.rmtree

    def rmtree_hit_by_sigint(path: Any, *args: Any, **kwargs: Any) -> None:
        signal.raise_signal(signal.SIGINT)  # the user presses Ctrl-C again, right now
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(staging.shutil, "rmtree", rmtree_hit_by_sigint)
    with pytest.raises(KeyboardInterrupt):
        ingest_prices(price_csv, lake_copy)
    assert staging_folders(lake_copy) == []
    assert tree_hashes(lake_copy) == before


def test_ctrl_c_during_a_polars_write_lands_after_it(
    lake_copy: Path, price_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """polars would answer with two KeyboardInterrupts; the write finishes, one is raised."""
    before = tree_hashes(lake_copy)
    real_write, finished = store.write_parquet, []

    def write_hit_by_sigint(frame: pl.DataFrame, path: Path) -> None:
        signal.raise_signal(signal.SIGINT)
        real_write(frame, path)
        finished.append(path.stat().st_size)

    monkeypatch.setattr(store, "write_parquet", write_hit_by_sigint)
    with pytest.raises(KeyboardInterrupt):
        ingest_prices(price_csv, lake_copy)
    assert len(finished) == 1 and finished[0] > 0
    assert staging_folders(lake_copy) == []
    assert tree_hashes(lake_copy) == before


def test_ctrl_c_while_moving_files_in_finishes_the_move(
    lake_copy: Path, price_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_publish = store._publish

    def publish_hit_by_sigint(*args: Any) -> None:
        signal.raise_signal(signal.SIGINT)
        real_publish(*args)

    monkeypatch.setattr(store, "_publish", publish_hit_by_sigint)
    with pytest.raises(KeyboardInterrupt):
        ingest_prices(price_csv, lake_copy)
    assert staging_folders(lake_copy) == []
    assert [f for f in check_lake(lake_copy) if f.severity.value == "error"] == []
    prices = pl.read_parquet(lake_copy / "prices.parquet")
    assert prices.filter(pl.col("symbol") == NEW_SYMBOL).height == 5


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_staging_folders_of_killed_ingests_are_swept(
    qtc: Callable[..., Result], lake_copy: Path, price_csv: Path
) -> None:
    parent, dead = lake_copy.parent, dead_pid()
    stale = [f".lake.tmp-{dead}-abcd1234", ".lake.tmp-k2j3h4g5"]  # dead pid; old, no pid
    kept = [
        ".lake.tmp-1-abcd1234",  # pid 1 is running
        f".lake.tmp-{os.getpid()}-abcd1234",  # this very process
        ".lake.tmp-q1w2e3r4",  # no pid, but recent: it may still be in use
        f".other.tmp-{dead}-abcd1234",  # another lake's
        f"lake.tmp-{dead}-abcd1234",  # not qtc's pattern
        f".lake.tmp-{dead}-abcd1234.bak",
        f".lake.tmp-{dead}-abcd123",
    ]
    for name in stale + kept:
        (parent / name).mkdir()
        (parent / name / "prices.parquet").write_bytes(b"x" * 100)
    old = time.time() - staging.LEGACY_AGE_S - 60
    os.utime(parent / ".lake.tmp-k2j3h4g5", (old, old))
    (parent / f".lake.tmp-{dead}-filefile").write_text("a file, not a folder")
    (parent / "target").mkdir()
    (parent / "target" / "keep.txt").write_text("keep")
    (parent / f".lake.tmp-{dead}-linklink").symlink_to(parent / "target")
    kept += [f".lake.tmp-{dead}-filefile", f".lake.tmp-{dead}-linklink", "target"]

    result = qtc("data", "ingest", str(price_csv), "--lake", str(lake_copy))
    assert result.exit_code == 0, result.output
    names = set(os.listdir(parent))
    assert not names & set(stale)
    assert set(kept) <= names
    assert (parent / "target" / "keep.txt").read_text() == "keep"
    assert (parent / kept[0] / "prices.parquet").stat().st_size == 100


def test_sweep_reports_what_it_removed(tmp_path: Path) -> None:
    lake = tmp_path / "my lake"
    dead = dead_pid()
    (tmp_path / f".my lake.tmp-{dead}-a_b_c_d_").mkdir()
    (tmp_path / f".my lake.tmp-{dead}-abcdefgh").mkdir()
    (tmp_path / f".my.tmp-{dead}-abcdefgh").mkdir()
    removed = staging.sweep_stale(lake)
    assert sorted(p.name for p in removed) == [
        f".my lake.tmp-{dead}-a_b_c_d_",
        f".my lake.tmp-{dead}-abcdefgh",
    ]
    assert os.listdir(tmp_path) == [f".my.tmp-{dead}-abcdefgh"]
